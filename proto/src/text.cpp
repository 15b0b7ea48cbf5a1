// SPDX-License-Identifier: Apache-2.0
// UTF-8 decoding steps, trimming, the escapes JSON and TOML strings share, and printable(): the
// one sanitiser for outside text.
#include <fracta/proto/text.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

namespace fracta::text {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view ellipsis = "\xE2\x80\xA6";     // U+2026

// The two-character escapes of JSON and TOML basic strings: the byte, then the letter after `\`.
constexpr std::array<std::pair<char, char>, 7> short_escapes{
    {{'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\t', 't'}, {'\n', 'n'}, {'\f', 'f'}, {'\r', 'r'}}};

constexpr unsigned char esc = 0x1B;

unsigned char byte(char c) noexcept { return static_cast<unsigned char>(c); }

/// The C1 control (0x80-0x9F) that the well-formed two-byte sequence at s[i] encodes, or 0.
unsigned char c1_control(std::string_view s, std::size_t i, std::size_t size) noexcept {
  if (size != 2 || byte(s[i]) != 0xC2 || byte(s[i + 1]) > 0x9F) return 0;
  return byte(s[i + 1]);
}

/// The size of the string terminator at s[i] (ESC '\' or the C1 ST, U+009C), or 0.
std::size_t terminator_size(std::string_view s, std::size_t i) noexcept {
  if (byte(s[i]) == esc && i + 1 < s.size() && s[i + 1] == '\\') return 2;
  if (byte(s[i]) == 0xC2 && i + 1 < s.size() && byte(s[i + 1]) == 0x9C) return 2;
  return 0;
}

/// Skips a control string's body (OSC, DCS, SOS, PM, APC) starting at s[i]: up to and including
/// BEL or ST. Another ESC ends the string too and is left to start a sequence of its own; an
/// unterminated string runs to the end of the text.
std::size_t skip_string(std::string_view s, std::size_t i) noexcept {
  while (i < s.size()) {
    if (const std::size_t t = terminator_size(s, i); t > 0) return i + t;
    if (s[i] == '\a') return i + 1;
    if (byte(s[i]) == esc) return i;
    ++i;
  }
  return i;
}

/// Skips a control sequence's body after CSI: parameter and intermediate bytes (0x20-0x3F),
/// then the final byte (0x40-0x7E) when there is one.
std::size_t skip_csi(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && byte(s[i]) >= 0x20 && byte(s[i]) <= 0x3F) ++i;
  if (i < s.size() && byte(s[i]) >= 0x40 && byte(s[i]) <= 0x7E) ++i;
  return i;
}

/// Skips what follows an ESC at s[i - 1] (ECMA-48 §5.3): CSI, a control string, or intermediate
/// bytes and a final byte. Returns the index of the first byte after the sequence.
std::size_t skip_escape(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size()) return i;
  const unsigned char b = byte(s[i]);
  if (b == '[') return skip_csi(s, i + 1);
  if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') return skip_string(s, i + 1);
  while (i < s.size() && byte(s[i]) >= 0x20 && byte(s[i]) <= 0x2F) ++i;
  if (i < s.size() && byte(s[i]) >= 0x30 && byte(s[i]) <= 0x7E) ++i;
  return i;
}

/// Skips what follows the 8-bit form of a C1 control: CSI (0x9B) and the control string
/// introducers take their sequence along, any other C1 control stands alone.
std::size_t skip_c1(std::string_view s, std::size_t i, unsigned char control) noexcept {
  if (control == 0x9B) return skip_csi(s, i);
  if (control == 0x9D || control == 0x90 || control == 0x98 || control == 0x9E || control == 0x9F)
    return skip_string(s, i);
  return i;
}

}  // namespace

utf8_step utf8_next(std::string_view s) noexcept {
  if (s.empty()) return {0, false};
  const unsigned char lead = byte(s[0]);
  if (lead < 0x80) return {1, true};
  std::size_t needed = 0;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 2;
    if (lead == 0xE0) lower = 0xA0;  // overlong
    if (lead == 0xED) upper = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 3;
    if (lead == 0xF0) lower = 0x90;  // overlong
    if (lead == 0xF4) upper = 0x8F;  // past U+10FFFF
  } else {
    return {1, false};
  }
  for (std::size_t i = 1; i <= needed; ++i) {
    if (i >= s.size() || byte(s[i]) < lower || byte(s[i]) > upper) return {i, false};
    lower = 0x80;
    upper = 0xBF;
  }
  return {needed + 1, true};
}

bool is_utf8(std::string_view s) noexcept {
  while (!s.empty()) {
    const utf8_step step = utf8_next(s);
    if (!step.valid) return false;
    s.remove_prefix(step.size);
  }
  return true;
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const utf8_step step = utf8_next(s);
    out.append(step.valid ? s.substr(0, step.size) : replacement);
    s.remove_prefix(step.size);
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

namespace {

// The one filter behind printable and terminal_text. With `keep_layout`, LF and HT are kept
// and other whitespace becomes a space; otherwise whitespace runs collapse to one space and
// none is kept at either end. Stops once `out` is one byte past `limit`.
std::string filtered(std::string_view s, std::size_t limit, bool keep_layout) {
  std::string out;
  bool space_due = false;  // whitespace was seen since the last character kept
  std::size_t i = 0;
  while (i < s.size() && out.size() <= limit) {
    const unsigned char c = byte(s[i]);
    if (c == esc) {
      i = skip_escape(s, i + 1);
      continue;
    }
    if (is_space(s[i])) {
      if (keep_layout) out.push_back(c == '\n' || c == '\t' ? static_cast<char>(c) : ' ');
      else space_due = !out.empty();
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      ++i;
      continue;
    }
    const utf8_step step = utf8_next(s.substr(i));
    if (step.valid) {
      if (const unsigned char control = c1_control(s, i, step.size); control != 0) {
        i = skip_c1(s, i + step.size, control);
        continue;
      }
    }
    if (space_due) out.push_back(' ');
    space_due = false;
    out.append(step.valid ? s.substr(i, step.size) : replacement);
    i += step.size;
  }
  return out;
}

}  // namespace

std::string terminal_text(std::string_view s) { return filtered(s, std::string::npos - 1, true); }

std::string printable(std::string_view s, std::size_t max_bytes) {
  // Stop once the result is known to need a cut: one byte past max_bytes is enough.
  std::string out = filtered(s, max_bytes, false);
  if (out.size() <= max_bytes) return out;

  // `out` is well-formed UTF-8: back off continuation bytes to land on a code point start.
  const bool marked = max_bytes >= ellipsis.size();
  std::size_t cut = marked ? max_bytes - ellipsis.size() : max_bytes;
  while (cut > 0 && (byte(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (marked) out.append(ellipsis);
  return out;
}

char short_escape(char c) noexcept {
  for (const auto& [raw, letter] : short_escapes) {
    if (raw == c) return letter;
  }
  return '\0';
}

std::optional<char> unescaped(char letter) noexcept {
  for (const auto& [raw, l] : short_escapes) {
    if (l == letter) return raw;
  }
  return std::nullopt;
}

void append_escaped_ascii(std::string& out, unsigned char c, bool upper_hex) {
  static constexpr std::string_view lower_digits = "0123456789abcdef";
  static constexpr std::string_view upper_digits = "0123456789ABCDEF";
  if (const char letter = short_escape(static_cast<char>(c)); letter != '\0') {
    out.push_back('\\');
    out.push_back(letter);
  } else if (c < 0x20 || c == 0x7F) {
    const std::string_view hex = upper_hex ? upper_digits : lower_digits;
    out += "\\u00";
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
  } else {
    out.push_back(static_cast<char>(c));
  }
}

std::string shell_word(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
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

}  // namespace fracta::text
