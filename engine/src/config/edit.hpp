// SPDX-License-Identifier: Apache-2.0
// The line scanner and helpers shared by the text edits: add / remove (edit.cpp) and set (set.cpp).
#pragma once
#include <toml++/toml.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/detail.hpp"

namespace fracta::config::detail {

enum class line_kind { blank, comment, header, other };

/// One line of a config text, as the scanner classified it.
struct line_info {
  std::size_t begin = 0;  // offset of the first byte
  std::size_t end = 0;    // offset after the line terminator
  line_kind kind = line_kind::other;
  std::vector<std::string> key;  // the header's key segments (headers only)
};

/// The lines of `text`, knowing enough TOML (strings, comments, brackets spanning lines) to
/// tell table headers from the lines of a multi-line value. Thread-safe; no I/O.
std::vector<line_info> scan_lines(std::string_view text);

/// Where anything of `n` is written (keys, values, inline tables), appended to `out`.
void collect_positions(const toml::node& n, std::vector<toml::source_position>& out);

/// "\r\n" when the text's first line ends so, else "\n".
std::string line_ending_of(std::string_view text);

/// The parse options of an edit: files the config promises are not checked, so that an
/// unrelated server's missing file does not block it.
parse_options no_file_checks();

/// `s` as an inline TOML table: `{ env = "NAME" }`, `{ file = "/p" }`, `{ value = "…" }`.
std::string secret_inline(const secret_value& s);

}  // namespace fracta::config::detail
