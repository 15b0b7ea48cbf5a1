// SPDX-License-Identifier: Apache-2.0
// HTTP field syntax (RFC 9110 §5): tokens, field values, case-insensitive names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fracta::http {

/// One HTTP field as sent or received: the name as written, the value without surrounding
/// whitespace. Value type.
struct header {
  std::string name;
  std::string value;
};

/// RFC 9110 tchar. Thread-safe.
[[nodiscard]] bool is_tchar(char c) noexcept;
/// A non-empty run of tchar: valid methods and field names. Thread-safe.
[[nodiscard]] bool is_token(std::string_view s) noexcept;
/// A field value fit to send: no CR, LF or NUL. Thread-safe.
[[nodiscard]] bool is_field_value(std::string_view s) noexcept;
/// ASCII case-insensitive equality (field names, auth schemes). Thread-safe.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// True when `s` begins with `prefix`, ASCII case-insensitively. Thread-safe.
[[nodiscard]] bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
/// Every value of the field `name`, in order, joined with ", " (RFC 9110 §5.3). Thread-safe.
[[nodiscard]] std::string joined_values(const std::vector<header>& headers, std::string_view name);

}  // namespace fracta::http
