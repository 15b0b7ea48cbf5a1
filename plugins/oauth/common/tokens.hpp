#pragma once
// SPDX-License-Identifier: Apache-2.0
// Token endpoint responses (RFC 6749 §5.1/§5.2) with real-world quirks, and error policy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fracta/result.hpp"

namespace fracta::oauth {

/// A successful token response. Holds secrets: never log or format its values.
struct token_set {
  std::string access_token;
  std::string token_type;  ///< always "Bearer"
  std::optional<std::string> refresh_token;
  std::optional<std::string> scope;  ///< granted, else the requested one
  std::optional<std::int64_t> expires_at_unix_ms;  ///< absolute, computed on arrival
  std::optional<std::string> id_token;
};

/// An OAuth error response (RFC 6749 §5.2). Value type, thread-safe.
struct oauth_error {
  std::string error;
  std::string description;
  std::string uri;
};

/// What a failed grant means for the credentials held.
enum class grant_failure {
  needs_login,  ///< invalid_grant: drop the tokens, ask for a login, never loop
  reregister,   ///< invalid_client: drop a dynamic registration, register once more
  transient,    ///< 5xx, 429, temporarily_unavailable, network (status 0): keep all, back off
  bad_request,  ///< anything else: surface it
  scope,        ///< invalid_scope, insufficient_scope: step-up or reconfigure
};

/// Classifies a failed token request from its HTTP status (0 for a network error) and the
/// parsed error, the error code taking precedence over the status. Thread-safe.
[[nodiscard]] grant_failure classify(int http_status, const oauth_error& err) noexcept;

/// The error object of a JSON body (`error` is a string), else nullopt. Thread-safe.
[[nodiscard]] std::optional<oauth_error> parse_oauth_error(std::string_view body);

/// Parses a token endpoint response. Accepts `expires_in` as a number or a numeric string
/// (or absent), `token_type` "bearer" in any case (missing treated as Bearer; other types
/// refused), a missing `scope` (= `requested_scope`, none when that is empty), form-encoded
/// bodies. Refuses error JSON even with HTTP 200 and HTML pages (quoting ≤200 chars of text).
/// Error codes: errc::needs_login (invalid_grant), errc::transport (transient),
/// errc::auth_failed (invalid_client), errc::remote (other OAuth errors), errc::protocol
/// (malformed). Messages never contain a token value. Thread-safe.
[[nodiscard]] result<token_set> parse_token_response(int http_status,
                                                     std::string_view content_type,
                                                     std::string_view body, std::int64_t now_ms,
                                                     std::string_view requested_scope);

/// application/x-www-form-urlencoded body from name/value pairs, in order. Thread-safe.
[[nodiscard]] std::string form_body(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace fracta::oauth
