#pragma once
// SPDX-License-Identifier: Apache-2.0
// Token endpoint client authentication (RFC 6749 §2.3, RFC 8414 token_endpoint_auth_methods).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fracta::oauth {

enum class auth_method { client_secret_basic, client_secret_post, none, private_key_jwt };

/// The RFC 8414 / RFC 7591 name of `m`. Thread-safe.
[[nodiscard]] std::string_view to_string(auth_method m) noexcept;

/// Parses an RFC 8414 method name; nullopt for names fracta does not implement. Thread-safe.
[[nodiscard]] std::optional<auth_method> parse_auth_method(std::string_view name) noexcept;

/// How to authenticate at the token endpoint. A configured method wins. Without a secret or
/// key: none. An absent (empty) `supported` list means the RFC 8414 default,
/// client_secret_basic, for a secret. Otherwise the first usable of: private_key_jwt (with a
/// key), client_secret_basic, client_secret_post (with a secret), none; when the server lists
/// nothing usable, a secret still goes by Basic (the RFC default). Thread-safe.
[[nodiscard]] auth_method choose_auth_method(const std::vector<std::string>& supported,
                                             bool have_secret, bool have_private_key,
                                             std::optional<auth_method> configured);

/// "Basic " + base64(form_urlencode(id) ":" form_urlencode(secret)) (RFC 6749 §2.3.1).
/// The result is a secret. Thread-safe.
[[nodiscard]] std::string basic_authorization(std::string_view client_id,
                                              std::string_view secret);

}  // namespace fracta::oauth
