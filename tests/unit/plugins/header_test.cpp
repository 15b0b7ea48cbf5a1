// SPDX-License-Identifier: Apache-2.0
// Specifies the "header" provider (plugins/header), driven through its C table and a fake host.
#include "fake_host.hpp"

#include <string>

namespace {

using namespace fracta::test;

constexpr std::string_view config =
    R"({"type":"header","header_name":"X-Api-Key","header_value":{"env":"API_KEY"}})";

struct header_fixture {
  header_fixture() { host.env["API_KEY"] = "k-123\tpart"; }
  fake_host host;
  const fracta_provider& p = provider("header");
};

}  // namespace

TEST_CASE_FIXTURE(header_fixture, "apply sets the configured header to the secret") {
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  fake_request req("POST", "https://mcp.example.com/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("x-api-key") == "k-123\tpart");
  CHECK(req.headers.size() == 1);
}

TEST_CASE_FIXTURE(header_fixture, "header_name is required and must be an HTTP token") {
  SUBCASE("missing") {
    instance inst(p, host, R"({"type":"header","header_value":{"env":"API_KEY"}})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("`header_name`") != std::string::npos);
  }
  SUBCASE("not a string") {
    instance inst(p, host, R"({"type":"header","header_name":7,"header_value":{"env":"API_KEY"}})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text == "`header_name` must be a string");
  }
  SUBCASE("not a token") {
    instance inst(p, host, R"({"type":"header","header_name":"X Api:Key","header_value":{"env":"API_KEY"}})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find(R"("X Api:Key" is not an HTTP header name)") != std::string::npos);
  }
}

TEST_CASE_FIXTURE(header_fixture, "header_value is required, and may not carry a line break") {
  SUBCASE("missing") {
    instance inst(p, host, R"({"type":"header","header_name":"X-Api-Key"})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("`header_value`") != std::string::npos);
  }
  SUBCASE("line break") {
    host.env["API_KEY"] = "abc\r\nInjected: yes";
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("env API_KEY") != std::string::npos);
    CHECK(inst.error.text.find("Injected") == std::string::npos);
  }
}

TEST_CASE_FIXTURE(header_fixture, "refresh detects rotation, and says DENIED when nothing changed") {
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  completion_probe unchanged;
  CHECK(inst.refresh(unchanged) == FRACTA_PENDING);
  host.run_posted();
  CHECK(unchanged.calls == 1);
  CHECK(unchanged.status == FRACTA_E_DENIED);
  CHECK(unchanged.message ==
        "the header_value from env API_KEY has not changed since it was refused; update it and retry");

  host.env["API_KEY"] = "k-456";
  completion_probe rotated;
  CHECK(inst.refresh(rotated) == FRACTA_PENDING);
  host.run_posted();
  CHECK(rotated.calls == 1);
  CHECK(rotated.status == FRACTA_OK);
  fake_request req("GET", "https://mcp.example.com/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("X-Api-Key") == "k-456");
}

TEST_CASE_FIXTURE(header_fixture, "on_challenge asks for a refresh") {
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  const fracta_challenge ch{sizeof(fracta_challenge), 403, str(""), str("https://mcp.example.com/mcp"), str("")};
  completion_probe done;
  CHECK(p.on_challenge(inst.ptr, &ch, done.get()) == FRACTA_NEED_REFRESH);
  CHECK(done.calls == 0);
}

TEST_CASE_FIXTURE(header_fixture, "status names the header and the source, never the value") {
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  const std::string json = inst.status_json();
  CHECK(json ==
        R"({"type":"header","credential":"header_value","source":"env API_KEY","header":"X-Api-Key"})");
  CHECK(json.find("k-123") == std::string::npos);
}
