// SPDX-License-Identifier: Apache-2.0
// Watching one file for changes of its contents: inotify on its directory, read on the blocking pool.
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>

#include "fracta/engine.hpp"

namespace fracta::core {

/// Calls `on_change` when the contents of the file at `path` differ from the last ones seen.
/// The directory holding the path is watched with inotify (read through a stream_descriptor on
/// `ex`: no thread, nothing blocks the loop), so every way of replacing the file is seen: a
/// rewrite in place, a rename over it, a Kubernetes Secret's `..data` symlink swap. Any event
/// in the directory starts a check after `debounce` (so a swap's several events give one); a
/// check reads the file on `blocking` (at most `max_bytes`, as a secret file is read) and
/// compares a BLAKE2b digest of it with the last. The first check only records the contents.
/// A file missing or unreadable for a moment (mid-swap) is no change. A directory removed or
/// replaced is watched again when it is back. Without inotify (ENOSYS, no watches left) it says
/// so once (warn) and watches nothing. Contents never reach the log.
/// Actor-bound: stopped, queried and destroyed on `ex` (a strand), where `on_change` runs; it
/// may be made on any thread (the asynchronous part starts through a post to `ex`).
class file_watch final {
 public:
  struct options {
    std::chrono::milliseconds debounce{150};
    std::chrono::milliseconds retry{500};  ///< first wait before looking for a vanished directory (doubles to 30 s)
    std::size_t max_bytes = 0;  ///< 0: the cap of a SecretValue file
    std::function<void(log_level, std::string_view)> log;  ///< optional
  };
  /// The new contents, valid for the call only (wiped after it).
  using change_handler = std::function<void(std::string_view contents)>;

  /// The inotify watch is in place when this returns; the first check reads the file once
  /// `ex` runs.
  file_watch(asio::any_io_executor ex, asio::any_io_executor blocking, std::string path, change_handler on_change,
             options opts);
  ~file_watch();
  file_watch(const file_watch&) = delete;
  file_watch& operator=(const file_watch&) = delete;

  /// No callback after this; releases the inotify descriptor, so nothing keeps the loop busy
  /// once what was pending has completed (cancelled). Idempotent.
  void stop() noexcept;

  /// An inotify watch on the directory is in place.
  [[nodiscard]] bool watching() const noexcept;
  /// Checks completed so far (the first one records the contents).
  [[nodiscard]] std::uint64_t checks() const noexcept;
  /// No check is waiting or running.
  [[nodiscard]] bool idle() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> s_;
};

}  // namespace fracta::core
