// SPDX-License-Identifier: Apache-2.0
// The gateway's HTTP/1.1 server on the engine's Asio loop: keep-alive connections, each on a
// strand of its own (no thread per connection), whole or streamed (chunked, SSE) responses,
// limits and timeouts, optional TLS, and a graceful drain.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include "gateway/http_parse.hpp"

namespace fracta::gateway {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// How one request is answered. Handed to the request handler; every member is thread-safe
/// (the connection's strand does the writing, in call order).
class responder {
 public:
  virtual ~responder() = default;
  /// A whole response (Content-Length framed). Ends the exchange.
  virtual void send(int status, header_list headers, std::string body) = 0;
  /// Starts a streamed response (chunked): status and headers now, chunks with write().
  virtual void start(int status, header_list headers) = 0;
  /// A piece of a started response. A client that reads too slowly (over the connection's
  /// write-queue bound) is disconnected.
  virtual void write(std::string chunk) = 0;
  /// Ends a started response.
  virtual void end() = 0;
  /// Calls `f` once when the client goes away before the response ended (at once when it
  /// has already), on the connection's strand. One callback per exchange.
  virtual void on_disconnect(std::function<void()> f) = 0;
  /// True once the client went away.
  virtual bool disconnected() const = 0;
  /// Marks a response that may last as long as its client (an SSE GET stream): a drain ends
  /// it instead of waiting for it.
  virtual void mark_stream() = 0;
};

using request_handler = std::function<void(http_request, std::shared_ptr<responder>)>;

struct server_limits {
  parse_limits parse;
  std::chrono::milliseconds idle_timeout{60'000};   // between requests on a kept-alive connection
  std::chrono::milliseconds read_timeout{30'000};   // to receive a whole request once it began
  std::size_t max_connections = 4096;
  std::size_t max_write_queue = 8u << 20;           // bytes queued for a slow client
};

/// Loop-bound setup, then thread-safe: the io_context may be run by any number of threads.
class http_server final {
 public:
  http_server(asio::io_context& io, server_limits limits, request_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens on `address`:`port` (port 0: any). `tls`: serve HTTPS with it.
  /// Throws std::system_error naming the address when it cannot.
  void listen(const std::string& address, std::uint16_t port, std::shared_ptr<asio::ssl::context> tls = nullptr);
  /// The port it listens on (after listen()).
  std::uint16_t port() const;
  /// Stops accepting, closes idle connections and ends marked streams; `done` runs (on a loop
  /// thread) once every other exchange has ended, or after `deadline` with the rest cut.
  void drain(std::chrono::milliseconds deadline, std::function<void()> done);
  std::size_t open_connections() const;
  /// Tells about connections opened (+1), closed (-1) and refused over the limit (0).
  void on_connection_count(std::function<void(int)> f) { count_hook_ = std::move(f); }

  struct connection_base;

 private:
  void accept_more();
  void forget(connection_base* c);
  void check_drained();

  asio::io_context& io_;
  server_limits limits_;
  request_handler handler_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::shared_ptr<asio::ssl::context> tls_;
  mutable std::mutex mutex_;
  std::set<connection_base*> connections_;
  std::function<void()> drained_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
  std::atomic<bool> draining_{false};
  std::function<void(int)> count_hook_;
  friend struct connection_base;
  template <class Stream>
  friend class connection;
};

}  // namespace fracta::gateway
