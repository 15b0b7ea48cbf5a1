// SPDX-License-Identifier: Apache-2.0
// A local stand-in for the shared text sanitiser, for server-provided text in messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fracta::text {

namespace printable_detail {

// The length of the valid UTF-8 sequence at s[i] (a lead byte >= 0x80), or 0.
inline std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return b(k) >= lo && b(k) <= hi; };
  const unsigned c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// The index just past the escape sequence starting with ESC at s[i].
inline std::size_t skip_escape(std::string_view s, std::size_t i) {
  ++i;  // ESC
  if (i >= s.size()) return i;
  const char kind = s[i++];
  if (kind == '[') {  // CSI: parameters, then one final byte 0x40..0x7E
    while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7E)) ++i;
    return i < s.size() ? i + 1 : i;
  }
  if (kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_') {  // strings: to BEL or ESC '\'
    while (i < s.size()) {
      if (s[i] == '\x07') return i + 1;
      if (s[i] == '\x1b') return i + 1 < s.size() && s[i + 1] == '\\' ? i + 2 : i + 1;
      ++i;
    }
    return i;
  }
  return i;  // a two-byte escape
}

}  // namespace printable_detail

/// Server-provided text made safe to print: C0/C1 controls, DEL and escape sequences dropped,
/// invalid UTF-8 replaced by U+FFFD, whitespace runs collapsed to one space, cut at
/// `max_bytes` (on a character boundary) with "…". Thread-safe.
// MERGE: replace with fracta::text::printable
inline std::string printable(std::string_view s, std::size_t max_bytes = 300) {
  using namespace printable_detail;
  std::string out;
  bool space = false;
  bool cut = false;
  const auto emit = [&](std::string_view piece) {
    const bool sep = space && !out.empty();
    if (out.size() + (sep ? 1 : 0) + piece.size() > max_bytes) return false;
    if (sep) out.push_back(' ');
    space = false;
    out.append(piece);
    return true;
  };
  std::size_t i = 0;
  while (i < s.size() && !cut) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1B) {
      i = skip_escape(s, i);
    } else if (c == ' ' || (c >= '\t' && c <= '\r')) {
      space = true;
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      ++i;
    } else if (c < 0x80) {
      cut = !emit(s.substr(i, 1));
      ++i;
    } else if (const std::size_t n = utf8_length(s, i); n == 0) {
      cut = !emit("\xEF\xBF\xBD");
      ++i;
    } else if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      i += 2;  // a C1 control
    } else {
      cut = !emit(s.substr(i, n));
      i += n;
    }
  }
  if (cut) out += "…";
  return out;
}

}  // namespace fracta::text
