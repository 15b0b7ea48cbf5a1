// SPDX-License-Identifier: Apache-2.0
// Message building, TOML quoting and the did-you-mean distance shared by the config area.
#include "config/detail.hpp"

#include <cctype>
#include <vector>

#include <fracta/proto/text.hpp>

namespace fracta::config::detail {

std::string format_location(const location& where) {
  std::string out = where.file.empty() ? std::string("<config>") : where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  return out;
}

config_error make_error(const location& where, std::string_view server, std::string_view key,
                        std::string_view problem, std::string_view fix) {
  std::string msg = format_location(where);
  msg += ": ";
  if (!server.empty()) {
    msg += "server '";
    msg += server;
    msg += "': ";
  }
  if (!key.empty()) {
    msg += key;
    msg += ": ";
  }
  msg += problem;
  msg += ". ";
  msg += fix;
  if (!fix.empty() && fix.back() != '.' && fix.back() != '?') msg += '.';
  return config_error(msg, where, std::string(server), std::string(key));
}

bool is_bare_key(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      text::append_escaped_ascii(out, c, true);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string toml_key(std::string_view s) { return is_bare_key(s) ? std::string(s) : toml_quote(s); }

bool is_valid_server_name(std::string_view s) noexcept { return s.size() <= 64 && is_bare_key(s); }

std::string octal_mode(unsigned mode) {
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i, mode >>= 3)
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + (mode & 7));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace fracta::config::detail
