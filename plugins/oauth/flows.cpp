// SPDX-License-Identifier: Apache-2.0
// OAuth network flows as coroutines over the host: discovery, registration, token requests.
#include "flows.hpp"

#include <algorithm>
#include <limits>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include "fracta/json_writer.hpp"
#include <fracta/proto/url.hpp>
#include "jwt.hpp"
#include <fracta/proto/text.hpp>
#include "scopes.hpp"

namespace fracta::oauth {
namespace {

sdk::task<sdk::http_result> get_json(sdk::host h, std::string url) {
  sdk::http_request req;
  req.method = "GET";
  req.url = std::move(url);
  req.headers = {{"Accept", "application/json"}};
  req.timeout_ms = 15000;
  auto aw = sdk::http(h, std::move(req));
  sdk::http_result r = co_await aw;
  co_return r;
}

// Probes `urls` in order; returns the first body found with its URL, nullopt when every one
// said "try the next". Network errors and other statuses fail.
sdk::task<std::optional<std::pair<std::string, std::string>>> probe(sdk::host h, std::vector<std::string> urls,
                                                                    std::string what) {
  for (const std::string& u : urls) {
    auto t = get_json(h, u);
    sdk::http_result r = co_await t;
    if (!r.ok()) fail(FRACTA_E_TRANSIENT, "fetching " + what + " from " + redacted_url(u) + " failed: " + r.message);
    switch (classify_metadata_response(r.http_status)) {
      case probe_outcome::found:
        co_return std::make_optional(std::make_pair(u, std::move(r.body)));
      case probe_outcome::try_next:
        h.log_debug(what + ": " + redacted_url(u) + " answered HTTP " + std::to_string(r.http_status) + "; trying the next");
        continue;
      case probe_outcome::fail:
        fail(FRACTA_E_TRANSIENT, "fetching " + what + " from " + redacted_url(u) + " failed: HTTP " +
                                     std::to_string(r.http_status));
    }
  }
  co_return std::nullopt;
}


}  // namespace

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (!__builtin_mul_overflow(a, b, &out)) return out;
  return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
}

std::int32_t status_for(const error& e) noexcept {
  const std::error_code c = e.code;
  if (c == make_error_code(errc::needs_login)) return FRACTA_E_NEEDS_LOGIN;
  if (c == make_error_code(errc::transport)) return FRACTA_E_TRANSIENT;
  if (c == make_error_code(errc::config)) return FRACTA_E_CONFIG;
  if (c == make_error_code(errc::cancelled)) return FRACTA_E_CANCELLED;
  return FRACTA_E_DENIED;
}

bool loopback_http_allowed(const settings& cfg, const http::url& server) {
  const auto loopback = [](const std::string& text) {
    auto u = http::url::parse(text);
    return !text.empty() && u && u->is_loopback_host();
  };
  return server.is_loopback_host() || loopback(cfg.issuer) || loopback(cfg.metadata_url);
}

namespace {

// "the configured issuer is A, but B names C": both redacted.
std::string pin_mismatch(const settings& cfg, std::string_view who, std::string_view other) {
  return "the configured issuer is " + redacted_url(cfg.issuer) + ", but " + std::string(who) + " names " +
         redacted_url(other) + "; fracta sends nothing there (check issuer in the auth table)";
}

// The authorization-server metadata of `issuer`, from its well-known URLs.
sdk::task<as_metadata> fetch_as_metadata(sdk::host h, std::string issuer, bool allow_loopback_http) {
  auto at = probe(h, authorization_server_metadata_urls(issuer), "authorization-server metadata");
  auto found = co_await at;
  if (!found)
    fail(FRACTA_E_DENIED, "the authorization server " + redacted_url(issuer) +
                              " publishes no metadata at any well-known URL (RFC 8414 or OpenID Connect)");
  auto md = parse_as_metadata(found->second, issuer, false, allow_loopback_http);
  if (!md) fail(FRACTA_E_DENIED, md.err().message);
  co_return std::move(*md);
}

}  // namespace

sdk::task<discovered> discover(sdk::host h, const settings& cfg, std::string server_url,
                               std::optional<std::string> challenge_rm) {
  auto server = http::url::parse(server_url);
  if (!server) fail(FRACTA_E_CONFIG, "the server URL is not a valid http(s) URL");
  const bool loopback_ok = loopback_http_allowed(cfg, *server);
  discovered d;

  if (!cfg.metadata_url.empty()) {
    // A configured authorization-server metadata URL: its issuer is whatever it declares, but
    // the document must be AS metadata (an issuer and a token endpoint), not resource metadata.
    auto t = get_json(h, cfg.metadata_url);
    sdk::http_result r = co_await t;
    if (!r.ok()) fail(FRACTA_E_TRANSIENT, "fetching metadata_url " + redacted_url(cfg.metadata_url) + " failed: " + r.message);
    if (r.http_status != 200)
      fail(FRACTA_E_TRANSIENT, "metadata_url " + redacted_url(cfg.metadata_url) + " answered HTTP " + std::to_string(r.http_status));
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    std::string issuer;
    if (json::parse(p, r.body, doc).empty() && doc.is_object()) {
      if (auto i = json::get_string(doc, "issuer")) issuer = std::string(*i);
      if (json::get(doc, "authorization_servers"))
        fail(FRACTA_E_CONFIG, "metadata_url " + redacted_url(cfg.metadata_url) +
                                  " is protected-resource metadata; metadata_url must point at "
                                  "authorization-server metadata (/.well-known/oauth-authorization-server or "
                                  "/.well-known/openid-configuration)");
    }
    if (!http::url::parse(issuer))
      fail(FRACTA_E_CONFIG, "metadata_url " + redacted_url(cfg.metadata_url) +
                                " declares no issuer that is an http(s) URL (RFC 8414 §2)");
    if (!cfg.issuer.empty() && issuer != cfg.issuer) fail(FRACTA_E_CONFIG, pin_mismatch(cfg, "metadata_url", issuer));
    auto md = parse_as_metadata(r.body, issuer, false, loopback_ok);
    if (!md) fail(FRACTA_E_CONFIG, md.err().message);
    d.as = std::move(*md);
  } else {
    if (challenge_rm && http::url::parse(*challenge_rm)) {
      if (auto ok = check_discovered_url(*challenge_rm, *server, "the resource metadata of a challenge"); !ok)
        fail(FRACTA_E_DENIED, ok.err().message);
    }
    const auto prm_urls = protected_resource_metadata_urls(*server, challenge_rm);
    auto pt = probe(h, prm_urls, "protected-resource metadata");
    auto found = co_await pt;
    if (found) {
      auto prm = parse_resource_metadata(found->second, *server);
      if (!prm) fail(FRACTA_E_DENIED, prm.err().message);
      d.prm = std::move(*prm);
      const auto& listed = d.prm->authorization_servers;
      std::string issuer = choose_authorization_server(listed);
      if (!cfg.issuer.empty()) {
        if (std::find(listed.begin(), listed.end(), cfg.issuer) == listed.end())
          fail(FRACTA_E_CONFIG, pin_mismatch(cfg, "the server's resource metadata", issuer));
        issuer = cfg.issuer;
      }
      auto at = fetch_as_metadata(h, issuer, loopback_ok);
      d.as = co_await at;
    } else if (!cfg.issuer.empty()) {
      // No resource metadata, but a pinned issuer: its metadata, not the 2025-03-26 guess.
      auto at = fetch_as_metadata(h, cfg.issuer, loopback_ok);
      d.as = co_await at;
    } else {
      // MCP 2025-03-26: no resource metadata. The server's origin is the authorization server;
      // its metadata may declare another issuer (legacy servers predate the check).
      h.log_info("no protected-resource metadata; using the 2025-03-26 discovery from the server's origin");
      const std::string origin = server->origin();
      auto at = probe(h, authorization_server_metadata_urls(origin), "authorization-server metadata");
      auto as_found = co_await at;
      if (as_found) {
        auto md = parse_as_metadata(as_found->second, origin, true, loopback_ok);
        if (!md) fail(FRACTA_E_DENIED, md.err().message);
        d.as = std::move(*md);
        d.as.legacy = true;
      } else {
        d.as = legacy_fallback(*server);
      }
    }
  }

  if (cfg.omit_resource) {
    d.resource.clear();
  } else if (!cfg.resource.empty()) {
    d.resource = cfg.resource;
  } else if (d.prm) {
    d.resource = d.prm->resource;
  } else if (!cfg.metadata_url.empty()) {
    d.resource = canonical_resource(*server);
  }
  co_return d;
}

sdk::task<registration_record> register_client(sdk::host h, const discovered& d, std::string redirect_uri,
                                               std::vector<std::string> grant_types) {
  if (!d.as.registration_endpoint) fail(FRACTA_E_CONFIG, "no registration endpoint");
  const std::string endpoint = *d.as.registration_endpoint;
  const auto& supported = d.as.token_endpoint_auth_methods_supported;
  auto lists = [&](std::string_view m) { return std::find(supported.begin(), supported.end(), m) != supported.end(); };
  std::string requested = "none";
  if (!supported.empty() && !lists("none")) {
    if (lists("client_secret_basic")) requested = "client_secret_basic";
    else if (lists("client_secret_post")) requested = "client_secret_post";
  }
  const bool code = std::find(grant_types.begin(), grant_types.end(), "authorization_code") != grant_types.end();

  json::writer w;
  w.begin_object();
  w.key("client_name").value("fracta");
  w.key("application_type").value("native");
  w.key("redirect_uris").begin_array();
  if (!redirect_uri.empty()) w.value(redirect_uri);
  w.end_array();
  w.key("grant_types").begin_array();
  for (const auto& g : grant_types) w.value(g);
  w.end_array();
  w.key("response_types").begin_array();
  if (code) w.value("code");
  w.end_array();
  w.key("token_endpoint_auth_method").value(requested);
  w.end_object();

  sdk::http_request req;
  req.method = "POST";
  req.url = endpoint;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  req.body = w.take();
  req.timeout_ms = 20000;
  auto aw = sdk::http(h, std::move(req));
  sdk::http_result r = co_await aw;
  const std::string where = "dynamic client registration at " + redacted_url(endpoint);
  if (!r.ok()) fail(FRACTA_E_TRANSIENT, where + " failed: " + r.message);
  if (r.http_status != 200 && r.http_status != 201) {
    std::string detail = "HTTP " + std::to_string(r.http_status);
    if (auto e = parse_oauth_error(r.body)) {
      detail += " " + text::printable(e->error);
      if (!e->description.empty()) detail += ": " + text::printable(e->description);
    }
    fail(r.http_status >= 500 || r.http_status == 429 ? FRACTA_E_TRANSIENT : FRACTA_E_DENIED,
         where + " was refused (" + detail + ")");
  }
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (!json::parse(p, r.body, doc).empty() || !doc.is_object())
    fail(FRACTA_E_DENIED, where + " answered with something that is not a JSON object");
  registration_record rec;
  auto id = json::get_string(doc, "client_id");
  if (!id || id->empty()) fail(FRACTA_E_DENIED, where + " answered without a client_id");
  rec.client_id = std::string(*id);
  if (auto s = json::get_string(doc, "client_secret"); s && !s->empty()) rec.client_secret = std::string(*s);
  rec.client_secret_expires_at = json::get_int(doc, "client_secret_expires_at").value_or(0);
  auto method = json::get_string(doc, "token_endpoint_auth_method");
  rec.token_endpoint_auth_method =
      method ? std::string(*method) : (rec.client_secret ? "client_secret_basic" : "none");
  const auto parsed = parse_auth_method(rec.token_endpoint_auth_method);
  if (!parsed || *parsed == auth_method::private_key_jwt ||
      ((*parsed == auth_method::client_secret_basic || *parsed == auth_method::client_secret_post) && !rec.client_secret)) {
    fail(FRACTA_E_DENIED, where + " gave token_endpoint_auth_method \"" + text::printable(rec.token_endpoint_auth_method) +
                              "\", which fracta cannot use with what it received; configure a client "
                              "(client_id, client_secret, token_endpoint_auth_method) instead");
  }
  if (auto uris = json::get(doc, "redirect_uris")) {
    simdjson::dom::array arr;
    if (uris->get_array().get(arr) == simdjson::SUCCESS) {
      for (auto e : arr) {
        std::string_view s;
        if (e.get_string().get(s) == simdjson::SUCCESS) rec.redirect_uris.emplace_back(s);
      }
    }
    if (!redirect_uri.empty() &&
        std::find(rec.redirect_uris.begin(), rec.redirect_uris.end(), redirect_uri) == rec.redirect_uris.end()) {
      fail(FRACTA_E_DENIED, where + " registered other redirect URIs than the one fracta listens on (" + redirect_uri +
                                "); fracta will not guess");
    }
  } else if (!redirect_uri.empty()) {
    rec.redirect_uris = {redirect_uri};
  }
  rec.grant_types = std::move(grant_types);
  rec.issuer = d.as.issuer;
  rec.registration_endpoint = endpoint;
  h.log_info("registered fracta as a client of " + redacted_url(d.as.issuer) + " (" + rec.token_endpoint_auth_method + ")");
  co_return rec;
}

namespace {

// The OAuth `error` code of a refused token request, JSON or form-encoded ("" when none).
std::string oauth_error_code(std::string_view content_type, std::string_view body) {
  if (auto e = parse_oauth_error(body)) return e->error;
  if (content_type.starts_with("application/x-www-form-urlencoded")) {
    for (const auto& [k, v] : http::parse_query(body))
      if (k == "error") return v;
  }
  return {};
}

sdk::task<token_reply> token_request_once(sdk::host h, const std::string& endpoint, const std::string& issuer,
                                          const client_identity& client, auth_method method,
                                          std::vector<std::pair<std::string, std::string>> params,
                                          const std::string& requested_scope) {
  sdk::http_request req;
  req.method = "POST";
  req.url = endpoint;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.timeout_ms = 30000;
  switch (method) {
    case auth_method::client_secret_basic:
      req.headers.emplace_back("Authorization", basic_authorization(client.client_id, client.secret.value_or("")));
      break;
    case auth_method::client_secret_post:
      params.emplace_back("client_id", client.client_id);
      params.emplace_back("client_secret", client.secret.value_or(""));
      break;
    case auth_method::none:
      params.emplace_back("client_id", client.client_id);
      break;
    case auth_method::private_key_jwt: {
      if (!client.private_key) fail(FRACTA_E_CONFIG, "private_key_jwt needs private_key in the auth table");
      client_assertion_params a;
      a.private_key_pem = *client.private_key;
      a.key_id = client.key_id;
      a.client_id = client.client_id;
      a.audience = issuer.empty() ? endpoint : issuer;
      a.now_unix_s = h.wall_clock_ms() / 1000;
      auto jws = client_assertion(a);
      if (!jws) fail(FRACTA_E_CONFIG, "private_key_jwt: " + jws.err().message);
      params.emplace_back("client_id", client.client_id);
      params.emplace_back("client_assertion_type", std::string(client_assertion_type));
      params.emplace_back("client_assertion", std::move(*jws));
      break;
    }
  }
  req.body = form_body(params);
  for (auto& [k, v] : params) sdk::secure_wipe(v);
  auto aw = sdk::http(h, std::move(req));
  sdk::http_result r = co_await aw;
  if (!r.ok()) {
    co_return token_reply{error{make_error_code(errc::transport),
                                "the token endpoint " + redacted_url(endpoint) + " could not be reached: " +
                                    text::printable(r.message)},
                          {}};
  }
  const std::string content_type(r.header("Content-Type"));
  auto parsed = parse_token_response(r.http_status, content_type, r.body, h.wall_clock_ms(), requested_scope);
  std::string code = parsed ? std::string() : oauth_error_code(content_type, r.body);
  sdk::secure_wipe(r.body);
  co_return token_reply{std::move(parsed), std::move(code)};
}

}  // namespace

sdk::task<token_reply> token_request(sdk::host h, std::string endpoint, std::string issuer, client_identity client,
                                     std::vector<std::pair<std::string, std::string>> params,
                                     std::string requested_scope, bool allow_loopback_http) {
  if (!is_secure_endpoint(endpoint, allow_loopback_http))
    fail(FRACTA_E_CONFIG, "the token endpoint " + redacted_url(endpoint) +
                              " is not https (plain http only to loopback, when the MCP server is on loopback too)");
  auto first = token_request_once(h, endpoint, issuer, client, client.method, params, requested_scope);
  token_reply r = co_await first;
  if (!r.tokens && r.tokens.err().code == make_error_code(errc::auth_failed) &&
      client.method == auth_method::client_secret_basic && !client.method_configured &&
      client.from == client_identity::origin::configured) {
    h.log_info("the token endpoint refused client_secret_basic (invalid_client); trying client_secret_post once");
    auto second = token_request_once(h, endpoint, issuer, client, auth_method::client_secret_post, params, requested_scope);
    token_reply r2 = co_await second;
    for (auto& [k, v] : params) sdk::secure_wipe(v);
    co_return r2;
  }
  for (auto& [k, v] : params) sdk::secure_wipe(v);
  co_return r;
}

}  // namespace fracta::oauth
