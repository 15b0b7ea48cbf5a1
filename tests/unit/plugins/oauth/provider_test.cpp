// SPDX-License-Identifier: Apache-2.0
// Fault injection for the fracta-oauth providers' policy (refresh, login, step-up, issuer change,
// secrecy), driven through their C table by a scripted host (oauth_fake_host.hpp).
#include "oauth_fake_host.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace fracta::test;

// Every secret value below contains "SECRET", so "no secret leaked" is one search.
constexpr std::string_view secret_marker = "SECRET";
constexpr std::string_view old_access = "old-access-SECRET-1";
constexpr std::string_view old_refresh = "old-refresh-SECRET-2";
constexpr std::string_view new_access = "new-access-SECRET-3";
constexpr std::string_view new_refresh = "new-refresh-SECRET-4";
constexpr std::string_view login_access = "login-access-SECRET-5";
constexpr std::string_view login_refresh = "login-refresh-SECRET-6";
constexpr std::string_view client_secret = "client-secret-SECRET-7";

const std::string mcp_url = "https://mcp.example.com/mcp";
const std::string issuer = "https://as.example.com";
const std::string prm_url = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const std::string as_md_url = "https://as.example.com/.well-known/oauth-authorization-server";
const std::string authorize_url = "https://as.example.com/authorize";
const std::string token_url = "https://as.example.com/token";
const std::string register_url = "https://as.example.com/register";
const std::string redirect(oauth_fake_host::redirect_uri);
const std::string login_cmd = "fracta config mcp auth login demo";
constexpr std::int64_t now_s = 1'700'000'000;  // fake_host's wall clock

std::string sha256_base64url(std::string_view in) {
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

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// A stored token.json record.
std::string tokens_json(std::string_view access, std::string_view refresh, std::int64_t expires_at,
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

std::string token_response(std::string_view access, std::string_view refresh = "", std::string_view extra = "") {
  std::string j = R"({"access_token":")" + std::string(access) + R"(","token_type":"Bearer","expires_in":3600)";
  if (!refresh.empty()) j += R"(,"refresh_token":")" + std::string(refresh) + '"';
  return j + std::string(extra) + "}";
}

// A string field of a JSON object ("" when absent).
std::string json_field(std::string_view json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return "(not JSON)";
  std::string_view v;
  if (doc[key].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}
std::vector<std::string> json_strings(std::string_view json, const char* key) {
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
std::string as_metadata(std::string_view extra = "", bool s256 = true) {
  std::string j = R"({"issuer":")" + issuer + R"(","authorization_endpoint":")" + authorize_url +
                  R"(","token_endpoint":")" + token_url + R"(","registration_endpoint":")" + register_url + '"';
  if (s256) j += R"(,"code_challenge_methods_supported":["S256"])";
  return j + std::string(extra) + "}";
}

// Discovery: resource metadata at the path-inserted well-known URL, then the AS metadata.
void script_discovery(oauth_fake_host& h, const std::string& as_md = as_metadata()) {
  h.on("GET", prm_url,
       http_reply::json(200, R"({"resource":")" + mcp_url + R"(","authorization_servers":[")" + issuer +
                                 R"("],"scopes_supported":["a","b"]})"));
  h.on("GET", as_md_url, http_reply::json(200, as_md));
}

std::string registration_response(std::string_view client_id, std::string_view redirect_uri = redirect) {
  return R"({"client_id":")" + std::string(client_id) + R"(","token_endpoint_auth_method":"none","redirect_uris":[")" +
         std::string(redirect_uri) + R"("]})";
}

// Discovery, registration and a token: the whole happy login.
void script_login(oauth_fake_host& h, const std::string& as_md = as_metadata()) {
  script_discovery(h, as_md);
  h.on("POST", register_url, http_reply::json(201, registration_response("dyn-client-1")));
  h.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
}

// Runs an async provider call to its completion, checking it completed later, exactly once.
void finish(oauth_fake_host& h, std::int32_t started, completion_probe& done) {
  REQUIRE(started == FRACTA_PENDING);
  CHECK(done.calls == 0);
  h.run();
  REQUIRE(done.calls == 1);
}

// Nothing the host can see outside the store and the wire holds a secret.
void check_no_secrets(oauth_fake_host& h, oauth_instance& inst, const std::vector<std::string>& messages = {}) {
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

}  // namespace

// ---- 1. refresh policy -------------------------------------------------------------------------

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

// ---- 2. login (authorization_code with dynamic registration) ----------------------------------

namespace {

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

}  // namespace

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

TEST_CASE_FIXTURE(login_fixture, "login: a redirect with another state is DENIED and nothing is stored") {
  script_login(host);
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url(
        {{"code", "the-code"}, {"state", oauth_fake_host::state_of(url) + "x"}, {"iss", issuer}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, "state"));
  CHECK(host.sent("POST", token_url).empty());
  CHECK(host.op_count("put tokens") == 0);
  CHECK(host.store.count("tokens") == 0);
  CHECK(inst.authorization().empty());
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

TEST_CASE_FIXTURE(login_fixture, "login: error=access_denied with the right iss reports the server's error") {
  script_login(host, as_metadata(R"(,"authorization_response_iss_parameter_supported":true)"));
  host.redirect_for = [](const std::string& url) {
    return oauth_fake_host::callback_url({{"error", "access_denied"},
                                          {"error_description", "the user said no"},
                                          {"state", oauth_fake_host::state_of(url)},
                                          {"iss", issuer}});
  };
  oauth_instance inst(host, "oauth-authcode", R"({"type":"oauth"})");
  completion_probe done;
  login(inst, done);
  CHECK(done.status == FRACTA_E_DENIED);
  CHECK(contains(done.message, "access_denied"));
  CHECK(contains(done.message, "the user said no"));
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

// ---- 3. step-up ---------------------------------------------------------------------------------

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

// ---- 4. issuer change ---------------------------------------------------------------------------

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

// ---- 5. secrets ---------------------------------------------------------------------------------

TEST_CASE("secrets: a confidential client's login, refresh and failures never log a secret") {
  oauth_fake_host host;
  script_discovery(host, as_metadata(R"(,"token_endpoint_auth_methods_supported":["client_secret_post"])"));
  host.on("POST", token_url, http_reply::json(200, token_response(login_access, login_refresh)));
  host.on("POST", token_url, http_reply::json(200, token_response(new_access, new_refresh)));
  host.on("POST", token_url, http_reply::json(400, R"({"error":"invalid_grant"})"));
  host.store_fail["put tokens"] = FRACTA_E_UNAVAILABLE;  // the warning path must not quote the tokens
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
