// SPDX-License-Identifier: Apache-2.0
// The entrance gate of actor strands: an executor that forwards to the loop's, except that the
// thread inside run_now_on() runs the strand's first handler batch itself.
#include "core/actor.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <typeinfo>
#include <utility>

#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/execution.hpp>

namespace fracta::core {
namespace {

// Set by run_now_on() around one dispatch: the next execute() on this thread runs inline.
thread_local bool enter_inline = false;

// A strand's inner executor. asio's strand hands its handler batch (the "invoker") to its inner
// executor when the strand goes from idle to busy; run_now_on() makes that batch run on the
// calling thread. Every other execute, and every property, goes to the loop's executor.
class gate {
 public:
  // A tag, not a one-argument constructor: any_io_executor converts from executors, and a
  // gate(any_io_executor) would make copying a gate ask whether a gate is an executor.
  gate(std::in_place_t, asio::any_io_executor inner) noexcept : inner_(std::move(inner)) {}

  template <class Function>
  void execute(Function&& f) const {
    if (enter_inline) {
      enter_inline = false;
      typename std::decay<Function>::type local(std::forward<Function>(f));
      local();
      return;
    }
    inner_.execute(std::forward<Function>(f));
  }

  asio::execution_context& query(asio::execution::context_t) const noexcept {
    return asio::query(inner_, asio::execution::context);
  }
  asio::execution::blocking_t query(asio::execution::blocking_t) const noexcept {
    return asio::query(inner_, asio::execution::blocking);
  }
  gate require(asio::execution::blocking_t::never_t p) const { return gate(std::in_place, asio::require(inner_, p)); }
  gate prefer(asio::execution::blocking_t::possibly_t p) const { return gate(std::in_place, asio::prefer(inner_, p)); }
  gate prefer(asio::execution::outstanding_work_t::tracked_t p) const { return gate(std::in_place, asio::prefer(inner_, p)); }
  gate prefer(asio::execution::outstanding_work_t::untracked_t p) const { return gate(std::in_place, asio::prefer(inner_, p)); }
  gate prefer(asio::execution::relationship_t::fork_t p) const { return gate(std::in_place, asio::prefer(inner_, p)); }
  gate prefer(asio::execution::relationship_t::continuation_t p) const { return gate(std::in_place, asio::prefer(inner_, p)); }

  friend bool operator==(const gate& a, const gate& b) noexcept { return a.inner_ == b.inner_; }
  friend bool operator!=(const gate& a, const gate& b) noexcept { return !(a == b); }

 private:
  asio::any_io_executor inner_;
};

struct waiter {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
};

// A handler that runs its function once: when invoked, or else when destroyed unrun.
class once final {
 public:
  explicit once(unique_function f) : f_(std::move(f)) {}
  once(once&&) noexcept = default;
  once& operator=(once&&) = delete;
  once(const once&) = delete;
  ~once() { run(); }
  void operator()() { run(); }

 private:
  void run() {
    if (!f_) return;
    auto f = std::move(f_);
    f_ = unique_function();
    f();
  }
  unique_function f_;
};

// Dispatches `f` to `s` with this thread allowed in; true when `f` started before returning.
bool enter(const actor_strand& s, unique_function f) {
  auto ran = std::make_shared<std::atomic<bool>>(false);
  // A pending no-op keeps the loop's work count above zero while the batch runs here: a
  // count that drops to zero stops an io_context that no thread is running yet.
  asio::post(s.get_inner_executor(), [] {});
  enter_inline = true;
  asio::dispatch(s, once([ran, f = std::move(f)]() mutable {
    ran->store(true);
    f();
  }));
  enter_inline = false;
  return ran->load();
}

}  // namespace

actor_strand make_actor_strand(const asio::any_io_executor& ex) {
  return asio::make_strand(asio::any_io_executor(gate(std::in_place, ex)));
}

bool is_actor_strand(const actor_strand& s) noexcept {
  // (asio 1.22's any_executor::target<T>() casts without checking the type.)
  return s.get_inner_executor().target_type() == typeid(gate);
}

void run_now_on(const actor_strand& s, unique_function f) {
  if (!is_actor_strand(s)) {
    f();
    return;
  }
  auto w = std::make_shared<waiter>();
  (void)enter(s, [w, f = std::move(f)]() mutable {
    f();
    std::lock_guard lk(w->mutex);
    w->done = true;
    w->cv.notify_all();
  });
  std::unique_lock lk(w->mutex);  // already done when it ran here
  w->cv.wait(lk, [&] { return w->done; });
}

void run_or_post_on(const actor_strand& s, unique_function f) {
  if (!is_actor_strand(s)) {
    f();
    return;
  }
  (void)enter(s, std::move(f));
}

}  // namespace fracta::core
