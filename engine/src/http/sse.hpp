// SPDX-License-Identifier: Apache-2.0
// Incremental Server-Sent Events decoder (WHATWG HTML, "event stream interpretation").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/internal.hpp"

namespace fracta::http {

/// One dispatched event.
struct sse_event {
  std::string type;  ///< the `event` field, "message" when absent
  std::string data;  ///< `data` lines joined with "\n"
  std::string id;    ///< the last event ID at dispatch time (sticky across events)
};

/// Turns a byte stream, fed in arbitrary chunks, into events. Lines may end in CRLF, LF or
/// CR (a CR ending one chunk and an LF starting the next count as one line end); one leading
/// UTF-8 BOM is skipped; invalid UTF-8 is replaced with U+FFFD line by line. Memory is bounded
/// by the caller (http::request::max_response_bytes caps a stream). Actor-bound: one owner.
class sse_decoder final {
 public:
  sse_decoder() = default;
  sse_decoder(const sse_decoder&) = default;
  sse_decoder& operator=(const sse_decoder&) = default;
  sse_decoder(sse_decoder&&) noexcept = default;
  sse_decoder& operator=(sse_decoder&&) noexcept = default;
  ~sse_decoder() = default;

  /// Consumes `chunk` and returns the events it completed, in order.
  [[nodiscard]] std::vector<sse_event> feed(std::string_view chunk);

  /// The last event ID seen by a dispatch (to send as Last-Event-ID on reconnect).
  [[nodiscard]] std::string_view last_event_id() const noexcept { return last_event_id_; }
  /// The reconnection time the server asked for with `retry`, if any.
  [[nodiscard]] std::optional<std::uint64_t> retry_ms() const noexcept { return retry_ms_; }

  /// Forgets any partial line or event (end of stream: pending data is discarded). The last
  /// event ID and retry survive, as they do across reconnects.
  void reset() noexcept;

 private:
  void process_line(std::string_view line, std::vector<sse_event>& out);
  void dispatch(std::vector<sse_event>& out);

  std::string line_;
  std::string data_;
  std::string event_type_;
  std::string id_buffer_;
  std::string last_event_id_;
  std::optional<std::uint64_t> retry_ms_;
  std::size_t bom_seen_ = 0;  // bytes of a leading BOM matched so far
  bool bom_done_ = false;
  bool after_cr_ = false;  // the previous chunk ended in CR: skip one LF
};

}  // namespace fracta::http
