// SPDX-License-Identifier: Apache-2.0
// The gateway's metrics registry, rendered as Prometheus text exposition format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <fracta/engine.hpp>

namespace fracta::gateway {

using fracta::server_state;

/// The `method` label for a request: `method` itself when it is a known MCP method or
/// notification (tools/call, server/discover, notifications/progress, …) or one of the HTTP
/// methods GET, POST and DELETE (for pass-through traffic), else "other", so the label's
/// cardinality stays bounded whatever clients send. Case-sensitive, as JSON-RPC methods are.
/// The view points at static storage. Thread-safe.
[[nodiscard]] std::string_view method_label(std::string_view method) noexcept;

/// How many distinct method labels method_label returns ("other" included).
inline constexpr std::size_t method_label_count = 39;

/// The upper bounds of the request-duration histogram's buckets, in seconds (+Inf excluded).
inline constexpr std::array<std::string_view, 13> duration_bucket_labels = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};

/// The registry. Every series of a server exists from add_server (or set_server_state) until
/// forget_server; events naming any other server are ignored, so the late completion of a
/// removed server's request does not bring its series back. Recording takes one short mutex
/// hold and allocates nothing once the server is added. Thread-safe.
class metrics final {
 public:
  /// The histogram bucket count, +Inf included.
  static constexpr std::size_t bucket_count = duration_bucket_labels.size() + 1;
  metrics() = default;
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;
  ~metrics() = default;

  /// Adds `server`'s series (zero counters, no state, no token expiry); no-op when present.
  void add_server(std::string_view server);
  /// Removes every series of `server` (a config reload dropped it).
  void forget_server(std::string_view server);

  /// One finished request: requests_total +1, the duration observed, request_errors_total +1
  /// when `error` (a JSON-RPC error answer, a transport failure or an HTTP status ≥ 400).
  /// `method` goes through method_label.
  void record_request(std::string_view server, std::string_view method,
                      std::chrono::nanoseconds duration, bool error);
  /// One token refresh attempt; `ok` false also counts a refresh failure.
  void record_refresh(std::string_view server, bool ok);
  /// When `server`'s token expires (unix milliseconds); 0 = unknown, which hides the series.
  void set_token_expiry(std::string_view server, std::int64_t expires_at_unix_ms);
  /// `server`'s current state; adds the server when it is not there yet.
  void set_server_state(std::string_view server, server_state state);
  /// An SSE stream to or from `server` opened / closed.
  void stream_opened(std::string_view server);
  void stream_closed(std::string_view server);

  /// A client connection accepted / closed / refused (connection limit).
  void connection_opened() noexcept;
  void connection_closed() noexcept;
  void connection_rejected() noexcept;

  /// Every family with HELP and TYPE lines, families and series in sorted order, token
  /// expiry counted from `now_unix_ms`. The text of /metrics (text/plain; version=0.0.4).
  [[nodiscard]] std::string render(std::int64_t now_unix_ms) const;

 private:
  struct request_series {
    std::array<std::uint64_t, bucket_count> buckets{};  // per bucket, not cumulative
    std::uint64_t count = 0;
    std::uint64_t errors = 0;
    std::uint64_t sum_ns = 0;
  };
  struct server_series {
    std::array<request_series, method_label_count> requests{};  // by method_label index
    std::uint64_t refreshes = 0;
    std::uint64_t refresh_failures = 0;
    std::int64_t expires_at_unix_ms = 0;
    std::int64_t open_streams = 0;
    std::optional<server_state> state;
  };
  // Finds `server`'s series, or nullptr. Caller holds mutex_.
  server_series* find(std::string_view server);

  mutable std::mutex mutex_;
  std::map<std::string, server_series, std::less<>> servers_;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace fracta::gateway
