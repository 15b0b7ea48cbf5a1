// SPDX-License-Identifier: Apache-2.0
// Actor strands: entering an idle strand from a thread outside the loop, queueing behind a busy
// one, and what is posted to a strand whose loop never runs again.
#include "core/actor.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <doctest/doctest.h>

using fracta::core::make_actor_strand;
using fracta::core::run_now_on;
using fracta::core::run_or_post_on;

TEST_CASE("run_now_on enters an idle actor strand on the calling thread before any thread runs the loop") {
  asio::io_context io;
  const auto s = make_actor_strand(io.get_executor());
  bool on_strand = false;
  bool posted_ran = false;
  run_now_on(s, [&] {
    on_strand = s.running_in_this_thread();
    asio::post(s, [&] { posted_ran = true; });  // queued behind, not run inline
  });
  CHECK(on_strand);
  CHECK_FALSE(posted_ran);
  CHECK_FALSE(io.stopped());  // entering did not stop a loop that has not run yet
  io.run();
  CHECK(posted_ran);
}

TEST_CASE("run_now_on on a strand busy on a loop thread waits for its turn, and runs there") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  const auto s = make_actor_strand(io.get_executor());
  std::atomic<bool> release{false}, holding{false};
  asio::post(s, [&] {
    holding = true;
    while (!release) std::this_thread::yield();
  });
  while (!holding) std::this_thread::yield();
  std::atomic<bool> ran_on_strand{false};
  std::thread releaser([&] { release = true; });
  run_now_on(s, [&] { ran_on_strand = s.running_in_this_thread(); });
  CHECK(ran_on_strand);
  releaser.join();
  guard.reset();
  loop.join();
}

TEST_CASE("work posted by run_or_post_on to a strand whose loop stopped runs when the context is destroyed") {
  bool ran = false;
  {
    asio::io_context io;
    const auto s = make_actor_strand(io.get_executor());
    asio::post(s, [] {});  // the strand is now queued on a loop that will never run again
    run_or_post_on(s, [&] { ran = true; });
    CHECK_FALSE(ran);
  }
  CHECK(ran);
}

TEST_CASE("strands not made by make_actor_strand run the function directly") {
  asio::io_context io;
  const auto plain = asio::make_strand(io.get_executor());
  CHECK_FALSE(fracta::core::is_actor_strand(plain));
  CHECK(fracta::core::is_actor_strand(make_actor_strand(io.get_executor())));
  bool ran = false;
  run_or_post_on(plain, [&] { ran = true; });
  CHECK(ran);
}

TEST_CASE("many actors entered from several threads while four threads run the loop keep their state single-threaded") {
  asio::io_context io(4);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> loop;
  for (int i = 0; i < 4; ++i) loop.emplace_back([&] { io.run(); });
  std::atomic<int> off_strand{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        const auto s = make_actor_strand(io.get_executor());
        auto counter = std::make_shared<int>(0);  // strand-only
        for (int k = 0; k < 3; ++k) {
          asio::post(s, [s, counter, &off_strand] {
            if (!s.running_in_this_thread()) ++off_strand;
            ++*counter;
          });
        }
        run_now_on(s, [s, counter, &off_strand] {
          if (!s.running_in_this_thread()) ++off_strand;
          ++*counter;
        });
      }
    });
  }
  for (auto& c : callers) c.join();
  guard.reset();
  for (auto& l : loop) l.join();
  CHECK(off_strand == 0);
}
