// SPDX-License-Identifier: Apache-2.0
// Test helpers for the http area: run_async, an io_context on several threads, loopback peers
// (cpp-httplib, scripted raw TCP, black hole).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace fracta::test {

namespace detail {
// The coroutine co_spawn runs: a plain function template taking pointers, not a capturing
// lambda (GCC 12 rule 1).
template <class Factory, class Value>
asio::awaitable<void> run_factory(Factory* make, Value* value) {
  if constexpr (std::is_same_v<Value, bool>) {
    co_await (*make)();
  } else {
    value->emplace(co_await (*make)());
  }
}
}  // namespace detail

/// Runs the coroutine made by `make()` on a fresh io_context driven by `threads` threads,
/// until the context runs out of work; returns its value and rethrows its exception.
template <class Factory>
auto run_async(Factory make, std::size_t threads = 1) {
  using awaitable_type = decltype(make());
  using value_type = typename awaitable_type::value_type;
  asio::io_context io(static_cast<int>(threads));
  std::exception_ptr failure;
  bool finished = false;
  // fracta::result<T> has no default constructor, which co_spawn's value handler requires:
  // the value travels through a void wrapper instead.
  std::conditional_t<std::is_void_v<value_type>, bool, std::optional<value_type>> value{};
  asio::co_spawn(io, detail::run_factory(&make, &value), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
  if (failure) std::rethrow_exception(failure);
  if (!finished) throw std::runtime_error("run_async: the coroutine never completed");
  if constexpr (!std::is_void_v<value_type>) return std::move(*value);
}

/// An io_context run by `n` threads (four by default) until the object goes away.
struct loop_threads {
  explicit loop_threads(int n = 4) : io(n) {
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { io.run(); });
  }
  ~loop_threads() {
    guard.reset();
    for (auto& t : threads) t.join();
  }
  loop_threads(const loop_threads&) = delete;
  loop_threads& operator=(const loop_threads&) = delete;

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
};

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's
/// backlog and requests are never answered (timeouts, cancellation).
class black_hole final {
 public:
  black_hole() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {}
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
};

/// A raw TCP peer on 127.0.0.1 with its own thread: for each connection it reads the request
/// head, records its first line, writes `reply(head)` verbatim and closes. Used as a forward
/// proxy (it records the absolute-form request line), for byte-exact fault injection, and as
/// a peer with a real listen backlog (cpp-httplib's is 5) for concurrency tests.
class scripted_server final {
 public:
  using reply_function = std::function<std::string(const std::string& head)>;

  explicit scripted_server(std::string reply)
      : scripted_server(reply_function([reply](const std::string&) { return reply; })) {}
  explicit scripted_server(reply_function reply)
      : reply_(std::move(reply)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~scripted_server() {
    io_.stop();
    thread_.join();
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  unsigned short port() const { return port_; }
  std::vector<std::string> request_lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::vector<std::string> request_heads() {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    try {
      asio::streambuf buffer;
      auto n = co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::use_awaitable);
      std::string head(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + n);
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(head.substr(0, head.find("\r\n")));
        heads_.push_back(head);
      }
      auto reply = reply_(head);
      co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
      asio::error_code ignored;
      socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    } catch (const std::exception&) {
      // the client went away: nothing to record
    }
  }

  reply_function reply_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = acceptor_.local_endpoint().port();
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<std::string> heads_;
};

/// A port on 127.0.0.1 with nothing listening (bound, then released).
inline unsigned short unused_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace fracta::test
