// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's discovery, issuer pinning, client identity, login and logout.
#include <algorithm>

#include <fracta/proto/text.hpp>
#include "provider.hpp"
#include "scopes.hpp"

#ifndef FRACTA_VERSION
#define FRACTA_VERSION "0.0.0"
#endif

namespace fracta::oauth {

sdk::task<discovered> oauth_provider::discovery(bool fresh) {
  if (!disc_ || fresh) {
    auto t = discover(host_, cfg_, server_url_, challenge_rm_);
    discovered d = co_await t;
    disc_ = std::move(d);
  }
  co_return *disc_;
}

// Without a challenge yet, ask the server once (unauthenticated) so its WWW-Authenticate
// can point at the resource metadata and the scope it wants.
sdk::task<void> oauth_provider::probe_challenge() {
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

void oauth_provider::check_client_issuer(const discovered& d) const {
  if (!client_id_ || (!client_secret_ && !private_key_)) return;
  if (!cfg_.issuer.empty() || !cfg_.metadata_url.empty()) return;  // pinned: discover() enforced it
  if (!tokens_ || tokens_->issuer.empty() || tokens_->issuer == d.as.issuer) return;
  fail(FRACTA_E_CONFIG, "the client secret configured for " + server_ + " was used with " + redacted_url(tokens_->issuer) +
                            ", but the server now names " + redacted_url(d.as.issuer) +
                            "; fracta will not send it there. If the new authorization server is right, set "
                            "issuer to it in the auth table");
}

bool oauth_provider::registration_fits(const discovered& d, std::string_view redirect, std::string_view grant_type) const {
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

client_identity oauth_provider::configured_client(const discovered* d) const {
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

client_identity oauth_provider::registered_client() const {
  client_identity c;
  c.from = client_identity::origin::registered;
  c.client_id = registration_->client_id;
  c.secret = registration_->client_secret;
  c.method = parse_auth_method(registration_->token_endpoint_auth_method).value_or(auth_method::none);
  return c;
}

sdk::task<client_identity> oauth_provider::ensure_client(const discovered& d, std::string redirect, std::string grant_type) {
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
  // Stored with the tokens once the login succeeds: an abandoned login must not replace the
  // registration that the tokens held now belong to.
  registration_ = std::move(rec);
  registration_unsaved_ = true;
  co_return registered_client();
}

std::vector<std::pair<std::string, std::string>> oauth_provider::with_extras(
    std::vector<std::pair<std::string, std::string>> p,
    const std::vector<std::pair<std::string, std::string>>& extra) const {
  for (const auto& kv : extra) p.push_back(kv);
  return p;
}

std::string oauth_provider::scope_for_login(const login_options& o, const discovered& d) const {
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

token_record oauth_provider::make_record(token_set t, const discovered& d, const std::string& scope,
                                         const std::string& client_id) const {
  token_record rec;
  rec.access_token = std::move(t.access_token);
  rec.refresh_token = std::move(t.refresh_token);
  rec.expires_at_s = t.expires_at_unix_ms ? *t.expires_at_unix_ms / 1000 : 0;
  rec.expires_at_ms = t.expires_at_unix_ms.value_or(0);
  rec.scope = t.scope.value_or(scope);
  rec.requested_scope = scope;
  rec.issuer = d.as.issuer;
  rec.token_endpoint = d.as.token_endpoint;
  rec.resource = d.resource;
  rec.client_id = client_id;
  return rec;
}

sdk::task<std::string> oauth_provider::login_job(login_options o) {
  take_load_error();
  if (cfg_.kind == grant::client_credentials) {
    auto t = fetch_client_credentials();
    co_await t;
    const std::string from = tokens_ ? redacted_url(tokens_->issuer) : std::string("the authorization server");
    co_return "obtained a client-credentials token from " + from + " (never stored)";
  }
  auto p = probe_challenge();
  co_await p;
  auto dt = discovery(true);
  discovered d = co_await dt;
  check_client_issuer(d);
  if (tokens_ && !tokens_->issuer.empty() && tokens_->issuer != d.as.issuer) {
    // Nothing of the old grant goes to the new server; it is replaced only once the new login
    // has been stored, so an abandoned login keeps it.
    host_.log_info("the authorization server changed from " + redacted_url(tokens_->issuer) + " to " +
                   redacted_url(d.as.issuer) + "; logging in afresh");
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
  auto s = save_tokens(std::move(rec), true);
  co_await s;
  if (registration_unsaved_ && registration_) {
    auto r = save_registration(*registration_);
    co_await r;
  }
  invalid_client_strikes_ = 0;
  step_up_scope_.clear();
  step_up_attempted_ = false;
  std::string msg = "authorized by " + redacted_url(d.as.issuer);
  if (!granted.empty()) msg += " (scopes: " + text::printable(granted) + ")";
  co_return msg;
}

sdk::task<std::string> oauth_provider::logout_job() {
  take_load_error();
  auto d1 = drop_tokens();
  co_await d1;
  if (persist_registration_) {
    auto d2 = drop_registration();
    co_await d2;
  }
  co_return "removed the stored tokens";
}

}  // namespace fracta::oauth
