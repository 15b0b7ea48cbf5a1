// SPDX-License-Identifier: Apache-2.0
// Who may use the gateway: Host and Origin checks (DNS rebinding), the front-end bearer check,
// and the RFC 9728 protected-resource metadata the gateway serves so clients can log in to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fracta::gateway {

/// What the Host and Origin checks accept. Value type.
struct guard_policy {
  /// The gateway listens on a loopback address only (is_loopback_host of the listen address):
  /// loopback Host names and loopback Origins are then accepted without configuration.
  bool loopback = true;
  /// Further accepted Host values: "host" (any port) or "host:port" (that port only),
  /// compared case-insensitively; "*" accepts every well-formed Host.
  std::vector<std::string> allowed_hosts;
  /// Further accepted Origins: "scheme://host[:port]", compared on scheme, host and port
  /// (case-insensitive, default ports normalised). An entry that is not an origin matches none.
  std::vector<std::string> allowed_origins;
};

/// True for a listen address on loopback: 127.0.0.0/8, ::1 (bracketed or not) and
/// "localhost", with or without a ":port". "0.0.0.0", "::" and any other name are not.
/// Thread-safe.
[[nodiscard]] bool is_loopback_host(std::string_view listen_address);

/// The Host header check (DNS rebinding): a loopback name or address (localhost, 127.0.0.1,
/// [::1], any port) when `policy.loopback`, and `policy.allowed_hosts`. A missing (empty) or
/// malformed Host (a path, userinfo, an unbracketed IPv6 address, a bad port) is refused.
/// Thread-safe.
[[nodiscard]] bool host_allowed(std::string_view host_header, const guard_policy& policy);

/// The Origin header check: an absent Origin passes (non-browser clients); "null" and
/// anything that is not an http(s) origin fail; a loopback origin passes when
/// `policy.loopback`; otherwise it must equal one of `policy.allowed_origins`. Thread-safe.
[[nodiscard]] bool origin_allowed(std::optional<std::string_view> origin, const guard_policy& policy);

/// "scheme://host[:port]" for an origin text (scheme and host lower-cased, a default port
/// dropped), or nullopt when `text` is not an http(s) origin (no path, query, fragment or
/// userinfo; a single trailing '/' is tolerated). For validating `allowed_origins` in the
/// config. Thread-safe.
[[nodiscard]] std::optional<std::string> normalise_origin(std::string_view text);

/// The Host values a gateway listening on `listen_host` (an address, without port) serves
/// besides loopback names: `configured` (gateway.allowed_hosts), the host of `resource_url`
/// (gateway.resource) when set, and the listen address itself when it is a specific address
/// (not 0.0.0.0 or ::). Empty for a wildcard listener without either setting: such a gateway
/// must not start, it would refuse every request. Thread-safe.
[[nodiscard]] std::vector<std::string> served_hosts(std::string_view listen_host, std::string_view resource_url,
                                                    const std::vector<std::string>& configured);

/// The token of an `Authorization: Bearer <b64token>` value (RFC 6750 §2.1; the scheme in any
/// case, one space), or nullopt for an absent or malformed value. Thread-safe.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization);

/// The front-end bearer check (RFC 6750 §2.1): `authorization` is "Bearer" (any case), one
/// space and a b64token, and the token equals one of `tokens`. Every configured token is
/// compared, in constant time on SHA-256 digests, whether or not an earlier one matched.
/// False for an absent or malformed header and for an empty `tokens`. Thread-safe.
[[nodiscard]] bool bearer_allowed(std::optional<std::string_view> authorization,
                                  const std::vector<std::string>& tokens);

/// Who presented the front-end bearer `token`, as a principal: "token:" and the first 16 bytes
/// of its SHA-256 digest in hex (the token itself cannot be read back from it). Thread-safe.
[[nodiscard]] std::string token_principal(std::string_view token);

/// The WWW-Authenticate value of a 401 (or, with `insufficient_scope`, a 403):
/// `Bearer [error=…, ][scope="…", ]resource_metadata="<url>"`. The error is "insufficient_scope"
/// when so, else "invalid_token" when the request carried a token (RFC 6750 §3.1: none when it
/// carried no credentials); `scope` lists `scopes` (the ones a token needs) when there are any.
/// Values are written as quoted-strings; control bytes are dropped. Thread-safe.
[[nodiscard]] std::string www_authenticate(std::string_view resource_metadata_url, bool token_was_presented,
                                           const std::vector<std::string>& scopes = {},
                                           bool insufficient_scope = false);

/// The RFC 9728 §2 protected-resource metadata document: `resource`,
/// `authorization_servers` and `scopes_supported` (each left out when empty), and
/// `bearer_methods_supported: ["header"]`. Thread-safe.
[[nodiscard]] std::string protected_resource_metadata(std::string_view resource,
                                                      const std::vector<std::string>& authorization_servers,
                                                      const std::vector<std::string>& scopes);

/// The path the metadata is served at for a resource path (RFC 9728 §3.1): the well-known
/// segment goes before the path, a trailing '/' is dropped, a query is ignored:
/// "/mcp" → "/.well-known/oauth-protected-resource/mcp", "/" →
/// "/.well-known/oauth-protected-resource". Thread-safe.
[[nodiscard]] std::string metadata_path(std::string_view resource_path);

}  // namespace fracta::gateway
