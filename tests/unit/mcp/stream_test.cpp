// SPDX-License-Identifier: Apache-2.0
// answer_stream: one exchange's body read as it arrives, the answer caught by its id.
#include "mcp/stream.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <optional>
#include <string>
#include <vector>

#include <fracta/proto/json.hpp>

using fracta::mcp::answer_stream;

namespace {

// The JSON-RPC id of a message when it is an integer.
std::optional<std::int64_t> message_id(const std::string& message_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!fracta::json::parse(parser, message_json, doc).empty()) return std::nullopt;
  return fracta::json::get_int(doc, "id");
}

const std::string answer_7 = R"({"jsonrpc":"2.0","id":7,"result":{"ok":true}})";

struct recorder {
  std::vector<std::string> messages;
  answer_stream stream;
  explicit recorder(std::int64_t id)
      : stream(id, [this](std::string m) { messages.push_back(std::move(m)); }) {}
};

std::string event(const std::string& data) { return "event: message\ndata: " + data + "\n\n"; }

}  // namespace

TEST_CASE("a priming event with an id and an empty data line is not a message") {
  recorder r(7);
  CHECK_FALSE(r.stream.feed("id: prime-1\nretry: 50\ndata:\n\n"));
  CHECK(r.messages.empty());
  CHECK_FALSE(r.stream.answer());
  CHECK(r.stream.malformed() == 0);
  CHECK(r.stream.is_stream());
  CHECK(r.stream.last_event_id() == "prime-1");
}

TEST_CASE("the answer is caught as soon as its event arrives, though the stream goes on") {
  recorder r(7);
  CHECK_FALSE(r.stream.feed(": keep-alive\n\n"));
  CHECK(r.stream.feed(event(answer_7)));  // no end of stream needed
  REQUIRE(r.stream.answer());
  CHECK(message_id(*r.stream.answer()) == 7);
  CHECK(r.stream.answer()->find("\"ok\":true") != std::string::npos);
  // What follows is not read: the exchange may end.
  CHECK(r.stream.feed(event(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{}})")));
  CHECK(r.messages.empty());
}

TEST_CASE("messages before the answer are handed on in order, and another request's answer is not ours") {
  recorder r(7);
  std::string body = event(R"({"jsonrpc":"2.0","id":"srv-1","method":"ping"})");
  body += event(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})");
  body += event(R"({"jsonrpc":"2.0","id":6,"result":{}})");  // not the id asked for
  body += event(R"({"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{}})");  // a request, not an answer
  CHECK_FALSE(r.stream.feed(body));
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[0].find("\"ping\"") != std::string::npos);
  CHECK(r.messages[1].find("notifications/progress") != std::string::npos);
  CHECK(message_id(r.messages[2]) == 6);
  CHECK(r.messages[3].find("sampling/createMessage") != std::string::npos);
  CHECK(r.stream.feed(event(answer_7)));
  CHECK(r.messages.size() == 4);
}

TEST_CASE("a batch array in one event yields its messages in order and its answer") {
  recorder r(7);
  const std::string batch =
      R"([{"jsonrpc":"2.0","method":"notifications/message","params":{}},)" + answer_7 +
      R"(,{"jsonrpc":"2.0","method":"notifications/progress","params":{}}])";
  CHECK(r.stream.feed(event(batch)));
  REQUIRE(r.stream.answer());
  CHECK(message_id(*r.stream.answer()) == 7);
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[0].find("notifications/message") != std::string::npos);
  CHECK(r.messages[1].find("notifications/progress") != std::string::npos);
}

TEST_CASE("an answer split across two chunks at every byte boundary is caught once, whole") {
  const std::string body = event(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{}})") +
                           "id: 42\r\nevent: message\r\ndata: " + answer_7 + "\r\n\r\n";
  for (std::size_t cut = 1; cut < body.size(); ++cut) {
    CAPTURE(cut);
    recorder r(7);
    const bool early = r.stream.feed(body.substr(0, cut));
    // Complete only once the answer's blank line is there ("\r\n\r" already ends it: a lone CR
    // ends a line in SSE); what comes after an answer is not read.
    CHECK(early == (cut == body.size() - 1));
    CHECK(r.stream.feed(body.substr(cut)));
    REQUIRE(r.stream.answer());
    CHECK(*r.stream.answer() == answer_7);
    CHECK(r.messages.size() == 1);
    CHECK(r.stream.last_event_id() == "42");
    CHECK(r.stream.fed() == (early ? cut : body.size()));
  }
}

TEST_CASE("a JSON body is left to the caller, who reads it whole") {
  recorder r(7);
  CHECK_FALSE(r.stream.feed("  " + answer_7));
  CHECK_FALSE(r.stream.is_stream());
  CHECK_FALSE(r.stream.answer());
  CHECK(r.messages.empty());
  r.stream.take_body(R"([{"jsonrpc":"2.0","method":"notifications/progress"},)" + answer_7 + "]");
  REQUIRE(r.stream.answer());
  CHECK(message_id(*r.stream.answer()) == 7);
  CHECK(r.messages.size() == 1);
}

TEST_CASE("the last event id and the retry delay are kept, across a resume too") {
  recorder r(7);
  CHECK_FALSE(r.stream.feed("id: ev-1\nretry: 50\ndata:\n\n"));
  CHECK_FALSE(r.stream.feed("id: ev-2\ndata: " + std::string(R"({"jsonrpc":"2.0","method":"notifications/progress"})") +
                            "\n\ndata: {\"jsonrpc\""));  // cut in the middle of an event
  CHECK(r.stream.last_event_id() == "ev-2");
  REQUIRE(r.stream.retry_ms());
  CHECK(*r.stream.retry_ms() == 50);
  r.stream.resume();  // the half event is gone, the id and retry stay
  CHECK(r.stream.last_event_id() == "ev-2");
  CHECK(r.stream.retry_ms() == 50);
  CHECK(r.stream.feed(event(answer_7)));
  CHECK(r.messages.size() == 1);
}

TEST_CASE("data that is not JSON, or not an object, is counted as malformed and not handed on") {
  recorder r(7);
  CHECK_FALSE(r.stream.feed("data: not json\n\ndata: [1,2]\n\n"));
  CHECK(r.stream.malformed() == 3);
  CHECK(r.messages.empty());
}
