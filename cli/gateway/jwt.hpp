// SPDX-License-Identifier: Apache-2.0
// JWT access tokens for the gateway's front end (RFC 9068 profile, RFC 7515/7517/7518): a JWKS
// read into verification keys, and one token checked against them and the configured issuer,
// audiences and scopes. Pure: no I/O; the caller fetches the JWKS (see jwks_cache).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fracta::gateway {

/// One verification key of a JWKS: RSA (2048 bits or more, for RS256) or EC P-256 (ES256).
/// Immutable once built; shared by the key sets that hold it.
struct jwk {
  std::string kid;  // may be empty (a JWKS of one key often has none)
  std::string alg;  // "RS256" or "ES256": the only algorithm this key verifies
  std::shared_ptr<void> key;  // the OpenSSL EVP_PKEY (opaque here)
};

/// The usable signature keys of a JWKS document. Keys of other types, curves, sizes or uses
/// ("use": "enc"), and keys whose "alg" is not RS256 / ES256, are left out and counted in
/// `skipped`. Value type; thread-safe to read.
struct key_set {
  std::vector<jwk> keys;
  std::size_t skipped = 0;
  /// The key for a token's `kid` and `alg`: the one with that kid (which must verify that
  /// alg); for a token without a kid, the only key of that alg. Null when none fits.
  [[nodiscard]] const jwk* find(std::string_view kid, std::string_view alg) const;
};

/// Reads a JWKS document (RFC 7517 §5). Nullopt with `*why` set when it is not a JSON object
/// with a "keys" array. A document whose keys are all skipped is a key set of none.
[[nodiscard]] std::optional<key_set> parse_jwks(std::string_view json, std::string* why);

/// What the token must say. Value type.
struct jwt_policy {
  std::string issuer;                  // `iss` must equal it exactly
  std::vector<std::string> audiences;  // `aud` (string or array) must contain one of them
  std::vector<std::string> scopes;     // each must be in `scope` (space-separated) or `scp`
  std::int64_t leeway_seconds = 30;    // clock skew allowed on exp and nbf
};

enum class jwt_verdict {
  ok,
  malformed,           // not three base64url parts of JSON, or a required claim missing
  unsupported_alg,     // anything but RS256 and ES256 ("none" and HS256 included)
  unknown_key,         // no key of the set fits the kid and alg: refetch the JWKS, then refuse
  bad_signature,
  wrong_issuer,
  wrong_audience,
  expired,
  not_yet_valid,
  insufficient_scope,  // a valid token without a required scope (403, not 401)
};

/// A token's check. `detail` says why for people, never quoting the token.
struct jwt_check {
  jwt_verdict verdict = jwt_verdict::malformed;
  std::string detail;
  std::string subject;  // `sub`, when ok
};

/// The `kid` and `alg` of a token's protected header, without verifying anything (to pick a key,
/// or to know a refetch may help). Nullopt for a token that is not a JWS in compact form.
struct jose_header {
  std::string kid;
  std::string alg;
};
[[nodiscard]] std::optional<jose_header> peek_header(std::string_view token);

/// Checks `token` (a JWS in compact serialisation) with `keys` against `policy` at `now_unix_s`:
/// the signature first, then `iss`, `aud`, `exp` (required), `nbf` and `iat` (when present, not
/// in the future beyond the leeway), then the scopes. A `typ` other than "at+jwt",
/// "application/at+jwt" or "JWT" (an ID token, say) is malformed. Thread-safe.
[[nodiscard]] jwt_check verify_jwt(std::string_view token, const key_set& keys, const jwt_policy& policy,
                                   std::int64_t now_unix_s);

}  // namespace fracta::gateway
