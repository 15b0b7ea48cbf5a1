#pragma once
// SPDX-License-Identifier: Apache-2.0
// private_key_jwt client assertions (RFC 7523 §2.2, OIDC Core §9) signed with OpenSSL.
#include <cstdint>
#include <string>
#include <string_view>

#include "fracta/result.hpp"

namespace fracta::oauth {

/// The client_assertion_type form value that goes with a client_assertion (RFC 7523 §2.2).
inline constexpr std::string_view client_assertion_type =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What client_assertion() signs and with which key. The views must outlive the call only.
struct client_assertion_params {
  /// An unencrypted PEM private key, PKCS#8 ("PRIVATE KEY") or traditional ("RSA PRIVATE KEY",
  /// "EC PRIVATE KEY"): RSA (at least 2048 bits), EC P-256/P-384/P-521, Ed25519 or Ed448.
  /// A secret: never copied into a message.
  std::string_view private_key_pem;
  /// The "kid" header when non-empty.
  std::string_view key_id;
  /// Empty: chosen from the key (RSA → RS256, P-256 → ES256, P-384 → ES384, P-521 → ES512,
  /// Ed25519/Ed448 → EdDSA). Otherwise one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384
  /// ES512 EdDSA (case-sensitive, RFC 7518 §3.1 / RFC 8037), which must fit the key.
  std::string_view algorithm;
  /// "iss" and "sub".
  std::string_view client_id;
  /// "aud": the token endpoint URL or the issuer identifier, as the server wants.
  std::string_view audience;
  /// "iat", seconds since the Unix epoch.
  std::int64_t now_unix_s = 0;
  /// "exp" = now_unix_s + lifetime_s; must be positive.
  std::int64_t lifetime_s = 60;
};

/// A signed compact JWS (RFC 7515 §7.1): header {"alg","typ":"JWT","kid"?}, claims {"iss",
/// "sub","aud","iat","exp","jti"} where jti is 16 fresh random bytes base64url-encoded.
/// ECDSA signatures are in the JOSE R||S form (RFC 7518 §3.4).
/// Errors: errc::config for an unreadable, encrypted or unsupported key, an unknown algorithm
/// or one that does not fit the key, an empty client_id or audience, a non-positive or
/// overflowing lifetime; errc::plugin if OpenSSL fails to sign or to produce random bytes.
/// Messages never contain key material. The result is a credential: do not log it.
/// Thread-safe (every call uses its own OpenSSL objects; the thread's OpenSSL error queue is
/// left as it was found).
[[nodiscard]] result<std::string> client_assertion(const client_assertion_params& p);

}  // namespace fracta::oauth
