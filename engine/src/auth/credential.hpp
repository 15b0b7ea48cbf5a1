// SPDX-License-Identifier: Apache-2.0
// Per-server credential state: applying, refreshing (single-flight, proactive) and the 401/403
// policy around one provider instance.
#pragma once
#include "core/internal.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/strand.hpp>

#include "core/async.hpp"
#include "core/clock.hpp"
#include "fracta/result.hpp"
#include "http/client.hpp"
#include "login/lock.hpp"
#include "plugin/instance.hpp"

namespace fracta::auth {

/// The part of a 401/403 answer people need: the server's own words, never a credential.
std::string describe_rejection(const http::response& resp);

/// Actor-bound: lives on its server's strand.
class credential final {
 public:
  credential(std::unique_ptr<plugin::provider_instance> instance, std::shared_ptr<const core::clock> clock,
             asio::strand<asio::any_io_executor> strand);
  ~credential();
  credential(const credential&) = delete;
  credential& operator=(const credential&) = delete;

  /// Attaches the current credential, refreshing first when the provider asks for it.
  asio::awaitable<result<void>> authorize(http::request& req);

  /// The server refused the credential (401/403). Ok means "retry the request once": the
  /// provider produced a new credential. An error says why no retry makes sense.
  asio::awaitable<result<void>> recover(const http::response& resp);

  plugin::provider_instance& instance() noexcept { return *instance_; }

  /// The object that owns this credential (the session). Background refreshes hold it while
  /// they run and skip when it is gone, so they never outlive what they refresh.
  void set_owner(std::weak_ptr<void> owner) {
    owner_ = std::move(owner);
    has_owner_ = true;
  }

  /// A login produced a credential expiring at `expires_at_ms` (unix ms): schedules the
  /// proactive refresh as a refresh would.
  void logged_in(std::int64_t expires_at_ms) {
    if (expires_at_ms > 0) schedule_refresh(expires_at_ms);
  }

  /// The server's tokens persist in a store other processes (and other sessions of this one)
  /// share: every refresh() holds the server's refresh lock (login::refresh_lock_path) around
  /// the provider's refresh, so the provider re-reads the store, adopts what another holder
  /// stored, or redeems and persists, with nobody else doing the same meanwhile. Each attempt
  /// opens the file anew (flock is per open file), one non-blocking try on `blocking`, polled
  /// with a short backoff for up to refresh_lock_wait_ms; a lock still busy then fails that
  /// refresh as transient, naming the file, and keeps the credential. Unset: no lock.
  struct refresh_lock {
    std::filesystem::path path;
    asio::any_io_executor blocking;                 // the engine's pool: the attempts touch the disk
    std::function<void(const std::string&)> debug;  // optional: the waits and a lock that cannot be used
  };
  void set_refresh_lock(refresh_lock lock) { lock_ = std::move(lock); }
  static constexpr std::int64_t refresh_lock_wait_ms = 30'000;

  /// Refreshes now (coalesced with any refresh in flight).
  asio::awaitable<plugin::op_result> refresh();

  /// Hears each refresh: nullptr when one starts, its outcome when it ends (after a failed
  /// background refresh, once more when its retry is scheduled: next_refresh_at_ms()).
  std::function<void(const plugin::op_result*)> on_refresh;
  /// Waits for a refresh in flight (a background one included) to finish; starts none. Closing
  /// a session waits for it: a refresh token the authorization server already rotated must
  /// reach the store before a short-lived process exits, or every process sharing the store is
  /// left holding the spent one (the next to present it revokes the grant).
  asio::awaitable<void> settle();

  /// When the next proactive refresh is due (unix ms), or 0 when none is scheduled.
  std::int64_t next_refresh_at_ms() const noexcept { return next_refresh_at_ms_; }

  /// The wait before background retry number `failures` (0-based) after transient failures:
  /// 20 s doubling up to 10 min, minus up to a quarter of random jitter. Thread-safe.
  static std::int64_t retry_delay_ms(int failures);

 private:
  void schedule_refresh(std::int64_t expires_at_ms);
  void arm(std::int64_t delay_ms);
  asio::awaitable<void> background_refresh(std::shared_ptr<void> keep);
  asio::awaitable<plugin::op_result> locked_refresh();
  /// Held: the lock. Null with `failure` set: the wait ran out. Null alone: proceed unlocked.
  asio::awaitable<std::shared_ptr<login::held_lock>> take_refresh_lock(std::string& failure);
  error still_no_credential() const;
  error no_other_credential(const std::string& rejection) const;

  std::unique_ptr<plugin::provider_instance> instance_;
  std::shared_ptr<const core::clock> clock_;
  asio::strand<asio::any_io_executor> strand_;
  core::single_flight<plugin::op_result> refresh_flight_;
  std::int64_t next_refresh_at_ms_ = 0;
  int background_failures_ = 0;             // transient failures in a row
  std::unique_ptr<core::timer> timer_;      // the proactive refresh, on clock_'s time
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // strand-only
  std::weak_ptr<void> owner_;
  bool has_owner_ = false;
  std::optional<refresh_lock> lock_;
};

}  // namespace fracta::auth
