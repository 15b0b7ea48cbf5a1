// SPDX-License-Identifier: Apache-2.0
// Text helpers: UTF-8 steps and repair, trim, the JSON / TOML string escapes, and printable() on
// hostile server text.
#include <fracta/proto/text.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>

using fracta::text::is_utf8;
using fracta::text::printable;
using fracta::text::replace_invalid_utf8;
using fracta::text::trim;
using fracta::text::utf8_next;

namespace {

constexpr std::string_view fffd = "\xEF\xBF\xBD";
constexpr std::string_view ellipsis = "\xE2\x80\xA6";

bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("utf8_next: well-formed sequences and maximal ill-formed subparts") {
  CHECK(utf8_next("").size == 0);
  CHECK(utf8_next("a").valid);
  CHECK(utf8_next("\xC3\xBC").size == 2);
  CHECK(utf8_next("\xE2\x82\xAC").size == 3);
  CHECK(utf8_next("\xF0\x9F\x94\x91").size == 4);
  CHECK(utf8_next("\xF0\x9F\x94\x91").valid);

  // Ill-formed: the step covers the bytes one U+FFFD replaces (Unicode §3.9 / WHATWG).
  auto truncated = utf8_next("\xE2\x82" "x");
  CHECK_FALSE(truncated.valid);
  CHECK(truncated.size == 2);
  CHECK(utf8_next("\xC0\xAF").size == 1);          // C0 never starts a sequence
  CHECK(utf8_next("\xED\xA0\x80").size == 1);      // surrogate: A0 is out of range after ED
  CHECK(utf8_next("\xF4\x90\x80\x80").size == 1);  // past U+10FFFF
  CHECK(utf8_next("\x80").size == 1);              // lone continuation byte
}

TEST_CASE("is_utf8 and replace_invalid_utf8 agree") {
  CHECK(is_utf8("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x94\x91"));
  for (std::string_view bad :
       {"\xFC", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_utf8(bad));
    CHECK(is_utf8(replace_invalid_utf8(bad)));
  }
  CHECK(replace_invalid_utf8("a\xE2\x82" "b") == "a" + std::string(fffd) + "b");
  CHECK(replace_invalid_utf8("\xF0\x9F\x94") == fffd);  // one maximal subpart, one U+FFFD
  CHECK(replace_invalid_utf8("\xC0\xAF") == std::string(fffd) + std::string(fffd));
  CHECK(replace_invalid_utf8("ok \xC3\xBC") == "ok \xC3\xBC");
}

TEST_CASE("trim drops ASCII whitespace at both ends only") {
  CHECK(trim(" \t\r\n a b \v\f") == "a b");
  CHECK(trim("") == "");
  CHECK(trim("   ") == "");
  CHECK(trim("\xC2\xA0x") == "\xC2\xA0x");  // NBSP is not ASCII whitespace
}

TEST_CASE("printable drops ESC sequences whole: CSI, OSC, DCS and two-byte escapes") {
  CHECK(printable("\x1b[31mred\x1b[0m") == "red");
  CHECK(printable("a\x1b[2J\x1b[Hb") == "ab");                       // clear screen, home
  CHECK(printable("\x1b]0;evil title\x07ok") == "ok");                // OSC ended by BEL
  CHECK(printable("\x1b]52;c;Y3VybCBldmlsfHNo\x1b\\code") == "code");  // OSC 52 clipboard, ST
  CHECK(printable("\x1bPq#0;2;0;0;0\x1b\\x") == "x");                  // DCS (sixel)
  CHECK(printable("\x1b" "cafter") == "after");                        // ESC c: full reset
  CHECK(printable("\x1b(Bplain") == "plain");                          // charset designation
  CHECK(printable("\x1b]8;;https://evil/\x1b\\link\x1b]8;;\x1b\\") == "link");  // hyperlink
  CHECK(printable("unterminated \x1b]0;swallow the rest") == "unterminated");
  CHECK(printable("trailing\x1b") == "trailing");
}

TEST_CASE("printable drops C0 and C1 controls and DEL, including 8-bit CSI and OSC") {
  CHECK(printable(std::string("a\0b", 3)) == "ab");
  CHECK(printable("a\x07\x08\x7F" "b") == "ab");
  CHECK(printable("x\xC2\x85y") == "xy");                     // NEL (U+0085)
  CHECK(printable("\xC2\x9B" "31mred") == "red");            // C1 CSI with its parameters
  CHECK(printable("\xC2\x9D" "0;title\xC2\x9Cok") == "ok");  // C1 OSC ended by C1 ST
  CHECK(printable("J\xC3\xBCrgen \xE2\x82\xAC") == "J\xC3\xBCrgen \xE2\x82\xAC");  // kept
  const std::string hostile = "code\x1b[8m\x1b]0;t\x07\xC2\x9B" "2J\x01\x7F\xC2\x80";
  CHECK_FALSE(has_control(printable(hostile)));
}

TEST_CASE("printable replaces invalid UTF-8 and collapses whitespace") {
  CHECK(printable("a\xFF" "b") == "a" + std::string(fffd) + "b");
  CHECK(printable("a\xE2\x82") == "a" + std::string(fffd));
  CHECK(is_utf8(printable("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
  CHECK(printable("  one \t\r\n two   three \n") == "one two three");
  CHECK(printable("a\x1b[0m \x1b[0m b") == "a b");  // a dropped sequence does not split a run
  CHECK(printable(" \t\n") == "");
}

TEST_CASE("printable cuts at max_bytes on a UTF-8 boundary and marks the cut") {
  CHECK(printable("short", 300) == "short");
  CHECK(printable("exactly10!", 10) == "exactly10!");

  const std::string cut = printable(std::string(1000, 'x'));
  CHECK(cut.size() == 300);
  CHECK(cut.ends_with(ellipsis));

  // "ü" is two bytes: a cut that would split one backs off to before it.
  std::string umlauts;
  for (int i = 0; i < 10; ++i) umlauts += "\xC3\xBC";
  for (std::size_t max = 3; max <= 20; ++max) {
    CAPTURE(max);
    const std::string r = printable(umlauts, max);
    CHECK(r.size() <= max);
    CHECK(is_utf8(r));
    if (max < umlauts.size()) CHECK(r.ends_with(ellipsis));
  }
  CHECK(printable("abc def", 6) == "abc" + std::string(ellipsis));  // no space before the mark
  CHECK(printable("abcdef", 2) == "ab");                            // no room for the mark
  CHECK(printable("abcdef", 0) == "");
  // Whitespace at the end does not count as content that needs a cut.
  CHECK(printable("abc      ", 3) == "abc");
}

TEST_CASE("terminal_text keeps lines and tabs but drops escapes, controls and C1") {
  using fracta::text::terminal_text;
  CHECK(terminal_text("line one\n\tline two\n") == "line one\n\tline two\n");
  CHECK(terminal_text("a\x1b]0;owned\x07" "b\x1b[2Jc") == "abc");
  CHECK(terminal_text("over\rwrite") == "over write");  // CR cannot overwrite a line
  CHECK(terminal_text("x\xC2\x9B" "31m" "y") == "xy");      // 8-bit CSI, UTF-8 encoded
  CHECK(terminal_text("bell\a del\x7F") == "bell del");
  CHECK(terminal_text("bad\xFF") == "bad" + std::string(fffd));
  const std::string long_text(100000, 'z');
  CHECK(terminal_text(long_text) == long_text);  // never cut
}

TEST_CASE("every ASCII byte is written as JSON and TOML basic strings write it") {
  using fracta::text::append_escaped_ascii;
  const std::pair<char, std::string_view> short_forms[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\b', "\\b"}, {'\t', "\\t"}, {'\n', "\\n"}, {'\f', "\\f"}, {'\r', "\\r"}};
  for (unsigned c = 0; c < 0x80; ++c) {
    std::string lower, upper;
    append_escaped_ascii(lower, static_cast<unsigned char>(c), false);
    append_escaped_ascii(upper, static_cast<unsigned char>(c), true);
    CAPTURE(c);
    std::string expected(1, static_cast<char>(c));
    for (const auto& [byte, form] : short_forms) {
      if (static_cast<unsigned char>(byte) == c) expected = form;
    }
    if (expected.size() == 1 && (c < 0x20 || c == 0x7F)) {
      static constexpr char lower_digits[] = "0123456789abcdef";
      static constexpr char upper_digits[] = "0123456789ABCDEF";
      CHECK(lower == std::string("\\u00") + lower_digits[c >> 4] + lower_digits[c & 0xF]);
      CHECK(upper == std::string("\\u00") + upper_digits[c >> 4] + upper_digits[c & 0xF]);
    } else {
      CHECK(lower == expected);
      CHECK(upper == expected);
    }
  }
}

TEST_CASE("a short escape's letter reads back as the byte it stands for; other letters do not") {
  using fracta::text::short_escape;
  using fracta::text::unescaped;
  for (const char c : {'"', '\\', '\b', '\t', '\n', '\f', '\r'}) {
    const char letter = short_escape(c);
    REQUIRE(letter != '\0');
    CHECK(unescaped(letter) == c);
  }
  CHECK(short_escape('a') == '\0');
  CHECK(short_escape('\x01') == '\0');
  CHECK_FALSE(unescaped('u').has_value());
  CHECK_FALSE(unescaped('e').has_value());
  CHECK_FALSE(unescaped('x').has_value());
}

TEST_CASE("hex_value reads digits of either case and refuses everything else") {
  using fracta::text::hex_value;
  CHECK(hex_value('0') == 0);
  CHECK(hex_value('9') == 9);
  CHECK(hex_value('a') == 10);
  CHECK(hex_value('F') == 15);
  CHECK(hex_value('g') == -1);
  CHECK(hex_value('G') == -1);
  CHECK(hex_value('/') == -1);
  CHECK(hex_value(':') == -1);
  CHECK(hex_value('\0') == -1);
}
