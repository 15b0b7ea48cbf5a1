// SPDX-License-Identifier: Apache-2.0
// The fracta-oauth plugin: the provider's C-facing operations, its job queue and the module entry point.
#include "provider.hpp"

#include <algorithm>
#include <cctype>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <fracta/proto/time.hpp>
#include <fracta/proto/url.hpp>
#include <fracta/proto/www_authenticate.hpp>
#include "scopes.hpp"

#ifndef FRACTA_VERSION
#define FRACTA_VERSION "0.0.0"
#endif

namespace fracta::oauth {
namespace {

constexpr std::int64_t max_login_timeout_ms = 24LL * 3600 * 1000;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool is_scope_token(std::string_view t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
  });
}

}  // namespace

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
  if (auto t = json::get_int(doc, "timeout_ms"); t && *t > 0) o.timeout_ms = std::clamp<std::int64_t>(*t, 1000, max_login_timeout_ms);
  o.device = json::get_bool(doc, "device").value_or(false);
  return o;
}

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

oauth_provider::oauth_provider(sdk::host h, std::string_view config_json, grant kind)
    : host_(h), deferred_(h), server_(h.server_name()), server_url_(h.server_url()) {
  auto s = parse_settings(config_json);
  if (!s) fail(FRACTA_E_CONFIG, s.err().message);
  cfg_ = std::move(*s);
  cfg_.kind = kind;
  if (auto u = http::url::parse(server_url_)) loopback_http_ok_ = loopback_http_allowed(cfg_, *u);
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
    std::string text = read_mounted_file("token_file", cfg_.token_file);
    token_file_read_at_s_ = host_.wall_clock_ms() / 1000;
    auto rec = parse_token_record(text);
    sdk::secure_wipe(text);
    if (!rec) fail(FRACTA_E_CONFIG, "token_file " + cfg_.token_file + ": " + rec.err().message);
    token_file_seen_ = file_tokens_digest(*rec);
    if (record_fits(*rec, "tokens in token_file")) hold(std::move(*rec));
    persist_tokens_ = false;
  } else if (cfg_.access_token || cfg_.refresh_token) {  // a refresh token alone: the first refresh fetches the rest
    token_record t;
    t.access_token = resolve(cfg_.access_token, "access_token").value_or("");
    t.refresh_token = resolve(cfg_.refresh_token, "refresh_token");
    t.expires_at_s = cfg_.expires_at_s;
    if (cfg_.expires_at_secret) {
      std::string value = resolve(cfg_.expires_at_secret, "expires_at").value_or("");
      const auto at = text::parse_instant(value);
      if (!at) fail(FRACTA_E_CONFIG, "expires_at (" + server_ + "): the value read is not unix seconds or an RFC 3339 "
                                     "date-time such as 2026-01-01T00:00:00Z");
      t.expires_at_s = *at;
    }
    t.issuer = cfg_.issuer;  // "" with metadata_url: the issuer it declares (parse_settings checked)
    hold(std::move(t));
    persist_tokens_ = false;
  }
  // Injected tokens need no store: the client comes from client_registration_file, the auth
  // table or the token record, so a headless machine without a keyring or store key works.
  if (injected()) persist_registration_ = false;
  if (!cfg_.client_registration_file.empty()) {
    std::string text = read_mounted_file("client_registration_file", cfg_.client_registration_file);
    auto rec = parse_registration_record(text);
    sdk::secure_wipe(text);
    if (!rec) fail(FRACTA_E_CONFIG, "client_registration_file " + cfg_.client_registration_file + ": " + rec.err().message);
    registration_ = std::move(*rec);
    persist_registration_ = false;
  }
  if (kind == grant::client_credentials || (!persist_tokens_ && !persist_registration_)) {
    loaded_ = true;
  } else {
    // Read the store now, so status() can answer without a round trip later. It is the first
    // job: every refresh, login or logout asked for meanwhile runs after it.
    loading_ = true;
    enqueue(load_job(), sdk::completion{});
  }
}

oauth_provider::~oauth_provider() { *alive_ = false; }

std::string oauth_provider::read_mounted_file(std::string_view key, const std::string& path) const {
  json::writer w;
  w.begin_object().key("file").value(path).end_object();
  std::string why;
  auto text = host_.resolve_secret(key, w.take(), why);
  if (!text) fail(FRACTA_E_CONFIG, why);
  return std::move(*text);
}

std::int32_t oauth_provider::apply(sdk::request& req, const sdk::sink& err) {
  if (tokens_ && usable()) {
    if (!may_send_to(req.url())) {
      err.write("fracta will not send the OAuth token of " + server_ + " to " + redacted_url(req.url()) +
                ": it was issued for another server");
      return FRACTA_E_DENIED;
    }
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

std::int32_t oauth_provider::refresh(sdk::completion& done) {
  enqueue(refresh_job(generation_), std::move(done));
  return FRACTA_PENDING;
}

std::int32_t oauth_provider::on_challenge(const sdk::challenge& ch, sdk::completion& done) {
  const bearer_challenge b = parse_bearer(ch.www_authenticate());
  if (!b.resource_metadata.empty()) challenge_rm_ = b.resource_metadata;
  if (!b.scope.empty()) challenge_scope_ = b.scope;
  const std::string login_cmd = login_command();

  if (ch.http_status() == 403 && b.error == "insufficient_scope") {
    const std::string held = tokens_ ? (tokens_->scope.empty() ? tokens_->requested_scope : tokens_->scope)
                                     : join_scopes(cfg_.scopes);
    // MCP 2026-07-28 §Step-Up: ask for the union of what was asked for before and what the
    // challenge names, so the new grant does not lose what the old one had.
    const std::string asked_before = tokens_ ? union_scopes(tokens_->requested_scope, held) : held;
    const std::string wanted = union_scopes(asked_before, b.scope);
    const auto wanted_tokens = split_scopes(wanted);
    // Server text becomes a command people paste into a shell: only valid scope tokens, quoted.
    if (!std::all_of(wanted_tokens.begin(), wanted_tokens.end(), [](const std::string& t) { return is_scope_token(t); })) {
      deferred_.complete(std::move(done), FRACTA_E_DENIED,
                         "the server answers 403 insufficient_scope with a scope that is not a valid OAuth scope "
                         "token (RFC 6749 §3.3); fracta will not ask for it");
      return FRACTA_PENDING;
    }
    // The token already carries every scope asked for: no login can fix this, so stop
    // rather than loop through the browser.
    const bool already_held = tokens_ && !b.scope.empty() && union_scopes(held, b.scope) == union_scopes(held, "");
    if (already_held && !(cfg_.kind == grant::client_credentials && !step_up_attempted_)) {
      deferred_.complete(std::move(done), FRACTA_E_DENIED,
                         "the server answers 403 insufficient_scope although the token already holds scope \"" +
                             wanted + "\"; logging in again would not help (check the server's scope requirements)");
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
    for (const auto& s : wanted_tokens) cmd += " --scope " + text::shell_word(s);
    const std::string asked = b.scope.empty() ? std::string("insufficient_scope") : join_scopes(split_scopes(b.scope));
    deferred_.complete(std::move(done), FRACTA_E_NEEDS_LOGIN,
                       "the server needs more scope (" + asked + "); a refresh cannot widen a grant, so log in again: " + cmd);
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
  if (persist_tokens_ && !store_behind_) {
    // Another process (`fracta config mcp auth login` in a terminal) may have stored tokens
    // since: a long-running engine heals without a restart.
    reread_store_ = true;
    return FRACTA_NEED_REFRESH;
  }
  needs_login_ = true;
  deferred_.complete(std::move(done), FRACTA_E_NEEDS_LOGIN,
                     injected() ? "the injected access token was refused and there is no refresh token; " + reexport_hint()
                     : tokens_  ? "the stored token was refused and there is no refresh token; run " + login_cmd
                                : server_ + " requires an OAuth login; run " + login_cmd);
  return FRACTA_PENDING;
}

std::int32_t oauth_provider::login(std::string_view options, sdk::completion& done) {
  login_options o = parse_login_options(options);
  enqueue(login_job(std::move(o)), std::move(done));
  return FRACTA_PENDING;
}

std::int32_t oauth_provider::export_credentials(sdk::completion& done) {
  if (cfg_.kind == grant::client_credentials) return FRACTA_E_UNSUPPORTED;  // its secrets are the config's
  enqueue(export_job(), std::move(done), true);
  return FRACTA_PENDING;
}

std::int32_t oauth_provider::logout(sdk::completion& done) {
  enqueue(logout_job(), std::move(done));
  return FRACTA_PENDING;
}

std::string oauth_provider::status() const {
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
  j.add_string("client", client_id_                          ? "configured"
                         : registration_                     ? "registered"
                         : !cfg_.client_metadata_url.empty() ? "metadata-document"
                                                             : "none");
  if (!cfg_.token_file.empty()) {  // where the tokens come from, and how fresh the read is
    j.add_string("source_path", cfg_.token_file);
    j.add_int("source_read_at", token_file_read_at_s_);
  }
  if (load_error_) j.add_string("store_error", load_error_->second);
  return j.str();
}

void oauth_provider::cancel() {
  // Jobs not started yet complete with CANCELLED as they are destroyed; the running one ends
  // when the host cancels its pending operation.
  auto waiting = std::exchange(jobs_, {});
  waiting.clear();
  deferred_.cancel_all();
}

// ---- job queue ----

void oauth_provider::enqueue(sdk::task<std::string> work, sdk::completion done, bool yields_value) {
  jobs_.push_back(job{std::move(work), std::move(done), yields_value});
  pump();
}

void oauth_provider::pump() {
  if (pumping_) return;  // a job that finished at once: the loop below starts the next one
  pumping_ = true;
  while (!busy_ && !jobs_.empty()) {
    job next = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    auto keep = std::make_shared<sdk::completion>(std::move(next.done));
    sdk::start(std::move(next.work), [this, keep, alive = alive_, as_value = next.yields_value](sdk::outcome<std::string> o) {
      if (!*alive) return;  // the completion's destructor cancels it
      finish_job(std::move(*keep), std::move(o), as_value);
    });
  }
  pumping_ = false;
}

void oauth_provider::finish_job(sdk::completion done, sdk::outcome<std::string> o, bool yields_value) {
  busy_ = false;
  if (o.ok()) {
    const std::int64_t expiry = tokens_ ? tokens_->expiry_ms() : 0;
    if (done.armed() && yields_value) {
      deferred_.complete(std::move(done), FRACTA_OK, {}, expiry, std::move(o.value()));
    } else if (done.armed()) {
      deferred_.complete(std::move(done), FRACTA_OK, std::move(o.value()), expiry);
    }
  } else {
    auto [st, msg] = o.failure();
    if (done.armed()) deferred_.complete(std::move(done), st, std::move(msg));
    if (st == FRACTA_E_CANCELLED) {
      // The host is tearing the instance down: start nothing new.
      auto waiting = std::exchange(jobs_, {});
      return;
    }
  }
  pump();
}

void oauth_provider::take_load_error() {
  if (!load_error_) return;
  auto e = std::move(*load_error_);
  load_error_.reset();
  fail(e.first, e.second);
}

// ---------------------------------------------------------------------------------------------

namespace {

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
