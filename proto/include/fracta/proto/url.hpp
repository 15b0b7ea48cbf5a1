// SPDX-License-Identifier: Apache-2.0
// Absolute http(s) URLs: strict parsing, origins, percent- and form-encoding, query strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fracta/result.hpp>

namespace fracta::http {

/// Why url::parse refused a text; the error's message says what is wrong with it.
enum class url_errc {
  malformed = 1,  ///< not an absolute http(s) URL this parser accepts
};
/// The category of url_errc ("fracta.url"). Thread-safe.
[[nodiscard]] const std::error_category& url_category() noexcept;
[[nodiscard]] std::error_code make_error_code(url_errc e) noexcept;

/// A parsed absolute http or https URL. Value type, thread-safe.
///
/// Parsing is strict (RFC 3986): characters outside the URI grammar (spaces, controls,
/// non-ASCII, `<>"{}|\^``) are rejected rather than repaired. Scheme and host are
/// lower-cased, dot segments are removed from the path, an empty path becomes "/".
struct url {
  std::string scheme;      ///< "http" or "https"
  std::string userinfo;    ///< raw, as written; empty when absent. Never part of origin().
  std::string host;        ///< lower-case; an IPv6 literal keeps its brackets: "[::1]"
  std::uint16_t port = 0;  ///< explicit, else the scheme's default (80 / 443)
  std::string path = "/";  ///< percent-encoded as written, never empty
  std::optional<std::string> query;     ///< without '?', percent-encoded as written
  std::optional<std::string> fragment;  ///< without '#'

  /// Parses an absolute http(s) URL; errors carry url_errc::malformed.
  [[nodiscard]] static result<url> parse(std::string_view text);

  /// True when `port` is the scheme's default port.
  [[nodiscard]] bool has_default_port() const noexcept;
  /// "scheme://host[:port]" with the port only when it is not the default.
  [[nodiscard]] std::string origin() const;
  /// "host[:port]" with the port only when it is not the default.
  [[nodiscard]] std::string authority() const;
  /// path + ("?" + query when present): the HTTP request target.
  [[nodiscard]] std::string target() const;
  /// The full URL, userinfo included.
  [[nodiscard]] std::string str() const;
  /// origin() + path: no userinfo, query or fragment. Safe for logs and error messages.
  [[nodiscard]] std::string redacted() const;
  /// True for 127.0.0.0/8, ::1 and "localhost".
  [[nodiscard]] bool is_loopback_host() const;
};

/// True for 127.0.0.0/8, ::1 (with or without brackets) and "localhost" (any case,
/// optional trailing dot). Thread-safe.
[[nodiscard]] bool is_loopback_host(std::string_view host);

/// Percent-encodes every byte except RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
/// Thread-safe.
[[nodiscard]] std::string percent_encode(std::string_view text);

/// application/x-www-form-urlencoded byte serialisation (WHATWG URL): ALPHA DIGIT * - . _
/// kept, space becomes '+', everything else %XX. Thread-safe.
[[nodiscard]] std::string form_urlencode(std::string_view text);

/// Decodes %XX sequences; malformed ones are kept literally (WHATWG percent-decode).
/// With `plus_is_space`, '+' decodes to a space (form encoding). Thread-safe.
[[nodiscard]] std::string percent_decode(std::string_view text, bool plus_is_space = false);

using query_params = std::vector<std::pair<std::string, std::string>>;

/// "a=1&b=2" with names and values form-urlencoded, in the given order. Thread-safe.
[[nodiscard]] std::string build_query(const query_params& params);

/// Parses application/x-www-form-urlencoded text (a query or a form body; one leading '?'
/// is ignored). Empty pieces are skipped, a piece without '=' has an empty value, names and
/// values are decoded with '+' as space. Order and duplicates are kept. Thread-safe.
[[nodiscard]] query_params parse_query(std::string_view text);

/// Joins `path` onto `origin` with exactly one '/' between them: ("https://a", "x/y") and
/// ("https://a/", "/x/y") both give "https://a/x/y". Thread-safe.
[[nodiscard]] std::string join_path(std::string_view origin, std::string_view path);

/// The well-known URL for `u` (RFC 8414 §3.1, RFC 9728 §3.1): the well-known segment goes
/// between the origin and u's path, a trailing '/' of the path is dropped, query and fragment
/// are dropped. well_known_url(https://as.example/tenant1, "oauth-authorization-server") is
/// "https://as.example/.well-known/oauth-authorization-server/tenant1". Thread-safe.
[[nodiscard]] std::string well_known_url(const url& u, std::string_view suffix);

}  // namespace fracta::http

template <>
struct std::is_error_code_enum<fracta::http::url_errc> : std::true_type {};
