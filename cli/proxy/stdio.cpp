// SPDX-License-Identifier: Apache-2.0
// The proxy's stdio transport (see stdio.hpp).
#include "proxy/stdio.hpp"

#include <unistd.h>

#include <cerrno>

namespace fracta::proxy {

line_reader::line_reader(int fd, std::size_t max_line, std::function<void(std::string)> on_line,
                         std::function<void(std::size_t)> on_oversize, std::function<void()> on_eof)
    : fd_(fd), max_line_(max_line), on_line_(std::move(on_line)), on_oversize_(std::move(on_oversize)),
      on_eof_(std::move(on_eof)), thread_([this] { run(); }) {}

line_reader::~line_reader() {
  if (thread_.joinable()) thread_.join();
}

void line_reader::run() {
  std::string line;
  std::size_t dropped = 0;  // bytes of an oversize line being skipped
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::size_t start = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      if (buf[i] != '\n') continue;
      const std::size_t len = i - start;
      if (dropped > 0 || line.size() + len > max_line_) {
        on_oversize_(dropped + line.size() + len);
        dropped = 0;
        line.clear();
      } else {
        line.append(buf + start, len);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) on_line_(std::move(line));
        line.clear();
      }
      start = i + 1;
    }
    const std::size_t rest = static_cast<std::size_t>(n) - start;
    if (dropped > 0 || line.size() + rest > max_line_) {
      dropped += line.size() + rest;
      line.clear();
    } else {
      line.append(buf + start, rest);
    }
  }
  if (!line.empty() && dropped == 0) on_line_(std::move(line));
  on_eof_();
}

line_writer::line_writer(int fd) : fd_(fd), thread_([this] { run(); }) {}

line_writer::~line_writer() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void line_writer::write(std::string line) {
  line.push_back('\n');
  {
    std::lock_guard lk(mutex_);
    if (broken_) return;
    queue_.push_back(std::move(line));
  }
  wake_.notify_one();
}

void line_writer::flush() {
  std::unique_lock lk(mutex_);
  drained_.wait(lk, [this] { return broken_ || (queue_.empty() && !busy_); });
}

void line_writer::run() {
  std::unique_lock lk(mutex_);
  for (;;) {
    wake_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    std::string line = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lk.unlock();
    std::size_t done = 0;
    bool failed = false;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed = true;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    lk.lock();
    busy_ = false;
    if (failed) {
      broken_ = true;  // the host went away: nothing more can reach it
      queue_.clear();
    }
    drained_.notify_all();
  }
  drained_.notify_all();
}

}  // namespace fracta::proxy
