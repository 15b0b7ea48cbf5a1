// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648 §4) and base64url without padding (§5): Basic auth, PKCE, state, JWS.
#pragma once

#include <string>
#include <string_view>

namespace fracta::text {

/// Standard base64 with '=' padding. Thread-safe.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

/// base64url without padding (RFC 7636 §3 "BASE64URL-ENCODE", RFC 7515 §2). Thread-safe.
[[nodiscard]] std::string base64url_encode(std::string_view bytes);

}  // namespace fracta::text
