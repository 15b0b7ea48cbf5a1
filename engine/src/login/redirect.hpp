// SPDX-License-Identifier: Apache-2.0
// The loopback redirect listener: Asio acceptors on loopback that serve the browser (or a pasted URL).
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

namespace fracta::login {

/// Where to listen, from a requested redirect URI ("" → ephemeral port, path "/callback").
/// Only loopback http URIs without a query: "http://127.0.0.1:PORT/path" (any 127/8 address)
/// or "http://localhost:PORT/path". The host is kept as written: a client registered with
/// "localhost" gets "localhost" back.
struct listen_spec {
  std::string host = "127.0.0.1";  // "localhost" or an IPv4 loopback literal
  std::uint16_t port = 0;
  std::string path = "/callback";
};
/// nullopt and `why` when the URI is not a loopback http URI.
std::optional<listen_spec> parse_redirect_uri(std::string_view requested, std::string& why);

/// Answers one HTTP request head for a listener on `path` that answers to the Host values in
/// `hosts` ("127.0.0.1:PORT", …; compared case-insensitively): the status line and page, and
/// whether it carried the redirect (a GET for `path` with a query). A missing or repeated
/// Host is 400, another Host 421 (a DNS-rebound page). Pure; for tests too.
struct http_answer {
  int status = 404;
  std::string body;
  bool redirect = false;  // the request target is the redirect
  std::string target;     // the request target as sent
};
http_answer answer_request(std::string_view head, std::string_view path, const std::vector<std::string>& hosts);

/// One listener. Actor-bound: every member runs on the strand it was created with; its
/// sockets, timers and the stdin reader live there too. Keep it in a shared_ptr.
///
/// It serves until close(): every redirect that arrives (or is pasted) is queued and each
/// await() delivers the next one, so a stray request neither ends nor spoils a login. A wait
/// that times out closes the listener; the owner closes it on cancel and teardown.
class redirect_listener final : public std::enable_shared_from_this<redirect_listener> {
 public:
  /// At most this many connections are served at once; more wait in the kernel's backlog.
  static constexpr std::size_t max_connections = 16;
  /// At most this many redirects wait for an await(); the oldest is dropped beyond it.
  static constexpr std::size_t max_pending = 16;

  /// status: FRACTA_OK with the reason empty, FRACTA_E_UNAVAILABLE (port busy), or
  /// FRACTA_E_INVALID_ARGUMENT (not a loopback http URI).
  struct outcome {
    std::int32_t status = 0;
    std::string message;
    std::string value;  // the full redirect URL
  };
  using finish_fn = std::function<void(outcome)>;
  using say_fn = std::function<void(std::string_view)>;
  /// Hears the seconds left while a wait runs (about once a second), then -1 when it ends.
  using countdown_fn = std::function<void(std::int64_t seconds_left)>;

  /// Binds the URI's address (for "localhost": 127.0.0.1, and ::1 on the same port when the
  /// host has IPv6) and starts accepting. On failure returns null with `status`/`why` set.
  static std::shared_ptr<redirect_listener> listen(asio::strand<asio::any_io_executor> strand,
                                                   std::string_view requested_uri, std::int32_t& status,
                                                   std::string& why);
  ~redirect_listener();

  /// "http://<host>:<port><path>", the host as requested.
  const std::string& uri() const noexcept { return uri_; }
  bool awaiting() const noexcept { return static_cast<bool>(finish_); }
  bool closed() const noexcept { return closed_; }
  /// Connections whose request head is being read (for tests).
  std::size_t serving() const noexcept { return connections_.size(); }

  /// Waits for the next redirect. `finish` is called exactly once, later, on the strand —
  /// unless close() comes first: with the redirect (the listener keeps serving), with
  /// FRACTA_E_TIMEOUT after `timeout` (the listener closes), or at once with
  /// FRACTA_E_INVALID_ARGUMENT on a closed listener. With `read_stdin`, a line pasted on stdin
  /// that starts with uri() counts as a redirect too (`say` explains a rejected line); the
  /// reader keeps reading until close(). `blocking` reads a stdin that is a regular file.
  void await(std::chrono::milliseconds timeout, bool read_stdin, say_fn say, asio::any_io_executor blocking,
             finish_fn finish);
  /// Stops listening, reading and waiting; `finish` is never called afterwards. An answer
  /// page being written is still finished.
  void close();
  /// Set before await(): the wait's countdown (see countdown_fn); unset: none.
  void set_countdown(countdown_fn f) { countdown_ = std::move(f); }

  redirect_listener(asio::strand<asio::any_io_executor> strand, listen_spec spec);

 private:
  struct connection;
  bool bind(const asio::ip::address& address, std::uint16_t port, std::error_code& ec);
  void accept_next(std::size_t acceptor);
  void serve(const std::shared_ptr<connection>& c);
  void answer(const std::shared_ptr<connection>& c);
  void drop(const std::shared_ptr<connection>& c);
  void arrived(std::string url);
  void deliver_pending();
  void finish(outcome o);
  void tick(std::uint64_t wait);
  void end_countdown();
  void start_stdin(asio::any_io_executor blocking);
  void read_line();
  void read_line_blocking();
  void pasted(std::string line);

  asio::strand<asio::any_io_executor> strand_;
  listen_spec spec_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::vector<bool> paused_;          // per acceptor: waiting for a free connection slot
  std::size_t accepting_ = 0;         // accepts in flight
  std::vector<std::string> hosts_;    // the Host values answered
  std::string uri_;
  bool closed_ = false;
  std::deque<std::string> pending_;   // redirects no await() has taken yet
  finish_fn finish_;
  std::uint64_t wait_id_ = 0;         // which await() a deadline or posted delivery belongs to
  say_fn say_;
  std::chrono::milliseconds timeout_{0};
  asio::steady_timer deadline_;
  countdown_fn countdown_;
  asio::steady_timer tick_;                              // the countdown's second hand
  std::chrono::steady_clock::time_point ends_at_{};     // the wait's deadline, for the countdown
  bool counting_ = false;
  std::set<std::shared_ptr<connection>> connections_;  // reading a request head
  bool stdin_started_ = false;
  std::unique_ptr<asio::posix::stream_descriptor> stdin_;
  std::string stdin_buf_;
  asio::any_io_executor blocking_;
};

}  // namespace fracta::login
