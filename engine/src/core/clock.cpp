// SPDX-License-Identifier: Apache-2.0
// The real clock and its steady_timer timers; the fake clock's hand-driven timers.
#include "core/clock.hpp"

#include <algorithm>
#include <utility>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

namespace fracta::core {
namespace {

class steady final : public timer {
 public:
  explicit steady(asio::any_io_executor ex) : timer_(std::move(ex)) {}
  void wait(std::chrono::milliseconds delay, std::function<void(bool)> done) override {
    timer_.expires_after(delay);  // cancels a pending wait: it completes with false
    timer_.async_wait([done = std::move(done)](std::error_code ec) { done(!ec); });
  }
  void cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace

std::unique_ptr<timer> clock::make_timer(asio::any_io_executor ex) const {
  return std::make_unique<steady>(std::move(ex));
}

std::int64_t real_clock::wall_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t real_clock::monotonic_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::shared_ptr<const clock> system_clock() {
  static const auto c = std::make_shared<const real_clock>();
  return c;
}

// ---- fake clock -------------------------------------------------------------------------------

class fake_clock::manual_timer final : public timer {
 public:
  manual_timer(const fake_clock* owner, asio::any_io_executor ex) : owner_(owner), ex_(std::move(ex)) {
    std::lock_guard lk(owner_->mutex_);
    owner_->timers_.push_back(this);
  }
  ~manual_timer() override {
    {
      std::lock_guard lk(owner_->mutex_);
      std::erase(owner_->timers_, this);
    }
    finish(false);
  }
  void wait(std::chrono::milliseconds delay, std::function<void(bool)> done) override {
    finish(false);
    std::lock_guard lk(owner_->mutex_);
    deadline_ = owner_->monotonic_ms() + std::max<std::int64_t>(delay.count(), 0);
    done_ = std::move(done);
  }
  void cancel() override { finish(false); }

  // With the owner's mutex held: the handler to fire, if this timer is due at `now`.
  std::function<void(bool)> take_if_due(std::int64_t now) {
    if (!done_ || deadline_ > now) return {};
    return std::exchange(done_, {});
  }
  const asio::any_io_executor& executor() const { return ex_; }
  bool waiting() const { return static_cast<bool>(done_); }  // with the owner's mutex held

 private:
  void finish(bool fired) {
    std::function<void(bool)> d;
    {
      std::lock_guard lk(owner_->mutex_);
      d = std::exchange(done_, {});
    }
    if (d) asio::post(ex_, [d = std::move(d), fired] { d(fired); });
  }

  const fake_clock* owner_;
  asio::any_io_executor ex_;
  std::int64_t deadline_ = 0;
  std::function<void(bool)> done_;
};

fake_clock::~fake_clock() = default;

std::unique_ptr<timer> fake_clock::make_timer(asio::any_io_executor ex) const {
  return std::make_unique<manual_timer>(this, std::move(ex));
}

void fake_clock::advance(std::chrono::milliseconds d) {
  wall_ += d.count();
  const std::int64_t now = mono_ += d.count();
  std::vector<std::pair<asio::any_io_executor, std::function<void(bool)>>> due;
  {
    std::lock_guard lk(mutex_);
    for (auto* t : timers_) {
      if (auto f = t->take_if_due(now)) due.emplace_back(t->executor(), std::move(f));
    }
  }
  for (auto& [ex, f] : due) asio::post(ex, [f = std::move(f)] { f(true); });
}

std::size_t fake_clock::pending_timers() const {
  std::lock_guard lk(mutex_);
  std::size_t n = 0;
  for (auto* t : timers_) n += t->waiting() ? 1 : 0;
  return n;
}

}  // namespace fracta::core
