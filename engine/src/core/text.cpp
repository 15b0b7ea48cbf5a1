// SPDX-License-Identifier: Apache-2.0
// printable(): a one-pass filter over UTF-8 (local copy until the shared one arrives).
#include "core/text.hpp"

#include <cstdint>

namespace fracta::text {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlongs, surrogates
// and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

// Length of the ESC sequence at s[i] (s[i] is ESC): CSI up to its final byte, OSC/DCS/PM/APC
// up to BEL or ST, else ESC and one more byte.
std::size_t escape_length(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j >= s.size()) return 1;
  const char kind = s[j];
  if (kind == '[') {
    for (++j; j < s.size(); ++j) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c >= 0x40 && c <= 0x7e) return j - i + 1;
    }
    return s.size() - i;
  }
  if (kind == ']' || kind == 'P' || kind == '^' || kind == '_' || kind == 'X') {
    for (++j; j < s.size(); ++j) {
      if (s[j] == '\a') return j - i + 1;
      if (s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\') return j - i + 2;
    }
    return s.size() - i;
  }
  return 2;
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::string printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  bool pending_space = false;
  bool cut = false;
  auto emit = [&](std::string_view piece) {
    const std::size_t need = (pending_space && !out.empty() ? 1 : 0) + piece.size();
    if (out.size() + need > max_bytes) {
      cut = true;
      return false;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(piece);
    return true;
  };
  for (std::size_t i = 0; i < s.size() && !cut;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {
      i += escape_length(s, i);
    } else if (is_space(c)) {
      pending_space = true;
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      ++i;
    } else if (const std::size_t n = utf8_length(s, i); n == 0) {
      emit("\xef\xbf\xbd");  // U+FFFD
      ++i;
    } else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      i += 2;  // a C1 control
    } else {
      emit(s.substr(i, n));
      i += n;
    }
  }
  if (cut) out += "…";
  return out;
}

}  // namespace fracta::text
