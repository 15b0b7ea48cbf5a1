// SPDX-License-Identifier: Apache-2.0
// The cross-process login lock: flock on $XDG_STATE_HOME/fracta/locks/<server>.lock.
#pragma once
#include "core/internal.hpp"

#include <filesystem>
#include <memory>
#include <string>

#include "core/files.hpp"

namespace fracta::login {

/// A held lock; released when destroyed. Not copyable.
class held_lock final {
 public:
  explicit held_lock(std::unique_ptr<core::lock_file> file) noexcept;
  ~held_lock();
  held_lock(const held_lock&) = delete;
  held_lock& operator=(const held_lock&) = delete;

 private:
  std::unique_ptr<core::lock_file> file_;
};

struct lock_attempt {
  std::shared_ptr<held_lock> held;  // set when acquired
  bool busy = false;                // another process (or session) holds it
  std::string error;                // set when the lock file cannot be used
};

/// <state dir>/locks/<server>.lock.
std::filesystem::path lock_path(const std::string& server);

/// One non-blocking attempt (directories created 0700). Blocking on disk: call it on the pool.
lock_attempt try_lock(const std::filesystem::path& path);

}  // namespace fracta::login
