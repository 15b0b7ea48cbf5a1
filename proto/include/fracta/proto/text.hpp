// SPDX-License-Identifier: Apache-2.0
// Text helpers shared by the engine and plugins: UTF-8 checks and repair, trimming, and the one
// sanitiser for text from servers that reaches a terminal, a log line or an error message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fracta::text {

/// One step of UTF-8 decoding; see utf8_next.
struct utf8_step {
  std::size_t size = 0;  ///< bytes consumed: 1-4, or 0 only for an empty input
  bool valid = false;    ///< the bytes form one well-formed code point
};

/// Decodes the code point at the start of `s`. Either the first `size` bytes are one
/// well-formed sequence (RFC 3629: no overlongs, surrogates or values past U+10FFFF), or they
/// are the maximal ill-formed subpart that one U+FFFD replaces (Unicode §3.9, the WHATWG
/// decoder). Thread-safe.
[[nodiscard]] utf8_step utf8_next(std::string_view s) noexcept;

/// True when `s` is well-formed UTF-8. Thread-safe.
[[nodiscard]] bool is_utf8(std::string_view s) noexcept;

/// `s` with every ill-formed subpart replaced by U+FFFD (as the WHATWG decoder does), so the
/// result is always well-formed UTF-8. Thread-safe.
[[nodiscard]] std::string replace_invalid_utf8(std::string_view s);

/// The value of the hexadecimal digit `c` (either case), or -1 when `c` is not one. Thread-safe.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The letter of the two-character escape that JSON and TOML basic strings share for `c`
/// (`"` `\\` BS HT LF FF CR: LF → 'n'), or '\0' when `c` has none. Thread-safe.
[[nodiscard]] char short_escape(char c) noexcept;

/// The byte a two-character escape letter stands for ('n' → LF), the inverse of short_escape;
/// nullopt for any other letter. Thread-safe.
[[nodiscard]] std::optional<char> unescaped(char letter) noexcept;

/// Appends the ASCII byte `c` (below 0x80) as JSON and TOML basic strings write it: its short
/// escape when it has one, the other controls and DEL as `\u00XX` (hex digits in upper case
/// when `upper_hex`), anything else as itself. Thread-safe.
void append_escaped_ascii(std::string& out, unsigned char c, bool upper_hex);

/// True for the ASCII whitespace bytes: space, HT, LF, VT, FF, CR. Thread-safe.
[[nodiscard]] constexpr bool is_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/// `s` without leading and trailing ASCII whitespace (is_space). Thread-safe.
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;

/// Text from outside (a server, a config file) made safe to print on a terminal or quote in a
/// message:
///  - ESC sequences (CSI, OSC, DCS and the other ECMA-48 strings, up to their terminator) and
///    their 8-bit C1 forms are dropped whole; other C0 and C1 controls and DEL are dropped;
///  - every ill-formed UTF-8 subpart becomes U+FFFD;
///  - each run of whitespace becomes one space, none is kept at either end;
///  - a result longer than `max_bytes` is cut on a code point boundary and ends with "…"
///    (U+2026), so it is never longer than `max_bytes` bytes.
/// Thread-safe.
[[nodiscard]] std::string printable(std::string_view s, std::size_t max_bytes = 300);

/// Longer text from outside (a tool's result, a server's error page) made safe for a
/// terminal while keeping its layout: escape sequences and controls are dropped as by
/// printable, ill-formed UTF-8 becomes U+FFFD, but line feeds and tabs are kept, other
/// whitespace (CR, VT, FF) becomes a space, and nothing is collapsed or cut. Thread-safe.
[[nodiscard]] std::string terminal_text(std::string_view s);

/// `s` as one POSIX shell word, for a command or an `export` line people paste: as it is when
/// it holds only characters no shell treats specially, else single-quoted. Thread-safe.
[[nodiscard]] std::string shell_word(std::string_view s);

/// Case-insensitive Levenshtein distance (for short words: keys, commands, names). Thread-safe.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` within an edit distance of 2 (a did-you-mean), if any.
/// Thread-safe.
template <class Range>
[[nodiscard]] std::optional<std::string> suggest(std::string_view word, const Range& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = 3;
  for (std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace fracta::text
