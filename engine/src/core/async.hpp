// SPDX-License-Identifier: Apache-2.0
// Awaitable helpers: a move-only callable, a one-shot async event, a task count, single-flight,
// run_on, sleep_for, run_async.
#pragma once
#include "core/internal.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "core/clock.hpp"

namespace fracta::core {

/// A move-only `void()` callable (std::move_only_function is C++23).
class unique_function final {
 public:
  unique_function() = default;
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, unique_function>)
  unique_function(F&& f)  // NOLINT: implicit like std::function
      : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
  unique_function(unique_function&&) noexcept = default;
  unique_function& operator=(unique_function&&) noexcept = default;

  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }
  void operator()() { impl_->call(); }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct model final : concept_t {
    explicit model(F&& f) : f_(std::move(f)) {}
    explicit model(const F& f) : f_(f) {}
    void call() override { f_(); }
    F f_;
  };
  std::unique_ptr<concept_t> impl_;
};

/// A latch that coroutines await until it is set. Actor-bound: set() and wait() run on the
/// same strand. Waiters resume through a post to their own executor, never inline.
class async_event final {
 public:
  async_event() = default;
  async_event(const async_event&) = delete;
  async_event& operator=(const async_event&) = delete;

  [[nodiscard]] bool is_set() const noexcept { return set_; }

  void set() {
    set_ = true;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) w();
  }

  asio::awaitable<void> wait() {
    if (set_) co_return;
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [this](auto handler) {
          auto ex = asio::get_associated_executor(handler);
          waiters_.emplace_back(
              [h = std::move(handler), ex]() mutable { asio::post(ex, std::move(h)); });
        },
        asio::use_awaitable);
  }

 private:
  bool set_ = false;
  std::vector<unique_function> waiters_;
};

/// Counts the detached tasks an actor has started, so that its close can wait until the last
/// one has ended (a task still running holds the actor, and its transfers, past the close).
/// enter() may run on any thread (before the task is posted to the actor); leave() and idle()
/// run on the actor's strand.
class task_count final {
 public:
  void enter() noexcept { running_.fetch_add(1, std::memory_order_relaxed); }
  void leave() {
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1 && idle_) std::exchange(idle_, nullptr)->set();
  }
  [[nodiscard]] std::size_t running() const noexcept { return running_.load(std::memory_order_acquire); }

  /// Resumes once no task is running (at once when none is).
  asio::awaitable<void> idle() {
    while (running() > 0) {
      if (!idle_) idle_ = std::make_shared<async_event>();
      auto ev = idle_;
      co_await ev->wait();
    }
  }

 private:
  std::atomic<std::size_t> running_{0};
  std::shared_ptr<async_event> idle_;
};

/// Coalesces concurrent runs of one operation: while a run is in flight, callers await its
/// result instead of starting another. Actor-bound.
template <class T>
class single_flight final {
 public:
  /// Runs `make()` unless a run is in flight; every caller gets the same result.
  template <class MakeAwaitable>
  asio::awaitable<T> run(MakeAwaitable make) {
    if (auto st = inflight_) {
      co_await st->done.wait();
      if (st->failure) std::rethrow_exception(st->failure);
      co_return *st->value;
    }
    auto st = std::make_shared<state>();
    inflight_ = st;
    try {
      st->value.emplace(co_await make());
    } catch (...) {
      st->failure = std::current_exception();
    }
    inflight_.reset();
    st->done.set();
    if (st->failure) std::rethrow_exception(st->failure);
    co_return *st->value;
  }

  [[nodiscard]] bool in_flight() const noexcept { return static_cast<bool>(inflight_); }

 private:
  struct state {
    async_event done;
    std::optional<T> value;
    std::exception_ptr failure;
  };
  std::shared_ptr<state> inflight_;
};

namespace detail {
// Both run on the target executor and drop `keep_alive` there, before the caller resumes: the
// last reference to an actor is released on its own strand.
template <class T>
asio::awaitable<void> store_into(asio::awaitable<T> aw, std::optional<T>& out, std::shared_ptr<void> keep_alive) {
  out.emplace(co_await std::move(aw));
  keep_alive.reset();
}
inline asio::awaitable<void> run_void(asio::awaitable<void> aw, std::shared_ptr<void> keep_alive) {
  co_await std::move(aw);
  keep_alive.reset();
}
}  // namespace detail

/// Runs `aw` on `ex` (an actor's strand) and resumes the caller on its own executor with the
/// value. `keep_alive` is held until the work is done and released on `ex`. (Plain functions
/// rather than capturing lambdas: GCC 12 mishandles lambda captures of coroutines handed to
/// co_spawn.) Callers build the run_on(…) awaitable in a named local and co_await that, so no
/// class temporary (executor, shared_ptr) lives across the suspension (GCC 12).
template <class T, class Executor>
asio::awaitable<T> run_on(Executor ex, asio::awaitable<T> aw, std::shared_ptr<void> keep_alive = {}) {
  std::optional<T> out;
  auto spawned = asio::co_spawn(ex, detail::store_into(std::move(aw), out, std::move(keep_alive)), asio::use_awaitable);
  co_await std::move(spawned);
  co_return std::move(*out);
}

template <class Executor>
asio::awaitable<void> run_on(Executor ex, asio::awaitable<void> aw, std::shared_ptr<void> keep_alive = {}) {
  auto spawned = asio::co_spawn(ex, detail::run_void(std::move(aw), std::move(keep_alive)), asio::use_awaitable);
  co_await std::move(spawned);
}

/// Waits `d` on the clock's time (a fake clock: until it has been advanced that far). `ex` is
/// the caller's strand. Actor-bound.
inline asio::awaitable<void> sleep_for(const clock& c, asio::any_io_executor ex, std::chrono::milliseconds d) {
  auto t = c.make_timer(std::move(ex));
  async_event done;
  t->wait(d, [&done](bool) { done.set(); });
  co_await done.wait();
}

/// Runs `aw` on `io` from outside the loop until it finishes (other work may remain queued),
/// and returns its value or rethrows its exception. For the CLI's main and for tests.
template <class T>
T run_async(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> value;
  std::exception_ptr failure;
  bool done = false;
  // Wrapped in an awaitable<void> so T need not be default-constructible.
  auto body = [](asio::awaitable<T> inner, std::optional<T>& out) -> asio::awaitable<void> {
    out.emplace(co_await std::move(inner));
  };
  asio::co_spawn(io, body(std::move(aw), value), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.restart();
  while (!done && io.run_one() > 0) {
  }
  if (failure) std::rethrow_exception(failure);
  return std::move(*value);
}

inline void run_async(asio::io_context& io, asio::awaitable<void> aw) {
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.restart();
  while (!done && io.run_one() > 0) {
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace fracta::core
