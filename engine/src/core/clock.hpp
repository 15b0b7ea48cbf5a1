// SPDX-License-Identifier: Apache-2.0
// Clocks the engine reads time from, and the timers they drive: the real ones, and a fake clock
// tests move by hand (its timers fire only when it is advanced).
#pragma once
#include "core/internal.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <asio/any_io_executor.hpp>

namespace fracta::core {

/// A one-shot timer whose time comes from a clock. Actor-bound: wait() and cancel() are called
/// on the strand of the executor it was made for, and `done` runs there, never inline.
class timer {
 public:
  virtual ~timer() = default;
  /// Calls `done(true)` once `delay` has passed on the clock, or `done(false)` when the wait is
  /// cancelled (by cancel(), by a later wait(), or by destroying the timer).
  virtual void wait(std::chrono::milliseconds delay, std::function<void(bool fired)> done) = 0;
  virtual void cancel() = 0;
};

/// Wall (unix) and monotonic time in milliseconds, and timers on the same time. Thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  virtual std::int64_t wall_ms() const noexcept = 0;
  virtual std::int64_t monotonic_ms() const noexcept = 0;
  /// A timer on `ex` that follows this clock. The default is an asio::steady_timer.
  virtual std::unique_ptr<timer> make_timer(asio::any_io_executor ex) const;
};

/// The system's clocks.
class real_clock final : public clock {
 public:
  std::int64_t wall_ms() const noexcept override;
  std::int64_t monotonic_ms() const noexcept override;
};

/// A clock that only moves when told to; its timers fire (through a post to their executor)
/// when advance() reaches their deadline. Thread-safe.
class fake_clock final : public clock {
 public:
  explicit fake_clock(std::int64_t wall_start_ms = 1'700'000'000'000) : wall_(wall_start_ms) {}
  ~fake_clock() override;
  std::int64_t wall_ms() const noexcept override { return wall_.load(); }
  std::int64_t monotonic_ms() const noexcept override { return mono_.load(); }
  std::unique_ptr<timer> make_timer(asio::any_io_executor ex) const override;
  /// Moves both clocks and fires every timer whose deadline has come.
  void advance(std::chrono::milliseconds d);
  /// How many timers are waiting (for tests that wait until something is scheduled).
  std::size_t pending_timers() const;

 private:
  class manual_timer;
  friend class manual_timer;
  std::atomic<std::int64_t> wall_;
  std::atomic<std::int64_t> mono_{0};
  mutable std::mutex mutex_;
  mutable std::vector<manual_timer*> timers_;  // registered while they live
};

/// The process-wide real clock.
std::shared_ptr<const clock> system_clock();

}  // namespace fracta::core
