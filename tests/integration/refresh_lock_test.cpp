// SPDX-License-Identifier: Apache-2.0
// The cross-process refresh lock: two engines (as two processes would) or two sessions of one
// engine, sharing one encrypted token file, refresh the same rotating refresh token at once;
// the token endpoint is redeemed exactly once and the other side adopts the stored result.
// The real OAuth plugin against an in-process token endpoint that rotates and, like
// oidc-provider, treats a rotated-out refresh token as reuse.
#include "fracta/engine.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <doctest/doctest.h>
#include <httplib.h>

#include "../unit/http/test_support.hpp"
#include "fake_mcp_server.hpp"
#include "session_helpers.hpp"
#include "fracta/json_writer.hpp"
#include "store/file_store.hpp"
#include "store/select.hpp"

using fracta::test::fake_mcp_server;
using fracta::test::log_lines;
using fracta::test::logging_to;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct environment {
  fs::path dir = fs::temp_directory_path() / ("fracta-refresh-lock-" + std::to_string(::getpid()));
  environment() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
    ::setenv("FRACTA_STORE_PASSPHRASE", "refresh-lock", 1);
  }
  ~environment() { fs::remove_all(dir); }
};

// A token endpoint with rotating refresh tokens: the current one is exchanged for a new pair
// ("aN", "rN"); any other is reuse (400 invalid_grant). The first exchange is answered only
// when the test releases it, or when a second exchange arrives (the race the lock prevents),
// so the other side is certainly refreshing while the first is in flight.
class token_endpoint final {
 public:
  token_endpoint() {
    srv_.Post("/token", [this](const httplib::Request& req, httplib::Response& res) { token(req, res); });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(2ms);
  }
  ~token_endpoint() {
    release();
    srv_.stop();
    thread_.join();
  }
  token_endpoint(const token_endpoint&) = delete;
  token_endpoint& operator=(const token_endpoint&) = delete;

  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return issuer() + "/token"; }
  void release() {
    {
      std::lock_guard lk(m_);
      released_ = true;
    }
    changed_.notify_all();
  }
  /// Waits (with a deadline) until `n` refresh-token exchanges arrived.
  bool wait_for_exchanges(int n, std::chrono::seconds max = 20s) {
    std::unique_lock lk(m_);
    return changed_.wait_for(lk, max, [&] { return exchanges_ >= n; });
  }
  int exchanges() {
    std::lock_guard lk(m_);
    return exchanges_;
  }
  int reuses() {
    std::lock_guard lk(m_);
    return reuses_;
  }

 private:
  void token(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock lk(m_);
    const int n = ++exchanges_;
    changed_.notify_all();
    fracta::json::writer w;
    if (req.get_param_value("grant_type") != "refresh_token" || req.get_param_value("refresh_token") != current_) {
      ++reuses_;
      res.status = 400;
      w.begin_object().key("error").value("invalid_grant").key("error_description").value("refresh token already used")
          .end_object();
    } else {
      current_ = "r" + std::to_string(n);
      w.begin_object().key("access_token").value("a" + std::to_string(n)).key("token_type").value("Bearer")
          .key("expires_in").value(3600).key("refresh_token").value(current_).end_object();
    }
    if (n == 1) changed_.wait_for(lk, 20s, [&] { return released_ || exchanges_ >= 2; });
    res.set_content(w.take(), "application/json");
  }

  std::mutex m_;
  std::condition_variable changed_;
  int exchanges_ = 0, reuses_ = 0;
  bool released_ = false;
  std::string current_ = "r0";
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

fracta::config::config config_for(const std::string& url) {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url +
                           "\"\n\n[mcp.servers.s.remote.auth]\ntype = \"oauth\"\ntoken_store = \"file\"\n";
  return fracta::config::parse(text, "/virtual/config.toml");
}

// What a login left in the shared file: an expired access token and the refresh token r0.
void seed_tokens(const fracta::config::config& cfg, const token_endpoint& as) {
  auto key = fracta::store::file_key::passphrase("refresh-lock");
  REQUIRE(key.ok());
  fracta::store::file_store file(fracta::store::default_file_path(), std::move(key).value());
  fracta::json::writer w;
  w.begin_object().key("access_token").value("a0").key("refresh_token").value("r0").key("token_type").value("Bearer")
      .key("expires_at").value(1).key("issuer").value(as.issuer()).key("token_endpoint").value(as.url())
      .key("client_id").value("fracta-test").end_object();
  const fracta::store::item_key item{fracta::store::server_key(cfg.servers.at(0)), "", "tokens"};
  auto put = file.put(item, w.take());
  REQUIRE_MESSAGE(put.ok(), (put.ok() ? std::string() : put.err().message));
}

std::string stored_tokens(const fracta::config::config& cfg) {
  auto key = fracta::store::file_key::passphrase("refresh-lock");
  REQUIRE(key.ok());
  fracta::store::file_store file(fracta::store::default_file_path(), std::move(key).value());
  auto got = file.get({fracta::store::server_key(cfg.servers.at(0)), "", "tokens"});
  REQUIRE(got.ok());
  return *got;
}

// A plain coroutine (GCC 12 rule): one call, its outcome through a promise.
asio::awaitable<void> call_echo(fracta::mcp_session* s, std::promise<std::string>* done) {
  const std::string tool = "echo", args = R"({"text":"hi"})";
  auto call = s->call_tool(tool, args);
  auto r = co_await std::move(call);
  done->set_value(r ? r->text : "error: " + r.err().message);
}

void on_exception(std::exception_ptr e) { CHECK_FALSE(e); }

// Both sessions call at once; the token endpoint holds the first exchange until the other side
// is seen waiting for the lock (or, without the lock, until its own exchange arrives).
void refresh_concurrently(fracta::mcp_session& one, asio::io_context& io_one, fracta::mcp_session& two,
                          asio::io_context& io_two, token_endpoint& as, log_lines& log) {
  std::promise<std::string> first, second;
  auto first_text = first.get_future(), second_text = second.get_future();
  asio::co_spawn(io_one, call_echo(&one, &first), &on_exception);
  asio::co_spawn(io_two, call_echo(&two, &second), &on_exception);
  REQUIRE(as.wait_for_exchanges(1));
  {
    std::unique_lock lk(log.m);
    log.changed.wait_for(lk, 20s, [&] {
      for (const auto& l : log.lines) {
        if (l.find("waiting for the lock") != std::string::npos) return true;
      }
      return as.exchanges() >= 2;
    });
  }
  as.release();
  REQUIRE(first_text.wait_for(30s) == std::future_status::ready);
  REQUIRE(second_text.wait_for(30s) == std::future_status::ready);
  const std::string a = first_text.get(), b = second_text.get();
  CHECK_MESSAGE(a == "echo: hi", a, "\n", log.all());
  CHECK_MESSAGE(b == "echo: hi", b, "\n", log.all());
}

void check_redeemed_once(token_endpoint& as, log_lines& log, const fracta::config::config& cfg) {
  CHECK_MESSAGE(as.exchanges() == 1, log.all());
  CHECK(as.reuses() == 0);
  CHECK(log.count("waiting for the lock") == 1);
  // The side that waited re-read the store and took over what the first stored.
  CHECK_MESSAGE(log.count("another process refreshed the tokens for s; using its result") == 1, log.all());
  const std::string stored = stored_tokens(cfg);
  CHECK(stored.find(R"("refresh_token":"r1")") != std::string::npos);
}

// The shared file holding r0 for server `s`, its token endpoint, and the MCP server that
// accepts only the access token of the first rotation.
struct shared_store {
  environment env;
  token_endpoint as;
  fake_mcp_server mcp;
  fracta::config::config cfg;
  log_lines log;
  shared_store() {
    mcp.expected_authorization = "Bearer a1";
    cfg = config_for(mcp.url());
    seed_tokens(cfg, as);
  }
  using opened = fracta::result<std::unique_ptr<fracta::mcp_session>>;
  /// Both sessions call at once; the refresh token must be redeemed once.
  void refresh_both(opened one, asio::io_context& io_one, opened two, asio::io_context& io_two) {
    REQUIRE(one.ok());
    REQUIRE(two.ok());
    refresh_concurrently(**one, io_one, **two, io_two, as, log);
    check_redeemed_once(as, log, cfg);
  }
};

}  // namespace

TEST_CASE_FIXTURE(shared_store, "two engines sharing a token file refresh at once: the refresh token is redeemed once, the other adopts") {
  fracta::test::loop_threads loop_one(1), loop_two(1);
  fracta::engine one(loop_one.io.get_executor(), cfg, logging_to(log));
  fracta::engine two(loop_two.io.get_executor(), cfg, logging_to(log));
  refresh_both(one.open("s"), loop_one.io, two.open("s"), loop_two.io);
}

TEST_CASE_FIXTURE(shared_store, "two sessions of one engine refresh at once: the lock excludes them too (flock is per open file)") {
  fracta::test::loop_threads loop(2);
  fracta::engine eng(loop.io.get_executor(), cfg, logging_to(log));
  refresh_both(eng.open("s"), loop.io, eng.open("s"), loop.io);
}
