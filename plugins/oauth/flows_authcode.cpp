// SPDX-License-Identifier: Apache-2.0
// The browser login: loopback redirect, PKCE S256, state and RFC 9207 iss checks, the code exchange.
#include "fracta/errors.hpp"
#include <fracta/proto/url.hpp>
#include "pkce.hpp"
#include <fracta/proto/text.hpp>
#include "provider.hpp"

namespace fracta::oauth {
namespace {

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

}  // namespace

std::string oauth_provider::listen(std::string_view requested, std::int32_t& status) {
  const fracta_host* f = host_.get();
  if (!FRACTA_HAS_FIELD(f, fracta_host, redirect_listen) || f->redirect_listen == nullptr) {
    status = FRACTA_E_UNSUPPORTED;
    return {};
  }
  sdk::string_sink out;
  status = f->redirect_listen(f->host_ctx, sdk::from_str(requested), out.get());
  return out.take();
}

void oauth_provider::open_url(std::string_view url) {
  const fracta_host* f = host_.get();
  if (FRACTA_HAS_FIELD(f, fracta_host, open_url) && f->open_url != nullptr) f->open_url(f->host_ctx, sdk::from_str(url));
}

sdk::task<std::string> oauth_provider::await_redirect(std::string state, std::int64_t timeout_ms) {
  const std::int64_t deadline = saturating_add(host_.monotonic_ms(), timeout_ms);
  int ignored = 0;
  for (;;) {
    const std::int64_t left = deadline - host_.monotonic_ms();
    if (left <= 0) break;
    auto ra = sdk::redirect_await(host_, left);
    sdk::host_result r = co_await ra;
    if (r.status == FRACTA_E_TIMEOUT) break;
    if (!r.ok()) fail(r.status, "waiting for the browser's redirect failed: " + text::printable(r.message));
    const auto params = redirect_params(r.value);
    const auto got = param(params, "state");
    if (got && constant_time_equal(*got, state)) co_return std::move(r.value);
    // Any local process or web page can reach the listener: a redirect without this login's
    // state is not an answer, and must not end the login.
    host_.log_info("ignored a request to the login's redirect URI that does not carry this login's state");
    ++ignored;
  }
  fail(FRACTA_E_TIMEOUT, "no browser redirect for this login arrived within " + std::to_string(timeout_ms / 1000) + " s" +
                             (ignored > 0 ? " (" + std::to_string(ignored) + " without its state were ignored)" : std::string()) +
                             "; run the login again (--timeout to wait longer, --no-browser to paste the redirect)");
}

sdk::task<token_record> oauth_provider::authcode_flow(const discovered& d, std::string scope, std::int64_t timeout_ms,
                                                      bool retried) {
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

  auto ra = await_redirect(state, timeout_ms);
  const std::string redirect_url = co_await ra;
  const auto params = redirect_params(redirect_url);
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
    std::string msg = "the authorization server refused the login: " + text::printable(*e, 100);
    if (auto desc = param(params, "error_description")) msg += " (" + text::printable(*desc) + ")";
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
  auto tt = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(tp), scope, loopback_http_ok_);
  token_reply res = co_await tt;
  if (!res.tokens) {
    const error e = res.tokens.err();
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
  co_return make_record(std::move(*res.tokens), d, scope, client.client_id);
}

}  // namespace fracta::oauth
