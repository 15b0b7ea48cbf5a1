// SPDX-License-Identifier: Apache-2.0
// Shared scripting for the OAuth provider tests: constants, canned documents, fixtures.
#pragma once

#include "oauth_fake_host.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <vector>

namespace fracta::test::oauth {

// Every secret value below contains "SECRET", so "no secret leaked" is one search.
inline constexpr std::string_view secret_marker = "SECRET";
inline constexpr std::string_view old_access = "old-access-SECRET-1";
inline constexpr std::string_view old_refresh = "old-refresh-SECRET-2";
inline constexpr std::string_view new_access = "new-access-SECRET-3";
inline constexpr std::string_view new_refresh = "new-refresh-SECRET-4";
inline constexpr std::string_view login_access = "login-access-SECRET-5";
inline constexpr std::string_view login_refresh = "login-refresh-SECRET-6";
inline constexpr std::string_view client_secret = "client-secret-SECRET-7";

inline const std::string mcp_url = "https://mcp.example.com/mcp";
inline const std::string issuer = "https://as.example.com";
inline const std::string prm_url = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
inline const std::string as_md_url = "https://as.example.com/.well-known/oauth-authorization-server";
inline const std::string authorize_url = "https://as.example.com/authorize";
inline const std::string token_url = "https://as.example.com/token";
inline const std::string register_url = "https://as.example.com/register";
inline const std::string redirect(oauth_fake_host::redirect_uri);
inline const std::string login_cmd = "fracta config mcp auth login demo";
inline constexpr std::int64_t now_s = 1'700'000'000;  // fake_host's wall clock

inline std::string sha256_base64url(std::string_view in) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(EVP_Digest(in.data(), in.size(), md, &len, EVP_sha256(), nullptr) == 1);
  static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned int i = 0; i < len; ++i) {
    acc = (acc << 8) | md[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(abc[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(abc[(acc << (6 - bits)) & 0x3F]);
  return out;  // no padding
}

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// A stored token.json record.
inline std::string tokens_json(std::string_view access, std::string_view refresh, std::int64_t expires_at,
                        std::string_view scope = "a", std::string_view iss = issuer,
                        std::string_view client_id = "public-client") {
  std::string j = R"({"access_token":")" + std::string(access) + '"';
  if (!refresh.empty()) j += R"(,"refresh_token":")" + std::string(refresh) + '"';
  j += R"(,"token_type":"Bearer","expires_at":)" + std::to_string(expires_at);
  j += R"(,"scope":")" + std::string(scope) + R"(","requested_scope":")" + std::string(scope) + '"';
  j += R"(,"issuer":")" + std::string(iss) + R"(","token_endpoint":")" + std::string(iss) + R"(/token")";
  j += R"(,"resource":")" + mcp_url + R"(","client_id":")" + std::string(client_id) + R"("})";
  return j;
}

inline std::string token_response(std::string_view access, std::string_view refresh = "", std::string_view extra = "") {
  std::string j = R"({"access_token":")" + std::string(access) + R"(","token_type":"Bearer","expires_in":3600)";
  if (!refresh.empty()) j += R"(,"refresh_token":")" + std::string(refresh) + '"';
  return j + std::string(extra) + "}";
}

// A string field of a JSON object ("" when absent).
inline std::string json_field(std::string_view json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return "(not JSON)";
  std::string_view v;
  if (doc[key].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}
inline std::vector<std::string> json_strings(std::string_view json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::vector<std::string> out;
  simdjson::dom::array arr;
  if (p.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || doc[key].get(arr) != simdjson::SUCCESS)
    return out;
  for (auto e : arr) {
    std::string_view s;
    if (e.get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

// AS metadata with S256 and DCR, plus `extra` members (",\"k\":v").
inline std::string as_metadata(std::string_view extra = "", bool s256 = true) {
  std::string j = R"({"issuer":")" + issuer + R"(","authorization_endpoint":")" + authorize_url +
                  R"(","token_endpoint":")" + token_url + R"(","registration_endpoint":")" + register_url + '"';
  if (s256) j += R"(,"code_challenge_methods_supported":["S256"])";
  return j + std::string(extra) + "}";
}

// Discovery: resource metadata at the path-inserted well-known URL, then the AS metadata.
inline void script_discovery(oauth_fake_host& h, const std::string& as_md = as_metadata()) {
  h.on("GET", prm_url,
       http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":[")" + issuer +
                                 R"("],"scopes_supported":["a","b"]})"));
  h.on("GET", as_md_url, http_reply::json(200, as_md));
}

inline std::string registration_response(std::string_view client_id, std::string_view redirect_uri = redirect) {
  return R"({"client_id":")" + std::string(client_id) + R"(","token_endpoint_auth_method":"none","redirect_uris":[")" +
         std::string(redirect_uri) + R"("]})";
}

// Discovery, registration and a token: the whole happy login.
inline void script_login(oauth_fake_host& h, const std::string& as_md = as_metadata()) {
  script_discovery(h, as_md);
  h.on("POST", register_url, http_reply::json(201, registration_response("dyn-client-1")));
  h.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
}

// Runs an async provider call to its completion, checking it completed later, exactly once.
inline void finish(oauth_fake_host& h, std::int32_t started, completion_probe& done) {
  REQUIRE(started == FRACTA_PENDING);
  CHECK(done.calls == 0);
  h.run();
  REQUIRE(done.calls == 1);
}

// Nothing the host can see outside the store and the wire holds a secret.
inline void check_no_secrets(oauth_fake_host& h, oauth_instance& inst, const std::vector<std::string>& messages = {}) {
  CHECK_MESSAGE(!contains(h.base.log_text(), secret_marker), h.base.log_text());
  const std::string status = inst.status_json();
  CHECK_MESSAGE(!contains(status, secret_marker), status);
  CHECK_MESSAGE(!contains(inst.error.text, secret_marker), inst.error.text);
  for (const auto& m : messages) CHECK_MESSAGE(!contains(m, secret_marker), m);
}

// An oauth-authcode instance over stored tokens (refresh token held, access token expired).
struct refresh_fixture {
  refresh_fixture() {
    host.store["tokens"] = stored;
    host.ops.clear();
  }
  oauth_fake_host host;
  const std::string stored = tokens_json(old_access, old_refresh, now_s - 60);
};

struct login_fixture {
  oauth_fake_host host;

  // Creates the instance, lets it read the (empty) store, and logs in.
  void login(oauth_instance& inst, completion_probe& done, std::string_view options = "{}") {
    REQUIRE(inst.status == FRACTA_OK);
    host.run();
    finish(host, inst.login(options, done), done);
  }
  std::vector<std::pair<std::string, std::string>> authorize_params(std::size_t i = 0) const {
    REQUIRE(host.opened_urls.size() > i);
    return url_params(host.opened_urls[i]);
  }
};

}  // namespace fracta::test::oauth
