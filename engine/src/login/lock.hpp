// SPDX-License-Identifier: Apache-2.0
// The cross-process locks beside the token store: flock on $XDG_STATE_HOME/fracta/locks/…: one
// per server for its login, another for its refresh.
#pragma once
#include "core/internal.hpp"

#include <filesystem>
#include <memory>
#include <string>

#include <asio/awaitable.hpp>

#include "core/files.hpp"
#include "fracta/config.hpp"

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

/// <state dir>/locks/<server>.lock: the login lock.
std::filesystem::path lock_path(const std::string& server);

/// <state dir>/locks/<server>.refresh-<hash>.lock: the refresh lock of one server's stored
/// tokens, named from the identity its store items are filed under (store::server_key: name
/// and canonical URL, hashed), so two servers never share one and a name re-added with another
/// URL gets another. Apart from the login lock: a login may take minutes, a refresh must not
/// wait for it. Per server, hence per issuer (a server's tokens come from one issuer).
std::filesystem::path refresh_lock_path(const config::server& server);

/// One non-blocking attempt (directories created 0700), opening the file anew: flock belongs
/// to the open file, so two sessions of one process exclude each other too. Blocking on disk:
/// call it on the pool.
lock_attempt try_lock(const std::filesystem::path& path);

/// try_lock as a plain coroutine, for core::run_on(pool, …). A pointer, not a value: no class
/// temporary inside the caller's co_await expression (GCC 12).
asio::awaitable<lock_attempt> try_lock_on_pool(const std::filesystem::path* path);

}  // namespace fracta::login
