// SPDX-License-Identifier: Apache-2.0
// The loopback redirect listener: an Asio acceptor on 127.0.0.1 that waits for the browser (or a pasted URL).
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

namespace fracta::login {

/// Where to listen, from a requested redirect URI ("" → ephemeral port, path "/callback").
/// Only loopback http URIs without a query: "http://127.0.0.1:PORT/path" or localhost.
struct listen_spec {
  std::uint16_t port = 0;
  std::string path = "/callback";
};
/// nullopt and `why` when the URI is not a loopback http URI.
std::optional<listen_spec> parse_redirect_uri(std::string_view requested, std::string& why);

/// Answers one HTTP request head for a listener on `path`: the status line and page, and
/// whether it carried the redirect (a GET for `path` with a query). Pure; for tests too.
struct http_answer {
  int status = 404;
  std::string body;
  bool redirect = false;  // the request target is the redirect
  std::string target;     // the request target as sent
};
http_answer answer_request(std::string_view head, std::string_view path);

/// One listener. Actor-bound: every member runs on the strand it was created with; its
/// sockets, timers and the stdin reader live there too. Keep it in a shared_ptr.
class redirect_listener final : public std::enable_shared_from_this<redirect_listener> {
 public:
  /// status: FRACTA_OK with the reason empty, FRACTA_E_UNAVAILABLE (port busy), or
  /// FRACTA_E_INVALID_ARGUMENT (not a loopback http URI).
  struct outcome {
    std::int32_t status = 0;
    std::string message;
    std::string value;  // the full redirect URL
  };
  using finish_fn = std::function<void(outcome)>;
  using say_fn = std::function<void(std::string_view)>;

  /// Binds 127.0.0.1 and starts accepting. On failure returns null with `status`/`why` set.
  static std::shared_ptr<redirect_listener> listen(asio::strand<asio::any_io_executor> strand,
                                                   std::string_view requested_uri, std::int32_t& status,
                                                   std::string& why);
  ~redirect_listener();

  /// "http://127.0.0.1:<port><path>".
  const std::string& uri() const noexcept { return uri_; }
  bool awaiting() const noexcept { return static_cast<bool>(finish_); }

  /// Waits for the redirect. `finish` is called exactly once, later, on the strand — unless
  /// close() comes first. With `read_stdin`, a line pasted on stdin that starts with uri()
  /// is accepted too (`say` explains a rejected line). `blocking` reads a stdin that is a
  /// regular file.
  void await(std::chrono::milliseconds timeout, bool read_stdin, say_fn say, asio::any_io_executor blocking,
             finish_fn finish);
  /// Stops listening, reading and waiting; `finish` is never called afterwards.
  void close();

  redirect_listener(asio::strand<asio::any_io_executor> strand, listen_spec spec);

 private:
  struct connection;
  void accept_next();
  void serve(std::shared_ptr<connection> c);
  void arrived(const std::string& url);
  void finish(outcome o);
  void read_line();
  void read_line_blocking();
  void pasted(std::string line);

  asio::strand<asio::any_io_executor> strand_;
  listen_spec spec_;
  asio::ip::tcp::acceptor acceptor_;
  std::string uri_;
  bool closed_ = false;
  std::optional<std::string> early_;  // a redirect that came before await()
  finish_fn finish_;
  say_fn say_;
  std::chrono::milliseconds timeout_{0};
  asio::steady_timer deadline_;
  std::set<std::shared_ptr<connection>> connections_;
  std::unique_ptr<asio::posix::stream_descriptor> stdin_;
  std::string stdin_buf_;
  asio::any_io_executor blocking_;
};

}  // namespace fracta::login
