// SPDX-License-Identifier: Apache-2.0
// OAuth network flows as coroutines over the host: discovery, registration, token requests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fracta/plugin_coro.hpp>

#include "client_auth.hpp"
#include "discovery.hpp"
#include "fracta/result.hpp"
#include "state.hpp"
#include "tokens.hpp"

namespace fracta::oauth {

/// Fails the running task with a status and a message for people (never a secret).
[[noreturn]] inline void fail(std::int32_t status, std::string message) {
  throw sdk::error(status, std::move(message));
}

/// Where discovery led: the resource metadata (when the server publishes it), the
/// authorization server's metadata, and the RFC 8707 resource to send ("" = omit).
struct discovered {
  std::optional<resource_metadata> prm;
  as_metadata as;
  std::string resource;
};

/// The client fracta presents at the token endpoint. Holds a secret.
struct client_identity {
  enum class origin { configured, registered, metadata_document, stored_public };
  origin from = origin::configured;
  std::string client_id;
  std::optional<std::string> secret;
  std::optional<std::string> private_key;  ///< PEM, for private_key_jwt
  std::string key_id;
  auth_method method = auth_method::none;
  bool method_configured = false;
};

/// Whether OAuth endpoints may be plain http to a loopback host: only when the MCP server, or
/// the configured `issuer` / `metadata_url`, is on loopback itself. Thread-safe.
[[nodiscard]] bool loopback_http_allowed(const settings& cfg, const http::url& server);

/// Discovers the authorization server for `server_url`: protected-resource metadata (the
/// challenge's `resource_metadata` first), then RFC 8414 / OIDC metadata in the spec's order,
/// else the 2025-03-26 fallback. `metadata_url` (config) skips straight to the AS metadata.
/// A configured `issuer` pins the result: it is chosen among the listed authorization servers,
/// used instead of the 2025-03-26 fallback, and anything else the server names is refused
/// (FRACTA_E_CONFIG naming both issuers) before a request goes there. URLs the server names
/// must pass check_discovered_url. Throws sdk::error: FRACTA_E_TRANSIENT for unreachable
/// servers and 5xx, FRACTA_E_DENIED / FRACTA_E_CONFIG for metadata that fails validation.
sdk::task<discovered> discover(sdk::host h, const settings& cfg, std::string server_url,
                               std::optional<std::string> challenge_resource_metadata);

/// Registers fracta dynamically (RFC 7591): application_type native, the exact redirect URI
/// (when given), `grant_types`. Throws sdk::error; never guesses an auth method the response
/// does not state usably.
sdk::task<registration_record> register_client(sdk::host h, const discovered& d, std::string redirect_uri,
                                               std::vector<std::string> grant_types);

/// What a token endpoint answered: the tokens, or the error (errc::needs_login for
/// invalid_grant, errc::auth_failed for invalid_client, errc::transport for transient
/// failures) together with the OAuth `error` code it carried ("" when there was none).
struct token_reply {
  result<token_set> tokens;
  std::string oauth_error;
};

/// A token request with client authentication to `token_endpoint`, which must pass
/// is_secure_endpoint(`allow_loopback_http`) (else FRACTA_E_CONFIG, nothing sent). With a
/// configured secret and no configured method, one invalid_client answer to Basic is retried
/// with client_secret_post.
sdk::task<token_reply> token_request(sdk::host h, std::string token_endpoint, std::string issuer,
                                     client_identity client,
                                     std::vector<std::pair<std::string, std::string>> params,
                                     std::string requested_scope, bool allow_loopback_http);

/// A validated device authorization response (RFC 8628 §3.2). `device_code` is a secret.
struct device_authorization {
  std::string device_code, user_code, verification_uri, verification_uri_complete;
  std::int64_t interval_ms = 5000;      ///< clamped to 1..60 s
  std::int64_t expires_in_ms = 600000;  ///< clamped to 1 s..1 day
};

/// Parses a device authorization response. `verification_uri` (and `_complete`, when given)
/// must be https URLs (http only to loopback with `allow_loopback_http`); `user_code` printable
/// ASCII, at most 64 bytes. Errors (errc::protocol) quote nothing the server sent. Thread-safe.
[[nodiscard]] result<device_authorization> parse_device_authorization(std::string_view body,
                                                                      bool allow_loopback_http);

/// Saturating arithmetic for times the server or the user chose. Thread-safe.
[[nodiscard]] std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept;
[[nodiscard]] std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept;

/// The FRACTA_E_* status for an engine error code.
[[nodiscard]] std::int32_t status_for(const error& e) noexcept;

}  // namespace fracta::oauth
