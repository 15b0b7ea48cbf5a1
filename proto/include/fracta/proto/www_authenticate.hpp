// SPDX-License-Identifier: Apache-2.0
// WWW-Authenticate parsing (RFC 9110 §11.6.1): several challenges, quoted strings, token68.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fracta::auth {

struct challenge {
  std::string scheme;  // as written; compare case-insensitively
  std::string token68;
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, values unquoted

  /// The first parameter called `name` (lower-case).
  std::optional<std::string_view> param(std::string_view name) const;
};

/// Parses one or more header values (each may hold several comma-separated challenges).
/// Malformed trailing input is ignored; what parsed before it is kept.
std::vector<challenge> parse_www_authenticate(std::string_view header_value);

/// The first challenge whose scheme matches (case-insensitive), or nullptr.
const challenge* find_challenge(const std::vector<challenge>& cs, std::string_view scheme);

}  // namespace fracta::auth
