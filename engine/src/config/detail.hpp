// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the config area's parser, SecretValue resolution and text edits.
#pragma once
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

}  // namespace fracta::config::detail
