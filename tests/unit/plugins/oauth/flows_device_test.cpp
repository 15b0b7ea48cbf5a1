// SPDX-License-Identifier: Apache-2.0
// The device login (flows_device.cpp): what is shown and opened, and how long polling may take.
#include "provider_fixtures.hpp"

using namespace fracta::test;
using namespace fracta::test::oauth;

namespace {

const std::string device_url = "https://as.example.com/device";
const std::string device_config = R"({"type":"oauth","grant_type":"device_code","client_id":{"value":"dev-client"}})";

// A device authorization response; `extra` adds members (",\"k\":v").
std::string device_response(std::string_view uri, std::string_view user_code, std::string_view complete = "",
                            std::string_view extra = "") {
  std::string j = R"({"device_code":"device-code-SECRET","user_code":")" + std::string(user_code) +
                  R"(","verification_uri":")" + std::string(uri) + '"';
  if (!complete.empty()) j += R"(,"verification_uri_complete":")" + std::string(complete) + '"';
  return j + std::string(extra) + "}";
}

const http_reply pending = http_reply::json(400, R"({"error":"authorization_pending"})");

struct device_fixture {
  device_fixture() { script_discovery(host, as_metadata(R"(,"device_authorization_endpoint":")" + device_url + '"')); }

  // Creates the provider and logs in with `options`.
  void login(std::string_view options = "{}") {
    inst.emplace(host, "device-code", device_config);
    REQUIRE_MESSAGE(inst->status == FRACTA_OK, inst->error.text);
    host.run();
    finish(host, inst->login(options, done), done);
  }
  std::int64_t slept_ms() const {
    std::int64_t sum = 0;
    for (auto d : host.timer_delays) sum += d;
    return sum;
  }

  oauth_fake_host host;
  std::optional<oauth_instance> inst;
  completion_probe done;
};

}  // namespace

TEST_CASE_FIXTURE(device_fixture, "device: a valid prompt is shown as sent, and polling completes the login") {
  host.on("POST", device_url,
          http_reply::json(200, device_response("https://as.example.com/activate", "WDJB-MJHT",
                                                "https://as.example.com/activate?user_code=WDJB-MJHT")));
  host.on("POST", token_url, pending);
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
  login();
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  REQUIRE(host.device_prompts.size() == 1);
  CHECK(host.device_prompts[0].uri == "https://as.example.com/activate");
  CHECK(host.device_prompts[0].user_code == "WDJB-MJHT");
  CHECK(host.device_prompts[0].complete == "https://as.example.com/activate?user_code=WDJB-MJHT");
  CHECK(host.timer_delays == std::vector<std::int64_t>{5000, 5000});
  CHECK(json_field(host.store.at("tokens"), "access_token") == login_access);
  check_no_secrets(host, *inst, {done.message});
}

TEST_CASE_FIXTURE(device_fixture, "device: hostile verification URIs and user codes are refused; nothing is shown or opened") {
  std::string body;
  std::string hostile;
  SUBCASE("an option for the browser as verification_uri_complete") {
    hostile = "--gpu-launcher=sh -c id";
    body = device_response("https://as.example.com/activate", "WDJB-MJHT", hostile);
  }
  SUBCASE("a terminal escape as user_code") {
    hostile = "\x1b[2J";
    body = device_response("https://as.example.com/activate", "\\u001b[2J");
  }
  SUBCASE("a user_code longer than 64 bytes") {
    hostile = std::string(65, 'A');
    body = device_response("https://as.example.com/activate", hostile);
  }
  SUBCASE("plain http to another host") {
    hostile = "http://evil.example/activate";
    body = device_response(hostile, "WDJB-MJHT");
  }
  SUBCASE("not an http(s) URL") {
    hostile = "javascript:alert(1)";
    body = device_response(hostile, "WDJB-MJHT");
  }
  SUBCASE("an https URL with a space") {
    hostile = "https://as.example.com/a b";
    body = device_response("https://as.example.com/activate", "WDJB-MJHT", hostile);
  }
  host.on("POST", device_url, http_reply::json(200, body));
  login();
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(host.device_prompts.empty());
  CHECK(host.opened_urls.empty());
  CHECK(host.sent("POST", token_url).empty());
  CHECK_FALSE(contains(done.message, hostile));
  CHECK_FALSE(contains(host.base.log_text(), hostile));
  CHECK_FALSE(contains(done.message, "\x1b"));
  check_no_secrets(host, *inst, {done.message});
}

TEST_CASE_FIXTURE(device_fixture, "device: polling keeps to the login timeout whatever interval and expires_in the server sends") {
  host.on("POST", device_url,
          http_reply::json(200, device_response("https://as.example.com/activate", "WDJB-MJHT", "",
                                                R"(,"interval":100000,"expires_in":4611686018427387904)")));
  host.on("POST", token_url, pending);  // repeats
  const std::int64_t start = host.base.mono_ms;
  login(R"({"timeout_ms":30000})");
  CHECK(done.status == FRACTA_E_TIMEOUT);
  CHECK(contains(done.message, "30 s"));
  REQUIRE_FALSE(host.timer_delays.empty());
  for (auto d : host.timer_delays) {
    CHECK(d > 0);
    CHECK(d <= 30000);
  }
  CHECK(slept_ms() <= 30000);
  CHECK(host.base.mono_ms - start <= 30000);
}

TEST_CASE_FIXTURE(device_fixture, "device: slow_down adds 5 s to the interval, never past 60 s, and never past the deadline") {
  host.on("POST", device_url,
          http_reply::json(200, device_response("https://as.example.com/activate", "WDJB-MJHT", "", R"(,"interval":52)")));
  const http_reply slow_down = http_reply::json(400, R"({"error":"slow_down"})");
  SUBCASE("until the sign-in completes") {
    for (int i = 0; i < 3; ++i) host.on("POST", token_url, slow_down);
    host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
    login();
    REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
    CHECK(host.timer_delays == std::vector<std::int64_t>{52000, 57000, 60000, 60000});
  }
  SUBCASE("until the timeout") {
    host.on("POST", token_url, slow_down);  // repeats
    login(R"({"timeout_ms":150000})");
    CHECK(done.status == FRACTA_E_TIMEOUT);
    CHECK(host.timer_delays == std::vector<std::int64_t>{52000, 57000, 41000});
  }
}

TEST_CASE_FIXTURE(device_fixture, "device: poll errors are told apart by their error code, never by the description") {
  host.on("POST", device_url, http_reply::json(200, device_response("https://as.example.com/activate", "WDJB-MJHT")));
  SUBCASE("access_denied described with other codes' names") {
    host.on("POST", token_url,
            http_reply::json(400, R"({"error":"access_denied","error_description":"not authorization_pending, no slow_down"})"));
    login();
    CHECK(done.status == FRACTA_E_DENIED);
    CHECK(contains(done.message, "denied"));
  }
  SUBCASE("another error whose description says authorization_pending") {
    host.on("POST", token_url,
            http_reply::json(400, R"({"error":"invalid_request","error_description":"authorization_pending"})"));
    login();
    CHECK(done.status != FRACTA_OK);
    CHECK(done.status != FRACTA_E_TIMEOUT);
  }
  CHECK(host.sent("POST", token_url).size() == 1);
}

TEST_CASE_FIXTURE(device_fixture, "device: the device endpoint's error text is made printable") {
  host.on("POST", device_url,
          http_reply::json(400, R"({"error":"invalid_scope","error_description":"no\u001b]52;c;ZXZpbA==\u0007 such\u001b[2J scope"})"));
  login();
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, "invalid_scope: no such scope"));
  CHECK_FALSE(contains(done.message, "\x1b"));
  CHECK_FALSE(contains(done.message, "ZXZpbA"));
  CHECK(host.device_prompts.empty());
}
