// SPDX-License-Identifier: Apache-2.0
// Specifies the "bearer" provider (plugins/bearer), driven through its C table and a fake host.
#include "fake_host.hpp"

#include <string>

namespace {

using namespace fracta::test;

constexpr std::string_view env_config = R"({"type":"bearer","token":{"env":"DEMO_TOKEN"}})";
constexpr std::string_view secret = "s3cr3t-token-value";

struct bearer_fixture {
  bearer_fixture() { host.env["DEMO_TOKEN"] = std::string(secret); }
  fake_host host;
  const fracta_provider& p = provider("bearer");
};

}  // namespace

TEST_CASE("the plugin describes itself for ABI 1.x with one provider of type bearer") {
  const fracta_plugin* plugin = fracta_plugin_entry_v1(FRACTA_ABI_MINOR);
  REQUIRE(plugin != nullptr);
  CHECK(plugin->struct_size == sizeof(fracta_plugin));
  CHECK(plugin->abi_major == FRACTA_ABI_MAJOR);
  CHECK(plugin->abi_minor == FRACTA_ABI_MINOR);
  CHECK(std::string_view(plugin->name) == "fracta-bearer");
  REQUIRE(plugin->provider_count == 1);
  const fracta_provider& p = *plugin->providers[0];
  CHECK(std::string_view(p.type) == "bearer");
  CHECK(p.struct_size == sizeof(fracta_provider));
  CHECK(p.flags == 0);
  CHECK(present(p.refresh));
  CHECK(present(p.on_challenge));
  CHECK(present(p.status));
  CHECK(present(p.cancel));
  CHECK_FALSE(present(p.login));
  CHECK_FALSE(present(p.logout));
}

TEST_CASE_FIXTURE(bearer_fixture, "apply sends Authorization: Bearer <token>") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  fake_request req("POST", "https://mcp.example.com/mcp", "{}");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("Authorization") == "Bearer s3cr3t-token-value");
  CHECK(err.text.empty());
}

TEST_CASE_FIXTURE(bearer_fixture, "an inline or file token works the same way") {
  host.files["/run/secrets/token"] = "from-file";
  instance from_file(p, host, R"({"type":"bearer","token":{"file":"/run/secrets/token"}})");
  instance inline_value(p, host, R"({"type":"bearer","token":{"value":"inline-tok"}})");
  REQUIRE(from_file.status == FRACTA_OK);
  REQUIRE(inline_value.status == FRACTA_OK);
  fake_request a("GET", "https://x.example/"), b("GET", "https://x.example/");
  collecting_sink err;
  CHECK(from_file.apply(a, err) == FRACTA_OK);
  CHECK(inline_value.apply(b, err) == FRACTA_OK);
  CHECK(a.header("authorization") == "Bearer from-file");
  CHECK(b.header("authorization") == "Bearer inline-tok");
}

TEST_CASE_FIXTURE(bearer_fixture, "create reports the host's message when the secret cannot be resolved") {
  host.env.clear();
  instance inst(p, host, env_config);
  CHECK(inst.status == FRACTA_E_CONFIG);
  CHECK_FALSE(present(inst.ptr));
  CHECK(inst.error.text == "token: environment variable DEMO_TOKEN is not set");
}

TEST_CASE_FIXTURE(bearer_fixture, "create refuses a configuration without a token, naming the key") {
  instance inst(p, host, R"({"type":"bearer"})");
  CHECK(inst.status == FRACTA_E_CONFIG);
  CHECK(inst.error.text.find("`token`") != std::string::npos);
  CHECK(inst.error.text.find("{ env = ") != std::string::npos);
}

TEST_CASE_FIXTURE(bearer_fixture, "create refuses an empty token or one with a line break, never echoing it") {
  SUBCASE("empty") {
    host.env["DEMO_TOKEN"] = "";
    instance inst(p, host, env_config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text == "the token from env DEMO_TOKEN is empty");
  }
  SUBCASE("trailing newline") {
    host.env["DEMO_TOKEN"] = "abc-secret\n";
    instance inst(p, host, env_config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("env DEMO_TOKEN") != std::string::npos);
    CHECK(inst.error.text.find("abc-secret") == std::string::npos);
  }
}

TEST_CASE_FIXTURE(bearer_fixture, "refresh picks up a rotated token, resolving it without blocking") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  CHECK(host.resolve_calls == 1);  // create() resolves synchronously, once
  host.env["DEMO_TOKEN"] = "rotated-token";
  completion_probe done;
  CHECK(inst.refresh(done) == FRACTA_PENDING);
  CHECK(done.calls == 0);
  host.run_posted();
  CHECK(done.calls == 1);
  CHECK(done.status == FRACTA_OK);
  CHECK(host.resolve_calls == 1);  // refresh() never used the blocking service
  CHECK(host.async_resolve_calls == 1);
  fake_request req("POST", "https://mcp.example.com/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("Authorization") == "Bearer rotated-token");
}

TEST_CASE_FIXTURE(bearer_fixture, "refresh of an unchanged token is DENIED, delivered after the call returns") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  completion_probe done;
  CHECK(inst.refresh(done) == FRACTA_PENDING);
  CHECK(done.calls == 0);
  host.run_posted();
  CHECK(done.calls == 1);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(done.message ==
        "the token from env DEMO_TOKEN has not changed since it was refused; update it and retry");
}

TEST_CASE_FIXTURE(bearer_fixture, "refresh reports CONFIG when the source disappeared") {
  host.files["/t"] = "tok";
  instance inst(p, host, R"({"type":"bearer","token":{"file":"/t"}})");
  REQUIRE(inst.status == FRACTA_OK);
  host.files.clear();
  completion_probe done;
  CHECK(inst.refresh(done) == FRACTA_PENDING);
  host.run_posted();
  CHECK(done.calls == 1);
  CHECK(done.status == FRACTA_E_CONFIG);
  CHECK(done.message == "token: file /t cannot be read");
}

TEST_CASE_FIXTURE(bearer_fixture, "a pending refresh completes with CANCELLED on cancel, and on destroy") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  completion_probe done;
  REQUIRE(inst.refresh(done) == FRACTA_PENDING);
  SUBCASE("cancel") {
    p.cancel(inst.ptr);
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_E_CANCELLED);
  }
  SUBCASE("destroy") {
    inst.destroy();
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_E_CANCELLED);
  }
  host.run_posted();  // the resolution the host still runs finds the refresh gone
  CHECK(done.calls == 1);
}

TEST_CASE_FIXTURE(bearer_fixture, "a refresh asked for while one runs shares its result") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  host.env["DEMO_TOKEN"] = "rotated-token";
  completion_probe first, second;
  CHECK(inst.refresh(first) == FRACTA_PENDING);
  CHECK(inst.refresh(second) == FRACTA_PENDING);
  host.run_posted();
  CHECK(host.async_resolve_calls == 1);
  CHECK(first.calls == 1);
  CHECK(second.calls == 1);
  CHECK(first.status == FRACTA_OK);
  CHECK(second.status == FRACTA_OK);
}

TEST_CASE_FIXTURE(bearer_fixture, "a host tearing down completes a pending refresh with CANCELLED") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  completion_probe done;
  REQUIRE(inst.refresh(done) == FRACTA_PENDING);
  REQUIRE(host.run_next(FRACTA_E_CANCELLED));
  CHECK(done.calls == 1);
  CHECK(done.status == FRACTA_E_CANCELLED);
  inst.destroy();
  CHECK(done.calls == 1);
}

TEST_CASE_FIXTURE(bearer_fixture, "on a host without resolve_secret_async, refresh falls back and still completes later") {
  host.table().resolve_secret_async = nullptr;
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  host.env["DEMO_TOKEN"] = "rotated-token";
  completion_probe done;
  CHECK(inst.refresh(done) == FRACTA_PENDING);
  CHECK(done.calls == 0);
  host.run_posted();
  CHECK(done.calls == 1);
  CHECK(done.status == FRACTA_OK);
  CHECK(host.resolve_calls == 2);
}

TEST_CASE_FIXTURE(bearer_fixture, "on_challenge asks for a refresh synchronously") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  const std::string www = R"(Bearer error="invalid_token")";
  const fracta_challenge ch{sizeof(fracta_challenge), 401, str(www), str("https://mcp.example.com/mcp"),
                            str("")};
  completion_probe done;
  CHECK(p.on_challenge(inst.ptr, &ch, done.get()) == FRACTA_NEED_REFRESH);
  host.run_posted();
  CHECK(done.calls == 0);
}

TEST_CASE_FIXTURE(bearer_fixture, "status names the source and never the token") {
  SUBCASE("env") {
    instance inst(p, host, env_config);
    REQUIRE(inst.status == FRACTA_OK);
    CHECK(inst.status_json() == R"({"type":"bearer","credential":"token","source":"env DEMO_TOKEN"})");
  }
  SUBCASE("a file path is escaped as JSON") {
    host.files["/run/\"odd\"\\path"] = std::string(secret);
    instance inst(p, host, R"({"type":"bearer","token":{"file":"/run/\"odd\"\\path"}})");
    REQUIRE(inst.status == FRACTA_OK);
    CHECK(inst.status_json() ==
          R"({"type":"bearer","credential":"token","source":"file /run/\"odd\"\\path"})");
  }
  SUBCASE("inline") {
    instance inst(p, host, R"({"type":"bearer","token":{"value":"s3cr3t-token-value"}})");
    REQUIRE(inst.status == FRACTA_OK);
    const std::string json = inst.status_json();
    CHECK(json == R"({"type":"bearer","credential":"token","source":"inline value"})");
    CHECK(json.find(secret) == std::string::npos);
  }
}

TEST_CASE_FIXTURE(bearer_fixture, "nothing the provider logs or reports contains the token") {
  instance inst(p, host, env_config);
  REQUIRE(inst.status == FRACTA_OK);
  completion_probe done;
  (void)inst.refresh(done);
  host.run_posted();
  CHECK(done.message.find(secret) == std::string::npos);
  CHECK(inst.status_json().find(secret) == std::string::npos);
  CHECK(host.log_text().find(secret) == std::string::npos);
}
