// SPDX-License-Identifier: Apache-2.0
// The login lock: one non-blocking flock attempt at a time; callers poll with a timer.
#include "login/lock.hpp"

#include "store/select.hpp"

namespace fracta::login {
namespace fs = std::filesystem;

held_lock::held_lock(std::unique_ptr<core::lock_file> file) noexcept : file_(std::move(file)) {}
held_lock::~held_lock() = default;  // closing the lock file releases the flock

fs::path lock_path(const std::string& server) { return store::state_dir() / "locks" / (server + ".lock"); }

lock_attempt try_lock(const fs::path& path) {
  lock_attempt out;
  out.error = core::make_private_dirs(path.parent_path());
  if (!out.error.empty()) return out;
  auto file = core::lock_file::open(path, out.error);
  if (!file) return out;
  switch (file->try_lock(out.error)) {
    case core::lock_file::attempt::held:
      out.held = std::make_shared<held_lock>(std::move(file));
      break;
    case core::lock_file::attempt::busy:
      out.busy = true;
      break;
    case core::lock_file::attempt::failed:
      break;
  }
  return out;
}

}  // namespace fracta::login
