// SPDX-License-Identifier: Apache-2.0
// The answer of one Streamable HTTP exchange, read as it arrives.
#include "mcp/stream.hpp"

#include <utility>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>

namespace fracta::mcp {

answer_stream::answer_stream(std::int64_t id, std::function<void(std::string)> on_message)
    : id_(id), on_message_(std::move(on_message)) {}

bool answer_stream::feed(std::string_view chunk) {
  if (answer_) return true;
  fed_ += chunk.size();
  if (mode_ == mode::unknown) {
    const auto first = chunk.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return false;
    // A JSON body starts with a value; an event stream with a field name, a comment or a BOM.
    mode_ = (chunk[first] == '{' || chunk[first] == '[') ? mode::json : mode::sse;
  }
  if (mode_ == mode::json) return false;  // read whole, by the caller, when the exchange ends
  for (auto& e : decoder_.feed(chunk)) {
    if (e.type == "message") take(std::move(e.data));
    if (answer_) return true;
  }
  return false;
}

void answer_stream::take(std::string data) {
  // Events without data (a priming event carrying only an id and a retry) are not messages.
  if (text::trim(data).empty()) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, data, doc).empty()) {
    ++malformed_;
    return;
  }
  auto one = [this](simdjson::dom::element msg) {
    if (!msg.is_object()) {
      ++malformed_;
      return;
    }
    const bool is_answer = !json::get(msg, "method") && (json::get(msg, "result") || json::get(msg, "error"));
    const auto mid = json::get_int(msg, "id");
    if (is_answer && mid && *mid == id_ && !answer_) {
      answer_ = json::to_string(msg);
      return;
    }
    if (on_message_) on_message_(json::to_string(msg));
  };
  if (doc.is_array()) {
    const simdjson::dom::array arr = doc.get_array().value_unsafe();
    for (auto m : arr) one(m);
  } else {
    one(doc);
  }
}

}  // namespace fracta::mcp
