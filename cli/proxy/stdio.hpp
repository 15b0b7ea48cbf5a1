// SPDX-License-Identifier: Apache-2.0
// The proxy's stdio transport: newline-delimited messages read from a file descriptor on a
// thread of their own and handed to the loop, and written from a queue by another, so neither
// a slow host nor a blocked pipe ever holds the event loop.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace fracta::proxy {

/// Reads lines from `fd` until end of file. `on_line` receives each line (without its newline;
/// a line over `max_line` bytes is dropped and reported as `on_oversize`), `on_eof` once at
/// the end; both are called on the reader's thread and must only hand the work on (post).
class line_reader final {
 public:
  line_reader(int fd, std::size_t max_line, std::function<void(std::string)> on_line,
              std::function<void(std::size_t)> on_oversize, std::function<void()> on_eof);
  ~line_reader();  // joins: only once end of file was reached (or the fd was closed)
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

 private:
  void run();
  int fd_;
  std::size_t max_line_;
  std::function<void(std::string)> on_line_;
  std::function<void(std::size_t)> on_oversize_;
  std::function<void()> on_eof_;
  std::thread thread_;
};

/// Writes whole lines to `fd` in the order given. write() never blocks on the descriptor.
/// Thread-safe.
class line_writer final {
 public:
  explicit line_writer(int fd);
  ~line_writer();  // flushes what is queued, then joins
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;

  /// Queues `line` and a newline.
  void write(std::string line);
  /// Waits until everything queued so far is written (or the reader went away).
  void flush();

 private:
  void run();
  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_, drained_;
  std::deque<std::string> queue_;
  bool stopping_ = false, broken_ = false, busy_ = false;
  std::thread thread_;
};

}  // namespace fracta::proxy
