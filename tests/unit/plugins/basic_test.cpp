// SPDX-License-Identifier: Apache-2.0
// Specifies the "basic" provider (plugins/basic): RFC 7617 with UTF-8, through its C table and a fake host.
#include "fake_host.hpp"

#include <string>

namespace {

using namespace fracta::test;

constexpr std::string_view config =
    R"({"type":"basic","username":{"env":"USER_NAME"},"password":{"file":"/run/secrets/pw"}})";

struct basic_fixture {
  fake_host host;
  const fracta_provider& p = provider("basic");

  std::string authorization(std::string user, std::string password) {
    host.env["USER_NAME"] = std::move(user);
    host.files["/run/secrets/pw"] = std::move(password);
    instance inst(p, host, config);
    REQUIRE(inst.status == FRACTA_OK);
    fake_request req("POST", "https://mcp.example.com/mcp");
    collecting_sink err;
    REQUIRE(inst.apply(req, err) == FRACTA_OK);
    return req.header("Authorization").value_or("<none>");
  }
};

}  // namespace

TEST_CASE_FIXTURE(basic_fixture, "apply sends Authorization: Basic base64(user:password)") {
  CHECK(authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  // A colon in the password is fine: only the first one separates.
  CHECK(authorization("a", "b:c") == "Basic YTpiOmM=");
  CHECK(authorization("a", "") == "Basic YTo=");
}

TEST_CASE_FIXTURE(basic_fixture, "non-ASCII credentials are sent as UTF-8 (RFC 7617 §2.1)") {
  // The RFC's own example: user "test", password "123£".
  CHECK(authorization("test", "123\xC2\xA3") == "Basic dGVzdDoxMjPCow==");
  // base64("Jürgen:pässwörd") in UTF-8, computed with coreutils base64.
  CHECK(authorization("J\xC3\xBCrgen", "p\xC3\xA4ssw\xC3\xB6rd") == "Basic SsO8cmdlbjpww6Rzc3fDtnJk");
}

TEST_CASE_FIXTURE(basic_fixture, "a colon in the username is refused, citing RFC 7617, without echoing it") {
  host.env["USER_NAME"] = "svc:acct";
  host.files["/run/secrets/pw"] = "pw";
  instance inst(p, host, config);
  CHECK(inst.status == FRACTA_E_CONFIG);
  CHECK(inst.error.text.find("RFC 7617") != std::string::npos);
  CHECK(inst.error.text.find("env USER_NAME") != std::string::npos);
  CHECK(inst.error.text.find("svc") == std::string::npos);
}

TEST_CASE_FIXTURE(basic_fixture, "credentials that are not UTF-8, or carry control characters, are refused") {
  host.env["USER_NAME"] = "user";
  SUBCASE("Latin-1 password") {
    host.files["/run/secrets/pw"] = "p\xE4ss";
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("the password from file /run/secrets/pw is not valid UTF-8") == 0);
  }
  SUBCASE("trailing newline") {
    host.files["/run/secrets/pw"] = "pass\n";
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("control character") != std::string::npos);
  }
}

TEST_CASE_FIXTURE(basic_fixture, "both secrets are required") {
  host.env["USER_NAME"] = "user";
  instance inst(p, host, R"({"type":"basic","username":{"env":"USER_NAME"}})");
  CHECK(inst.status == FRACTA_E_CONFIG);
  CHECK(inst.error.text.find("`password`") != std::string::npos);
}

TEST_CASE_FIXTURE(basic_fixture, "refresh re-resolves both secrets") {
  host.env["USER_NAME"] = "user";
  host.files["/run/secrets/pw"] = "old";
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);

  completion_probe unchanged;
  CHECK(inst.refresh(unchanged) == FRACTA_PENDING);
  host.run_posted();
  CHECK(unchanged.status == FRACTA_E_DENIED);
  CHECK(unchanged.message ==
        "the username from env USER_NAME and the password from file /run/secrets/pw have not "
        "changed since they were refused; update them and retry");

  host.files["/run/secrets/pw"] = "new";
  completion_probe rotated;
  CHECK(inst.refresh(rotated) == FRACTA_PENDING);
  host.run_posted();
  CHECK(rotated.calls == 1);
  CHECK(rotated.status == FRACTA_OK);
  fake_request req("GET", "https://mcp.example.com/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("Authorization") == "Basic dXNlcjpuZXc=");  // user:new

  SUBCASE("a rotation to an invalid username is refused and the old credential kept") {
    host.env["USER_NAME"] = "bad:user";
    completion_probe refused;
    CHECK(inst.refresh(refused) == FRACTA_PENDING);
    host.run_posted();
    CHECK(refused.status == FRACTA_E_CONFIG);
    fake_request again("GET", "https://mcp.example.com/mcp");
    CHECK(inst.apply(again, err) == FRACTA_OK);
    CHECK(again.header("Authorization") == "Basic dXNlcjpuZXc=");
  }
}

TEST_CASE_FIXTURE(basic_fixture, "status names both sources and neither secret") {
  host.env["USER_NAME"] = "alice-the-user";
  host.files["/run/secrets/pw"] = "hunter2-password";
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  const std::string json = inst.status_json();
  CHECK(json ==
        R"({"type":"basic","credential":"username and password","username_source":"env USER_NAME","password_source":"file /run/secrets/pw"})");
  CHECK(json.find("alice") == std::string::npos);
  CHECK(json.find("hunter2") == std::string::npos);
}
