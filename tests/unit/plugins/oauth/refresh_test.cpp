// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's refresh policy (refresh.cpp): what is kept, sent and stored on each answer.
#include "provider_fixtures.hpp"

using namespace fracta::test;
using namespace fracta::test::oauth;

TEST_CASE_FIXTURE(refresh_fixture, "refresh: 503 or a network error is TRANSIENT and leaves the stored tokens alone") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  REQUIRE(inst.status == FRACTA_OK);
  host.run();  // the store read started by create()
  CHECK(inst.authorization() == "(status 2)");  // NEED_REFRESH: expired, refresh token held

  SUBCASE("HTTP 503") { host.on("POST", token_url, http_reply::text(503, "Service Unavailable")); }
  SUBCASE("network error") { host.on("POST", token_url, http_reply::network(FRACTA_E_UNAVAILABLE, "connection reset")); }
  SUBCASE("temporarily_unavailable") {
    host.on("POST", token_url, http_reply::json(400, R"({"error":"temporarily_unavailable"})"));
  }

  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_E_TRANSIENT);
  CHECK(host.sent("POST", token_url).size() == 1);
  CHECK(host.op_count("put") == 0);
  CHECK(host.op_count("erase") == 0);
  CHECK(host.store.at("tokens") == stored);
  // The refresh token is still held: the host may try again later, no login needed.
  CHECK(inst.authorization() == "(status 2)");
  CHECK(contains(inst.status_json(), R"("needs_login":false)"));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: invalid_grant erases the tokens and asks for a login, once") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url,
          http_reply::json(400, R"({"error":"invalid_grant","error_description":"refresh token revoked"})"));
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(done.message, login_cmd));
  CHECK(host.op_count("erase tokens") == 1);
  CHECK(host.op_count("put") == 0);
  CHECK(host.store.count("tokens") == 0);
  CHECK(contains(inst.status_json(), R"("needs_login":true)"));

  // No loop: requests go without a credential, and another refresh does not use the dead grant.
  CHECK(inst.authorization().empty());
  completion_probe again;
  finish(host, inst.refresh(again), again);
  CHECK(again.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(again.message, login_cmd));
  CHECK(host.sent("POST", token_url).size() == 1);
  check_no_secrets(host, inst, {done.message, again.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: a rotated refresh token is stored before the new access token is used") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  completion_probe done;
  REQUIRE(inst.refresh(done) == FRACTA_PENDING);
  // Step the host one completion at a time; the moment apply() hands out the new access token,
  // the new refresh token must already be in the store.
  bool seen_new = false;
  while (host.base.run_next()) {
    const std::string auth = inst.authorization();
    if (auth == "Bearer " + std::string(new_access) && !seen_new) {
      seen_new = true;
      host.ops.push_back("apply: new access token");
      REQUIRE(host.store.count("tokens") == 1);
      CHECK(json_field(host.store.at("tokens"), "refresh_token") == new_refresh);
    }
  }
  REQUIRE(done.calls == 1);
  CHECK(done.status == FRACTA_OK);
  CHECK(done.expires_at_unix_ms == (now_s + 3600) * 1000);
  REQUIRE(seen_new);
  const int put = host.op_index("put tokens");
  REQUIRE(put >= 0);
  CHECK(put < host.op_index("done put tokens"));
  CHECK(host.op_index("done put tokens") < host.op_index("apply: new access token"));
  CHECK(host.op_index("http POST " + token_url) < put);
  CHECK(json_field(host.store.at("tokens"), "access_token") == new_access);
  CHECK(host.op_count("erase") == 0);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: without a refresh_token in the answer the old one is kept") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url, http_reply::json(200, token_response(new_access)));
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_OK);
  REQUIRE(host.store.count("tokens") == 1);
  CHECK(json_field(host.store.at("tokens"), "access_token") == new_access);
  CHECK(json_field(host.store.at("tokens"), "refresh_token") == old_refresh);
  CHECK(inst.authorization() == "Bearer " + std::string(new_access));
  CHECK(contains(inst.status_json(), R"("refresh_token":true)"));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: the request carries the stored resource and keeps the token out of the URL") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  completion_probe done;
  finish(host, inst.refresh(done), done);
  REQUIRE(done.status == FRACTA_OK);
  const auto sent = host.sent("POST", token_url);
  REQUIRE(sent.size() == 1);
  const recorded_request& r = sent[0];
  CHECK(r.url == token_url);
  CHECK_FALSE(contains(r.url, old_refresh));
  CHECK_FALSE(contains(r.url, "refresh_token"));
  for (const auto& [n, v] : r.headers) CHECK_FALSE(contains(v, old_refresh));
  const auto body = form_params(r.body);
  CHECK(param(body, "grant_type") == "refresh_token");
  CHECK(param(body, "refresh_token") == old_refresh);
  CHECK(param(body, "resource") == mcp_url);
  CHECK(count_param(body, "resource") == 1);
  CHECK(param(body, "client_id") == "public-client");
  // Stored endpoints are used: no discovery before a refresh.
  CHECK(host.requests.size() == 1);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: tokens another process rotated meanwhile are adopted, never re-spent") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();  // holds old_refresh from the store
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));

  SUBCASE("the other process's access token is still valid: no token request at all") {
    host.store["tokens"] = tokens_json(new_access, new_refresh, now_s + 3600);
    completion_probe done;
    finish(host, inst.refresh(done), done);
    CHECK(done.status == FRACTA_OK);
    CHECK(host.sent("POST", token_url).empty());
    CHECK(inst.authorization() == "Bearer " + std::string(new_access));
  }
  SUBCASE("its access token expired too: the refresh spends the newer refresh token, not ours") {
    host.store["tokens"] = tokens_json(new_access, new_refresh, now_s - 5);
    completion_probe done;
    finish(host, inst.refresh(done), done);
    CHECK(done.status == FRACTA_OK);
    const auto sent = host.sent("POST", token_url);
    REQUIRE(sent.size() == 1);
    CHECK(param(form_params(sent[0].body), "refresh_token") == new_refresh);
    CHECK_FALSE(contains(sent[0].body, old_refresh));
    CHECK(inst.authorization() == "Bearer " + std::string(login_access));
  }
  check_no_secrets(host, inst);
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: an unreachable store is not \"no tokens\": no login demanded, nothing erased") {
  host.store_fail["get tokens"] = FRACTA_E_UNAVAILABLE;
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  CHECK(contains(inst.status_json(), "store_error"));
  for (int i = 0; i < 2; ++i) {
    completion_probe done;
    finish(host, inst.refresh(done), done);
    CHECK(done.status == FRACTA_E_UNAVAILABLE);
    CHECK_FALSE(contains(done.message, login_cmd));
  }
  CHECK(host.requests.empty());
  CHECK(host.op_count("put") + host.op_count("erase") == 0);
  CHECK(host.store.at("tokens") == stored);

  host.store_fail.clear();  // the keyring is back: the stored grant is used
  host.on("POST", token_url, http_reply::json(200, token_response(new_access)));
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_OK);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("issuer change: a refresh token without a stored endpoint is not sent to a newly discovered issuer") {
  oauth_fake_host host;
  // Tokens from elsewhere (token.json needs only access_token): an issuer, no token_endpoint.
  host.store["tokens"] = R"({"access_token":"old-access-SECRET-1","refresh_token":"old-refresh-SECRET-2",)"
                         R"("expires_at":1,"issuer":"https://old-as.example.com","client_id":"old-client-id"})";
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(done.message, login_cmd));
  CHECK(host.sent("POST", token_url).empty());
  for (const auto& r : host.requests) {
    CHECK_FALSE(contains(r.everything(), old_refresh));
    CHECK_FALSE(contains(r.everything(), "old-client-id"));
  }
  // No loop: the next refresh does not try again.
  completion_probe again;
  finish(host, inst.refresh(again), again);
  CHECK(again.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(host.sent("POST", token_url).empty());
  check_no_secrets(host, inst, {done.message, again.message});
}

// ---- issuer binding ------------------------------------------------------------------------------

TEST_CASE("refresh: an inline refresh token goes only to its configured issuer, never to one the server names") {
  oauth_fake_host host;
  const std::string evil = "https://evil.example";
  host.on("GET", prm_url,
          http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":[")" + evil + R"("]})"));
  host.on("GET", evil + "/.well-known/oauth-authorization-server",
          http_reply::json(200, R"({"issuer":")" + evil + R"(","token_endpoint":")" + evil + R"(/token"})"));
  host.on("GET", as_md_url, http_reply::json(200, as_metadata()));
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  const std::string inline_tokens =
      R"("access_token":{"value":"inline-access-SECRET"},"refresh_token":{"value":"inline-refresh-SECRET"},"expires_at":1,)"
      R"("client_id":{"value":"conf-client"},"client_secret":{"value":"client-secret-SECRET-7"})";
  completion_probe done;

  SUBCASE("issuer configured: the server's metadata naming another one is refused, nothing sent") {
    oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","issuer":")" + issuer + R"(",)" + inline_tokens + "}");
    REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
    finish(host, inst.refresh(done), done);
    CHECK(done.status == FRACTA_E_CONFIG);
    CHECK(contains(done.message, "https://as.example.com/"));
    CHECK(contains(done.message, "https://evil.example/"));
    check_no_secrets(host, inst, {done.message});
  }
  SUBCASE("metadata_url configured: the refresh goes to the token endpoint it declares") {
    oauth_instance inst(host, "oauth-authcode",
                        R"({"type":"oauth","metadata_url":")" + as_md_url + R"(",)" + inline_tokens + "}");
    REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
    finish(host, inst.refresh(done), done);
    CHECK_MESSAGE(done.status == FRACTA_OK, done.message);
    const auto sent = host.sent("POST", token_url);
    REQUIRE(sent.size() == 1);
    CHECK(param(form_params(sent[0].body), "refresh_token") == "inline-refresh-SECRET");
    CHECK(host.sent("GET", prm_url).empty());
  }
  for (const auto& r : host.requests) {
    CHECK_FALSE(contains(r.url, "evil.example/token"));
    if (contains(r.url, "evil.example")) {
      CHECK_FALSE(contains(r.everything(), "inline-refresh-SECRET"));
      CHECK_FALSE(r.header("Authorization").has_value());
      CHECK_FALSE(contains(r.everything(), client_secret));
    }
  }
}

TEST_CASE("refresh: a token_file refresh token without an issuer is never sent to a discovered authorization server") {
  oauth_fake_host host;
  host.base.files["/run/tokens.json"] =
      R"({"access_token":"file-access-SECRET","refresh_token":"file-refresh-SECRET","expires_at":1})";
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","token_file":"/run/tokens.json"})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  host.run();
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK(done.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(contains(done.message, "issuer"));
  CHECK(host.sent("POST", token_url).empty());
  for (const auto& r : host.requests) CHECK_FALSE(contains(r.everything(), "file-refresh-SECRET"));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("refresh: a token_file re-exported with only a new refresh token is adopted without a token request; status names the file and its read") {
  oauth_fake_host host;
  host.base.files["/run/tokens.json"] = tokens_json(old_access, old_refresh, now_s + 3600);
  script_login(host);
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","token_file":"/run/tokens.json"})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  host.run();
  CHECK(contains(inst.status_json(), R"("source":"token_file")"));
  CHECK(contains(inst.status_json(), R"("source_path":"/run/tokens.json")"));
  CHECK(contains(inst.status_json(), "\"source_read_at\":" + std::to_string(now_s)));
  // The same access token, another refresh token: a new export, not the one already held.
  host.base.files["/run/tokens.json"] = tokens_json(old_access, new_refresh, now_s + 3600);
  host.base.wall_ms += 90'000;
  completion_probe done;
  finish(host, inst.refresh(done), done);
  CHECK_MESSAGE(done.status == FRACTA_OK, done.message);
  CHECK(host.sent("POST", token_url).empty());  // the new grant is not spent: it is adopted
  CHECK(contains(inst.status_json(), "\"source_read_at\":" + std::to_string(now_s + 90)));
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE("refresh: a token_file that did not change is not taken again after a refresh in memory (its refresh token is spent)") {
  oauth_fake_host host;
  host.base.files["/run/tokens.json"] = tokens_json(old_access, old_refresh, now_s - 60);
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth","token_file":"/run/tokens.json"})");
  REQUIRE_MESSAGE(inst.status == FRACTA_OK, inst.error.text);
  host.run();
  completion_probe first;
  finish(host, inst.refresh(first), first);
  REQUIRE_MESSAGE(first.status == FRACTA_OK, first.message);
  CHECK(inst.authorization() == "Bearer " + std::string(new_access));
  // The next refresh re-reads the file, which still holds the bootstrap tokens: they are not
  // the news, the rotated refresh token held in memory is what is redeemed.
  completion_probe second;
  finish(host, inst.refresh(second), second);
  REQUIRE_MESSAGE(second.status == FRACTA_OK, second.message);
  const auto posts = host.sent("POST", token_url);
  REQUIRE(posts.size() == 2);
  CHECK(param(form_params(posts[0].body), "refresh_token") == old_refresh);
  CHECK(param(form_params(posts[1].body), "refresh_token") == new_refresh);
  check_no_secrets(host, inst, {first.message, second.message});
}

// ---- failures that must not lose a grant ---------------------------------------------------------

TEST_CASE_FIXTURE(refresh_fixture, "refresh: invalid_grant adopts a grant another process rotated meanwhile, and erases nothing") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  std::string rotated;
  // The other process stores its rotation after our re-read, while our (now stale) token is out.
  host.handler = [&](const recorded_request& r) -> std::optional<http_reply> {
    if (r.url != token_url) return std::nullopt;
    if (param(form_params(r.body), "refresh_token") == old_refresh) {
      host.store["tokens"] = rotated;
      return http_reply::json(400, R"({"error":"invalid_grant"})");
    }
    return http_reply::json(200, token_response(login_access, login_refresh));
  };
  completion_probe done;

  SUBCASE("its access token is valid: used as it is") {
    rotated = tokens_json(new_access, new_refresh, now_s + 3600);
    finish(host, inst.refresh(done), done);
    CHECK_MESSAGE(done.status == FRACTA_OK, done.message);
    CHECK(host.sent("POST", token_url).size() == 1);
    CHECK(inst.authorization() == "Bearer " + std::string(new_access));
    CHECK(host.store.at("tokens") == rotated);
  }
  SUBCASE("its access token expired too: its refresh token is spent, once") {
    rotated = tokens_json(new_access, new_refresh, now_s - 5);
    finish(host, inst.refresh(done), done);
    CHECK_MESSAGE(done.status == FRACTA_OK, done.message);
    const auto sent = host.sent("POST", token_url);
    REQUIRE(sent.size() == 2);
    CHECK(param(form_params(sent[1].body), "refresh_token") == new_refresh);
    CHECK(inst.authorization() == "Bearer " + std::string(login_access));
    CHECK(json_field(host.store.at("tokens"), "refresh_token") == login_refresh);
  }
  CHECK(host.op_count("erase") == 0);
  check_no_secrets(host, inst, {done.message});
}

TEST_CASE_FIXTURE(refresh_fixture, "refresh: invalid_client keeps the tokens; only a dynamic registration refused twice is dropped") {
  const http_reply invalid_client = http_reply::json(401, R"({"error":"invalid_client"})");
  host.on("POST", token_url, invalid_client);  // repeats

  SUBCASE("a dynamic registration") {
    host.store["tokens"] = tokens_json(old_access, old_refresh, now_s - 60, "a", issuer, "dyn-client-1");
    host.store["registration"] = R"({"client_id":"dyn-client-1","token_endpoint_auth_method":"none","issuer":")" +
                                 issuer + R"("})";
    oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
    host.run();
    completion_probe first;
    finish(host, inst.refresh(first), first);
    CHECK(first.status == FRACTA_E_DENIED);
    CHECK(contains(first.message, "kept"));
    CHECK(host.op_count("erase") == 0);
    CHECK(contains(inst.status_json(), R"("needs_login":false)"));
    CHECK(inst.authorization() == "(status 2)");  // another refresh may be tried

    completion_probe second;
    finish(host, inst.refresh(second), second);
    CHECK(second.status == FRACTA_E_NEEDS_LOGIN);
    CHECK(contains(second.message, login_cmd));
    CHECK(host.op_count("erase registration") == 1);
    CHECK(host.store.count("registration") == 0);
    CHECK(host.op_count("erase tokens") == 0);
    CHECK(json_field(host.store.at("tokens"), "refresh_token") == old_refresh);
    check_no_secrets(host, inst, {first.message, second.message});
  }
  SUBCASE("a configured client: nothing is ever dropped") {
    oauth_instance inst(host, "oauth-authcode",
                        R"({"type":"oauth","client_id":{"value":"conf-client"},"client_secret":{"value":"client-secret-SECRET-7"}})");
    host.run();
    for (int i = 0; i < 3; ++i) {
      completion_probe done;
      finish(host, inst.refresh(done), done);
      CHECK(done.status == FRACTA_E_DENIED);
      check_no_secrets(host, inst, {done.message});
    }
    CHECK(host.op_count("erase") == 0);
    CHECK(host.store.at("tokens") == stored);
  }
}

TEST_CASE_FIXTURE(refresh_fixture, "needs login: a 401 re-reads the store, so a login by another process heals a running one") {
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  host.run();
  host.on("POST", token_url, http_reply::json(400, R"({"error":"invalid_grant"})"));
  completion_probe dead;
  finish(host, inst.refresh(dead), dead);
  REQUIRE(dead.status == FRACTA_E_NEEDS_LOGIN);
  CHECK(inst.authorization().empty());  // nothing held, nothing stored

  SUBCASE("nothing new in the store: still a login, no token request") {
    completion_probe asked;
    REQUIRE(inst.on_challenge(401, R"(Bearer error="invalid_token")", asked) == FRACTA_NEED_REFRESH);
    finish(host, inst.refresh(asked), asked);
    CHECK(asked.status == FRACTA_E_NEEDS_LOGIN);
    CHECK(contains(asked.message, login_cmd));
    CHECK(host.sent("POST", token_url).size() == 1);
  }
  SUBCASE("another process logged in meanwhile: its tokens are used") {
    host.store["tokens"] = tokens_json(new_access, new_refresh, now_s + 3600);
    completion_probe asked;
    REQUIRE(inst.on_challenge(401, R"(Bearer error="invalid_token")", asked) == FRACTA_NEED_REFRESH);
    finish(host, inst.refresh(asked), asked);
    CHECK_MESSAGE(asked.status == FRACTA_OK, asked.message);
    CHECK(inst.authorization() == "Bearer " + std::string(new_access));
    CHECK(contains(inst.status_json(), R"("needs_login":false)"));
    CHECK(host.sent("POST", token_url).size() == 1);  // adopted, not redeemed
  }
  check_no_secrets(host, inst, {dead.message});
}
