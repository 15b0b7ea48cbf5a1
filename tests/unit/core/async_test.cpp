// SPDX-License-Identifier: Apache-2.0
// Awaitable helpers: async_event, task_count, single_flight coalescing (values and exceptions), run_on.
#include "core/async.hpp"

#include <stdexcept>

#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <doctest/doctest.h>

#include "core/clock.hpp"

namespace {

asio::awaitable<int> slow_value(int& calls, int v) {
  ++calls;
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
  co_await t.async_wait(asio::use_awaitable);
  co_return v;
}

asio::awaitable<int> slow_failure(int& calls) {
  ++calls;
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
  co_await t.async_wait(asio::use_awaitable);
  throw std::runtime_error("refresh exploded");
}

asio::awaitable<void> join(fracta::core::single_flight<int>& sf, int& calls, std::vector<int>& got, int v) {
  got.push_back(co_await sf.run([&] { return slow_value(calls, v); }));
}

asio::awaitable<void> join_failing(fracta::core::single_flight<int>& sf, int& calls, int& failures) {
  try {
    (void)co_await sf.run([&] { return slow_failure(calls); });
  } catch (const std::runtime_error&) {
    ++failures;
  }
}

asio::awaitable<void> wait_then(fracta::core::async_event& ev, int& order, int& seen) {
  co_await ev.wait();
  seen = ++order;
}

asio::awaitable<void> idle_then(fracta::core::task_count& tasks, bool& idle) {
  co_await tasks.idle();
  idle = true;
}

asio::awaitable<bool> in_strand(asio::strand<asio::io_context::executor_type> s) {
  co_return s.running_in_this_thread();
}

}  // namespace

TEST_CASE("async_event resumes every waiter once set, and later waiters at once") {
  asio::io_context io;
  fracta::core::async_event ev;
  int order = 0, a = 0, b = 0;
  asio::co_spawn(io, wait_then(ev, order, a), asio::detached);
  asio::co_spawn(io, wait_then(ev, order, b), asio::detached);
  io.poll();
  CHECK(a == 0);
  CHECK(b == 0);
  ev.set();
  io.restart();
  io.poll();
  CHECK(a > 0);
  CHECK(b > 0);
  int c = 0;
  asio::co_spawn(io, wait_then(ev, order, c), asio::detached);
  io.restart();
  io.poll();
  CHECK(c == 3);
}

TEST_CASE("task_count resumes idle() only when the last task has left, and at once when none runs") {
  asio::io_context io;
  fracta::core::task_count tasks;
  bool idle = false;
  asio::co_spawn(io, idle_then(tasks, idle), asio::detached);
  io.poll();
  CHECK(idle);  // nothing was running
  tasks.enter();
  tasks.enter();
  idle = false;
  asio::co_spawn(io, idle_then(tasks, idle), asio::detached);
  io.restart();
  io.poll();
  CHECK_FALSE(idle);
  tasks.leave();
  io.restart();
  io.poll();
  CHECK_FALSE(idle);
  CHECK(tasks.running() == 1);
  tasks.leave();
  io.restart();
  io.poll();
  CHECK(idle);
}

TEST_CASE("single_flight runs once for concurrent callers and gives all the same value") {
  asio::io_context io;
  fracta::core::single_flight<int> sf;
  int calls = 0;
  std::vector<int> got;
  for (int i = 0; i < 5; ++i) asio::co_spawn(io, join(sf, calls, got, 42 + i), asio::detached);
  io.run();
  CHECK(calls == 1);
  CHECK(got == std::vector<int>(5, 42));
  CHECK_FALSE(sf.in_flight());
  // A later call starts a new run.
  io.restart();
  asio::co_spawn(io, join(sf, calls, got, 7), asio::detached);
  io.run();
  CHECK(calls == 2);
  CHECK(got.back() == 7);
}

TEST_CASE("single_flight passes a failure to every waiter") {
  asio::io_context io;
  fracta::core::single_flight<int> sf;
  int calls = 0, failures = 0;
  for (int i = 0; i < 3; ++i) asio::co_spawn(io, join_failing(sf, calls, failures), asio::detached);
  io.run();
  CHECK(calls == 1);
  CHECK(failures == 3);
}

TEST_CASE("run_on runs the work on the given strand and returns its value") {
  asio::io_context io;
  auto strand = asio::make_strand(io.get_executor());
  CHECK(fracta::core::run_async(io, fracta::core::run_on(strand, in_strand(strand))));
}

TEST_CASE("fake_clock moves only when told") {
  fracta::core::fake_clock c(1000);
  CHECK(c.wall_ms() == 1000);
  CHECK(c.monotonic_ms() == 0);
  c.advance(std::chrono::milliseconds(250));
  CHECK(c.wall_ms() == 1250);
  CHECK(c.monotonic_ms() == 250);
}
