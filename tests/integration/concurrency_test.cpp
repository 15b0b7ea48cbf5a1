// SPDX-License-Identifier: Apache-2.0
// The actor rule with four loop threads: sessions opened, used, closed and destroyed from several
// threads at once, calls in flight while their session is destroyed, and providers that read
// their store in create() (the OAuth plugin) racing nothing. Built for the ThreadSanitizer leg
// of scripts/test.sh as well; the assertions hold on any build.
#include "fracta/engine.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "../unit/http/test_support.hpp"
#include "fake_mcp_server.hpp"

using fracta::test::fake_mcp_server;

namespace {

fracta::config::config config_for(const std::string& url, const std::string& auth_toml) {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url + "\"\n\n[mcp.servers.s.remote.auth]\n" + auth_toml;
  return fracta::config::parse(text, "/virtual/config.toml");
}

const std::string good_bearer = "type = \"bearer\"\ntoken = { value = \"good\" }\n";

// Plain coroutines (GCC 12 rule): one call and a close, results through a promise.
asio::awaitable<void> call_then_close(fracta::mcp_session* s, std::string text, std::promise<bool>* done) {
  const std::string tool = "echo", args = "{\"text\":\"" + text + "\"}";
  auto call = s->call_tool(tool, args);
  auto r = co_await std::move(call);
  const bool ok = r && r->text == "echo: " + text;
  if (!ok) MESSAGE((r ? "unexpected text: " + r->text : r.err().message));
  co_await s->close();
  done->set_value(ok);
}

// Awaits a call made (not yet started) before its session was destroyed.
asio::awaitable<void> finish_call(asio::awaitable<fracta::result<fracta::tool_result>> call, std::string text,
                                  std::promise<bool>* done) {
  auto r = co_await std::move(call);
  done->set_value(r && r->text == "echo: " + text);
}

asio::awaitable<void> status_of(fracta::mcp_session* s, std::promise<std::string>* done) {
  auto status = s->auth_status();
  done->set_value(co_await std::move(status));
}

void on_exception(std::exception_ptr e) { CHECK_FALSE(e); }

}  // namespace

TEST_CASE("sessions opened, used, closed and destroyed from four threads while four threads run the loop") {
  fake_mcp_server srv;
  fracta::test::loop_threads loop;
  fracta::engine eng(loop.io.get_executor(), config_for(srv.url(), good_bearer));
  std::atomic<int> ok{0};
  constexpr int per_thread = 10;
  std::vector<std::thread> users;
  for (int t = 0; t < 4; ++t) {
    users.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto s = eng.open("s");
        if (!s.ok()) {
          FAIL_CHECK(s.err().message);
          continue;
        }
        std::promise<bool> done;
        auto result = done.get_future();
        asio::co_spawn(loop.io, call_then_close(s->get(), std::to_string(t * 100 + i), &done), &on_exception);
        if (result.get()) ++ok;
        s->reset();  // destroyed on this thread, which runs no loop
      }
    });
  }
  for (auto& u : users) u.join();
  CHECK(ok.load() == 4 * per_thread);
}

TEST_CASE("calls in flight when their session is destroyed still complete, with four loop threads") {
  fake_mcp_server srv;
  srv.delay_ms = 100;
  fracta::test::loop_threads loop;
  fracta::engine eng(loop.io.get_executor(), config_for(srv.url(), good_bearer));
  for (int round = 0; round < 3; ++round) {
    auto s = eng.open("s");
    REQUIRE(s.ok());
    constexpr int n = 8;
    std::vector<std::promise<bool>> done(n);
    std::vector<std::future<bool>> results;
    for (int i = 0; i < n; ++i) {
      results.push_back(done[i].get_future());
      const std::string text = std::to_string(i), tool = "echo", args = "{\"text\":\"" + text + "\"}";
      asio::co_spawn(loop.io, finish_call((*s)->call_tool(tool, args), text, &done[i]), &on_exception);
    }
    s.value().reset();  // every call holds the session's actor until it finishes
    int ok = 0;
    for (auto& r : results) ok += r.get() ? 1 : 0;
    CHECK(ok == n);
  }
}

TEST_CASE("OAuth providers that read their store in create() race nothing, and status waits for the read") {
  // No keyring (a dead bus): the tokens go to an encrypted file in a private state dir.
  const auto dir = std::filesystem::temp_directory_path() / ("fracta-conc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/fracta-test-bus", 1);
  ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
  ::setenv("FRACTA_STORE_PASSPHRASE", "concurrency", 1);
  {
    fracta::test::loop_threads loop;
    fracta::engine eng(loop.io.get_executor(), config_for("https://mcp.example.invalid/mcp", "type = \"oauth\"\n"));
    std::vector<std::thread> users;
    std::atomic<int> answered{0};
    for (int t = 0; t < 4; ++t) {
      users.emplace_back([&] {
        for (int i = 0; i < 5; ++i) {
          auto s = eng.open("s");
          if (!s.ok()) {
            FAIL_CHECK(s.err().message);
            continue;
          }
          std::promise<std::string> done;
          auto doc = done.get_future();
          asio::co_spawn(loop.io, status_of(s->get(), &done), &on_exception);
          const std::string status = doc.get();
          CHECK(status.find("\"loading\":true") == std::string::npos);
          CHECK(status.find("\"logged_in\":false") != std::string::npos);
          ++answered;
          s->reset();
        }
      });
    }
    for (auto& u : users) u.join();
    CHECK(answered.load() == 20);
  }
  std::filesystem::remove_all(dir);
}
