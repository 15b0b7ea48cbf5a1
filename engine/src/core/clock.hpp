// SPDX-License-Identifier: Apache-2.0
// Clocks the engine reads time from: the real one, and a fake one tests move by hand.
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstdint>
#include <memory>

namespace fracta::core {

/// Wall (unix) and monotonic time in milliseconds. Thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  virtual std::int64_t wall_ms() const noexcept = 0;
  virtual std::int64_t monotonic_ms() const noexcept = 0;
};

/// The system's clocks.
class real_clock final : public clock {
 public:
  std::int64_t wall_ms() const noexcept override;
  std::int64_t monotonic_ms() const noexcept override;
};

/// A clock that only moves when told to. Thread-compatible (tests drive it from one thread).
class fake_clock final : public clock {
 public:
  explicit fake_clock(std::int64_t wall_start_ms = 1'700'000'000'000) : wall_(wall_start_ms) {}
  std::int64_t wall_ms() const noexcept override { return wall_; }
  std::int64_t monotonic_ms() const noexcept override { return mono_; }
  void advance(std::chrono::milliseconds d) noexcept {
    wall_ += d.count();
    mono_ += d.count();
  }

 private:
  std::int64_t wall_;
  std::int64_t mono_ = 0;
};

/// The process-wide real clock.
std::shared_ptr<const clock> system_clock();

}  // namespace fracta::core
