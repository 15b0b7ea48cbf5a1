// SPDX-License-Identifier: Apache-2.0
// The proxy's stdio transport: newline-delimited messages read from stdin and written to
// stdout. Pipes, sockets and terminals are driven by the event loop itself; anything epoll
// cannot watch (a regular file) is read or written by a thread of its own. Neither a slow host
// nor a blocked pipe ever holds the loop.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace fracta::proxy {

/// Reads lines from `fd` until end of file. `on_line` receives each line (without its newline;
/// a line over `max_line` bytes is dropped and reported to `on_oversize`), `on_eof` once at
/// the end; all three are called on the loop's thread. Loop-bound.
class line_reader final {
 public:
  line_reader(asio::io_context& io, int fd, std::size_t max_line, std::function<void(std::string)> on_line,
              std::function<void(std::size_t)> on_oversize, std::function<void()> on_eof);
  ~line_reader();  // a reading thread is joined: only once end of file was reached
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

 private:
  void read_more();
  void consume(const char* data, std::size_t n);  // splits into lines (any thread)
  void deliver(std::string line);
  void oversize(std::size_t n);
  void thread_main();

  asio::io_context& io_;
  int fd_;
  std::size_t max_line_;
  std::function<void(std::string)> on_line_;
  std::function<void(std::size_t)> on_oversize_;
  std::function<void()> on_eof_;
  std::unique_ptr<asio::posix::stream_descriptor> stream_;  // when the loop can watch fd
  std::unique_ptr<char[]> buffer_;
  std::string line_;
  std::size_t dropped_ = 0;  // bytes of an oversize line being skipped
  std::thread thread_;       // otherwise
};

/// Writes whole lines to `fd` in the order given; write() never blocks. Loop-bound (write()
/// from the loop's thread), except finish().
class line_writer final {
 public:
  line_writer(asio::io_context& io, int fd);
  ~line_writer();
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;

  /// Queues `line` and a newline.
  void write(std::string line);
  /// Calls `then` (on the loop) once everything queued so far is written, or the host went away.
  void when_drained(std::function<void()> then);
  /// After the loop stopped: writes what is still queued (blocking), then returns.
  void finish();

 private:
  void write_next();
  void thread_main();

  asio::io_context& io_;
  int fd_;
  std::unique_ptr<asio::posix::stream_descriptor> stream_;
  std::deque<std::string> queue_;
  bool writing_ = false, broken_ = false;
  std::function<void()> drained_;
  // The thread mode (a regular file, or stdout sharing its file with stderr).
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fracta::proxy
