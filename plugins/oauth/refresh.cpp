// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's refresh policy: refresh tokens, a remounted token_file, client credentials.
#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include "fracta/json_writer.hpp"
#include "pkce.hpp"
#include "provider.hpp"
#include "scopes.hpp"

namespace fracta::oauth {

sdk::task<std::string> oauth_provider::refresh_job(std::uint64_t asked_at) {
  take_load_error();
  const bool load_only = std::exchange(load_only_, false);
  const bool forced = std::exchange(force_refresh_, false);
  // A login or another refresh replaced the tokens since this refresh was asked for: the new
  // ones are untried, even after a 401 on the old.
  if (asked_at != generation_ && usable()) co_return std::string();
  if (load_only && !forced && usable()) co_return std::string();
  if (std::exchange(reread_store_, false)) {
    auto r = adopt_other_login();
    co_await r;
    co_return std::string();
  }
  if (cfg_.kind == grant::client_credentials) {
    auto t = fetch_client_credentials();
    co_await t;
    co_return std::string();
  }
  if (!cfg_.token_file.empty()) {
    auto t = reread_token_file();
    const bool changed = co_await t;
    if (changed && usable()) co_return std::string();
  }
  if (tokens_ && tokens_->refresh_token && !needs_login_) {
    // Another process sharing this store (a CLI beside a gateway) may have refreshed
    // already: a rotated refresh token presented twice revokes the whole grant at many
    // providers, so adopt what it stored instead of spending ours.
    auto a = adopt_newer_stored_tokens();
    const bool adopted = co_await a;
    if (adopted && usable()) co_return std::string();
    auto t = refresh_grant(true);
    co_await t;
    co_return std::string();
  }
  if (tokens_ && !usable()) {
    needs_login_ = true;
    fail(FRACTA_E_NEEDS_LOGIN, "the access token for " + server_ + " expired and no refresh token was issued; " +
                                   (injected() ? reexport_hint() : "run " + login_command()));
  }
  if (!tokens_ && persist_tokens_ && !load_only) {
    // Another process (a CLI login beside a gateway) may have stored tokens since we looked.
    auto l = load();
    co_await l;
    if (usable()) co_return std::string();
    if (tokens_ && tokens_->refresh_token && !needs_login_) {  // expired meanwhile: the stored grant still works
      auto t = refresh_grant(true);
      co_await t;
      co_return std::string();
    }
    fail(FRACTA_E_NEEDS_LOGIN, server_ + " has no stored OAuth tokens; run " + login_command());
  }
  // Nothing held: requests go without a credential until the server asks for a login.
  co_return std::string();
}

// Re-reads the stored tokens; when they hold another refresh token for the same issuer
// (someone rotated it), takes them over. True when it did.
sdk::task<bool> oauth_provider::adopt_newer_stored_tokens() {
  if (!persist_tokens_ || !tokens_ || store_behind_) co_return false;  // behind: what it holds is older
  const std::string issuer = tokens_->issuer;
  const std::optional<std::string> ours = tokens_->refresh_token;
  auto t = read_stored_tokens(false);
  std::optional<token_record> rec = co_await t;  // unreadable now: keep what we hold, never drop it
  if (!rec || !rec->refresh_token || rec->issuer != issuer || rec->refresh_token == ours) co_return false;
  host_.log_debug("another process refreshed the tokens for " + server_ + "; using its result");
  hold(std::move(*rec));
  co_return true;
}

// The server refused what is held (or nothing is held) and nothing can be refreshed: tokens
// another process stored since are taken, else a login is needed.
sdk::task<void> oauth_provider::adopt_other_login() {
  auto t = read_stored_tokens(false);
  std::optional<token_record> rec = co_await t;
  const bool other = rec && (!tokens_ || rec->access_token != tokens_->access_token ||
                             rec->refresh_token != tokens_->refresh_token);
  if (other) {
    host_.log_info("using the tokens another process stored for " + server_);
    hold(std::move(*rec));
    if (usable()) co_return;
    if (tokens_->refresh_token) {
      auto g = refresh_grant(true);
      co_await g;
      co_return;
    }
  }
  needs_login_ = true;
  fail(FRACTA_E_NEEDS_LOGIN, tokens_ ? "the stored token was refused and there is no refresh token; run " + login_command()
                                     : server_ + " requires an OAuth login; run " + login_command());
}

std::string oauth_provider::file_tokens_digest(const token_record& rec) {
  std::string both;  // built in place: no temporary copy of a token is left unwiped
  both.reserve(rec.access_token.size() + 2 + (rec.refresh_token ? rec.refresh_token->size() : 0));
  both.append(rec.access_token).append(rec.refresh_token ? "\n1" : "\n0");
  if (rec.refresh_token) both.append(*rec.refresh_token);
  std::string digest = s256_challenge(both);
  sdk::secure_wipe(both);
  return digest;
}

// A mounted token_file may have been replaced since start-up: pick up a new token.
sdk::task<bool> oauth_provider::reread_token_file() {
  json::writer w;
  w.begin_object().key("file").value(cfg_.token_file).end_object();
  auto t = sdk::resolve_secret(host_, "token_file", w.take());
  sdk::host_result r = co_await t;
  if (!r.ok()) co_return false;
  token_file_read_at_s_ = host_.wall_clock_ms() / 1000;
  auto rec = parse_token_record(r.value);
  sdk::secure_wipe(r.value);
  if (!rec) co_return false;
  // A change is the file holding other tokens than when it was last read (either token: a
  // re-export may keep its access token). Not other tokens than held: after a refresh in
  // memory those differ from the file's, which are expired or spent by then.
  std::string seen = file_tokens_digest(*rec);
  if (seen == token_file_seen_) co_return false;
  token_file_seen_ = std::move(seen);
  if (tokens_ && rec->access_token == tokens_->access_token && rec->refresh_token == tokens_->refresh_token)
    co_return false;
  if (!record_fits(*rec, "tokens in token_file")) co_return false;
  host_.log_debug("token_file changed; using the new token");
  hold(std::move(*rec));
  co_return true;
}

std::optional<client_identity> oauth_provider::refresh_client(const token_record& held) const {
  if (client_id_) return configured_client(disc_ ? &*disc_ : nullptr);
  if (registration_ && (held.client_id.empty() || held.client_id == registration_->client_id) &&
      (held.issuer.empty() || registration_->issuer == held.issuer))
    return registered_client();
  if (!held.client_id.empty()) {
    client_identity c;
    c.from = client_identity::origin::stored_public;
    c.client_id = held.client_id;
    return c;
  }
  return std::nullopt;
}

sdk::task<void> oauth_provider::refresh_grant(bool may_adopt) {
  if (!tokens_ || !tokens_->refresh_token) fail(FRACTA_E_NEEDS_LOGIN, server_ + " holds no refresh token; run " + login_command());
  // Everything this step needs, captured now: jobs never overlap, and this one checks that
  // nothing replaced the tokens while it waited.
  const token_record held = *tokens_;
  const std::uint64_t gen = generation_;
  const auto changed_meanwhile = [&] {
    if (generation_ == gen) return;
    fail(FRACTA_E_TRANSIENT, "the tokens of " + server_ + " changed while they were being refreshed; try again");
  };
  std::string endpoint = held.token_endpoint;
  std::string issuer = held.issuer;
  if (endpoint.empty()) {
    // A refresh token is sent only to the server that issued it: its recorded issuer, the
    // configured one, or the one a configured metadata_url declares. Never to whatever the
    // MCP server's metadata names for a token without an issuer.
    if (issuer.empty() && cfg_.issuer.empty() && cfg_.metadata_url.empty()) {
      needs_login_ = true;
      fail(FRACTA_E_NEEDS_LOGIN, "the refresh token for " + server_ +
                                     " does not say which authorization server issued it, so fracta will not send "
                                     "it anywhere; set issuer in the auth table, or run " + login_command());
    }
    auto t = discovery(false);
    discovered d = co_await t;
    changed_meanwhile();
    if (!issuer.empty() && issuer != d.as.issuer) {
      needs_login_ = true;
      fail(FRACTA_E_NEEDS_LOGIN, "the stored tokens for " + server_ + " come from " + redacted_url(issuer) +
                                     ", but the server now names " + redacted_url(d.as.issuer) + "; run " +
                                     login_command());
    }
    endpoint = d.as.token_endpoint;
    issuer = d.as.issuer;
  }
  auto client = refresh_client(held);
  if (!client) {
    needs_login_ = true;  // the stored record stays: another process may know its client
    fail(FRACTA_E_NEEDS_LOGIN, "no client identity is known for the stored refresh token; run " + login_command());
  }
  std::vector<std::pair<std::string, std::string>> params{{"grant_type", "refresh_token"},
                                                          {"refresh_token", *held.refresh_token}};
  if (!held.resource.empty()) params.emplace_back("resource", held.resource);
  params = with_extras(std::move(params), cfg_.token_params);
  auto t = token_request(host_, endpoint, issuer, *client, std::move(params), held.scope, loopback_http_ok_);
  token_reply reply = co_await t;
  changed_meanwhile();
  if (!reply.tokens) {
    const error e = reply.tokens.err();
    if (e.code == make_error_code(errc::needs_login)) {
      auto f = forget_spent_grant(*held.refresh_token);
      const bool adopted = co_await f;
      if (adopted && usable()) co_return;
      if (adopted && may_adopt) {  // its access token expired too: spend its refresh token, once
        auto again = refresh_grant(false);
        co_await again;
        co_return;
      }
      if (adopted) fail(FRACTA_E_TRANSIENT, "the tokens of " + server_ + " were rotated by another process meanwhile; try again");
      if (injected())
        fail(FRACTA_E_NEEDS_LOGIN, "the authorization server no longer accepts the refresh token of " + server_ + " (" +
                                       e.message + "); a mounted or injected refresh token is spent once any process "
                                       "refreshed it (this one before a restart, or the machine it was exported from); " +
                                       reexport_hint());
      fail(FRACTA_E_NEEDS_LOGIN, "the authorization server no longer accepts the refresh token (" + e.message +
                                     "); run " + login_command());
    }
    if (e.code == make_error_code(errc::auth_failed)) {
      // The grant may still be good: an AS that forgot a client for a while, or says
      // invalid_client for a back-end error. Keep the tokens; a dynamic registration refused
      // twice in a row is dropped, so the next login registers again.
      ++invalid_client_strikes_;
      host_.log_warn("the authorization server refused fracta's client for " + server_ +
                     " (invalid_client); the tokens are kept");
      if (client->from == client_identity::origin::registered && invalid_client_strikes_ >= 2) {
        auto d = drop_registration();
        co_await d;
        needs_login_ = true;
        fail(FRACTA_E_NEEDS_LOGIN, "the authorization server refused fracta's registered client twice (" +
                                       e.message + "); run " + login_command() + " to register again");
      }
      fail(FRACTA_E_DENIED, "refreshing the token failed: " + e.message +
                                "; the tokens are kept (if this persists, run " + login_command() + ")");
    }
    fail(status_for(e), "refreshing the token failed: " + e.message);
  }
  invalid_client_strikes_ = 0;
  token_set& r = *reply.tokens;
  token_record next = held;
  next.access_token = std::move(r.access_token);
  if (r.refresh_token) next.refresh_token = std::move(*r.refresh_token);  // rotation
  next.expires_at_s = r.expires_at_unix_ms ? *r.expires_at_unix_ms / 1000 : 0;
  next.expires_at_ms = r.expires_at_unix_ms.value_or(0);
  if (r.scope) next.scope = *r.scope;
  next.token_endpoint = endpoint;
  next.issuer = issuer;
  // Persist first (a rotated refresh token must survive us), then use the new access token.
  auto s = save_tokens(std::move(next), false);
  co_await s;
  host_.log_debug("refreshed the access token for " + server_);
}

sdk::task<bool> oauth_provider::forget_spent_grant(std::string spent) {
  forget();
  needs_login_ = true;
  if (!persist_tokens_ || store_behind_) co_return false;  // behind: the stored grant is not ours to judge
  // Compare, then delete: another process may have rotated the grant and stored the new one
  // after we read ours; erasing that would lose a working grant.
  auto g = sdk::store_get(host_, "tokens");
  sdk::host_result r = co_await g;
  if (r.status == FRACTA_E_NOT_FOUND) co_return false;
  if (!r.ok()) {
    host_.log_warn("the refresh token for " + server_ + " was refused, and the store could not be read (" +
                   r.message + "); the stored tokens are left for the next attempt");
    co_return false;
  }
  auto stored = parse_token_record(r.value);
  sdk::secure_wipe(r.value);
  if (!stored) co_return false;  // unreadable: not known to be the grant that was refused
  if (stored->refresh_token == spent) {
    auto e = sdk::store_erase(host_, "tokens");
    co_await e;
    co_return false;
  }
  // Another process stored other tokens since we read ours (a rotation, or a new login).
  if (!record_fits(*stored, "stored tokens")) co_return false;
  host_.log_info("another process stored new tokens for " + server_ + "; using them");
  hold(std::move(*stored));
  co_return true;
}

sdk::task<void> oauth_provider::fetch_client_credentials() {
  auto dt = discovery(false);
  discovered d = co_await dt;
  check_client_issuer(d);
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
  auto t = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(params), requested, loopback_http_ok_);
  token_reply reply = co_await t;
  if (!reply.tokens) fail(status_for(reply.tokens.err()), "the client credentials grant failed: " + reply.tokens.err().message);
  token_record rec = make_record(std::move(*reply.tokens), d, requested, client.client_id);
  rec.refresh_token.reset();  // a new token is fetched each time: nothing to refresh
  hold(std::move(rec));       // never stored
  if (!step_up_scope_.empty()) step_up_attempted_ = true;
}

}  // namespace fracta::oauth
