// SPDX-License-Identifier: Apache-2.0
// The stored records' JSON: the exact text written, what reading accepts, and its errors.
#include "../../../../plugins/oauth/state.hpp"

#include <doctest/doctest.h>

using namespace fracta::oauth;

TEST_CASE("to_json(token_record): every field in the documented order, token_type Bearer") {
  token_record t;
  t.access_token = "AT";
  t.refresh_token = "RT";
  t.expires_at_s = 1700000000;
  t.scope = "read";
  t.requested_scope = "read write";
  t.issuer = "https://as.example";
  t.token_endpoint = "https://as.example/token";
  t.resource = "https://mcp.example";
  t.client_id = "cid";
  CHECK(to_json(t) ==
        R"({"access_token":"AT","refresh_token":"RT","token_type":"Bearer","expires_at":1700000000,)"
        R"("scope":"read","requested_scope":"read write","issuer":"https://as.example",)"
        R"("token_endpoint":"https://as.example/token","resource":"https://mcp.example","client_id":"cid"})");
  t.refresh_token.reset();
  CHECK(to_json(t).find("refresh_token") == std::string::npos);
}

TEST_CASE("parse_token_record reads what to_json wrote; an empty refresh_token is none") {
  token_record t;
  t.access_token = "AT";
  t.refresh_token = "RT";
  t.expires_at_s = 42;
  t.scope = "s";
  t.issuer = "https://as.example";
  auto back = parse_token_record(to_json(t));
  REQUIRE(back.ok());
  CHECK(back->access_token == "AT");
  CHECK(back->refresh_token == "RT");
  CHECK(back->expires_at_s == 42);
  CHECK(back->scope == "s");
  CHECK(back->issuer == "https://as.example");
  CHECK(back->client_id.empty());

  auto no_refresh = parse_token_record(R"({"access_token":"AT","refresh_token":""})");
  REQUIRE(no_refresh.ok());
  CHECK_FALSE(no_refresh->refresh_token.has_value());
  CHECK(no_refresh->expires_at_s == 0);
}

TEST_CASE("parse_token_record: not an object, or no access_token, is a protocol error") {
  auto not_object = parse_token_record("[1]");
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.err().message == "the stored token record is not a JSON object");
  auto empty = parse_token_record(R"({"access_token":"","refresh_token":"SECRET"})");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().message == "the stored token record has no access_token");
}

TEST_CASE("to_json(registration_record) and parse_registration_record agree") {
  registration_record r;
  r.client_id = "cid";
  r.client_secret = "cs";
  r.client_secret_expires_at = 99;
  r.token_endpoint_auth_method = "client_secret_basic";
  r.redirect_uris = {"http://127.0.0.1/cb"};
  r.grant_types = {"authorization_code", "refresh_token"};
  r.issuer = "https://as.example";
  r.registration_endpoint = "https://as.example/register";
  const std::string text = to_json(r);
  CHECK(text ==
        R"({"client_id":"cid","client_secret":"cs","client_secret_expires_at":99,)"
        R"("token_endpoint_auth_method":"client_secret_basic","redirect_uris":["http://127.0.0.1/cb"],)"
        R"("grant_types":["authorization_code","refresh_token"],"issuer":"https://as.example",)"
        R"("registration_endpoint":"https://as.example/register"})");
  auto back = parse_registration_record(text);
  REQUIRE(back.ok());
  CHECK(back->client_secret == "cs");
  CHECK(back->client_secret_expires_at == 99);
  CHECK(back->redirect_uris == r.redirect_uris);
  CHECK(back->grant_types == r.grant_types);
  CHECK(back->registration_endpoint == r.registration_endpoint);

  auto no_id = parse_registration_record(R"({"client_secret":"SECRET"})");
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.err().message == "the client registration has no client_id");
}

TEST_CASE("parse_settings: SecretValues stay JSON, plain strings are copied") {
  auto s = parse_settings(R"({"grant_type":"client_credentials","client_id":{"env":"ID"},)"
                          R"("client_secret":{"value":"x"},"token_file":"/t.json",)"
                          R"("issuer":"https://as.example","key_id":"k1"})");
  REQUIRE(s.ok());
  CHECK(s->kind == grant::client_credentials);
  CHECK(s->client_id == R"({"env":"ID"})");
  CHECK(s->client_secret == R"({"value":"x"})");
  CHECK_FALSE(s->private_key.has_value());
  CHECK(s->token_file == "/t.json");
  CHECK(s->issuer == "https://as.example");
  CHECK(s->key_id == "k1");
  CHECK(s->metadata_url.empty());
}
