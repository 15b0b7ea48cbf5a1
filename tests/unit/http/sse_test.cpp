// SPDX-License-Identifier: Apache-2.0
// Specification of the SSE decoder: every WHATWG event-stream rule, at every chunk boundary.
#include "http/sse.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using fracta::http::sse_decoder;
using fracta::http::sse_event;

namespace {

std::vector<sse_event> decode(std::string_view stream) {
  sse_decoder d;
  return d.feed(stream);
}

/// Feeds `stream` split at positions i and j (every pair), and byte by byte; all must match
/// the single-chunk result.
void check_all_splits(std::string_view stream) {
  sse_decoder whole;
  auto expected = whole.feed(stream);
  auto same = [&](const std::vector<sse_event>& got, std::string_view how) {
    CAPTURE(how);
    REQUIRE(got.size() == expected.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].type == expected[k].type);
      CHECK(got[k].data == expected[k].data);
      CHECK(got[k].id == expected[k].id);
    }
  };
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      sse_decoder d;
      auto got = d.feed(stream.substr(0, i));
      for (auto& e : d.feed(stream.substr(i, j - i))) got.push_back(std::move(e));
      for (auto& e : d.feed(stream.substr(j))) got.push_back(std::move(e));
      same(got, "split at " + std::to_string(i) + "," + std::to_string(j));
      CHECK(d.last_event_id() == whole.last_event_id());
      CHECK(d.retry_ms() == whole.retry_ms());
    }
  }
  sse_decoder bytes;
  std::vector<sse_event> got;
  for (char c : stream) {
    for (auto& e : bytes.feed(std::string_view(&c, 1))) got.push_back(std::move(e));
  }
  same(got, "byte by byte");
}

}  // namespace

TEST_CASE("SSE: a data line dispatches a 'message' event on a blank line") {
  auto events = decode("data: hello\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
  CHECK(events[0].data == "hello");
  CHECK(events[0].id == "");
}

TEST_CASE("SSE: nothing is dispatched before the blank line") {
  sse_decoder d;
  CHECK(d.feed("data: hello\n").empty());
  CHECK(d.feed("data: world\n").empty());
  auto events = d.feed("\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "hello\nworld");
}

TEST_CASE("SSE: multiple data lines are joined with LF, the last LF is removed") {
  auto events = decode("data: a\ndata:\ndata: c\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "a\n\nc");
}

TEST_CASE("SSE: CRLF, LF and CR all end lines, mixed in one stream") {
  auto events = decode("data: one\r\n\r\ndata: two\n\ndata: three\r\rdata: four\r\n\n");
  REQUIRE(events.size() == 4);
  CHECK(events[0].data == "one");
  CHECK(events[1].data == "two");
  CHECK(events[2].data == "three");
  CHECK(events[3].data == "four");
}

TEST_CASE("SSE: a CR at the end of one chunk and an LF at the start of the next are one line end") {
  sse_decoder d;
  CHECK(d.feed("data: x\r").empty());
  CHECK(d.feed("\ndata: y\r").empty());  // the LF must not be taken as a blank line
  auto events = d.feed("\n\r\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "x\ny");
}

TEST_CASE("SSE: a leading UTF-8 BOM is skipped, even when split across chunks; only one") {
  CHECK(decode("\xEF\xBB\xBF"
               "data: a\n\n")
            .at(0)
            .data == "a");
  sse_decoder d;
  CHECK(d.feed("\xEF").empty());
  CHECK(d.feed("\xBB").empty());
  auto events = d.feed(
      "\xBF"
      "data: b\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "b");
  // A second BOM is content: it makes the field name "\uFEFFdata", which is ignored.
  CHECK(decode("\xEF\xBB\xBF\xEF\xBB\xBF"
               "data: c\n\n")
            .empty());
}

TEST_CASE("SSE: an almost-BOM at the start is content, not dropped") {
  // 0xEF 0xBB then 'd' is invalid UTF-8: one U+FFFD, so the field is not "data".
  CHECK(decode("\xEF\xBB"
               "data: x\n\n")
            .empty());
  auto events = decode(
      "\xEF\xBB"
      "\ndata: y\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "y");
}

TEST_CASE("SSE: the event field sets the type of the next dispatched event only") {
  auto events = decode("event: ping\ndata: 1\n\ndata: 2\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "ping");
  CHECK(events[1].type == "message");
}

TEST_CASE("SSE: the id is sticky across events and exposed as last_event_id") {
  sse_decoder d;
  auto events = d.feed("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
  REQUIRE(events.size() == 3);
  CHECK(events[0].id == "7");
  CHECK(events[1].id == "7");
  CHECK(events[2].id == "");  // "id" without a colon resets it to empty
  CHECK(d.last_event_id() == "");
  CHECK(d.feed("id: 42\n\n").empty());  // an event with no data still updates the last event ID
  CHECK(d.last_event_id() == "42");
}

TEST_CASE("SSE: an id containing NUL is ignored") {
  sse_decoder d;
  const std::string stream("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", 32);
  auto events = d.feed(stream);
  REQUIRE(events.size() == 2);
  CHECK(events[1].id == "1");
  CHECK(d.last_event_id() == "1");
}

TEST_CASE("SSE: retry accepts ASCII digits only") {
  sse_decoder d;
  CHECK_FALSE(d.retry_ms().has_value());
  (void)d.feed("retry: 1500\n\n");
  CHECK(d.retry_ms() == 1500u);
  (void)d.feed("retry: 12a\n\nretry: -5\n\nretry: 1.5\n\nretry:\n\nretry:  200\n\n");
  CHECK(d.retry_ms() == 1500u);
  (void)d.feed("retry:0\n\n");
  CHECK(d.retry_ms() == 0u);
  (void)d.feed("retry: 99999999999999999999999\n\n");  // does not fit: ignored
  CHECK(d.retry_ms() == 0u);
}

TEST_CASE("SSE: comment lines are ignored") {
  auto events = decode(": this is a comment\ndata: a\n:another\n\n:\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "a");
}

TEST_CASE("SSE: a field without a colon has an empty value") {
  auto events = decode("data\n\ndata\ndata\n\n");
  // The first event has data "" + LF -> "" after removing the LF, but the buffer was not
  // empty, so it is dispatched.
  REQUIRE(events.size() == 2);
  CHECK(events[0].data == "");
  CHECK(events[1].data == "\n");
}

TEST_CASE("SSE: only one leading space after the colon is removed") {
  auto events = decode("data:no space\n\ndata:  two spaces\n\ndata:\ttab\n\n");
  REQUIRE(events.size() == 3);
  CHECK(events[0].data == "no space");
  CHECK(events[1].data == " two spaces");
  CHECK(events[2].data == "\ttab");
}

TEST_CASE("SSE: events with an empty data buffer are not dispatched; their type is reset") {
  auto events = decode("event: lonely\n\ndata: x\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
  CHECK(decode("\n\n\n").empty());
}

TEST_CASE("SSE: unknown fields are ignored and field names are case-sensitive") {
  auto events = decode("foo: bar\nDATA: upper\nEvent: x\ndata: ok\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "ok");
  CHECK(events[0].type == "message");
}

TEST_CASE("SSE: colons after the first belong to the value") {
  auto events = decode("data: {\"a\":\"b:c\"}\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "{\"a\":\"b:c\"}");
}

TEST_CASE("SSE: an incomplete event at the end is not dispatched, and reset() discards it") {
  sse_decoder d;
  CHECK(d.feed("data: partial\n").empty());
  d.reset();
  auto events = d.feed("data: fresh\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "fresh");
}

TEST_CASE("SSE: invalid UTF-8 is replaced with U+FFFD, valid UTF-8 passes through") {
  auto events = decode(
      "data: caf\xC3\xA9 \xF0\x9F\x98\x80\n\ndata: bad\xFF"
      "end \xE2\x82\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].data == "caf\xC3\xA9 \xF0\x9F\x98\x80");
  CHECK(events[1].data ==
        "bad\xEF\xBF\xBD"
        "end \xEF\xBF\xBD");
}

TEST_CASE("SSE: JSON-RPC messages as an MCP server sends them") {
  auto events = decode(
      "event: message\nid: srv-1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"
      ": keep-alive\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
  CHECK(events[0].id == "srv-1");
  CHECK(events[0].data == R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST_CASE("SSE: a sample stream decodes the same at every chunk boundary") {
  const std::string stream =
      "\xEF\xBB\xBF"
      ": comment\r\n"
      "retry: 2500\r\n"
      "event: update\r\n"
      "id: 1\r\n"
      "data: first\r\n"
      "data:  second\r\n"
      "\r\n"
      "data: caf\xC3\xA9\r"
      "\r"
      "id: 2\n"
      "data\n"
      "\n"
      "event: empty\n"
      "\n"
      "id\r\n"
      "data: last\r\n"
      "\r\n"
      "data: never dispatched";
  auto events = decode(stream);
  REQUIRE(events.size() == 4);
  CHECK(events[0].type == "update");
  CHECK(events[0].id == "1");
  CHECK(events[0].data == "first\n second");
  CHECK(events[1].type == "message");
  CHECK(events[1].data == "caf\xC3\xA9");
  CHECK(events[1].id == "1");
  CHECK(events[2].id == "2");
  CHECK(events[2].data == "");
  CHECK(events[3].id == "");
  CHECK(events[3].data == "last");
  check_all_splits(stream);
}
