// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the config area's parser, SecretValue resolution and text edits (and the
// plugin loader's did-you-mean).
#pragma once

#include <fracta/proto/text.hpp>
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/internal.hpp"
#include "fracta/config.hpp"

namespace fracta::config::detail {

/// How parse_text() treats the file system.
struct parse_options {
  /// Check that files the config promises (client_registration_file) exist. Edits re-parse
  /// without it so that an unrelated server's missing file does not block `add` / `remove`.
  bool check_files = true;
};

/// parse() with options. Throws config_error.
config parse_text(std::string_view text, const std::string& path, parse_options options);

/// "<file>:<line>:<col>" (line/column omitted when unknown; "<config>" for text without a file).
std::string format_location(const location& where);

/// Builds the complete message "<loc>: server '<s>': <key>: <problem>. <fix>" and the error.
/// `problem` has no final period; `fix` is a sentence (it gets a final period when missing).
/// Neither may contain a secret value.
config_error make_error(const location& where, std::string_view server, std::string_view key,
                        std::string_view problem, std::string_view fix);

/// True when `s` can be written as a TOML bare key ([A-Za-z0-9_-]+).
bool is_bare_key(std::string_view s) noexcept;

/// `s` as a TOML basic string literal, with quotes and escapes.
std::string toml_quote(std::string_view s);

/// `s` as a TOML key: bare when possible, else quoted.
std::string toml_key(std::string_view s);

/// True when `s` is a valid server name: [A-Za-z0-9_-]{1,64}.
bool is_valid_server_name(std::string_view s) noexcept;

/// The permission bits of a st_mode as four octal digits, e.g. "0644".
std::string octal_mode(unsigned mode);

// ---- did-you-mean ----------------------------------------------------------------------------

using text::edit_distance;
using text::suggest;

/// The items joined with `sep`.
template <class Range>
std::string join(const Range& items, std::string_view sep = ", ") {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

template <class Range>
bool contains(const Range& items, std::string_view s) {
  return std::any_of(std::begin(items), std::end(items),
                     [&](std::string_view x) { return x == s; });
}

/// The provider types fracta ships (the engine's `none` and the bundled plugins). A plugin
/// from another directory may offer one only when [plugins] replace_builtin names it.
inline constexpr std::array<std::string_view, 7> shipped_provider_types{
    "none",       "bearer", "header", "basic", "oauth-authcode", "oauth-client-credentials",
    "device-code"};

// ---- URLs ------------------------------------------------------------------------------------

/// What a URL key is for; each use has its own transport rule.
enum class url_use {
  server,    ///< remote.url: plain http only to loopback, or with allow_insecure_http
  metadata,  ///< auth.metadata_url: plain http only to loopback
  issuer,    ///< auth.issuer: like metadata, and no query or fragment (RFC 8414 §2)
};

/// Why a URL cannot be used: the problem (no final period) and what to write instead.
struct url_problem {
  std::string problem;
  std::string fix;
};

/// Checks `text` with http::url::parse (the parser the runtime uses) and the rule of `use`.
/// `example` is a correct assignment for the key, e.g. `url = "https://…"`. The messages never
/// quote the URL's userinfo or query. Thread-safe.
std::optional<url_problem> check_url(std::string_view text, url_use use, bool allow_insecure_http,
                                     std::string_view example);

// ---- files -----------------------------------------------------------------------------------

/// What read_regular_file() found.
struct file_read {
  enum class status { ok, missing, not_regular, too_large, failed };
  status what = status::ok;
  std::string data;  // ok: the contents
  int error = 0;     // missing, failed: the errno
  std::string kind;  // not_regular: "a directory", "a FIFO", "a socket", "a device", …
};

/// The size cap of a SecretValue file (and of a watched token_file): a secret is a token, a
/// password or a key, far below this.
inline constexpr std::size_t max_secret_bytes = 64 * 1024;

/// Reads a regular file of at most `max_bytes`, following symlinks, without ever blocking on
/// a FIFO or device: stat, then open with O_NONBLOCK, fstat, read. Blocking (disk I/O).
/// Thread-safe.
file_read read_regular_file(const std::string& path, std::size_t max_bytes);

}  // namespace fracta::config::detail
