// SPDX-License-Identifier: Apache-2.0
// The browser login (flows_authcode.cpp): PKCE, state, iss, registration and the code exchange.
#include "provider_fixtures.hpp"

using namespace fracta::test;
using namespace fracta::test::oauth;

TEST_CASE_FIXTURE(login_fixture, "login: discovery, registration, PKCE S256, state and resource line up") {
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  CHECK(contains(done.message, "authorized by https://as.example"));

  // Discovery went where the spec says.
  CHECK(host.sent("GET", prm_url).size() == 1);
  CHECK(host.sent("GET", as_md_url).size() == 1);

  // Registration: native app, exactly our redirect URI, refresh_token among the grants.
  const auto reg = host.sent("POST", register_url);
  REQUIRE(reg.size() == 1);
  CHECK(json_field(reg[0].body, "application_type") == "native");
  CHECK(json_strings(reg[0].body, "redirect_uris") == std::vector<std::string>{redirect});
  const auto grants = json_strings(reg[0].body, "grant_types");
  CHECK(std::find(grants.begin(), grants.end(), "refresh_token") != grants.end());
  CHECK(std::find(grants.begin(), grants.end(), "authorization_code") != grants.end());
  CHECK(host.listen_requests.size() == 1);

  // The authorization request.
  REQUIRE(host.opened_urls.size() == 1);
  CHECK(host.opened_urls[0].starts_with(authorize_url + "?"));
  const auto a = authorize_params();
  CHECK(param(a, "response_type") == "code");
  CHECK(param(a, "client_id") == "dyn-client-1");
  CHECK(param(a, "redirect_uri") == redirect);
  CHECK(param(a, "code_challenge_method") == "S256");
  CHECK(param(a, "resource") == mcp_url);
  CHECK(param(a, "scope") == "a b");
  const std::string state = param(a, "state").value_or("");
  CHECK(state.size() >= 16);

  // The code exchange: same verifier, resource and redirect URI.
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 1);
  const auto t = form_params(tok[0].body);
  CHECK(param(t, "grant_type") == "authorization_code");
  CHECK(param(t, "code") == "the-code");
  CHECK(param(t, "redirect_uri") == redirect);
  CHECK(param(t, "resource") == mcp_url);
  CHECK(param(t, "client_id") == "dyn-client-1");
  const std::string verifier = param(t, "code_verifier").value_or("");
  CHECK(verifier.size() >= 43);
  CHECK(param(a, "code_challenge") == sha256_base64url(verifier));
  CHECK_FALSE(contains(tok[0].url, "code_verifier"));

  // The order of events and what was stored.
  CHECK(host.op_index("http POST " + register_url) < host.op_index("open_url"));
  CHECK(host.op_index("open_url") < host.op_index("redirect"));
  CHECK(host.op_index("redirect") < host.op_index("http POST " + token_url));
  REQUIRE(host.store.count("tokens") == 1);
  REQUIRE(host.store.count("registration") == 1);
  CHECK(json_field(host.store.at("tokens"), "access_token") == login_access);
  CHECK(json_field(host.store.at("tokens"), "refresh_token") == login_refresh);
  CHECK(json_field(host.store.at("tokens"), "issuer") == issuer);
  CHECK(json_field(host.store.at("tokens"), "resource") == mcp_url);
  CHECK(json_field(host.store.at("registration"), "client_id") == "dyn-client-1");
  CHECK(json_field(host.store.at("registration"), "issuer") == issuer);
  CHECK(inst.authorization() == "Bearer " + std::string(login_access));
  const std::string status = inst.status_json();
  CHECK(contains(status, R"("logged_in":true)"));
  CHECK(contains(status, R"("client":"registered")"));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "authcode: redirects without this login's state are ignored; the login times out, nothing stored") {
  script_login(host);
  host.redirect_sequence = {
      [](const std::string& url) {
        return oauth_fake_host::callback_url(
            {{"code", "the-code"}, {"state", oauth_fake_host::state_of(url) + "x"}, {"iss", issuer}});
      },
      [](const std::string&) { return oauth_fake_host::callback_url({{"code", "the-code"}, {"iss", issuer}}); },
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_TIMEOUT);
  CHECK(contains(done.message, "2 without its state were ignored"));
  CHECK(host.redirect_timeouts.size() == 3);  // two strays, then the wait that timed out
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.op_count("put tokens") == 0);
  CHECK(host.store.count("tokens") == 0);
  CHECK(inst.authorization().empty());
  CHECK_FALSE(contains(host.base.log_text(), "the-code"));  // a stray's query is never logged
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: an iss naming another issuer is DENIED without echoing the redirect's text") {
  script_login(host);
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url({{"error", "access_denied"},
                                          {"error_description", "PHISHY-go-to-evil.example.com"},
                                          {"state", oauth_fake_host::state_of(url)},
                                          {"iss", "https://evil.example.com"}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK_FALSE(contains(done.message, "PHISHY"));
  CHECK_FALSE(contains(done.message, "evil"));
  CHECK_FALSE(contains(host.base.log_text(), "PHISHY"));
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.store.count("tokens") == 0);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: a missing iss is DENIED when the server promised one (RFC 9207)") {
  script_login(host, as_metadata(R"(,"authorization_response_iss_parameter_supported":true)"));
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url({{"code", "the-code"}, {"state", oauth_fake_host::state_of(url)}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, "iss"));
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.store.count("tokens") == 0);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("login: iss is compared as an exact string: a trailing slash, case or default port is DENIED") {
  for (const std::string& wrong : {issuer + "/", std::string("https://AS.example.com"), std::string("https://as.example.com:443")}) {
    CAPTURE(wrong);
    oauth_fake_host h;
    script_login(h, as_metadata(R"(,"authorization_response_iss_parameter_supported":true)"));
    h.redirect_for = [wrong](const std::string& url) {
      return oauth_fake_host::callback_url({{"code", "the-code"}, {"state", oauth_fake_host::state_of(url)}, {"iss", wrong}});
    };
    oauth_instance inst(h, "oauth-authcode", R"({"type":"oauth"})");
    h.run();
    completion_probe done;
    finish(h, inst.login("{}", done), done);
    CHECK(done.status == FRACTA_E_DENIED);
    CHECK(h.sent("POST", token_url).empty());
    CHECK(h.store.count("tokens") == 0);
  }
}

TEST_CASE_FIXTURE(login_fixture, "login: the exact iss, percent-encoded on the redirect, is accepted when promised") {
  script_login(host, as_metadata(R"(,"authorization_response_iss_parameter_supported":true)"));
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url({{"code", "the-code"}, {"state", oauth_fake_host::state_of(url)}, {"iss", issuer}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_OK);
  CHECK(host.sent("POST", token_url).size() == 1);
}

TEST_CASE_FIXTURE(login_fixture, "login: a missing iss is accepted when the server never promised one") {
  script_login(host);
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url({{"code", "the-code"}, {"state", oauth_fake_host::state_of(url)}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_OK);
  CHECK(host.store.count("tokens") == 1);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "authcode: error=access_denied with the right iss reports the server's error, made printable") {
  script_login(host, as_metadata(R"(,"authorization_response_iss_parameter_supported":true)"));
  std::string error = "access_denied";
  std::string description = "the user said no";
  std::string shown = "access_denied (the user said no)";
  SUBCASE("plain text") {}
  SUBCASE("escape sequences and controls") {
    error = "access_denied\x1b[31m";
    description = "no\x1b[2J\x1b]0;owned\x07 \n way";
    shown = "access_denied (no way)";
  }
  host.redirect_for = [&](const std::string& url) {
    return oauth_fake_host::callback_url({{"error", error},
                                          {"error_description", description},
                                          {"state", oauth_fake_host::state_of(url)},
                                          {"iss", issuer}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, shown));
  CHECK_FALSE(contains(done.message, "\x1b"));
  CHECK_FALSE(contains(done.message, "owned"));
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.store.count("tokens") == 0);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: metadata without S256 is refused before the browser opens") {
  SUBCASE("no code_challenge_methods_supported") { script_login(host, as_metadata("", false)); }
  SUBCASE("plain only") {
    script_login(host, as_metadata(R"(,"code_challenge_methods_supported":["plain"])", false));
  }
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_CONFIG);
  CHECK(contains(done.message, "S256"));
  CHECK(host.opened_urls.empty());
  CHECK(host.op_count("open_url") == 0);
  CHECK(host.sent("POST", register_url).empty());
  CHECK(host.sent("POST", token_url).empty());
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: a registration with other redirect URIs is refused, not guessed") {
  script_discovery(host);
  host.on("POST", register_url,
          http_reply::json(201, registration_response("dyn-client-1", "http://127.0.0.1:9999/elsewhere")));
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, "will not guess"));
  CHECK(host.opened_urls.empty());
  CHECK(host.op_count("put") == 0);
  CHECK(host.sent("POST", token_url).empty());
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: invalid_client at the code exchange drops the registration and registers once more") {
  script_discovery(host);
  int registrations = 0;
  host.handler = [&](const recorded_request& r) -> std::optional<http_reply> {
    if (r.url != register_url) return std::nullopt;
    ++registrations;
    return http_reply::json(201, registration_response("dyn-client-" + std::to_string(registrations + 1)));
  };
  const http_reply invalid_client = http_reply::json(401, R"({"error":"invalid_client"})");

  SUBCASE("the server keeps refusing: two registrations, then a failure") {
    host.on("POST", token_url, invalid_client);  // repeats
    oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
    completion_probe done;
    login(inst, done);
    CHECK(done.status != FRACTA_OK);
    CHECK(contains(done.message, "invalid_client"));
    CHECK(registrations == 2);
    const auto tok = host.sent("POST", token_url);
    REQUIRE(tok.size() == 2);
    CHECK(param(form_params(tok[0].body), "client_id") == "dyn-client-2");
    CHECK(param(form_params(tok[1].body), "client_id") == "dyn-client-3");
    CHECK(host.op_count("erase registration") == 1);
    CHECK(host.opened_urls.size() == 2);
    CHECK(host.store.count("tokens") == 0);
    check_no_secrets(host, inst, {done.message});
  }
  SUBCASE("a stored registration the server forgot: one new registration, then success") {
    host.store["registration"] =
        R"({"client_id":"stale-client","token_endpoint_auth_method":"none","redirect_uris":[")" + redirect +
        R"("],"grant_types":["authorization_code","refresh_token"],"issuer":")" + issuer +
        R"(","registration_endpoint":")" + register_url + R"("})";
    host.on("POST", token_url, invalid_client);
    host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
    oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
    completion_probe done;
    login(inst, done);
    REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
    CHECK(registrations == 1);
    const auto tok = host.sent("POST", token_url);
    REQUIRE(tok.size() == 2);
    CHECK(param(form_params(tok[0].body), "client_id") == "stale-client");
    CHECK(param(form_params(tok[1].body), "client_id") == "dyn-client-2");
    CHECK(host.op_index("erase registration") < host.op_index("http POST " + register_url));
    CHECK(json_field(host.store.at("registration"), "client_id") == "dyn-client-2");
    CHECK(json_field(host.store.at("tokens"), "client_id") == "dyn-client-2");
    CHECK(host.listen_requests.front() == redirect);  // the registered redirect was reused first
    check_no_secrets(host, inst, {done.message});
  }
}

TEST_CASE_FIXTURE(login_fixture, "login: omit_resource sends no resource on authorize, token or refresh") {
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","omit_resource":true})");
  completion_probe done;
  login(inst, done);
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  CHECK(count_param(authorize_params(), "resource") == 0);
  CHECK(json_field(host.store.at("tokens"), "resource").empty());

  host.base.wall_ms += 7200 * 1000;  // the access token expired
  CHECK(inst.authorization() == "(status 2)");
  completion_probe refreshed;
  finish(host, inst.refresh(refreshed), refreshed);
  CHECK(refreshed.status == FRACTA_OK);
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 2);
  CHECK(param(form_params(tok[1].body), "grant_type") == "refresh_token");
  for (const auto& r : tok) CHECK(count_param(form_params(r.body), "resource") == 0);
  for (const auto& r : host.requests) CHECK(count_param(url_params(r.url), "resource") == 0);
  check_no_secrets(host, inst, {done.message, refreshed.message});
}

TEST_CASE_FIXTURE(login_fixture, "login: authorize_params and token_params go to their own requests only") {
  script_login(host);
  oauth_instance inst(host, "oauth-authcode",
                      R"({"type":"oauth","authorize_params":{"audience":"api"},"token_params":{"token_hint":"t1"}})");
  completion_probe done;
  login(inst, done);
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  const auto a = authorize_params();
  CHECK(param(a, "audience") == "api");
  CHECK(count_param(a, "token_hint") == 0);
  CHECK(param(a, "resource") == mcp_url);
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 1);
  const auto t = form_params(tok[0].body);
  CHECK(param(t, "token_hint") == "t1");
  CHECK(count_param(t, "audience") == 0);
  CHECK(param(t, "resource") == mcp_url);
  const auto reg = host.sent("POST", register_url);
  REQUIRE(reg.size() == 1);
  CHECK_FALSE(contains(reg[0].body, "audience"));
  CHECK_FALSE(contains(reg[0].body, "token_hint"));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(login_fixture, "authcode: a stray redirect does not end the login; the login's own redirect completes it") {
  script_login(host);
  const auto real = host.redirect_for;
  host.redirect_sequence = {
      [](const std::string&) {
        return oauth_fake_host::callback_url({{"error", "access_denied"}, {"error_description", "PHISHY"}});
      },
      real,
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done, R"({"timeout_ms":60000})");
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 1);
  CHECK(param(form_params(tok[0].body), "code") == "the-code");
  CHECK(host.redirect_timeouts == std::vector<std::int64_t>{60000, 60000});  // no time passed between them
  CHECK(contains(host.base.log_text(), "ignored a request"));
  CHECK_FALSE(contains(host.base.log_text(), "PHISHY"));
  CHECK_FALSE(contains(done.message, "PHISHY"));
  CHECK(json_field(host.store.at("tokens"), "access_token") == login_access);
  check_no_secrets(host, inst, {done.message});
}
