// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's configuration and what it stores: parsed settings, token and registration records.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fracta/result.hpp"

namespace fracta::oauth {

enum class grant { authorization_code, client_credentials, device_code };

/// The auth table of a `type = "oauth"` server (already validated by the engine's config
/// loader; this re-checks what the plugin relies on). SecretValue fields stay as their JSON
/// references, resolved through the host. Value type.
struct settings {
  grant kind = grant::authorization_code;
  std::vector<std::string> scopes;
  std::optional<std::string> client_id, client_secret, private_key;  ///< SecretValue JSON
  std::optional<std::string> access_token, refresh_token;            ///< SecretValue JSON
  std::int64_t expires_at_s = 0;
  std::optional<std::string> expires_at_secret;  ///< expires_at = { env = "…" }: SecretValue JSON
  std::string token_file, client_registration_file;
  std::string issuer;  ///< the pinned authorization server ("" = none configured)
  std::string metadata_url, redirect_uri, resource, client_metadata_url, key_id;
  std::string token_endpoint_auth_method;
  bool omit_resource = false;
  std::vector<std::pair<std::string, std::string>> authorize_params, token_params;
};

/// Parses the auth table JSON. Errors: errc::config naming the key: among others, `issuer`
/// and `metadata_url` must be https URLs (http only to a loopback host), and an inline
/// `refresh_token` needs `issuer` or `metadata_url`.
[[nodiscard]] result<settings> parse_settings(std::string_view json);

/// token.json (docs/oauth.md): the stored tokens with their issuer and endpoints. Holds
/// secrets: never log or format its values.
struct token_record {
  std::string access_token;
  std::optional<std::string> refresh_token;
  std::int64_t expires_at_s = 0;  ///< absolute; 0 unknown
  /// The same to the millisecond, when it came from a token response in this process (the
  /// store keeps seconds): short lifetimes are refreshed on time. 0: use expires_at_s.
  std::int64_t expires_at_ms = 0;
  std::int64_t expiry_ms() const {
    if (expires_at_ms > 0) return expires_at_ms;
    constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max() / 1000;
    return expires_at_s > most ? std::numeric_limits<std::int64_t>::max() : expires_at_s * 1000;
  }
  std::string scope;              ///< granted
  std::string requested_scope;
  std::string issuer;
  std::string token_endpoint;
  std::string resource;
  std::string client_id;
};

/// client-registration.json (docs/oauth.md): a dynamic registration. Holds a secret.
struct registration_record {
  std::string client_id;
  std::optional<std::string> client_secret;
  std::int64_t client_secret_expires_at = 0;
  std::string token_endpoint_auth_method;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types;
  std::string issuer;
  std::string registration_endpoint;
};

[[nodiscard]] std::string to_json(const token_record& t);
[[nodiscard]] std::string to_json(const registration_record& r);
/// Errors: errc::protocol (never quoting the text: it holds secrets).
[[nodiscard]] result<token_record> parse_token_record(std::string_view json);
[[nodiscard]] result<registration_record> parse_registration_record(std::string_view json);

}  // namespace fracta::oauth
