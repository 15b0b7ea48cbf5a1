// SPDX-License-Identifier: Apache-2.0
// Login and logout (login.cpp): issuer pinning, what a failed or abandoned login keeps.
#include "provider_fixtures.hpp"

using namespace fracta::test;
using namespace fracta::test::oauth;

TEST_CASE("issuer change: the old refresh token and client never reach the new authorization server") {
  oauth_fake_host host;
  const std::string old_issuer = "https://old-as.example.com";
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s - 60, "a", old_issuer, "old-client-id");
  host.store["registration"] =
      R"({"client_id":"old-client-id","client_secret":"old-client-secret-SECRET-9",)"
      R"("token_endpoint_auth_method":"client_secret_post","redirect_uris":[")" + redirect +
      R"("],"grant_types":["authorization_code","refresh_token"],"issuer":")" + old_issuer + R"("})";
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);

  REQUIRE_FALSE(host.requests.empty());
  for (const auto& r : host.requests) {
    CHECK_FALSE(contains(r.url, "old-as.example.com"));
    const std::string all = r.everything();
    CHECK_FALSE(contains(all, old_refresh));
    CHECK_FALSE(contains(all, "old-client-id"));
    CHECK_FALSE(contains(all, "old-client-secret"));
    CHECK_FALSE(contains(all, old_access));
  }
  for (const auto& u : host.opened_urls) CHECK_FALSE(contains(u, "old-client-id"));
  CHECK(host.sent("POST", register_url).size() == 1);  // registered afresh with the new issuer
  CHECK(json_field(host.store.at("tokens"), "issuer") == issuer);
  CHECK(json_field(host.store.at("tokens"), "refresh_token") == login_refresh);
  CHECK(json_field(host.store.at("registration"), "issuer") == issuer);
  CHECK(json_field(host.store.at("registration"), "client_id") == "dyn-client-1");
  check_no_secrets(host, inst, {done.message});
}

// ---- a failed or abandoned login keeps what was there ---------------------------------------------

TEST_CASE("login: an abandoned login after an issuer change keeps the stored grant and registration") {
  oauth_fake_host host;
  const std::string old_issuer = "https://old-as.example.com";
  const std::string old_tokens = tokens_json(old_access, old_refresh, now_s + 3600, "a", old_issuer, "old-client-id");
  const std::string old_registration =
      R"({"client_id":"old-client-id","token_endpoint_auth_method":"none","redirect_uris":[")" + redirect +
      R"("],"grant_types":["authorization_code","refresh_token"],"issuer":")" + old_issuer + R"("})";
  host.store["tokens"] = old_tokens;
  host.store["registration"] = old_registration;
  script_login(host);
  host.redirect_status = FRACTA_E_TIMEOUT;  // the user never finishes in the browser
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  CHECK(done.status == FRACTA_E_TIMEOUT);
  CHECK(host.op_count("erase") == 0);
  CHECK(host.op_count("put") == 0);
  CHECK(host.store.at("tokens") == old_tokens);
  CHECK(host.store.at("registration") == old_registration);
  CHECK(inst.authorization() == "Bearer " + std::string(old_access));
  for (const auto& r : host.requests) {
    CHECK_FALSE(contains(r.everything(), old_refresh));
    CHECK_FALSE(contains(r.everything(), "old-client-id"));
  }
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("login: a token store that cannot keep the new tokens fails the login, and nothing changes") {
  oauth_fake_host host;
  script_login(host);
  host.store_fail["put tokens"] = FRACTA_E_UNAVAILABLE;
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  CHECK(done.status == FRACTA_E_UNAVAILABLE);
  CHECK(contains(done.message, "could not be stored"));
  CHECK(inst.authorization().empty());
  CHECK(contains(inst.status_json(), R"("logged_in":false)"));
  CHECK(host.store.count("registration") == 0);  // stored only with the tokens
  check_no_secrets(host, inst, {done.message});
}

// ---- issuer pinning ---------------------------------------------------------------------------------

namespace {

const std::string evil = "https://evil.example";

// Resource metadata listing `servers`, plus metadata for evil (which must never be fetched).
void script_prm(oauth_fake_host& h, const std::string& servers) {
  h.on("GET", prm_url,
       http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":[)" + servers + "]}"));
  h.on("GET", as_md_url, http_reply::json(200, as_metadata()));
  h.on("GET", evil + "/.well-known/oauth-authorization-server",
       http_reply::json(200, R"({"issuer":")" + evil + R"(","authorization_endpoint":")" + evil +
                                 R"(/authorize","token_endpoint":")" + evil +
                                 R"(/token","code_challenge_methods_supported":["S256"]})"));
  h.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
}

const std::string confidential =
    R"("client_id":{"value":"conf-client"},"client_secret":{"value":"client-secret-SECRET-7"})";

void check_nothing_went_to_evil(const oauth_fake_host& h) {
  for (const auto& r : h.requests) CHECK_FALSE(contains(r.url, "evil.example"));
  for (const auto& u : h.opened_urls) CHECK_FALSE(contains(u, "evil.example"));
}

}  // namespace

TEST_CASE("issuer pinning: a configured client is never sent to another authorization server than the configured issuer") {
  oauth_fake_host host;
  completion_probe done;
  SUBCASE("the resource metadata names another one") {
    script_prm(host, '"' + evil + '"');
    oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","issuer":")" + issuer + R"(",)" + confidential + "}");
    REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
    host.run();
    finish(host, inst.login("{}", done), done);
    CHECK(contains(done.message, "https://evil.example/"));
  }
  SUBCASE("metadata_url declares another one") {
    host.on("GET", as_md_url,
            http_reply::json(200, R"({"issuer":")" + evil + R"(","token_endpoint":")" + evil + R"(/token"})"));
    oauth_instance inst(host, "oauth-authcode",
                        R"({"type":"oauth","issuer":")" + issuer + R"(","metadata_url":")" + as_md_url + R"(",)" +
                            confidential + "}");
    REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
    host.run();
    finish(host, inst.login("{}", done), done);
    CHECK(contains(done.message, "https://evil.example/"));
  }
  CHECK(done.status == FRACTA_E_CONFIG);
  CHECK(contains(done.message, "https://as.example.com/"));
  CHECK(host.opened_urls.empty());
  CHECK(host.op_count("put") == 0);
  check_nothing_went_to_evil(host);
  for (const auto& r : host.requests) CHECK_FALSE(contains(r.everything(), client_secret));
}

TEST_CASE("issuer pinning: the configured issuer is chosen among several listed authorization servers") {
  oauth_fake_host host;
  script_prm(host, '"' + evil + R"(",")" + issuer + '"');
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","issuer":")" + issuer + R"(",)" + confidential + "}");
  host.run();
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  REQUIRE_MESSAGE(done.status == FRACTA_OK, done.message);
  CHECK(json_field(host.store.at("tokens"), "issuer") == issuer);
  check_nothing_went_to_evil(host);
}

TEST_CASE("issuer pinning: without issuer configured, a client secret stays with the issuer its tokens came from") {
  oauth_fake_host host;
  script_prm(host, '"' + issuer + '"');
  const std::string old_issuer = "https://old-as.example.com";
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600, "a", old_issuer, "conf-client");
  oauth_instance inst(host, "oauth-authcode", "{\"type\":\"oauth\"," + confidential + "}");
  host.run();
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  CHECK(done.status == FRACTA_E_CONFIG);
  CHECK(contains(done.message, "https://old-as.example.com/"));
  CHECK(contains(done.message, "https://as.example.com/"));
  CHECK(contains(done.message, "issuer"));
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.opened_urls.empty());
  for (const auto& r : host.requests) CHECK_FALSE(contains(r.everything(), client_secret));
  check_no_secrets(host, inst, {done.message});
}

// ---- discovery egress -----------------------------------------------------------------------------

TEST_CASE("discovery: URLs the server names must be https; nothing else is fetched") {
  oauth_fake_host host;
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  std::string named;
  SUBCASE("a challenge's resource_metadata over plain http") {
    completion_probe challenged;
    // Nothing held: the provider first looks for another process's login (a refresh).
    CHECK(inst.on_challenge(401, R"(Bearer resource_metadata="http://169.254.169.254/latest/meta-data?k=SECRET")",
                            challenged) == FRACTA_NEED_REFRESH);
    finish(host, inst.refresh(challenged), challenged);
    CHECK(challenged.status == FRACTA_E_NEEDS_LOGIN);
    named = "http://169.254.169.254/latest/meta-data";
  }
  SUBCASE("an authorization server over plain http") {
    host.routes.erase("GET " + prm_url);
    host.on("GET", prm_url,
            http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":["http://as.example.com"]})"));
    named = "http://as.example.com/";
  }
  SUBCASE("a loopback authorization server for a server that is not on loopback") {
    host.routes.erase("GET " + prm_url);
    host.on("GET", prm_url,
            http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":["http://127.0.0.1:6379"]})"));
    named = "http://127.0.0.1:6379/";
  }
  completion_probe done;
  finish(host, inst.login("{}", done), done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK_MESSAGE(contains(done.message, named), done.message);
  for (const auto& r : host.requests) CHECK(r.url.starts_with("https://"));
  CHECK(host.opened_urls.empty());
  check_no_secrets(host, inst, {done.message});
}

// ---- MCP 2026-07-28: metadata issuer, resource binding, authorization-server migration -----------

TEST_CASE_FIXTURE(login_fixture, "login: AS metadata declaring another issuer is not used: nothing goes to its endpoints") {
  const std::string attacker = "https://attacker.example.com";
  script_discovery(host, R"({"issuer":")" + attacker + R"(","authorization_endpoint":")" + attacker +
                             R"(/authorize","token_endpoint":")" + attacker + R"(/token","registration_endpoint":")" +
                             attacker + R"(/register","code_challenge_methods_supported":["S256"]})");
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status != FRACTA_OK);
  CHECK(contains(done.message, "issuer"));
  for (const auto& r : host.requests) CHECK_FALSE(contains(r.url, "attacker.example.com"));
  CHECK(host.opened_urls.empty());
  CHECK(host.store.count("tokens") == 0);
}

TEST_CASE_FIXTURE(login_fixture, "login: resource metadata for another resource is refused before any authorization request") {
  host.on("GET", prm_url,
          http_reply::json(200, R"({"resource":"https://evil.example.com/mcp","authorization_servers":[")" + issuer +
                                    R"("]})"));
  host.on("GET", as_md_url, http_reply::json(200, as_metadata()));
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status != FRACTA_OK);
  CHECK(host.opened_urls.empty());
  CHECK(host.sent("POST", register_url).empty());
  CHECK(host.sent("POST", token_url).empty());
}

TEST_CASE_FIXTURE(login_fixture, "migration: when the resource metadata names a new authorization server, fracta re-registers there and never presents the old client") {
  script_discovery(host);
  host.on("POST", register_url, http_reply::json(201, registration_response("dyn-client-1")));
  host.on("POST", token_url, http_reply::json(200, token_response(login_access)));  // no refresh token
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe first;
  login(inst, first);
  REQUIRE_MESSAGE(first.status == FRACTA_OK, first.message);
  REQUIRE(json_field(host.store.at("registration"), "client_id") == "dyn-client-1");

  // The resource moves to AS₂; the old token is refused.
  const std::string as2 = "https://as2.example.com";
  host.routes.erase("GET " + prm_url);
  host.on("GET", prm_url,
          http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":[")" + as2 + R"("]})"));
  host.on("GET", as2 + "/.well-known/oauth-authorization-server",
          http_reply::json(200, R"({"issuer":")" + as2 + R"(","authorization_endpoint":")" + as2 +
                                    R"(/authorize","token_endpoint":")" + as2 + R"(/token","registration_endpoint":")" +
                                    as2 + R"(/register","code_challenge_methods_supported":["S256"]})"));
  host.on("POST", as2 + "/register", http_reply::json(201, registration_response("as2-client")));
  host.on("POST", as2 + "/token", http_reply::json(200, token_response(new_access)));
  host.issuer = as2;
  const std::size_t before = host.requests.size();
  completion_probe refused;
  CHECK(inst.on_challenge(401, R"(Bearer error="invalid_token", resource_metadata=")" + prm_url + R"(")", refused) ==
        FRACTA_NEED_REFRESH);
  finish(host, inst.refresh(refused), refused);  // the store holds nothing newer
  CHECK(refused.status == FRACTA_E_NEEDS_LOGIN);

  completion_probe second;
  finish(host, inst.login("{}", second), second);
  REQUIRE_MESSAGE(second.status == FRACTA_OK, second.message);
  CHECK(host.sent("GET", prm_url).size() == 2);  // the resource metadata was fetched again
  CHECK(host.sent("POST", as2 + "/register").size() == 1);
  for (std::size_t i = before; i < host.requests.size(); ++i) {
    CHECK_FALSE(contains(host.requests[i].everything(), "dyn-client-1"));
    CHECK_FALSE(contains(host.requests[i].everything(), std::string(login_access)));
  }
  REQUIRE(host.opened_urls.size() == 2);
  CHECK(host.opened_urls[1].starts_with(as2 + "/authorize?"));
  CHECK_FALSE(contains(host.opened_urls[1], "dyn-client-1"));
  CHECK(json_field(host.store.at("registration"), "issuer") == as2);
  CHECK(json_field(host.store.at("tokens"), "issuer") == as2);
  check_no_secrets(host, inst, {first.message, second.message});
}
