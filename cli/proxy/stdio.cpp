// SPDX-License-Identifier: Apache-2.0
// The proxy's stdio transport (see stdio.hpp).
#include "proxy/stdio.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <asio/post.hpp>
#include <asio/write.hpp>

namespace fracta::proxy {
namespace {

constexpr std::size_t chunk = 64 * 1024;

// The loop can drive `fd` (a pipe, socket or terminal; not a regular file): a descriptor on a
// duplicate of it, else nullptr.
std::unique_ptr<asio::posix::stream_descriptor> loop_stream(asio::io_context& io, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return nullptr;
  const int copy = ::dup(fd);
  if (copy < 0) return nullptr;
  auto s = std::make_unique<asio::posix::stream_descriptor>(io);
  std::error_code ec;
  s->assign(copy, ec);
  if (ec) {
    ::close(copy);
    return nullptr;
  }
  return s;
}

// stdout and stderr are one open file (`2>&1`): making stdout non-blocking would make the
// log lines on stderr fail when the pipe is full.
bool same_file(int a, int b) {
  struct stat sa {}, sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

line_reader::line_reader(asio::io_context& io, int fd, std::size_t max_line, std::function<void(std::string)> on_line,
                         std::function<void(std::size_t)> on_oversize, std::function<void()> on_eof)
    : io_(io), fd_(fd), max_line_(max_line), on_line_(std::move(on_line)), on_oversize_(std::move(on_oversize)),
      on_eof_(std::move(on_eof)), stream_(loop_stream(io, fd)), buffer_(new char[chunk]) {
  if (stream_) {
    read_more();
  } else {
    thread_ = std::thread([this] { thread_main(); });
  }
}

line_reader::~line_reader() {
  if (thread_.joinable()) thread_.join();
}

void line_reader::read_more() {
  stream_->async_read_some(asio::buffer(buffer_.get(), chunk), [this](const std::error_code& ec, std::size_t n) {
    consume(buffer_.get(), n);
    if (ec) {
      if (!line_.empty() && dropped_ == 0) deliver(std::move(line_));
      on_eof_();
      return;
    }
    read_more();
  });
}

void line_reader::thread_main() {
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.get(), chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    consume(buffer_.get(), static_cast<std::size_t>(n));
  }
  std::string rest = dropped_ == 0 ? std::move(line_) : std::string();
  asio::post(io_, [this, rest = std::move(rest)]() mutable {
    if (!rest.empty()) on_line_(std::move(rest));
    on_eof_();
  });
}

void line_reader::deliver(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return;
  if (stream_) {
    on_line_(std::move(line));
  } else {
    asio::post(io_, [this, line = std::move(line)]() mutable { on_line_(std::move(line)); });
  }
}

void line_reader::oversize(std::size_t n) {
  if (stream_) on_oversize_(n);
  else asio::post(io_, [this, n] { on_oversize_(n); });
}

void line_reader::consume(const char* data, std::size_t n) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] != '\n') continue;
    const std::size_t len = i - start;
    if (dropped_ > 0 || line_.size() + len > max_line_) {
      oversize(dropped_ + line_.size() + len);
      dropped_ = 0;
      line_.clear();
    } else {
      line_.append(data + start, len);
      deliver(std::move(line_));
      line_.clear();
    }
    start = i + 1;
  }
  const std::size_t rest = n - start;
  if (dropped_ > 0 || line_.size() + rest > max_line_) {
    dropped_ += line_.size() + rest;
    line_.clear();
  } else {
    line_.append(data + start, rest);
  }
}

line_writer::line_writer(asio::io_context& io, int fd)
    : io_(io), fd_(fd), stream_(same_file(fd, STDERR_FILENO) ? nullptr : loop_stream(io, fd)) {
  if (!stream_) thread_ = std::thread([this] { thread_main(); });
}

line_writer::~line_writer() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void line_writer::write(std::string line) {
  line.push_back('\n');
  if (!stream_) {
    {
      std::lock_guard lk(mutex_);
      if (broken_) return;
      queue_.push_back(std::move(line));
    }
    wake_.notify_one();
    return;
  }
  if (broken_) return;
  queue_.push_back(std::move(line));
  if (!writing_) write_next();
}

void line_writer::write_next() {
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(queue_.front()), [this](const std::error_code& ec, std::size_t) {
    writing_ = false;
    if (ec) {
      broken_ = true;  // the host went away: nothing more can reach it
      queue_.clear();
    } else {
      queue_.pop_front();
    }
    if (!queue_.empty()) {
      write_next();
    } else if (drained_) {
      auto then = std::move(drained_);
      drained_ = nullptr;
      then();
    }
  });
}

void line_writer::when_drained(std::function<void()> then) {
  if (!stream_ || !writing_) {
    then();  // the thread mode drains in finish()
    return;
  }
  drained_ = std::move(then);
}

void line_writer::finish() {
  if (!stream_) {
    {
      std::lock_guard lk(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    return;
  }
  // The loop has stopped: what is left (a write in progress started over) goes out blocking.
  std::error_code ec;
  stream_->cancel(ec);
  stream_->non_blocking(false, ec);
  stream_->native_non_blocking(false, ec);
  while (!broken_ && !queue_.empty()) {
    asio::write(*stream_, asio::buffer(queue_.front()), ec);
    if (ec) break;
    queue_.pop_front();
  }
  queue_.clear();
}

void line_writer::thread_main() {
  std::unique_lock lk(mutex_);
  for (;;) {
    wake_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    std::string line = std::move(queue_.front());
    queue_.pop_front();
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
    if (failed) {
      broken_ = true;
      queue_.clear();
    }
  }
}

}  // namespace fracta::proxy
