// SPDX-License-Identifier: Apache-2.0
// The SDK's coroutines over host services (fracta/plugin_coro.hpp), driven by the fake host.
#include <fracta/plugin_coro.hpp>

#include <doctest/doctest.h>

#include "fake_host.hpp"

namespace sdk = fracta::sdk;
using fracta::test::fake_host;

namespace {

sdk::task<int> wait_then(sdk::host h, int value, std::vector<int>& trace) {
  trace.push_back(value);
  auto s = sdk::sleep_for(h, 100);
  sdk::host_result r = co_await s;
  trace.push_back(r.status == FRACTA_OK ? value * 10 : -1);
  co_return value + 1;
}

sdk::task<int> chain(sdk::host h, std::vector<int>& trace) {
  auto a = wait_then(h, 1, trace);
  const int x = co_await a;
  auto b = wait_then(h, x, trace);
  const int y = co_await b;
  co_return x + y;
}

sdk::task<void> thrower(sdk::host h) {
  auto s = sdk::sleep_for(h, 5);
  co_await s;
  throw sdk::error(FRACTA_E_DENIED, "no, thank you");
}

sdk::task<std::string> immediate() { co_return std::string("now"); }

}  // namespace

TEST_CASE("a task chain suspends on each host operation and resumes from its completion") {
  fake_host fh;
  std::vector<int> trace;
  std::optional<int> got;
  sdk::start(chain(sdk::host(fh.get()), trace), [&](sdk::outcome<int> o) {
    REQUIRE(o.ok());
    got = o.value();
  });
  CHECK(trace == std::vector<int>{1});  // ran up to the first timer, synchronously
  CHECK_FALSE(got);
  REQUIRE(fh.run_next());
  CHECK(trace == std::vector<int>{1, 10, 2});
  REQUIRE(fh.run_next());
  CHECK(trace == std::vector<int>{1, 10, 2, 20});
  REQUIRE(got);
  CHECK(*got == 2 + 3);
  CHECK(fh.queue.empty());
}

TEST_CASE("a task that finishes without suspending calls back before start returns") {
  std::optional<std::string> got;
  sdk::start(immediate(), [&](sdk::outcome<std::string> o) { got = o.value(); });
  CHECK(got == "now");
}

TEST_CASE("an sdk::error travels to the outcome with its status and message") {
  fake_host fh;
  std::optional<std::pair<std::int32_t, std::string>> failure;
  sdk::start(thrower(sdk::host(fh.get())), [&](sdk::outcome<void> o) {
    REQUIRE_FALSE(o.ok());
    failure = o.failure();
  });
  REQUIRE(fh.run_next());
  REQUIRE(failure);
  CHECK(failure->first == FRACTA_E_DENIED);
  CHECK(failure->second == "no, thank you");
}

TEST_CASE("a host operation completed with CANCELLED unwinds the whole chain") {
  fake_host fh;
  std::vector<int> trace;
  std::optional<std::int32_t> status;
  sdk::start(chain(sdk::host(fh.get()), trace), [&](sdk::outcome<int> o) { status = o.failure().first; });
  REQUIRE(fh.run_next(FRACTA_E_CANCELLED));  // teardown: every pending op completes CANCELLED
  REQUIRE(status);
  CHECK(*status == FRACTA_E_CANCELLED);
  CHECK(trace == std::vector<int>{1});  // nothing after the cancelled await ran
  CHECK(fh.queue.empty());
}

TEST_CASE("a host that refuses to start an operation resumes at once with its status") {
  fake_host fh;
  fh.timer_status = FRACTA_E_UNSUPPORTED;
  std::vector<int> trace;
  std::optional<int> got;
  sdk::start(wait_then(sdk::host(fh.get()), 7, trace), [&](sdk::outcome<int> o) { got = o.value(); });
  CHECK(got == 8);
  CHECK(trace == std::vector<int>{7, -1});
}

TEST_CASE("services the host lacks report UNSUPPORTED instead of crashing") {
  fake_host fh;  // the fake host has no store and no HTTP client
  std::optional<std::int32_t> store_status, http_status;
  auto probe = [](sdk::host h, std::optional<std::int32_t>& s1, std::optional<std::int32_t>& s2) -> sdk::task<void> {
    auto g = sdk::store_get(h, "tokens");
    sdk::host_result r = co_await g;
    s1 = r.status;
    sdk::http_request req;
    req.url = "https://example.com/";
    auto aw = sdk::http(h, std::move(req));
    sdk::http_result hr = co_await aw;
    s2 = hr.status;
  };
  sdk::start(probe(sdk::host(fh.get()), store_status, http_status), [](sdk::outcome<void>) {});
  CHECK(store_status == FRACTA_E_UNSUPPORTED);
  CHECK(http_status == FRACTA_E_UNSUPPORTED);
}

TEST_CASE("http_result::header folds ASCII letters only: '^' is not '~', '@' is not '`'") {
  sdk::http_result r;
  r.headers = {{"X-A^B", "caret"}, {"Content-Type", "text/plain"}, {"a@", "at"}};
  CHECK(r.header("x-a^b") == "caret");
  CHECK(r.header("X-A~B").empty());  // the old fold, (c | 0x20), took '^' for '~'
  CHECK(r.header("CONTENT-TYPE") == "text/plain");
  CHECK(r.header("a`").empty());
  CHECK(r.header("A@") == "at");
}
