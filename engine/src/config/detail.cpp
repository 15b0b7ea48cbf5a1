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

}  // namespace fracta::config::detail
