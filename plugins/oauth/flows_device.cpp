// SPDX-License-Identifier: Apache-2.0
// The device login (RFC 8628): a checked prompt, and polling that keeps to the login's deadline.
#include <algorithm>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include <fracta/proto/text.hpp>
#include "provider.hpp"

namespace fracta::oauth {
namespace {

constexpr std::int64_t min_interval_ms = 1000;
constexpr std::int64_t max_interval_ms = 60000;
constexpr std::int64_t slow_down_step_ms = 5000;  // RFC 8628 §3.5
constexpr std::int64_t max_expires_in_ms = 24LL * 3600 * 1000;
constexpr std::size_t max_user_code_bytes = 64;

error protocol_error(std::string message) { return error{make_error_code(errc::protocol), std::move(message)}; }

// What fracta shows on the terminal: printable ASCII, short.
bool is_showable_user_code(std::string_view code) {
  return !code.empty() && code.size() <= max_user_code_bytes &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

}  // namespace

result<device_authorization> parse_device_authorization(std::string_view body, bool allow_loopback_http) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (!json::parse(p, body, doc).empty() || !doc.is_object())
    return protocol_error("the device authorization response is not a JSON object");
  device_authorization a;
  a.device_code = std::string(json::get_string(doc, "device_code").value_or(""));
  a.user_code = std::string(json::get_string(doc, "user_code").value_or(""));
  a.verification_uri = std::string(json::get_string(doc, "verification_uri").value_or(""));
  if (a.verification_uri.empty()) a.verification_uri = std::string(json::get_string(doc, "verification_url").value_or(""));
  a.verification_uri_complete = std::string(json::get_string(doc, "verification_uri_complete").value_or(""));
  if (a.device_code.empty() || a.user_code.empty() || a.verification_uri.empty())
    return protocol_error("the device authorization response lacks device_code, user_code or verification_uri");
  // These reach the terminal and the browser's command line: refuse what is not plainly a
  // code and an https URL (an option like --gpu-launcher=…, escape sequences).
  if (!is_showable_user_code(a.user_code))
    return protocol_error("the device authorization response has a user_code fracta will not show (it must be "
                          "printable ASCII, at most 64 bytes)");
  const char* const plain_http = allow_loopback_http ? " (http only to loopback)" : "";
  if (!is_secure_endpoint(a.verification_uri, allow_loopback_http))
    return protocol_error(std::string("the device authorization response has a verification_uri that is not an https URL") +
                          plain_http + "; fracta will not show or open it");
  if (!a.verification_uri_complete.empty() && !is_secure_endpoint(a.verification_uri_complete, allow_loopback_http))
    return protocol_error(std::string("the device authorization response has a verification_uri_complete that is not an "
                                      "https URL") + plain_http + "; fracta will not show or open it");
  const std::int64_t interval_s = json::get_int(doc, "interval").value_or(5);
  a.interval_ms = std::clamp(saturating_mul(interval_s, 1000), min_interval_ms, max_interval_ms);
  const std::int64_t expires_in_s = json::get_int(doc, "expires_in").value_or(600);
  a.expires_in_ms = std::clamp(saturating_mul(expires_in_s, 1000), std::int64_t{1000}, max_expires_in_ms);
  return a;
}

void oauth_provider::show_device_code(const device_authorization& a) {
  const fracta_host* f = host_.get();
  if (FRACTA_HAS_FIELD(f, fracta_host, show_device_code) && f->show_device_code != nullptr) {
    f->show_device_code(f->host_ctx, sdk::from_str(a.verification_uri), sdk::from_str(a.user_code),
                        sdk::from_str(a.verification_uri_complete));
  } else {
    host_.log_warn("to sign in to " + server_ + ", open " + a.verification_uri + " and enter the code " + a.user_code);
  }
}

sdk::task<device_authorization> oauth_provider::start_device_authorization(const discovered& d, const client_identity& client,
                                                                           const std::string& scope) {
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
  for (auto& [k, v] : params) sdk::secure_wipe(v);
  req.timeout_ms = 20000;
  auto aw = sdk::http(host_, std::move(req));
  sdk::http_result r = co_await aw;
  if (!r.ok()) fail(FRACTA_E_TRANSIENT, "the device authorization endpoint could not be reached: " + text::printable(r.message));
  if (r.http_status != 200) {
    std::string detail = "HTTP " + std::to_string(r.http_status);
    if (auto e = parse_oauth_error(r.body)) {
      detail += " " + text::printable(e->error, 100);
      if (!e->description.empty()) detail += ": " + text::printable(e->description);
    }
    fail(FRACTA_E_DENIED, "the device authorization request was refused (" + detail + ")");
  }
  auto a = parse_device_authorization(r.body, loopback_http_ok_);
  sdk::secure_wipe(r.body);
  if (!a) fail(FRACTA_E_DENIED, a.err().message);
  co_return std::move(*a);
}

sdk::task<token_record> oauth_provider::device_flow(const discovered& d, std::string scope, std::int64_t timeout_ms) {
  if (!d.as.device_authorization_endpoint)
    fail(FRACTA_E_CONFIG, "the authorization server " + redacted_url(d.as.issuer) +
                              " does not offer the device flow (no device_authorization_endpoint); log in with the "
                              "browser instead");
  const std::string grant_type(device_grant);
  auto ct = ensure_client(d, "", grant_type);
  client_identity client = co_await ct;
  auto st = start_device_authorization(d, client, scope);
  const device_authorization a = co_await st;

  // Whatever the server asks for, the wait ends at the login's deadline: the interval is
  // clamped, and no sleep reaches past the deadline.
  const std::int64_t start = host_.monotonic_ms();
  const bool code_expires_first = a.expires_in_ms <= timeout_ms;
  const std::int64_t deadline = saturating_add(start, std::min(a.expires_in_ms, timeout_ms));
  const std::string expired = "the device code expired before the sign-in was completed; log in again";
  const std::string too_slow = "the sign-in was not completed within " + std::to_string(timeout_ms / 1000) + " s (--timeout)";
  std::int64_t interval_ms = a.interval_ms;
  show_device_code(a);

  for (;;) {
    const std::int64_t left = deadline - host_.monotonic_ms();
    if (left <= 0) fail(FRACTA_E_TIMEOUT, code_expires_first ? expired : too_slow);
    const std::int64_t wait_ms = std::min(interval_ms, left);
    auto sl = sdk::sleep_for(host_, wait_ms);
    co_await sl;
    if (host_.monotonic_ms() >= deadline) continue;  // the check above ends it
    std::vector<std::pair<std::string, std::string>> tp{{"grant_type", grant_type}, {"device_code", a.device_code}};
    tp = with_extras(std::move(tp), cfg_.token_params);
    auto tt = token_request(host_, d.as.token_endpoint, d.as.issuer, client, std::move(tp), scope, loopback_http_ok_);
    token_reply res = co_await tt;
    if (res.tokens) co_return make_record(std::move(*res.tokens), d, scope, client.client_id);
    // RFC 8628 §3.5, by the error code: its description is the server's free text.
    const std::string& code = res.oauth_error;
    if (code == "authorization_pending") continue;
    if (code == "slow_down") {
      interval_ms = std::min(interval_ms + slow_down_step_ms, max_interval_ms);
      continue;
    }
    if (code == "access_denied") fail(FRACTA_E_DENIED, "the sign-in was denied at the authorization server");
    if (code == "expired_token") fail(FRACTA_E_TIMEOUT, expired);
    const error e = res.tokens.err();
    if (e.code == make_error_code(errc::transport)) continue;  // transient: keep polling
    fail(status_for(e), "the device flow failed: " + e.message);
  }
}

}  // namespace fracta::oauth
