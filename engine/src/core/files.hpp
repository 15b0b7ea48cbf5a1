// SPDX-License-Identifier: Apache-2.0
// Private files on disk: `mkdir -p` with mode 0700, and exclusive flock()s on lock files.
#pragma once
#include "core/internal.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace fracta::core {

/// mkdir -p: creates each missing directory of `dir` with mode 0700 (existing ones are left
/// alone). Returns "" on success, else a message naming the directory. Blocking on disk.
[[nodiscard]] std::string make_private_dirs(const std::filesystem::path& dir);

/// An open lock file (created with mode 0600, close-on-exec) that can hold an exclusive
/// flock(); closing it releases the lock. Not copyable. Thread-compatible; blocking on disk.
class lock_file final {
 public:
  /// Opens `path`; null with `error` set when it cannot be opened.
  static std::unique_ptr<lock_file> open(const std::filesystem::path& path, std::string& error);
  ~lock_file();
  lock_file(const lock_file&) = delete;
  lock_file& operator=(const lock_file&) = delete;

  enum class attempt { held, busy, failed };
  /// One non-blocking attempt at the exclusive lock; `failed` sets `error`.
  [[nodiscard]] attempt try_lock(std::string& error);
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  lock_file(int fd, std::filesystem::path path) noexcept : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

}  // namespace fracta::core
