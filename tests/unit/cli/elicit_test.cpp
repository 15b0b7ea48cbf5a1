// SPDX-License-Identifier: Apache-2.0
// The elicitation form dialogue: prompts, defaults, validation, decline and cancel.
#include "elicit.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct dialogue final {
  std::string result;  // the ElicitResult JSON
  std::string shown;   // everything written to the terminal
};

/// Runs answer_elicitation with `typed` as the user's input.
dialogue run(std::string_view params, std::string typed) {
  typed.push_back('\0');  // fmemopen needs a non-empty buffer; the NUL is past `size`
  std::FILE* in = fmemopen(typed.data(), typed.size() - 1, "r");
  REQUIRE(in != nullptr);
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  REQUIRE(out != nullptr);
  dialogue d;
  d.result = fracta::cli::answer_elicitation(params, in, out);
  std::fclose(out);
  std::fclose(in);
  d.shown.assign(buf, len);
  std::free(buf);
  return d;
}

/// True when the terminal showed `s`.
bool shows(const dialogue& d, std::string_view s) { return d.shown.find(s) != std::string::npos; }
bool shows(const dialogue& d, char c) { return d.shown.find(c) != std::string::npos; }

constexpr std::string_view confirm_form = R"({
  "message": "Confirm the \u001b[31mdeployment\u001b[0m",
  "requestedSchema": {"type": "object", "properties": {
    "name": {"type": "string", "title": "Your name", "description": "Who confirms", "default": "Ada"},
    "ok": {"type": "boolean", "title": "Proceed", "default": false}
  }, "required": ["name", "ok"]}})";

}  // namespace

TEST_CASE("the message is shown without escape sequences and each field is asked in order") {
  const dialogue d = run(confirm_form, "Bob\ny\n");
  CHECK(d.result == R"({"action":"accept","content":{"name":"Bob","ok":true}})");
  CHECK(d.shown.find("Confirm the deployment\n") == 0);
  CHECK_FALSE(shows(d, '\x1b'));
  const auto desc = d.shown.find("  Who confirms\n");
  const auto name = d.shown.find("Your name (required) [Ada]: ");
  const auto ok = d.shown.find("Proceed (required, y/n) [n]: ");
  REQUIRE(desc != std::string::npos);
  REQUIRE(name != std::string::npos);
  REQUIRE(ok != std::string::npos);
  CHECK(desc < name);
  CHECK(name < ok);
}

TEST_CASE("empty answers take the schema defaults") {
  CHECK(run(confirm_form, "\n\n").result ==
        R"({"action":"accept","content":{"name":"Ada","ok":false}})");
}

TEST_CASE(
    "an optional field without default left empty is omitted; a required one is asked again") {
  constexpr std::string_view form = R"({"message": "m", "requestedSchema": {"type": "object",
    "properties": {"nick": {"type": "string"}, "who": {"type": "string"}}, "required": ["who"]}})";
  const dialogue d = run(form, "\n\nZoe\n");
  CHECK(d.result == R"({"action":"accept","content":{"who":"Zoe"}})");
  CHECK(shows(d, "nick: "));
  CHECK(shows(d, "expected an answer (this field is required)"));
}

TEST_CASE("numbers and integers are checked for type and range and written as JSON numbers") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 100, "default": 42},
                   "x": {"type": "number", "title": "Ratio", "minimum": 0, "maximum": 1}}}})";
  const dialogue d = run(form, "abc\n500\n7\n2.5\n0.25\n");
  CHECK(d.result == R"({"action":"accept","content":{"n":7,"x":0.25}})");
  CHECK(shows(d, "n (integer, 1..100) [42]: "));
  CHECK(shows(d, "Ratio (number, 0..1): "));
  CHECK(shows(d, "expected a whole number"));
  CHECK(shows(d, "expected a value in 1..100"));
  CHECK(shows(d, "expected a value in 0..1"));
  CHECK(run(form, "\n\n").result == R"({"action":"accept","content":{"n":42}})");
}

TEST_CASE("booleans accept y/n, yes/no, true/false") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {"a": {"type": "boolean"}, "b": {"type": "boolean"}, "c": {"type": "boolean"}}}})";
  const dialogue d = run(form, "YES\nmaybe\nfalse\nn\n");
  CHECK(d.result == R"({"action":"accept","content":{"a":true,"b":false,"c":false}})");
  CHECK(shows(d, "expected y or n"));
}

TEST_CASE("single choices are numbered; titles come from oneOf or enumNames; the value is sent") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {
      "hero": {"type": "string", "title": "Hero", "oneOf": [{"const": "hero-1", "title": "Superman"},
               {"const": "hero-2", "title": "Wonder Woman"}], "default": "hero-1"},
      "pet": {"type": "string", "enum": ["pet-1", "pet-2"], "enumNames": ["Cats", "Dogs"]},
      "friend": {"type": "string", "enum": ["Monica", "Joey"], "default": "Joey"}}}})";
  const dialogue d = run(form, "2\n3\nDogs\n\n");
  CHECK(d.result ==
        R"({"action":"accept","content":{"hero":"hero-2","pet":"pet-2","friend":"Joey"}})");
  CHECK(shows(d, "  1) Superman\n  2) Wonder Woman\nHero (1-2) [1]: "));
  CHECK(shows(d, "  1) Cats\n  2) Dogs\n"));
  CHECK(shows(d, "friend (1-2) [2]: "));
  CHECK(shows(d, "expected a number from 1 to 2"));
}

TEST_CASE("multiple choices take comma-separated numbers within minItems and maxItems") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {"fish": {"type": "array", "minItems": 1, "maxItems": 2,
      "items": {"anyOf": [{"const": "f1", "title": "Tuna"}, {"const": "f2", "title": "Salmon"},
                          {"const": "f3", "title": "Trout"}]}, "default": ["f1"]}}}})";
  CHECK(run(form, "1, 3\n").result == R"({"action":"accept","content":{"fish":["f1","f3"]}})");
  CHECK(run(form, "\n").result == R"({"action":"accept","content":{"fish":["f1"]}})");
  const dialogue d = run(form, "1,2,3\n2\n");
  CHECK(d.result == R"({"action":"accept","content":{"fish":["f2"]}})");
  CHECK(shows(d, "fish (1-3, comma-separated) [1]: "));
  CHECK(shows(d, "expected between 1 and 2 choices"));
}

TEST_CASE("string formats and lengths are checked") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {"mail": {"type": "string", "format": "email"},
                   "home": {"type": "string", "format": "uri"},
                   "born": {"type": "string", "format": "date"},
                   "pin": {"type": "string", "minLength": 2, "maxLength": 3}}}})";
  const dialogue d = run(
      form, "nope\na@b.example\nnot a uri\nhttps://x.example/\n2026-13-01\n2026-12-01\nä\näöü\n");
  CHECK(
      d.result ==
      R"({"action":"accept","content":{"mail":"a@b.example","home":"https://x.example/","born":"2026-12-01","pin":"äöü"}})");
  CHECK(shows(d, "mail (email): "));
  CHECK(shows(d, "expected an email address"));
  CHECK(shows(d, "expected a URI"));
  CHECK(shows(d, "expected a date, YYYY-MM-DD"));
  CHECK(shows(d, "expected at least 2 characters"));
}

TEST_CASE("three invalid answers to one field cancel the form") {
  constexpr std::string_view form = R"({"message": "", "requestedSchema": {"type": "object",
    "properties": {"n": {"type": "integer"}}}})";
  const dialogue d = run(form, "a\nb\nc\n4\n");
  CHECK(d.result == R"({"action":"cancel"})");
  CHECK(shows(d, "Too many invalid answers; cancelled."));
}

TEST_CASE("!decline declines and !cancel cancels, at any field") {
  CHECK(run(confirm_form, "!decline\n").result == R"({"action":"decline"})");
  CHECK(run(confirm_form, "Bob\n!cancel\n").result == R"({"action":"cancel"})");
  CHECK(run(confirm_form, "Bob\n !decline \n").result == R"({"action":"decline"})");
}

TEST_CASE("end of input at the first prompt cancels, after an answer it declines") {
  CHECK(run(confirm_form, "").result == R"({"action":"cancel"})");
  CHECK(run(confirm_form, "Bob\n").result == R"({"action":"decline"})");
  // A last line without its newline is still an answer.
  CHECK(run(confirm_form, "Bob\ny").result ==
        R"({"action":"accept","content":{"name":"Bob","ok":true}})");
}

TEST_CASE("server text in labels, descriptions and choices is made printable") {
  constexpr std::string_view form =
      R"({"message": "line one\nline two", "requestedSchema": {"type": "object",
    "properties": {"k": {"type": "string", "title": "T\u001b]0;owned\u0007itle", "description": "d\rx",
      "enum": ["v\u001b[2J"]}}}})";
  const dialogue d = run(form, "1\n");
  CHECK(d.result == "{\"action\":\"accept\",\"content\":{\"k\":\"v\\u001b[2J\"}}");
  CHECK(d.shown.find("line one\nline two\n") == 0);
  CHECK_FALSE(shows(d, '\x1b'));
  CHECK_FALSE(shows(d, '\a'));
  CHECK(shows(d, "Title (1-1): "));
  CHECK(shows(d, "  d x\n"));
}

TEST_CASE("a request that cannot be shown is declined with a note") {
  CHECK(run("not json", "").result == R"({"action":"decline"})");
  CHECK(run(R"({"message": "m"})", "").result == R"({"action":"decline"})");
  constexpr std::string_view form = R"({"message": "m", "requestedSchema": {"type": "object",
    "properties": {"o": {"type": "object"}}, "required": ["o"]}})";
  const dialogue d = run(form, "x\n");
  CHECK(d.result == R"({"action":"decline"})");
  CHECK(shows(d, "cannot ask for \"o\""));
  constexpr std::string_view optional_unsupported =
      R"({"message": "m", "requestedSchema": {"type": "object",
    "properties": {"o": {"type": "object"}, "s": {"type": "string"}}}})";
  CHECK(run(optional_unsupported, "hi\n").result == R"({"action":"accept","content":{"s":"hi"}})");
}
