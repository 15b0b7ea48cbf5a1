// SPDX-License-Identifier: Apache-2.0
// The actor rule for provider instances with four loop threads: the plugin's create(), the
// completions it starts and its destroy() run on the instance's strand.
#include "plugin/instance.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <optional>

#include <doctest/doctest.h>

#include "../http/test_support.hpp"
#include "core/actor.hpp"

using fracta::plugin::provider_instance;

namespace {

fracta_str str(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

namespace {

// What a provider observed about where it ran. Written on the strand, read after joins.
struct actor_probe {
  const asio::strand<asio::any_io_executor>* strand = nullptr;
  std::atomic<bool> create_on_strand{false};
  std::atomic<bool> create_returned{false};
  std::atomic<int> callbacks{0};
  std::atomic<int> callbacks_off_strand{0};
  std::atomic<int> callbacks_before_create_returned{0};
  std::atomic<bool> destroy_on_strand{false};
  std::atomic<bool> destroyed{false};
} probe;

void probe_callback(void*, int32_t, const fracta_outcome*) {
  if (!probe.strand->running_in_this_thread()) ++probe.callbacks_off_strand;
  if (!probe.create_returned) ++probe.callbacks_before_create_returned;
  ++probe.callbacks;
}

// create() starts a post, a store read and a zero timer, then takes its time returning, as a
// provider that resolves secrets would.
const fracta_provider probing = {
    sizeof(fracta_provider), "probe", 0,
    [](const fracta_host* h, fracta_str, void** inst, const fracta_sink*) -> int32_t {
      probe.create_on_strand = probe.strand->running_in_this_thread();
      h->post(h->host_ctx, fracta_completion{&probe_callback, nullptr});
      (void)h->store_get(h->host_ctx, str("tokens"), fracta_completion{&probe_callback, nullptr});
      fracta_op_id op = 0;
      (void)h->timer_start(h->host_ctx, 0, fracta_completion{&probe_callback, nullptr}, &op);
      // Give the loop threads every chance to run a completion now, if one could.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
      while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
      probe.create_returned = true;
      *inst = &probe;
      return FRACTA_OK;
    },
    [](void*) {
      probe.destroy_on_strand = probe.strand->running_in_this_thread();
      probe.destroyed = true;
    },
    [](void*, fracta_request*, const fracta_sink*) -> int32_t { return FRACTA_OK; },
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

// What one instance needs, on an io_context run by four threads.
struct actor_fixture {
  fracta::test::loop_threads loop;
  fracta::http::client http{loop.io.get_executor()};
  fracta::config::server server;
  fracta::plugin::memory_store store;
  actor_fixture() {
    server.name = "t";
    server.url = "http://127.0.0.1:1/mcp";
  }
  // A new instance of the probing provider on a new actor strand (kept in `strand`).
  fracta::result<std::unique_ptr<provider_instance>> create(std::optional<fracta::core::actor_strand>& strand) {
    strand.emplace(fracta::core::make_actor_strand(loop.io.get_executor()));
    probe.strand = &*strand;
    probe.create_returned = false;
    probe.destroyed = probe.destroy_on_strand = false;
    probe.callbacks = probe.callbacks_off_strand = probe.callbacks_before_create_returned = 0;
    fracta::plugin::instance_context ctx{*strand, &http, fracta::core::system_clock(), &server, &store, {}, {}};
    return provider_instance::create(probing, ctx);
  }
};

bool wait_until(const std::function<bool()>& done, std::chrono::seconds max = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + max;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  return done();
}

}  // namespace

TEST_CASE("create() and the completions it starts run on the actor strand while four threads run the loop") {
  for (int round = 0; round < 20; ++round) {
    actor_fixture f;
    std::optional<fracta::core::actor_strand> strand;
    auto inst = f.create(strand);
    REQUIRE(inst.ok());
    CHECK(probe.create_on_strand);
    REQUIRE(wait_until([] { return probe.callbacks == 3; }));
    CHECK(probe.callbacks_off_strand == 0);
    CHECK(probe.callbacks_before_create_returned == 0);
    inst.value().reset();
  }
}

TEST_CASE("destroy() runs on the actor strand when the instance is dropped off the loop, with four loop threads") {
  actor_fixture f;
  for (int round = 0; round < 20; ++round) {
    std::optional<fracta::core::actor_strand> strand;
    auto inst = f.create(strand);
    REQUIRE(inst.ok());
    if (round % 2 == 0) REQUIRE(wait_until([] { return probe.callbacks == 3; }));  // else: still busy
    inst.value().reset();  // on this thread, which is not a loop thread
    CHECK(probe.destroyed);
    CHECK(probe.destroy_on_strand);
  }
}

