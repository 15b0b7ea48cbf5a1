// SPDX-License-Identifier: Apache-2.0
// Login, logout and status through the public engine API with a fake interactive provider
// (tests/integration/fixtures/fake_login.cpp, registered as "oauth-authcode" ahead of the real
// one): the loopback redirect reached by a $BROWSER script, tokens in the encrypted file store
// (no keyring: the session bus is dead), the credential usable at once and after a restart,
// single-flight in-process and the cross-process login lock.
#include "fracta/engine.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"
#include "store/file_store.hpp"

using fracta::errc;
using fracta::test::fake_mcp_server;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private state dir, the file store's passphrase, and the fake browser's log.
struct environment {
  fs::path dir = fs::temp_directory_path() / ("fracta-login-" + std::to_string(::getpid()));
  fs::path browser_log = dir / "browser.log";
  environment() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
    ::setenv("FRACTA_STORE_PASSPHRASE", "integration", 1);
    // The browser gets no FRACTA_* variables: its log goes on its command line.
    const std::string browser = std::string(FRACTA_TEST_BROWSER) + " --log " + browser_log.string();
    ::setenv("BROWSER", browser.c_str(), 1);
  }
  ~environment() { fs::remove_all(dir); }
  int browser_runs() const {
    const auto t = slurp(browser_log);
    return static_cast<int>(std::count(t.begin(), t.end(), '\n'));
  }
};

fracta::config::config config_for(const std::string& url, const std::string& auth_toml) {
  // The fake provider replaces the shipped oauth-authcode, which the config must allow.
  const std::string text = "[plugins]\nreplace_builtin = [\"oauth-authcode\"]\n\n[mcp.servers.s.remote]\nurl = \"" + url +
                           "\"\n\n[mcp.servers.s.remote.auth]\n" + auth_toml;
  return fracta::config::parse(text, "/virtual/config.toml");
}

struct client {
  asio::io_context io;
  std::mutex said_mutex;  // `said` is also read by the tests' "other process" threads
  std::condition_variable said_changed;
  std::vector<std::string> said;
  std::vector<std::string> logged;
  std::unique_ptr<fracta::engine> eng;
  std::unique_ptr<fracta::mcp_session> session;

  explicit client(fracta::config::config cfg, bool interactive = true) {
    fracta::engine_options o;
    o.log = [this](fracta::log_level, std::string_view m) { logged.emplace_back(m); };
    o.interactive.enabled = interactive;
    o.interactive.say = [this](std::string_view l) {
      {
        std::lock_guard lock(said_mutex);
        said.emplace_back(l);
      }
      said_changed.notify_all();
    };
    eng = std::make_unique<fracta::engine>(io.get_executor(), std::move(cfg), std::move(o));
    auto s = eng->open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    session = std::move(s).value();
  }
  fracta::result<fracta::login_outcome> login(const std::string& options = R"({"timeout_ms":20000})") {
    return fracta::core::run_async(io, session->login(options));
  }
  fracta::result<fracta::tool_result> call() {
    return fracta::core::run_async(io, session->call_tool("echo", R"({"text":"hi"})"));
  }
  std::string status() { return fracta::core::run_async(io, session->auth_status()); }
  bool heard(std::string_view needle) {
    std::lock_guard lock(said_mutex);
    return heard_locked(needle);
  }
  /// From another thread: waits (with a deadline) until the user has been told `needle`.
  bool wait_until_heard(std::string_view needle, std::chrono::seconds max = std::chrono::seconds(20)) {
    std::unique_lock lock(said_mutex);
    return said_changed.wait_for(lock, max, [&] { return heard_locked(needle); });
  }

 private:
  bool heard_locked(std::string_view needle) const {
    for (const auto& l : said) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

const std::string oauth = "type = \"oauth\"\n";

asio::awaitable<void> login_into(fracta::mcp_session& s, std::optional<fracta::result<fracta::login_outcome>>& out) {
  const std::string options = R"({"timeout_ms":20000})";
  out.emplace(co_await s.login(options));
}

}  // namespace

TEST_CASE("login through the browser stores the token; the credential works at once and after a restart") {
  environment env;
  fake_mcp_server srv;
  srv.expected_authorization = "Bearer token-c0de";
  {
    client c(config_for(srv.url(), oauth));
    CHECK(c.session->can_login());
    auto before = c.call();
    REQUIRE_FALSE(before.ok());
    CHECK(before.err().code == errc::needs_login);
    CHECK(srv.seen().empty());  // a session without a credential never reached the server

    auto r = c.login();
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
    CHECK(r->message == "logged in to https://fake.invalid (scopes: read)");
    CHECK(r->expires_at_unix_ms > 0);
    CHECK(env.browser_runs() == 1);
    CHECK(c.heard("Opening your browser at: http://127.0.0.1:"));
    CHECK(srv.seen().empty());  // login never contacts the MCP server itself
    bool said_store = false;
    for (const auto& l : c.logged) {
      said_store = said_store || l.find("no Secret Service answered on the session bus; tokens go to the encrypted "
                                        "file") != std::string::npos;
    }
    CHECK(said_store);
    CHECK(fs::exists(env.dir / "fracta" / "tokens.enc"));

    const auto st = c.status();
    CHECK(st.find("\"server\":\"s\"") != std::string::npos);
    CHECK(st.find("\"store\":\"file " + (env.dir / "fracta" / "tokens.enc").string() + "\"") != std::string::npos);
    CHECK(st.find("\"logged_in\":true") != std::string::npos);
    CHECK(st.find("token-c0de") == std::string::npos);  // never a secret

    auto after = c.call();  // usable at once, in the same session
    REQUIRE_MESSAGE(after.ok(), (after.ok() ? "" : after.err().message));
    CHECK(after->text == "echo: hi");
  }
  {
    client c(config_for(srv.url(), oauth));  // a new process: the token comes from the store
    auto r = c.call();
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
    auto out = fracta::core::run_async(c.io, c.session->logout());
    REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.err().message));
    CHECK(c.status().find("\"logged_in\":false") != std::string::npos);
  }
  {
    client c(config_for(srv.url(), oauth));
    auto r = c.call();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::needs_login);
  }
}

TEST_CASE("login on an auth type without one is errc::unsupported, naming the types that log in") {
  environment env;
  fake_mcp_server srv;
  client c(config_for(srv.url(), "type = \"bearer\"\ntoken = { value = \"good\" }\n"));
  CHECK_FALSE(c.session->can_login());
  auto r = c.login();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::unsupported);
  CHECK(r.err().message.find("grant_type = \"authorization_code\"") != std::string::npos);
  auto out = fracta::core::run_async(c.io, c.session->logout());
  REQUIRE_FALSE(out.ok());
  CHECK(out.err().code == errc::unsupported);
  const auto st = c.status();
  CHECK(st.find("\"store\":\"memory\"") != std::string::npos);
}

TEST_CASE("concurrent logins on one session share one browser flow") {
  environment env;
  fake_mcp_server srv;
  client c(config_for(srv.url(), oauth));
  std::optional<fracta::result<fracta::login_outcome>> a, b;
  asio::co_spawn(c.io, login_into(*c.session, a), asio::detached);
  asio::co_spawn(c.io, login_into(*c.session, b), asio::detached);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((!a || !b) && std::chrono::steady_clock::now() < until) c.io.run_one_for(std::chrono::milliseconds(50));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->ok());
  CHECK(b->ok());
  CHECK(env.browser_runs() == 1);
}

TEST_CASE("another process logging in is waited for, and its stored token reused") {
  environment env;
  fake_mcp_server srv;
  // The "other process": holds the login lock, stores a token, then lets go.
  const fs::path lock = env.dir / "fracta" / "locks" / "s.lock";
  fs::create_directories(lock.parent_path());
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  std::atomic<bool> released{false};
  client c(config_for(srv.url(), oauth));
  // Lets go once the waiting login has found the lock taken (it then polls it).
  std::thread other([&] {
    CHECK(c.wait_until_heard("another fracta is logging in to s; waiting"));
    auto key = fracta::store::file_key::passphrase("integration");
    REQUIRE(key.ok());
    fracta::store::file_store fsx(env.dir / "fracta" / "tokens.enc", std::move(key).value());
    CHECK(fsx.put(fracta::store::item_key{"s\n" + srv.url(), "", "tokens"}, "token-other").ok());  // name + URL
    ::close(fd);
    released = true;
  });
  auto r = c.login();
  other.join();
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(released);
  CHECK(c.heard("another fracta is logging in to s; waiting"));
  CHECK(r->message.find("another fracta process logged in") != std::string::npos);
  CHECK(env.browser_runs() == 0);  // no second browser flow
  srv.expected_authorization = "Bearer token-other";
  auto call = c.call();
  CHECK_MESSAGE(call.ok(), (call.ok() ? "" : call.err().message));
}

TEST_CASE("when the other process leaves no token, the waiting login runs its own flow") {
  environment env;
  fake_mcp_server srv;
  const fs::path lock = env.dir / "fracta" / "locks" / "s.lock";
  fs::create_directories(lock.parent_path());
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  client c(config_for(srv.url(), oauth));
  std::thread other([&] {
    CHECK(c.wait_until_heard("another fracta is logging in to s; waiting"));
    ::close(fd);
  });
  auto r = c.login();
  other.join();
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(c.heard("another fracta is logging in to s; waiting"));
  CHECK(env.browser_runs() == 1);
}
