// SPDX-License-Identifier: Apache-2.0
// The one JSON writer fracta produces JSON with (never string concatenation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fracta::json {

/// Streaming JSON writer with structural checking. Thread-compatible (one owner).
/// Strings are emitted as valid UTF-8: invalid sequences become U+FFFD.
class writer final {
 public:
  writer& begin_object();
  writer& end_object();
  writer& begin_array();
  writer& end_array();
  writer& key(std::string_view k);
  writer& value(std::string_view s);
  writer& value(const char* s) { return value(std::string_view(s)); }
  writer& value(const std::string& s) { return value(std::string_view(s)); }
  writer& value(bool b);
  writer& value(std::int64_t n);
  writer& value(std::uint64_t n);
  writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  writer& value(double d);
  writer& null();
  /// Inserts an already-valid JSON text (the caller validated it, e.g. with parse()).
  writer& raw(std::string_view json_text);

  /// The document; throws std::logic_error if containers are still open.
  [[nodiscard]] std::string take();
  [[nodiscard]] const std::string& str() const noexcept { return out_; }

 private:
  void before_value();
  writer& open(char bracket, bool is_object);
  writer& close(char bracket, bool is_object, const char* misuse);
  std::string out_;
  // One entry per open container: true = object. `first_` tracks whether a comma is due.
  std::vector<bool> stack_;
  bool first_ = true;
  bool after_key_ = false;
};

/// Appends `s` as a JSON string literal (with quotes) to `out`. Thread-safe (no shared state).
void append_quoted(std::string& out, std::string_view s);

}  // namespace fracta::json
