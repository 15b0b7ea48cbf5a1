// SPDX-License-Identifier: Apache-2.0
// file_watch: inotify events on the loop, debounced checks whose reads run on the blocking pool.
#include "core/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <sodium.h>

#include "config/detail.hpp"

namespace fracta::core {
namespace {

using digest = std::array<unsigned char, 32>;
using read_status = config::detail::file_read::status;

constexpr std::uint32_t watched_events = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE |
                                         IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::chrono::milliseconds max_retry{30'000};

// One check's read, made on the blocking pool. The contents are wiped when it goes.
struct file_read final {
  read_status what = read_status::failed;
  int error = 0;
  std::string data;
  digest sum{};
  file_read() = default;
  file_read(file_read&&) noexcept = default;
  file_read& operator=(file_read&&) = delete;
  file_read(const file_read&) = delete;
  ~file_read() {
    if (!data.empty()) sodium_memzero(data.data(), data.size());
  }
};

file_read read_and_hash(const std::string& path, std::size_t max_bytes) {
  [[maybe_unused]] static const int sodium_ready = sodium_init();  // thread-safe, idempotent
  config::detail::file_read r = config::detail::read_regular_file(path, max_bytes);
  file_read out;
  out.what = r.what;
  out.error = r.error;
  out.data = std::move(r.data);
  if (out.what == read_status::ok) {
    crypto_generichash(out.sum.data(), out.sum.size(), reinterpret_cast<const unsigned char*>(out.data.data()),
                       out.data.size(), nullptr, 0);
  }
  return out;
}

std::string why_unreadable(const file_read& r) {
  switch (r.what) {
    case read_status::ok: return "readable";
    case read_status::missing: return "missing";
    case read_status::not_regular: return "not a regular file";
    case read_status::too_large: return "too large";
    case read_status::failed: return std::generic_category().message(r.error);
  }
  return "unreadable";
}

}  // namespace

struct file_watch::state final : std::enable_shared_from_this<state> {
  state(asio::any_io_executor e, asio::any_io_executor b, std::string p, change_handler cb, options o)
      : ex(e), blocking(std::move(b)), path(std::move(p)), on_change(std::move(cb)), opts(std::move(o)),
        events(e), debounce(e), retry(e), retry_wait(opts.retry) {
    std::filesystem::path dir_path = std::filesystem::path(path).parent_path();
    dir = dir_path.empty() ? std::string(".") : dir_path.string();
  }

  asio::any_io_executor ex, blocking;
  std::string path, dir;
  change_handler on_change;
  options opts;
  asio::posix::stream_descriptor events;
  asio::steady_timer debounce, retry;
  std::chrono::milliseconds retry_wait;
  int wd = -1;
  int open_error = 0, watch_error = 0;  // of open(), reported by begin()
  bool stopped = false, armed = false, reading = false, dirty = false;
  bool retrying = false, lost_said = false;
  bool have_sum = false;
  digest sum{};
  std::uint64_t checks = 0;
  alignas(inotify_event) std::array<char, 4096> buffer{};

  void say(log_level level, const std::string& m) const {
    if (opts.log) opts.log(level, m);
  }

  // On the caller's thread: the watch is in place (events queue up) before open() returns.
  // No handler exists yet, so nothing races with this.
  void open() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      open_error = errno;
      return;
    }
    std::error_code ec;
    events.assign(fd, ec);
    if (ec) {
      ::close(fd);
      open_error = ec.value();
      return;
    }
    wd = ::inotify_add_watch(fd, dir.c_str(), watched_events);
    if (wd < 0) watch_error = errno;
  }

  // On the strand: everything asynchronous.
  void begin() {
    if (stopped) return;
    if (open_error != 0) {
      unavailable(open_error);
    } else if (watch_error == ENOENT || watch_error == ENOTDIR) {
      look_again_later();
      read_events();
    } else if (watch_error != 0) {
      unavailable(watch_error);
    } else {
      read_events();
    }
    start_check();  // the contents the next checks compare with
  }

  void unavailable(int e) {
    say(log_level::warn, "cannot watch " + path + " for changes (" + std::generic_category().message(e) +
                             "); a replaced file is noticed at the next refresh");
    std::error_code ignored;
    events.close(ignored);
  }

  // True when watching; false when inotify cannot be used here (said) or the directory is
  // gone (looked for again later).
  bool add_watch() {
    wd = ::inotify_add_watch(events.native_handle(), dir.c_str(), watched_events);
    if (wd >= 0) return true;
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      look_again_later();
      return true;  // the descriptor stays: it is read again once the watch is back
    }
    unavailable(e);
    return false;
  }

  void read_events() {
    events.async_read_some(asio::buffer(buffer), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_events(ec, n);
    });
  }

  void on_events(std::error_code ec, std::size_t n) {
    if (stopped) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) say(log_level::debug, "watching " + path + " ended: " + ec.message());
      return;
    }
    bool changed = false, lost = false;
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      inotify_event ev{};
      std::memcpy(&ev, buffer.data() + at, sizeof ev);
      at += sizeof(inotify_event) + ev.len;
      if ((ev.mask & IN_Q_OVERFLOW) != 0) {
        changed = true;
        continue;
      }
      if (ev.wd != wd || wd < 0) continue;  // a watch given up already
      if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) != 0) lost = true;
      else changed = true;
    }
    if (lost) {
      if (wd >= 0) ::inotify_rm_watch(events.native_handle(), wd);  // a moved directory keeps its watch
      wd = -1;
      say(log_level::debug, "the directory of " + path + " was removed or replaced; watching it again when it is back");
      if (!add_watch()) return;
      if (wd >= 0) changed = true;
    }
    if (changed) schedule_check();
    read_events();
  }

  void look_again_later() {
    if (retrying || stopped) return;
    retrying = true;
    retry.expires_after(retry_wait);
    retry_wait = std::min(retry_wait * 2, max_retry);
    retry.async_wait([self = shared_from_this()](std::error_code ec) {
      self->retrying = false;
      if (ec || self->stopped || self->wd >= 0) return;
      if (!self->add_watch()) return;
      if (self->wd < 0) return;  // still gone: looked for again later
      self->retry_wait = self->opts.retry;
      self->say(log_level::debug, "watching the directory of " + self->path + " again");
      self->schedule_check();
    });
  }

  void schedule_check() {
    if (reading) {
      dirty = true;  // checked again once the running read is back
      return;
    }
    if (armed) return;  // the pending check covers this event too
    armed = true;
    debounce.expires_after(opts.debounce);
    debounce.async_wait([self = shared_from_this()](std::error_code ec) {
      self->armed = false;
      if (ec || self->stopped) return;
      self->start_check();
    });
  }

  void start_check() {
    reading = true;
    // The pool holds no reference: a watch stopped meanwhile drops the result unread.
    const std::size_t max = opts.max_bytes != 0 ? opts.max_bytes : config::detail::max_secret_bytes;
    asio::post(blocking, [weak = weak_from_this(), ex = ex, path = path, max] {
      auto r = std::make_shared<file_read>(read_and_hash(path, max));
      asio::post(ex, [weak, r] {
        if (auto self = weak.lock()) self->on_read(*r);
      });
    });
  }

  void on_read(const file_read& r) {
    reading = false;
    if (stopped) return;
    ++checks;
    if (r.what != read_status::ok) {
      if (r.what != read_status::missing) say(log_level::debug, path + " cannot be read now (" + why_unreadable(r) + ")");
    } else if (!have_sum) {
      have_sum = true;
      sum = r.sum;
    } else if (r.sum != sum) {
      sum = r.sum;
      on_change(r.data);
      if (stopped) return;
    }
    if (std::exchange(dirty, false)) schedule_check();
  }

  void stop() noexcept {
    stopped = true;
    std::error_code ignored;
    debounce.cancel();
    retry.cancel();
    events.close(ignored);  // removes every watch of the descriptor
    wd = -1;
  }
};

file_watch::file_watch(asio::any_io_executor ex, asio::any_io_executor blocking, std::string path,
                       change_handler on_change, options opts)
    : s_(std::make_shared<state>(std::move(ex), std::move(blocking), std::move(path), std::move(on_change),
                                 std::move(opts))) {
  s_->open();
  asio::post(s_->ex, [s = s_] { s->begin(); });
}

file_watch::~file_watch() { stop(); }

void file_watch::stop() noexcept { s_->stop(); }

bool file_watch::watching() const noexcept { return s_->wd >= 0 && !s_->stopped; }

std::uint64_t file_watch::checks() const noexcept { return s_->checks; }

bool file_watch::idle() const noexcept { return !s_->armed && !s_->reading && !s_->dirty; }

}  // namespace fracta::core
