// SPDX-License-Identifier: Apache-2.0
// The login and refresh locks: one non-blocking flock attempt at a time; callers poll with a timer.
#include "login/lock.hpp"

#include <sodium.h>

#include "store/select.hpp"

namespace fracta::login {
namespace fs = std::filesystem;

held_lock::held_lock(std::unique_ptr<core::lock_file> file) noexcept : file_(std::move(file)) {}
held_lock::~held_lock() = default;  // closing the lock file releases the flock

fs::path lock_path(const std::string& server) { return store::state_dir() / "locks" / (server + ".lock"); }

fs::path refresh_lock_path(const config::server& server) {
  // The URL cannot go into a file name as it is ('/', length): a hash of the whole key.
  [[maybe_unused]] static const int sodium_ready = sodium_init();  // thread-safe, idempotent
  const std::string key = store::server_key(server);
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return store::state_dir() / "locks" / (server.name + ".refresh-" + hex + ".lock");
}

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

asio::awaitable<lock_attempt> try_lock_on_pool(const fs::path* path) { co_return try_lock(*path); }

}  // namespace fracta::login
