#pragma once
// SPDX-License-Identifier: Apache-2.0
// PKCE (RFC 7636, S256 only), random `state` values and a constant-time comparison.
#include <string>
#include <string_view>

namespace fracta::oauth {

/// A fresh code verifier: 32 random bytes (OpenSSL RAND_bytes) base64url-encoded, 43 chars
/// from the unreserved set. Throws std::runtime_error only if the CSPRNG fails. Thread-safe.
[[nodiscard]] std::string code_verifier();

/// BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2). Thread-safe.
[[nodiscard]] std::string s256_challenge(std::string_view verifier);

/// A fresh, unguessable `state`: 32 random bytes base64url-encoded. Thread-safe.
[[nodiscard]] std::string random_state();

/// Compares in time independent of the contents (CRYPTO_memcmp); different lengths are
/// unequal without reading past either string. Thread-safe.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace fracta::oauth
