// SPDX-License-Identifier: Apache-2.0
// Reads a Streamable HTTP answer as it arrives: JSON-RPC messages out of an SSE stream (or a
// JSON body), the answer to one request as soon as it is there, and the other messages (server
// requests, notifications) handed on in order.
#pragma once
#include "core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/sse.hpp"

namespace fracta::mcp {

/// One exchange's body. Fed chunk by chunk on the HTTP client's strand (http::request's
/// complete_when), then read by the session once the exchange is over. Actor-bound: one owner
/// at a time (the transfer while it runs, the session after).
class answer_stream final {
 public:
  /// `id`: the request whose answer ends the stream. `on_message` hears every other message
  /// (a JSON object text) as it arrives, on the feeding strand; it must not block.
  answer_stream(std::int64_t id, std::function<void(std::string)> on_message);

  /// Consumes a chunk; true once the answer has arrived (the exchange may end).
  bool feed(std::string_view chunk);

  /// The answer message (a JSON object text), when it came.
  const std::optional<std::string>& answer() const noexcept { return answer_; }
  /// True when the body is an SSE stream (false: a JSON body, read whole by the caller).
  bool is_stream() const noexcept { return mode_ == mode::sse; }
  /// The last SSE event id and the retry delay the server asked for, to resume a cut stream.
  std::string last_event_id() const { return std::string(decoder_.last_event_id()); }
  std::optional<std::uint64_t> retry_ms() const noexcept { return decoder_.retry_ms(); }
  /// Events whose data was not JSON (ignored, counted for debug lines).
  int malformed() const noexcept { return malformed_; }

  /// Reads a whole JSON body (one message or a batch).
  void take_body(std::string body) { take(std::move(body)); }
  /// Bytes fed so far.
  std::size_t fed() const noexcept { return fed_; }

  /// Starts over for a resumed stream (a GET with Last-Event-ID): keeps the event id and retry.
  void resume() { decoder_.reset(); mode_ = mode::sse; }

 private:
  enum class mode { unknown, sse, json };
  void take(std::string data);

  std::int64_t id_;
  std::function<void(std::string)> on_message_;
  http::sse_decoder decoder_;
  mode mode_ = mode::unknown;
  std::optional<std::string> answer_;
  int malformed_ = 0;
  std::size_t fed_ = 0;
};

}  // namespace fracta::mcp
