// SPDX-License-Identifier: Apache-2.0
// The fracta-oauth plugin: oauth-authcode, oauth-client-credentials and device-code providers.
#include <algorithm>
#include <memory>

#include <simdjson.h>

#include <fracta/plugin_coro.hpp>
#include <fracta/plugin_sdk.hpp>

#include <fracta/proto/www_authenticate.hpp>
#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include "flows.hpp"
#include <fracta/proto/url.hpp>
#include "pkce.hpp"
#include "scopes.hpp"
#include "state.hpp"

#ifndef FRACTA_VERSION
#define FRACTA_VERSION "0.0.0"
#endif

namespace fracta::oauth {
namespace {

constexpr std::string_view device_grant = "urn:ietf:params:oauth:grant-type:device_code";

[[noreturn]] void fail(std::int32_t status, std::string message) { throw sdk::error(status, std::move(message)); }

// Options of login(): {"scopes":[…],"timeout_ms":N,"device":bool}.
struct login_options {
  std::vector<std::string> scopes;
  std::int64_t timeout_ms = 300000;
  bool device = false;
};

login_options parse_login_options(std::string_view text) {
  login_options o;
  if (text.empty()) return o;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (!json::parse(p, text, doc).empty() || !doc.is_object()) fail(FRACTA_E_INVALID_ARGUMENT, "login options are not a JSON object");
  if (auto e = json::get(doc, "scopes")) {
    simdjson::dom::array arr;
    if (e->get_array().get(arr) == simdjson::SUCCESS) {
      for (auto s : arr) {
        std::string_view v;
        if (s.get_string().get(v) == simdjson::SUCCESS && !v.empty()) o.scopes.emplace_back(v);
      }
    }
  }
  if (auto t = json::get_int(doc, "timeout_ms"); t && *t > 0) o.timeout_ms = *t;
  o.device = json::get_bool(doc, "device").value_or(false);
  return o;
}

// The parts of a Bearer challenge the policy uses.
struct bearer_challenge {
  std::string error, scope, resource_metadata, description;
};

bearer_challenge parse_bearer(std::string_view header) {
  bearer_challenge b;
  const auto cs = auth::parse_www_authenticate(header);
  const auth::challenge* c = auth::find_challenge(cs, "Bearer");
  if (c == nullptr) return b;
  if (auto v = c->param("error")) b.error = std::string(*v);
  if (auto v = c->param("scope")) b.scope = std::string(*v);
  if (auto v = c->param("resource_metadata")) b.resource_metadata = std::string(*v);
  if (auto v = c->param("error_description")) b.description = std::string(*v);
  return b;
}

// The query parameters of a redirect URL.
std::vector<std::pair<std::string, std::string>> redirect_params(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = url.substr(q + 1);
  if (auto f = rest.find('#'); f != std::string_view::npos) rest = rest.substr(0, f);
  return http::parse_query(rest);
}

std::optional<std::string> param(const std::vector<std::pair<std::string, std::string>>& ps, std::string_view name) {
  for (const auto& [k, v] : ps)
    if (k == name) return v;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------

class oauth_provider {
 public:
  oauth_provider(sdk::host h, std::string_view config_json, grant kind)
      : host_(h), deferred_(h), server_(h.server_name()), server_url_(h.server_url()) {
    auto s = parse_settings(config_json);
    if (!s) fail(FRACTA_E_CONFIG, s.err().message);
    cfg_ = std::move(*s);
    cfg_.kind = kind;
    std::string why;
    auto resolve = [&](const std::optional<std::string>& json, std::string_view key) -> std::optional<std::string> {
      if (!json) return std::nullopt;
      auto v = host_.resolve_secret(key, *json, why);
      if (!v) fail(FRACTA_E_CONFIG, why);
      return v;
    };
    client_id_ = resolve(cfg_.client_id, "client_id");
    client_secret_ = resolve(cfg_.client_secret, "client_secret");
    private_key_ = resolve(cfg_.private_key, "private_key");
    if (kind == grant::client_credentials && (!client_id_ || (!client_secret_ && !private_key_)))
      fail(FRACTA_E_CONFIG, "grant_type = \"client_credentials\" requires client_id and client_secret (or private_key)");
    if (!cfg_.token_endpoint_auth_method.empty()) {
      configured_method_ = parse_auth_method(cfg_.token_endpoint_auth_method);
      if (!configured_method_)
        fail(FRACTA_E_CONFIG, "token_endpoint_auth_method must be client_secret_basic, client_secret_post, none or "
                              "private_key_jwt, not \"" + cfg_.token_endpoint_auth_method + "\"");
    }
    // Injected tokens (inline or token_file) are a read-only bootstrap, resolved now.
    if (!cfg_.token_file.empty()) {
      json::writer w;
      w.begin_object().key("file").value(cfg_.token_file).end_object();
      auto text = host_.resolve_secret("token_file", w.take(), why);
      if (!text) fail(FRACTA_E_CONFIG, why);
      auto rec = parse_token_record(*text);
      sdk::secure_wipe(*text);
      if (!rec) fail(FRACTA_E_CONFIG, "token_file " + cfg_.token_file + ": " + rec.err().message);
      tokens_ = std::move(*rec);
      persist_tokens_ = false;
    } else if (cfg_.access_token) {
      token_record t;
      t.access_token = resolve(cfg_.access_token, "access_token").value_or("");
      t.refresh_token = resolve(cfg_.refresh_token, "refresh_token");
      t.expires_at_s = cfg_.expires_at_s;
      tokens_ = std::move(t);
      persist_tokens_ = false;
    }
    if (!cfg_.client_registration_file.empty()) {
      json::writer w;
      w.begin_object().key("file").value(cfg_.client_registration_file).end_object();
      auto text = host_.resolve_secret("client_registration_file", w.take(), why);
      if (!text) fail(FRACTA_E_CONFIG, why);
      auto rec = parse_registration_record(*text);
      sdk::secure_wipe(*text);
      if (!rec) fail(FRACTA_E_CONFIG, "client_registration_file " + cfg_.client_registration_file + ": " + rec.err().message);
      registration_ = std::move(*rec);
      persist_registration_ = false;
    }
    if (kind == grant::client_credentials || (!persist_tokens_ && !persist_registration_)) {
      loaded_ = true;
    } else {
      // Read the store now, so status() can answer without a round trip later.
      loading_ = true;
      sdk::start(load(), [this](sdk::outcome<void> o) {
        loading_ = false;
        loaded_ = true;
        if (!o.ok()) load_error_ = o.failure();
      });
    }
  }

  ~oauth_provider() { *alive_ = false; }

  std::int32_t apply(sdk::request& req, const sdk::sink&) {
    if (tokens_ && usable()) {
      const std::string value = "Bearer " + tokens_->access_token;
      return req.set_header("Authorization", value);
    }
    if (!loaded_ || cfg_.kind == grant::client_credentials) {
      load_only_ = !loaded_;
      return FRACTA_NEED_REFRESH;
    }
    if (tokens_ && tokens_->refresh_token && !needs_login_) return FRACTA_NEED_REFRESH;
    // No usable credential: the request goes without one, and the server's challenge says
    // where to log in (on_challenge turns it into "run fracta config mcp auth login").
    return FRACTA_OK;
  }

  std::int32_t refresh(sdk::completion& done) {
    run(refresh_task(), std::move(done));
    return FRACTA_PENDING;
  }

  std::int32_t on_challenge(const sdk::challenge& ch, sdk::completion& done) {
    const bearer_challenge b = parse_bearer(ch.www_authenticate());
    if (!b.resource_metadata.empty()) challenge_rm_ = b.resource_metadata;
    if (!b.scope.empty()) challenge_scope_ = b.scope;
    const std::string login_cmd = "fracta config mcp auth login " + server_;

    if (ch.http_status() == 403 && b.error == "insufficient_scope") {
      const std::string held = tokens_ ? (tokens_->scope.empty() ? tokens_->requested_scope : tokens_->scope)
                                       : join_scopes(cfg_.scopes);
      const std::string wanted = union_scopes(held, b.scope);
      // The token already carries every scope asked for: no login can fix this, so stop
      // rather than loop through the browser.
      const bool already_held = tokens_ && !b.scope.empty() && union_scopes(held, b.scope) == union_scopes(held, "");
      if (already_held && !(cfg_.kind == grant::client_credentials && !step_up_attempted_)) {
        deferred_.complete(std::move(done), FRACTA_E_DENIED,
                           "the server answers 403 insufficient_scope although the token already holds scope \"" +
                               held + "\"; logging in again would not help (check the server's scope requirements)");
        return FRACTA_PENDING;
      }
      if (wanted == step_up_scope_ && step_up_attempted_) {
        deferred_.complete(std::move(done), FRACTA_E_DENIED,
                           "the server still answers 403 insufficient_scope after fracta obtained scope \"" + wanted +
                               "\"; it will not ask again (check the server's scope requirements)");
        return FRACTA_PENDING;
      }
      step_up_scope_ = wanted;
      if (cfg_.kind == grant::client_credentials) {
        step_up_attempted_ = true;
        force_refresh_ = true;
        return FRACTA_NEED_REFRESH;
      }
      std::string cmd = login_cmd;
      for (const auto& s : split_scopes(wanted)) cmd += " --scope " + s;
      deferred_.complete(std::move(done), FRACTA_E_NEEDS_LOGIN,
                         "the server needs more scope (" + (b.scope.empty() ? std::string("insufficient_scope") : b.scope) +
                             "); a refresh cannot widen a grant, so log in again: " + cmd);
      return FRACTA_PENDING;
    }
    if (ch.http_status() != 401) return FRACTA_E_DENIED;
    if (cfg_.kind == grant::client_credentials) {
      force_refresh_ = true;
      return FRACTA_NEED_REFRESH;
    }
    if (tokens_ && tokens_->refresh_token && !needs_login_) {
      force_refresh_ = true;
      return FRACTA_NEED_REFRESH;
    }
    needs_login_ = true;
    deferred_.complete(std::move(done), FRACTA_E_NEEDS_LOGIN,
                       tokens_ ? "the stored token was refused and there is no refresh token; run " + login_cmd
                               : server_ + " requires an OAuth login; run " + login_cmd);
    return FRACTA_PENDING;
  }

  std::int32_t login(std::string_view options, sdk::completion& done) {
    login_options o = parse_login_options(options);
    run(login_task(std::move(o)), std::move(done));
    return FRACTA_PENDING;
  }

  std::int32_t logout(sdk::completion& done) {
    run(logout_task(), std::move(done));
    return FRACTA_PENDING;
  }

  std::string status() const {
    sdk::json_object j;
    if (loading_) {
      j.add_bool("loading", true);
      return j.str();
    }
    const bool logged_in = tokens_.has_value() && !needs_login_;
    j.add_bool("logged_in", logged_in);
    j.add_bool("needs_login", cfg_.kind != grant::client_credentials && !logged_in);
    j.add_string("grant", cfg_.kind == grant::authorization_code   ? "authorization_code"
                          : cfg_.kind == grant::client_credentials ? "client_credentials"
                                                                   : "device_code");
    if (tokens_) {
      j.add_string("issuer", tokens_->issuer);
      j.add_int("expires_at", tokens_->expires_at_s);
      j.add_string("scopes", tokens_->scope.empty() ? tokens_->requested_scope : tokens_->scope);
      j.add_bool("refresh_token", tokens_->refresh_token.has_value());
      j.add_string("source", persist_tokens_ ? "store" : (cfg_.token_file.empty() ? "inline" : "token_file"));
    }
    j.add_string("client", client_id_                 ? "configured"
                           : registration_            ? "registered"
                           : !cfg_.client_metadata_url.empty() ? "metadata-document"
                                                       : "none");
    if (load_error_) j.add_string("store_error", load_error_->second);
    return j.str();
  }

  void cancel() { deferred_.cancel_all(); }

 private:
  // Runs a task and completes `done` with its outcome (later, through deferred).
  template <class T>
  void run(sdk::task<T> t, sdk::completion done) {
    auto keep = std::make_shared<sdk::completion>(std::move(done));
    sdk::start(std::move(t), [this, keep, alive = alive_](sdk::outcome<T> o) {
      if (!*alive) return;  // the completion's destructor cancels it
      if (o.ok()) {
        std::int64_t expiry = 0;
        std::string message;
        if constexpr (std::is_same_v<T, std::string>) message = std::move(o.value());
        if (tokens_) expiry = tokens_->expires_at_s * 1000;
        deferred_.complete(std::move(*keep), FRACTA_OK, std::move(message), expiry);
      } else {
        auto [st, msg] = o.failure();
        deferred_.complete(std::move(*keep), st, std::move(msg));
      }
    });
  }

  bool usable() const {
    if (!tokens_ || tokens_->access_token.empty() || needs_login_) return false;
    return tokens_->expires_at_s == 0 || host_.wall_clock_ms() / 1000 < tokens_->expires_at_s;
  }

  std::string login_command() const { return "fracta config mcp auth login " + server_; }

  // ---- store ----

  sdk::task<void> load() {
    if (persist_tokens_) {
      auto g = sdk::store_get(host_, "tokens");
      sdk::host_result r = co_await g;
      if (r.ok()) {
        auto rec = parse_token_record(r.value);
        sdk::secure_wipe(r.value);
        if (rec) tokens_ = std::move(*rec);
        else host_.log_warn("the stored tokens for " + server_ + " are unreadable (" + rec.err().message + "); ignoring them");
      } else if (r.status != FRACTA_E_NOT_FOUND && r.status != FRACTA_E_UNSUPPORTED) {
        fail(r.status == FRACTA_E_CONFIG ? FRACTA_E_CONFIG : FRACTA_E_UNAVAILABLE,
             "reading the stored tokens failed: " + r.message);
      }
    }
    if (persist_registration_) {
      auto g = sdk::store_get(host_, "registration");
      sdk::host_result r = co_await g;
      if (r.ok()) {
        auto rec = parse_registration_record(r.value);
        sdk::secure_wipe(r.value);
        if (rec) registration_ = std::move(*rec);
      } else if (r.status != FRACTA_E_NOT_FOUND && r.status != FRACTA_E_UNSUPPORTED) {
        fail(r.status == FRACTA_E_CONFIG ? FRACTA_E_CONFIG : FRACTA_E_UNAVAILABLE,
             "reading the stored client registration failed: " + r.message);
      }
    }
  }

  sdk::task<void> wait_loaded() {
    while (loading_) {
      auto s = sdk::sleep_for(host_, 10);
      co_await s;
    }
    if (load_error_) {
      auto e = *load_error_;
      load_error_.reset();
      fail(e.first, e.second);
    }
  }

  sdk::task<void> save_tokens(token_record rec) {
    if (persist_tokens_) {
      const std::string text = to_json(rec);
      auto p = sdk::store_put(host_, "tokens", text);
      sdk::host_result r = co_await p;
      if (!r.ok() && r.status != FRACTA_E_UNSUPPORTED)
        host_.log_warn("could not store the new tokens for " + server_ + " (" + r.message +
                       "); they are kept in memory for this process only");
    }
    tokens_ = std::move(rec);
    needs_login_ = false;
  }

  sdk::task<void> save_registration(registration_record rec) {
    if (persist_registration_) {
      const std::string text = to_json(rec);
      auto p = sdk::store_put(host_, "registration", text);
      sdk::host_result r = co_await p;
      if (!r.ok() && r.status != FRACTA_E_UNSUPPORTED)
        host_.log_warn("could not store the client registration for " + server_ + " (" + r.message + ")");
    }
    registration_ = std::move(rec);
  }

  sdk::task<void> drop_tokens() {
    tokens_.reset();
    needs_login_ = true;
    if (persist_tokens_) {
      auto e = sdk::store_erase(host_, "tokens");
      co_await e;
    }
  }

  sdk::task<void> drop_registration() {
    registration_.reset();
    if (persist_registration_) {
      auto e = sdk::store_erase(host_, "registration");
      co_await e;
    }
  }

  // ---- discovery and client identity ----

  sdk::task<discovered> discovery(bool fresh) {
    if (!disc_ || fresh) {
      auto t = discover(host_, cfg_, server_url_, challenge_rm_);
      discovered d = co_await t;
      disc_ = std::move(d);
    }
    co_return *disc_;
  }

  // Without a challenge yet, ask the server once (unauthenticated) so its WWW-Authenticate
  // can point at the resource metadata and the scope it wants.
  sdk::task<void> probe_challenge() {
    if (challenge_rm_) co_return;
    sdk::http_request req;
    req.method = "POST";
    req.url = server_url_;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    req.body =
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fracta","version":")" FRACTA_VERSION R"("}}})";
    req.timeout_ms = 15000;
    auto aw = sdk::http(host_, std::move(req));
    sdk::http_result r = co_await aw;
    if (!r.ok() || r.http_status != 401) co_return;
    const bearer_challenge b = parse_bearer(r.header("WWW-Authenticate"));
    if (!b.resource_metadata.empty()) challenge_rm_ = b.resource_metadata;
    if (!b.scope.empty() && !challenge_scope_) challenge_scope_ = b.scope;
  }

  bool registration_fits(const discovered& d, std::string_view redirect, std::string_view grant_type) const {
    if (!registration_ || registration_->issuer != d.as.issuer) return false;
    if (!redirect.empty() && std::find(registration_->redirect_uris.begin(), registration_->redirect_uris.end(),
                                       redirect) == registration_->redirect_uris.end())
      return false;
    if (!registration_->grant_types.empty() &&
        std::find(registration_->grant_types.begin(), registration_->grant_types.end(), grant_type) ==
            registration_->grant_types.end())
      return false;
    if (registration_->client_secret_expires_at > 0 &&
        registration_->client_secret_expires_at <= host_.wall_clock_ms() / 1000)
      return false;
    return true;
  }

  client_identity configured_client(const discovered* d) const {
    client_identity c;
    c.from = client_identity::origin::configured;
    c.client_id = *client_id_;
    c.secret = client_secret_;
    c.private_key = private_key_;
    c.key_id = cfg_.key_id;
    c.method_configured = configured_method_.has_value();
    static const std::vector<std::string> none;
    c.method = choose_auth_method(d ? d->as.token_endpoint_auth_methods_supported : none, client_secret_.has_value(),
                                  private_key_.has_value(), configured_method_);
    return c;
  }

  client_identity registered_client() const {
    client_identity c;
    c.from = client_identity::origin::registered;
    c.client_id = registration_->client_id;
    c.secret = registration_->client_secret;
    c.method = parse_auth_method(registration_->token_endpoint_auth_method).value_or(auth_method::none);
    return c;
  }

  sdk::task<client_identity> ensure_client(const discovered& d, std::string redirect, std::string grant_type) {
    if (client_id_) co_return configured_client(&d);
    if (registration_fits(d, redirect, grant_type)) co_return registered_client();
    if (!cfg_.client_metadata_url.empty() && d.as.client_id_metadata_document_supported) {
      client_identity c;
      c.from = client_identity::origin::metadata_document;
      c.client_id = cfg_.client_metadata_url;
      c.method = auth_method::none;
      co_return c;
    }
    if (!d.as.registration_endpoint) {
      fail(FRACTA_E_CONFIG,
           "the authorization server " + redacted_url(d.as.issuer) +
               " offers no dynamic client registration" +
               (cfg_.client_metadata_url.empty() ? std::string() : " and does not accept client metadata documents") +
               ", and no client is configured for " + server_ +
               ": register a client with the provider, then add client_id (and client_secret) to "
               "[mcp.servers." + server_ + ".remote.auth]");
    }
    std::vector<std::string> grants;
    if (!redirect.empty()) grants.emplace_back("authorization_code");
    if (d.as.device_authorization_endpoint &&
        (grant_type == device_grant ||
         std::find(d.as.grant_types_supported.begin(), d.as.grant_types_supported.end(), device_grant) !=
             d.as.grant_types_supported.end()))
      grants.emplace_back(device_grant);
    grants.emplace_back("refresh_token");
    auto t = register_client(host_, d, redirect, std::move(grants));
    registration_record rec = co_await t;
    auto s = save_registration(std::move(rec));
    co_await s;
    co_return registered_client();
  }

  // The client for a refresh: whoever obtained the tokens.
  std::optional<client_identity> refresh_client() const {
    if (client_id_) return configured_client(disc_ ? &*disc_ : nullptr);
    if (registration_ && (tokens_->client_id.empty() || tokens_->client_id == registration_->client_id) &&
        (tokens_->issuer.empty() || registration_->issuer == tokens_->issuer))
      return registered_client();
    if (!tokens_->client_id.empty()) {
      client_identity c;
      c.from = client_identity::origin::stored_public;
      c.client_id = tokens_->client_id;
      return c;
    }
    return std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> with_extras(std::vector<std::pair<std::string, std::string>> p,
                                                              const std::vector<std::pair<std::string, std::string>>& extra) const {
    for (const auto& kv : extra) p.push_back(kv);
    return p;
  }

  // ---- refresh ----

  sdk::task<void> refresh_task() {
    auto w = wait_loaded();
    co_await w;
    const bool load_only = std::exchange(load_only_, false);
    const bool forced = std::exchange(force_refresh_, false);
    if (load_only && !forced && usable()) co_return;
    if (cfg_.kind == grant::client_credentials) {
      auto t = fetch_client_credentials();
      co_await t;
      co_return;
    }
    if (!cfg_.token_file.empty()) {
      auto t = reread_token_file();
      const bool changed = co_await t;
      if (changed && usable()) co_return;
    }
    if (tokens_ && tokens_->refresh_token && !needs_login_) {
      // Another process sharing this store (a CLI beside a gateway) may have refreshed
      // already: a rotated refresh token presented twice revokes the whole grant at many
      // providers, so adopt what it stored instead of spending ours.
      auto a = adopt_newer_stored_tokens();
      const bool adopted = co_await a;
      if (adopted && usable()) co_return;  // even after a 401 on the old token: the new one is untried
      auto t = refresh_grant();
      co_await t;
      co_return;
    }
    if (tokens_ && !usable()) {
      needs_login_ = true;
      fail(FRACTA_E_NEEDS_LOGIN, "the access token for " + server_ + " expired and no refresh token was issued; run " +
                                     login_command());
    }
    if (!tokens_ && persist_tokens_ && !load_only) {
      // Another process (a CLI login beside a gateway) may have stored tokens since we looked.
      auto l = load();
      co_await l;
      needs_login_ = false;
      if (usable()) co_return;
      if (tokens_ && tokens_->refresh_token) {  // expired meanwhile: the stored grant still works
        auto t = refresh_grant();
        co_await t;
        co_return;
      }
      fail(FRACTA_E_NEEDS_LOGIN, server_ + " has no stored OAuth tokens; run " + login_command());
    }
    // Nothing held: requests go without a credential until the server asks for a login.
  }

  // Re-reads the stored tokens; when they hold another refresh token for the same issuer
  // (someone rotated it), takes them over. True when it did.
  sdk::task<bool> adopt_newer_stored_tokens() {
    if (!persist_tokens_) co_return false;
    auto g = sdk::store_get(host_, "tokens");
    sdk::host_result r = co_await g;
    if (!r.ok()) co_return false;  // unreadable now: keep what we hold, never drop it
    auto rec = parse_token_record(r.value);
    sdk::secure_wipe(r.value);
    if (!rec || !rec->refresh_token || !tokens_ || rec->issuer != tokens_->issuer ||
        rec->refresh_token == tokens_->refresh_token)
      co_return false;
    host_.log_debug("another process refreshed the tokens for " + server_ + "; using its result");
    tokens_ = std::move(*rec);
    needs_login_ = false;
    co_return true;
  }

  // A mounted token_file may have been replaced since start-up: pick up a new token.
  sdk::task<bool> reread_token_file() {
    json::writer w;
    w.begin_object().key("file").value(cfg_.token_file).end_object();
    auto t = sdk::resolve_secret(host_, "token_file", w.take());
    sdk::host_result r = co_await t;
    if (!r.ok()) co_return false;
    auto rec = parse_token_record(r.value);
    sdk::secure_wipe(r.value);
    if (!rec || (tokens_ && rec->access_token == tokens_->access_token)) co_return false;
    host_.log_info("token_file changed; using the new token");
    tokens_ = std::move(*rec);
    needs_login_ = false;
    co_return true;
  }

  sdk::task<void> refresh_grant() {
    std::string endpoint = tokens_->token_endpoint;
    std::string issuer = tokens_->issuer;
    if (endpoint.empty()) {
      auto t = discovery(false);
      discovered d = co_await t;
      // Tokens from another authorization server: never send it their refresh token.
      if (!issuer.empty() && issuer != d.as.issuer) {
        needs_login_ = true;
        fail(FRACTA_E_NEEDS_LOGIN, "the stored tokens for " + server_ + " come from " + redacted_url(issuer) +
                                       ", but the server now names " + redacted_url(d.as.issuer) + "; run " +
                                       login_command());
      }
      endpoint = d.as.token_endpoint;
      issuer = d.as.issuer;
    }
    auto client = refresh_client();
    if (!client) {
      auto t = drop_tokens();
      co_await t;
      fail(FRACTA_E_NEEDS_LOGIN, "no client identity is known for the stored refresh token; run " + login_command());
    }
    std::vector<std::pair<std::string, std::string>> params{{"grant_type", "refresh_token"},
                                                            {"refresh_token", *tokens_->refresh_token}};
    if (!tokens_->resource.empty()) params.emplace_back("resource", tokens_->resource);
    params = with_extras(std::move(params), cfg_.token_params);
    const std::string held_scope = tokens_->scope;
    auto t = token_request(host_, endpoint, issuer, *client, std::move(params), held_scope);
    result<token_set> r = co_await t;
    if (!r) {
      const error e = r.err();
      if (e.code == make_error_code(errc::needs_login)) {
        auto d = drop_tokens();
        co_await d;
        fail(FRACTA_E_NEEDS_LOGIN, "the authorization server no longer accepts the refresh token (" + e.message +
                                       "); run " + login_command());
      }
      if (e.code == make_error_code(errc::auth_failed) && client->from == client_identity::origin::registered) {
        auto d1 = drop_registration();
        co_await d1;
        auto d2 = drop_tokens();
        co_await d2;
        fail(FRACTA_E_NEEDS_LOGIN, "the authorization server no longer knows fracta's registered client (" +
                                       e.message + "); run " + login_command() + " to register again");
      }
      fail(status_for(e), "refreshing the token failed: " + e.message);
    }
    token_record next = *tokens_;
    next.access_token = std::move(r->access_token);
    if (r->refresh_token) next.refresh_token = std::move(*r->refresh_token);  // rotation
    next.expires_at_s = r->expires_at_unix_ms ? *r->expires_at_unix_ms / 1000 : 0;
    if (r->scope) next.scope = *r->scope;
    next.token_endpoint = endpoint;
    next.issuer = issuer;
    // Persist first (a rotated refresh token must survive us), then use the new access token.
    auto s = save_tokens(std::move(next));
    co_await s;
    host_.log_debug("refreshed the access token for " + server_);
  }

  sdk::task<void> fetch_client_credentials() {
    auto dt = discovery(false);
    discovered d = co_await dt;
    client_identity client = configured_client(&d);
    std::optional<std::string> scope;
    if (!step_up_scope_.empty()) {
      scope = step_up_scope_;
    } else {
      const std::vector<std::string> supported = d.prm ? d.prm->scopes_supported : std::vector<std::string>{};
      std::optional<std::string_view> cs;
      if (challenge_scope_) cs = *challenge_scope_;
      scope = select_scope(cfg_.scopes, cs, supported);
    }
    std::vector<std::pair<std::string, std::string>> params{{"grant_type", "client_credentials"}};
    if (scope) params.emplace_back("scope", *scope);
    if (!d.resource.empty()) params.emplace_back("resource", d.resource);
    params = with_extras(std::move(params), cfg_.token_params);
    const std::string requested = scope.value_or("");
    auto t = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(params), requested);
    result<token_set> r = co_await t;
    if (!r) fail(status_for(r.err()), "the client credentials grant failed: " + r.err().message);
    token_record rec;
    rec.access_token = std::move(r->access_token);
    rec.expires_at_s = r->expires_at_unix_ms ? *r->expires_at_unix_ms / 1000 : 0;
    rec.scope = r->scope.value_or(requested);
    rec.requested_scope = requested;
    rec.issuer = d.as.issuer;
    rec.token_endpoint = d.as.token_endpoint;
    rec.resource = d.resource;
    rec.client_id = client.client_id;
    tokens_ = std::move(rec);  // never stored: client credentials are fetched again
    needs_login_ = false;
    if (!step_up_scope_.empty()) step_up_attempted_ = true;
  }

  // ---- login ----

  std::string scope_for_login(const login_options& o, const discovered& d) const {
    if (!o.scopes.empty()) return join_scopes(o.scopes);
    if (!step_up_scope_.empty()) return step_up_scope_;
    const std::vector<std::string> supported = d.prm ? d.prm->scopes_supported : std::vector<std::string>{};
    std::optional<std::string_view> cs;
    if (challenge_scope_) cs = *challenge_scope_;
    auto s = select_scope(cfg_.scopes, cs, supported.empty() ? d.as.scopes_supported : supported);
    std::string scope = s.value_or("");
    // Ask for a refresh token where the server says offline_access is how to get one.
    const auto& as_scopes = d.as.scopes_supported;
    if (std::find(as_scopes.begin(), as_scopes.end(), "offline_access") != as_scopes.end() &&
        scope.find("offline_access") == std::string::npos && !scope.empty())
      scope = union_scopes(scope, "offline_access");
    return scope;
  }

  sdk::task<std::string> login_task(login_options o) {
    auto w = wait_loaded();
    co_await w;
    if (cfg_.kind == grant::client_credentials) {
      auto t = fetch_client_credentials();
      co_await t;
      co_return "obtained a client-credentials token from " + redacted_url(tokens_->issuer) + " (never stored)";
    }
    auto p = probe_challenge();
    co_await p;
    auto dt = discovery(true);
    discovered d = co_await dt;
    if (tokens_ && !tokens_->issuer.empty() && tokens_->issuer != d.as.issuer) {
      // A different authorization server: never send it the old one's tokens or client.
      host_.log_info("the authorization server changed from " + redacted_url(tokens_->issuer) + " to " +
                     redacted_url(d.as.issuer) + "; starting afresh");
      auto dr = drop_tokens();
      co_await dr;
    }
    const std::string scope = scope_for_login(o, d);
    token_record rec;
    if (cfg_.kind == grant::device_code || o.device) {
      auto t = device_flow(d, scope, o.timeout_ms);
      rec = co_await t;
    } else {
      auto t = authcode_flow(d, scope, o.timeout_ms, false);
      rec = co_await t;
    }
    const std::string granted = rec.scope.empty() ? rec.requested_scope : rec.scope;
    auto s = save_tokens(std::move(rec));
    co_await s;
    step_up_scope_.clear();
    step_up_attempted_ = false;
    std::string msg = "authorized by " + d.as.issuer;
    if (!granted.empty()) msg += " (scopes: " + granted + ")";
    co_return msg;
  }

  std::string listen(std::string_view requested, std::int32_t& status) {
    const fracta_host* f = host_.get();
    if (!FRACTA_HAS_FIELD(f, fracta_host, redirect_listen) || f->redirect_listen == nullptr) {
      status = FRACTA_E_UNSUPPORTED;
      return {};
    }
    sdk::string_sink out;
    status = f->redirect_listen(f->host_ctx, sdk::from_str(requested), out.get());
    return out.take();
  }

  void open_url(std::string_view url) {
    const fracta_host* f = host_.get();
    if (FRACTA_HAS_FIELD(f, fracta_host, open_url) && f->open_url != nullptr)
      f->open_url(f->host_ctx, sdk::from_str(url));
  }

  sdk::task<token_record> authcode_flow(const discovered& d, std::string scope, std::int64_t timeout_ms, bool retried) {
    if (auto r = require_pkce_s256(d.as); !r) fail(FRACTA_E_CONFIG, r.err().message);
    if (d.as.authorization_endpoint.empty())
      fail(FRACTA_E_CONFIG, "the authorization server " + redacted_url(d.as.issuer) + " has no authorization endpoint");

    // The loopback listener starts before anything is registered or opened.
    std::string requested = cfg_.redirect_uri;
    bool from_registration = false;
    if (requested.empty() && !client_id_ && registration_ && registration_->issuer == d.as.issuer &&
        !registration_->redirect_uris.empty()) {
      requested = registration_->redirect_uris.front();
      from_registration = true;
    }
    std::int32_t st = FRACTA_OK;
    std::string redirect = listen(requested, st);
    if (st != FRACTA_OK && from_registration) {
      host_.log_info("the registered redirect port is busy; listening on another and registering again");
      redirect = listen("", st);
    }
    if (st == FRACTA_E_UNSUPPORTED)
      fail(FRACTA_E_NEEDS_LOGIN, "this program cannot log in interactively; run " + login_command() + " on a machine with a browser");
    if (st != FRACTA_OK || redirect.empty())
      fail(FRACTA_E_UNAVAILABLE, "could not listen for the browser's redirect on 127.0.0.1 (status " + std::to_string(st) + ")");

    auto ct = ensure_client(d, redirect, "authorization_code");
    client_identity client = co_await ct;

    const std::string verifier = code_verifier();
    const std::string state = random_state();
    std::vector<std::pair<std::string, std::string>> q{{"response_type", "code"},
                                                       {"client_id", client.client_id},
                                                       {"redirect_uri", redirect},
                                                       {"code_challenge", s256_challenge(verifier)},
                                                       {"code_challenge_method", "S256"},
                                                       {"state", state}};
    if (!scope.empty()) q.emplace_back("scope", scope);
    if (!d.resource.empty()) q.emplace_back("resource", d.resource);
    q = with_extras(std::move(q), cfg_.authorize_params);
    const std::string& ep = d.as.authorization_endpoint;
    const std::string url = ep + (ep.find('?') == std::string::npos ? "?" : "&") + http::build_query(q);
    open_url(url);

    auto ra = sdk::redirect_await(host_, timeout_ms);
    sdk::host_result r = co_await ra;
    if (r.status == FRACTA_E_TIMEOUT)
      fail(FRACTA_E_TIMEOUT, "no browser redirect arrived within " + std::to_string(timeout_ms / 1000) +
                                 " s; run the login again (--timeout to wait longer, --no-browser to paste the redirect)");
    if (!r.ok()) fail(r.status, "waiting for the browser's redirect failed: " + r.message);
    const auto params = redirect_params(r.value);
    const auto got_state = param(params, "state");
    if (!got_state || !constant_time_equal(*got_state, state))
      fail(FRACTA_E_DENIED, "the redirect's state does not match this login (a stale or forged redirect); log in again");
    // RFC 9207: check iss before trusting anything else in the response.
    const auto iss = param(params, "iss");
    if (iss) {
      if (*iss != d.as.issuer)
        fail(FRACTA_E_DENIED, "the redirect names another issuer than " + redacted_url(d.as.issuer) +
                                  " (RFC 9207 mix-up protection); fracta ignores it");
    } else if (d.as.authorization_response_iss_parameter_supported) {
      fail(FRACTA_E_DENIED, "the authorization server promises an iss parameter on the redirect, and this one has "
                            "none (RFC 9207); fracta ignores it");
    }
    if (auto e = param(params, "error")) {
      std::string msg = "the authorization server refused the login: " + *e;
      if (auto desc = param(params, "error_description")) msg += " (" + desc->substr(0, 300) + ")";
      fail(FRACTA_E_DENIED, msg);
    }
    const auto code = param(params, "code");
    if (!code || code->empty()) fail(FRACTA_E_DENIED, "the redirect carries neither a code nor an error");

    std::vector<std::pair<std::string, std::string>> tp{{"grant_type", "authorization_code"},
                                                        {"code", *code},
                                                        {"redirect_uri", redirect},
                                                        {"code_verifier", verifier}};
    if (!d.resource.empty()) tp.emplace_back("resource", d.resource);
    tp = with_extras(std::move(tp), cfg_.token_params);
    auto tt = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(tp), scope);
    result<token_set> res = co_await tt;
    if (!res) {
      const error e = res.err();
      if (e.code == make_error_code(errc::auth_failed) && client.from == client_identity::origin::registered && !retried) {
        host_.log_info("the authorization server does not know fracta's registered client; registering once more");
        auto dr = drop_registration();
        co_await dr;
        auto again = authcode_flow(d, scope, timeout_ms, true);
        token_record rec = co_await again;
        co_return rec;
      }
      fail(status_for(e), "exchanging the authorization code failed: " + e.message);
    }
    co_return make_record(std::move(*res), d, scope, client.client_id);
  }

  token_record make_record(token_set t, const discovered& d, const std::string& scope, const std::string& client_id) {
    token_record rec;
    rec.access_token = std::move(t.access_token);
    rec.refresh_token = std::move(t.refresh_token);
    rec.expires_at_s = t.expires_at_unix_ms ? *t.expires_at_unix_ms / 1000 : 0;
    rec.scope = t.scope.value_or(scope);
    rec.requested_scope = scope;
    rec.issuer = d.as.issuer;
    rec.token_endpoint = d.as.token_endpoint;
    rec.resource = d.resource;
    rec.client_id = client_id;
    return rec;
  }

  void show_device_code(std::string_view uri, std::string_view code, std::string_view complete) {
    const fracta_host* f = host_.get();
    if (FRACTA_HAS_FIELD(f, fracta_host, show_device_code) && f->show_device_code != nullptr) {
      f->show_device_code(f->host_ctx, sdk::from_str(uri), sdk::from_str(code), sdk::from_str(complete));
    } else {
      host_.log_warn("to sign in to " + server_ + ", open " + std::string(uri) + " and enter the code " + std::string(code));
    }
  }

  sdk::task<token_record> device_flow(const discovered& d, std::string scope, std::int64_t timeout_ms) {
    if (!d.as.device_authorization_endpoint)
      fail(FRACTA_E_CONFIG, "the authorization server " + redacted_url(d.as.issuer) +
                                " does not offer the device flow (no device_authorization_endpoint); log in with the "
                                "browser instead");
    auto ct = ensure_client(d, "", std::string(device_grant));
    client_identity client = co_await ct;

    // Device authorization request (RFC 8628 §3.1), authenticated like a token request.
    std::vector<std::pair<std::string, std::string>> params;
    if (!scope.empty()) params.emplace_back("scope", scope);
    if (!d.resource.empty()) params.emplace_back("resource", d.resource);
    sdk::http_request req;
    req.method = "POST";
    req.url = *d.as.device_authorization_endpoint;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    if (client.method == auth_method::client_secret_basic) {
      req.headers.emplace_back("Authorization", basic_authorization(client.client_id, client.secret.value_or("")));
    } else {
      params.emplace_back("client_id", client.client_id);
      if (client.method == auth_method::client_secret_post) params.emplace_back("client_secret", client.secret.value_or(""));
    }
    req.body = form_body(params);
    req.timeout_ms = 20000;
    auto aw = sdk::http(host_, std::move(req));
    sdk::http_result r = co_await aw;
    if (!r.ok()) fail(FRACTA_E_TRANSIENT, "the device authorization endpoint could not be reached: " + r.message);
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (r.http_status != 200 || !json::parse(p, r.body, doc).empty() || !doc.is_object()) {
      std::string detail = "HTTP " + std::to_string(r.http_status);
      if (auto e = parse_oauth_error(r.body)) detail += " " + e->error + (e->description.empty() ? "" : ": " + e->description);
      fail(FRACTA_E_DENIED, "the device authorization request was refused (" + detail + ")");
    }
    const std::string device_code(json::get_string(doc, "device_code").value_or(""));
    const std::string user_code(json::get_string(doc, "user_code").value_or(""));
    std::string uri(json::get_string(doc, "verification_uri").value_or(""));
    if (uri.empty()) uri = std::string(json::get_string(doc, "verification_url").value_or(""));
    const std::string complete(json::get_string(doc, "verification_uri_complete").value_or(""));
    if (device_code.empty() || user_code.empty() || uri.empty())
      fail(FRACTA_E_DENIED, "the device authorization response lacks device_code, user_code or verification_uri");
    std::int64_t interval_s = std::max<std::int64_t>(json::get_int(doc, "interval").value_or(5), 1);
    const std::int64_t expires_in = json::get_int(doc, "expires_in").value_or(600);
    const std::int64_t start = host_.monotonic_ms();
    const std::int64_t deadline = start + std::min<std::int64_t>(expires_in * 1000, timeout_ms);
    show_device_code(uri, user_code, complete);

    for (;;) {
      auto sl = sdk::sleep_for(host_, interval_s * 1000);
      co_await sl;
      if (host_.monotonic_ms() >= deadline) {
        fail(FRACTA_E_TIMEOUT, host_.monotonic_ms() - start >= expires_in * 1000
                                   ? "the device code expired before the sign-in was completed; log in again"
                                   : "the sign-in was not completed within " + std::to_string(timeout_ms / 1000) +
                                         " s (--timeout)");
      }
      std::vector<std::pair<std::string, std::string>> tp{{"grant_type", std::string(device_grant)},
                                                          {"device_code", device_code}};
      tp = with_extras(std::move(tp), cfg_.token_params);
      auto tt = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(tp), scope);
      result<token_set> res = co_await tt;
      if (res) co_return make_record(std::move(*res), d, scope, client.client_id);
      const error e = res.err();
      const std::string& m = e.message;
      if (m.find("authorization_pending") != std::string::npos) continue;
      if (m.find("slow_down") != std::string::npos) {
        interval_s += 5;
        continue;
      }
      if (m.find("access_denied") != std::string::npos)
        fail(FRACTA_E_DENIED, "the sign-in was denied at the authorization server");
      if (m.find("expired_token") != std::string::npos)
        fail(FRACTA_E_TIMEOUT, "the device code expired before the sign-in was completed; log in again");
      if (e.code == make_error_code(errc::transport)) continue;  // transient: keep polling
      fail(status_for(e), "the device flow failed: " + m);
    }
  }

  sdk::task<std::string> logout_task() {
    auto w = wait_loaded();
    co_await w;
    auto d1 = drop_tokens();
    co_await d1;
    if (persist_registration_) {
      auto d2 = drop_registration();
      co_await d2;
    }
    co_return "removed the stored tokens";
  }

  sdk::host host_;
  sdk::deferred deferred_;
  std::string server_, server_url_;
  settings cfg_;
  std::optional<std::string> client_id_, client_secret_, private_key_;
  std::optional<auth_method> configured_method_;
  std::optional<token_record> tokens_;
  std::optional<registration_record> registration_;
  bool persist_tokens_ = true;
  bool persist_registration_ = true;
  bool loaded_ = false;
  bool loading_ = false;
  bool load_only_ = false;
  bool force_refresh_ = false;
  bool needs_login_ = false;
  std::optional<std::pair<std::int32_t, std::string>> load_error_;
  std::optional<discovered> disc_;
  std::optional<std::string> challenge_rm_, challenge_scope_;
  std::string step_up_scope_;
  bool step_up_attempted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct authcode_provider final : oauth_provider {
  static constexpr const char* type = "oauth-authcode";
  authcode_provider(sdk::host h, std::string_view cfg) : oauth_provider(h, cfg, grant::authorization_code) {}
};

struct client_credentials_provider final : oauth_provider {
  static constexpr const char* type = "oauth-client-credentials";
  static constexpr std::uint32_t flags = 0;  // login() only fetches a token: not interactive
  client_credentials_provider(sdk::host h, std::string_view cfg) : oauth_provider(h, cfg, grant::client_credentials) {}
};

struct device_code_provider final : oauth_provider {
  static constexpr const char* type = "device-code";
  device_code_provider(sdk::host h, std::string_view cfg) : oauth_provider(h, cfg, grant::device_code) {}
};

}  // namespace
}  // namespace fracta::oauth

FRACTA_SDK_DEFINE_PLUGIN("fracta-oauth", FRACTA_VERSION,
                         fracta::sdk::provider_table<fracta::oauth::authcode_provider>(),
                         fracta::sdk::provider_table<fracta::oauth::client_credentials_provider>(),
                         fracta::sdk::provider_table<fracta::oauth::device_code_provider>())
