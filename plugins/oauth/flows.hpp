// SPDX-License-Identifier: Apache-2.0
// OAuth network flows as coroutines over the host: discovery, registration, token requests, device flow.
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

/// Discovers the authorization server for `server_url`: protected-resource metadata (the
/// challenge's `resource_metadata` first), then RFC 8414 / OIDC metadata in the spec's order,
/// else the 2025-03-26 fallback. `metadata_url` (config) skips straight to the AS metadata.
/// Throws sdk::error: FRACTA_E_TRANSIENT for unreachable servers and 5xx, FRACTA_E_CONFIG for
/// metadata that fails validation.
sdk::task<discovered> discover(sdk::host h, const settings& cfg, std::string server_url,
                               std::optional<std::string> challenge_resource_metadata);

/// Registers fracta dynamically (RFC 7591): application_type native, the exact redirect URI
/// (when given), `grant_types`. Throws sdk::error; never guesses an auth method the response
/// does not state usably.
sdk::task<registration_record> register_client(sdk::host h, const discovered& d, std::string redirect_uri,
                                               std::vector<std::string> grant_types);

/// A token request with client authentication. Returns the parsed response or its error
/// (errc::needs_login for invalid_grant, errc::auth_failed for invalid_client, errc::transport
/// for transient failures). With a configured secret and no configured method, one
/// invalid_client answer to Basic is retried with client_secret_post.
sdk::task<result<token_set>> token_request(sdk::host h, std::string token_endpoint, std::string issuer,
                                           client_identity client,
                                           std::vector<std::pair<std::string, std::string>> params,
                                           std::string requested_scope);

/// The FRACTA_E_* status for an engine error code.
[[nodiscard]] std::int32_t status_for(const error& e) noexcept;

}  // namespace fracta::oauth
