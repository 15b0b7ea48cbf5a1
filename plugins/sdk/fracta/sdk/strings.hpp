// SPDX-License-Identifier: Apache-2.0
// SDK strings and JSON output: C string views, wiping, checks on values, base64, status objects.
#pragma once

#include <fracta/auth_plugin.h>
#include <fracta/json_writer.hpp>
#include <fracta/proto/base64.hpp>
#include <fracta/proto/fields.hpp>
#include <fracta/proto/text.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The checks and encoders below are fracta-proto's (libfracta-proto, which an SDK plugin links),
// under the names the SDK has always offered.

namespace fracta::sdk {

// ---- strings --------------------------------------------------------------------------------

/// A view of a borrowed C string view; NULL data reads as empty. Thread-safe.
[[nodiscard]] constexpr std::string_view to_str(fracta_str s) noexcept {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}

/// `ptr->field` when the struct `ptr` points at is large enough to have it (a peer built
/// against an older ABI minor has a shorter one; NULL has none), else `fallback`. With a
/// fallback of nullptr, a NULL result covers both "too old" and "left NULL" for an optional
/// function pointer.
#define FRACTA_SDK_FIELD_OR(ptr, type, field, fallback) \
  (FRACTA_HAS_FIELD(ptr, type, field) ? (ptr)->field : (fallback))

/// A C view of `s`, borrowed from it. Thread-safe.
[[nodiscard]] constexpr fracta_str from_str(std::string_view s) noexcept {
  return fracta_str{s.data(), s.size()};
}

/// Overwrites the whole buffer of `s` (capacity, not only size), then empties it. Used for
/// secrets a provider no longer needs. Thread-compatible.
inline void secure_wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // within capacity: never reallocates
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// is_utf8(s): true when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
/// values past U+10FFFF). Thread-safe.
using text::is_utf8;

/// True when `s` contains a control character (C0 or DEL). `allow_tab` permits HTAB, which
/// an HTTP field value may contain. Thread-safe.
[[nodiscard]] constexpr bool has_control_char(std::string_view s, bool allow_tab = false) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7F) return true;
  }
  return false;
}

/// True when `s` is an HTTP field name (RFC 9110 token). Thread-safe.
[[nodiscard]] inline bool is_http_token(std::string_view s) noexcept { return http::is_token(s); }

/// base64_encode(bytes): standard base64 (RFC 4648 §4, padded). Thread-safe.
using text::base64_encode;

// ---- JSON output ----------------------------------------------------------------------------

/// Appends `s` to `out` as a JSON string literal, quotes included. Control characters are
/// escaped; bytes that are not UTF-8 become U+FFFD, so the result is always valid JSON.
/// Thread-compatible.
inline void append_json_string(std::string& out, std::string_view s) {
  json::append_quoted(out, s);
}

/// Builds one flat JSON object (what status() returns) on json::writer; never by concatenating
/// JSON text by hand. Thread-compatible.
class json_object final {
 public:
  json_object() { writer_.begin_object(); }
  json_object& add_string(std::string_view key, std::string_view value) {
    writer_.key(key).value(value);
    return *this;
  }
  json_object& add_int(std::string_view key, std::int64_t value) {
    writer_.key(key).value(value);
    return *this;
  }
  json_object& add_bool(std::string_view key, bool value) {
    writer_.key(key).value(value);
    return *this;
  }
  /// The finished object text; the object stays open for more fields.
  [[nodiscard]] std::string str() const {
    json::writer done = writer_;
    return done.end_object().take();
  }

 private:
  json::writer writer_;
};

}  // namespace fracta::sdk
