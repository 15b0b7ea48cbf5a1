#pragma once
// SPDX-License-Identifier: Apache-2.0
// OAuth discovery without I/O: well-known URL orders, probe outcomes, metadata validation.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fracta/result.hpp"
#include <fracta/proto/url.hpp>

namespace fracta::oauth {

/// Protected-resource metadata (RFC 9728 §2), validated. Value type, thread-safe.
struct resource_metadata {
  std::string resource;
  std::vector<std::string> authorization_servers;  ///< at least one, as listed
  std::vector<std::string> scopes_supported;
};

/// Authorization-server metadata (RFC 8414 §2), validated. Value type, thread-safe.
struct as_metadata {
  std::string issuer;
  std::string authorization_endpoint;  ///< empty when the server has none (no code grant)
  std::string token_endpoint;
  std::optional<std::string> registration_endpoint;
  std::optional<std::string> device_authorization_endpoint;
  std::vector<std::string> code_challenge_methods_supported;
  std::vector<std::string> token_endpoint_auth_methods_supported;  ///< empty: absent
  std::vector<std::string> scopes_supported;
  std::vector<std::string> grant_types_supported;
  bool client_id_metadata_document_supported = false;
  bool authorization_response_iss_parameter_supported = false;
  bool legacy = false;  ///< built by legacy_fallback(), not fetched
};

/// Resource-metadata URLs to probe, in order: the challenge's `resource_metadata` (when it
/// passes check_discovered_url), `/.well-known/oauth-protected-resource<path>`, then the root
/// one; no duplicates, and no path-suffixed URL when the server path is empty or "/".
/// Thread-safe.
[[nodiscard]] std::vector<std::string> protected_resource_metadata_urls(
    const http::url& server, std::optional<std::string_view> challenge_resource_metadata);

/// Authorization-server metadata URLs for `issuer`, in the MCP 2025-11-25 order. With a path:
/// OAuth path-insertion, OIDC path-insertion, OIDC path-append; without: OAuth, then OIDC.
/// A trailing '/' of the issuer is dropped (RFC 8414 §3.1). Empty when `issuer` is not an
/// http(s) URL. Thread-safe.
[[nodiscard]] std::vector<std::string> authorization_server_metadata_urls(std::string_view issuer);

enum class probe_outcome { found, try_next, fail };

/// What a metadata probe's HTTP status means: 200 found; any 4xx and 502 try the next URL
/// (CDNs answer 401/403 on unknown paths); everything else fails. Thread-safe.
[[nodiscard]] probe_outcome classify_metadata_response(int status) noexcept;

/// Parses and validates protected-resource metadata fetched for `server`: `resource` must
/// identify the server (resource_covers), `authorization_servers` must list at least one URL,
/// each passing check_discovered_url. Errors: errc::protocol. Thread-safe.
[[nodiscard]] result<resource_metadata> parse_resource_metadata(std::string_view json,
                                                                const http::url& server);

/// Parses and validates authorization-server metadata fetched for `expected_issuer`:
/// `issuer` must equal it exactly (RFC 8414 §3.3) unless `legacy_2025_03_26`; the token
/// endpoint is required; endpoints must pass is_secure_endpoint(`allow_loopback_http`). PKCE
/// support is checked separately (require_pkce_s256), only where a flow uses PKCE.
/// Errors: errc::protocol. Thread-safe.
[[nodiscard]] result<as_metadata> parse_as_metadata(std::string_view json,
                                                    std::string_view expected_issuer,
                                                    bool legacy_2025_03_26,
                                                    bool allow_loopback_http);

/// True for an https URL, and, with `allow_loopback_http`, for http to a loopback host: what
/// an OAuth endpoint must be. Loopback http is for local development, so callers allow it only
/// when the MCP server (or a configured authorization server) is itself on loopback.
/// Thread-safe.
[[nodiscard]] bool is_secure_endpoint(std::string_view url, bool allow_loopback_http);

/// Whether fracta may fetch `url`, a URL the MCP server or its metadata named
/// (`resource_metadata` of a challenge, an entry of `authorization_servers`): https, or http to
/// a loopback host when `server` is loopback too. The error (errc::protocol) names `what` and
/// the redacted URL. Thread-safe.
[[nodiscard]] result<void> check_discovered_url(std::string_view url, const http::url& server,
                                                std::string_view what);

/// True when `resource` (an http(s) URL) identifies `target`: the same origin, and the same
/// path or a parent of it on '/' boundaries (query and fragment ignored). The rule for a
/// resource-metadata `resource` (RFC 9728 §3.3) and for which URLs a token may be sent to.
/// Thread-safe.
[[nodiscard]] bool resource_covers(std::string_view resource, const http::url& target);

/// `url` without credentials, for messages; "(an invalid URL)" when it does not parse.
/// Thread-safe.
[[nodiscard]] std::string redacted_url(std::string_view url);

/// OK when `code_challenge_methods_supported` lists S256; else errc::protocol (absent or
/// without S256: MCP 2025-11-25 says refuse). Thread-safe.
[[nodiscard]] result<void> require_pkce_s256(const as_metadata& md);

/// MCP 2025-03-26 fallback when no metadata exists: the server's origin is the issuer, with
/// /authorize, /token and /register under it; PKCE S256 assumed. Thread-safe.
[[nodiscard]] as_metadata legacy_fallback(const http::url& server);

/// The authorization server to use among those listed: deterministically the first.
/// Empty when the list is empty. Thread-safe.
[[nodiscard]] std::string choose_authorization_server(const std::vector<std::string>& servers);

}  // namespace fracta::oauth
