// SPDX-License-Identifier: Apache-2.0
// The gateway's HTTP/1.1 request parser: Boost.Beast's parser behind a small interface, so that
// only one source file sees Boost and the rest of the gateway works on plain values.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fracta::gateway {

/// One request as the client sent it. A value type.
struct http_request {
  std::string method;  // as sent ("POST")
  std::string target;  // the request target ("/mcp/notion?x=1")
  std::string path;    // the target up to '?'
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  unsigned version = 11;  // 10 or 11
  bool keep_alive = true;
  /// Who the gateway's front end admitted (set by the gateway, not parsed): "" when it asks
  /// no one. What the state it mints for a caller is bound to.
  std::string principal;
  /// The first header field called `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// Sizes a request may not exceed.
struct parse_limits {
  std::size_t header_bytes = 32 * 1024;
  std::size_t body_bytes = 8u << 20;
};

/// Incremental parser of one request at a time. Not thread-safe (one connection's).
class request_parser final {
 public:
  explicit request_parser(parse_limits limits);
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  enum class state { need_more, done, failed };
  /// Feeds bytes; returns how many were consumed (the rest belongs to the next request) and
  /// sets `out`. `failed`: error_status() and error_reason() say what to answer.
  std::size_t feed(std::string_view bytes, state& out);
  /// The request, once feed() said done; the parser is then ready for the next one.
  http_request take();
  /// True once some bytes of a request were consumed (a request is under way).
  bool started() const noexcept { return started_; }
  int error_status() const noexcept { return error_status_; }
  const std::string& error_reason() const noexcept { return error_reason_; }

 private:
  struct impl;
  void reset();
  parse_limits limits_;
  std::unique_ptr<impl> impl_;
  bool started_ = false;
  int error_status_ = 400;
  std::string error_reason_;
};

}  // namespace fracta::gateway
