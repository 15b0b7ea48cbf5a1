// SPDX-License-Identifier: Apache-2.0
// Stored credentials belong to a server's name and URL: forget_credentials erases them, and a
// name re-added with another URL never gets them. Through the public API, with the fake
// interactive provider (tests/integration/fixtures/fake_login.cpp) and the encrypted file store
// (no keyring: the session bus is dead).
#include "fracta/engine.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"

using fracta::errc;
using fracta::test::fake_mcp_server;
namespace fs = std::filesystem;

namespace {

struct environment {
  fs::path dir = fs::temp_directory_path() / ("fracta-forget-" + std::to_string(::getpid()));
  environment() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
    ::setenv("FRACTA_STORE_PASSPHRASE", "forget", 1);
    ::setenv("BROWSER", FRACTA_TEST_BROWSER, 1);
    ::setenv("FRACTA_TEST_BROWSER_LOG", (dir / "browser.log").c_str(), 1);
  }
  ~environment() { fs::remove_all(dir); }
};

fracta::config::config config_for(const std::string& url, const std::string& auth_toml = "type = \"oauth\"\n") {
  // The fake login plugin stands in for the shipped oauth-authcode.
  const std::string text = "[plugins]\nreplace_builtin = [\"oauth-authcode\"]\n\n[mcp.servers.s.remote]\nurl = \"" + url + "\"\n\n[mcp.servers.s.remote.auth]\n" + auth_toml;
  return fracta::config::parse(text, "/virtual/config.toml");
}

struct client {
  asio::io_context io;
  std::unique_ptr<fracta::engine> eng;
  std::unique_ptr<fracta::mcp_session> session;

  explicit client(fracta::config::config cfg) {
    fracta::engine_options o;
    o.interactive.enabled = true;
    o.interactive.say = [](std::string_view) {};
    eng = std::make_unique<fracta::engine>(io.get_executor(), std::move(cfg), std::move(o));
    auto s = eng->open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    session = std::move(s).value();
  }
  bool logged_in() {
    const std::string doc = fracta::core::run_async(io, session->auth_status());
    return doc.find("\"logged_in\":true") != std::string::npos;
  }
};

}  // namespace

TEST_CASE("a server re-added under its name with another URL does not get the old server's token") {
  environment env;
  fake_mcp_server first, second;
  first.expected_authorization = second.expected_authorization = "Bearer token-c0de";
  {
    client c(config_for(first.url()));
    auto r = fracta::core::run_async(c.io, c.session->login(R"({"timeout_ms":20000})"));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
    CHECK(c.logged_in());
  }
  client again(config_for(second.url()));
  CHECK_FALSE(again.logged_in());
  auto call = fracta::core::run_async(again.io, again.session->call_tool("echo", "{}"));
  REQUIRE_FALSE(call.ok());
  CHECK(call.err().code == errc::needs_login);
  CHECK(second.seen().empty());  // the old token was never sent to the new URL
}

TEST_CASE("a server whose URL `config mcp set` changed does not send the old URL's token") {
  environment env;
  fake_mcp_server first, second;
  first.expected_authorization = second.expected_authorization = "Bearer token-c0de";
  const std::string text = "[plugins]\nreplace_builtin = [\"oauth-authcode\"]\n\n[mcp.servers.s.remote]\nurl = \"" +
                           first.url() + "\"\n\n[mcp.servers.s.remote.auth]\ntype = \"oauth\"\n";
  {
    client c(fracta::config::parse(text, "/virtual/config.toml"));
    auto r = fracta::core::run_async(c.io, c.session->login(R"({"timeout_ms":20000})"));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  }
  const auto changed = fracta::config::with_server_changed(text, "/virtual/config.toml", "s", {{"url", second.url()}});
  CHECK(changed.stored_credentials_left_behind);
  client moved(fracta::config::parse(changed.text, "/virtual/config.toml"));
  CHECK_FALSE(moved.logged_in());
  auto call = fracta::core::run_async(moved.io, moved.session->call_tool("echo", "{}"));
  REQUIRE_FALSE(call.ok());
  CHECK(call.err().code == errc::needs_login);
  CHECK(second.seen().empty());
}

TEST_CASE("forget_credentials erases every stored item of a server from the store it uses") {
  environment env;
  fake_mcp_server srv;
  {
    client c(config_for(srv.url()));
    auto r = fracta::core::run_async(c.io, c.session->login(R"({"timeout_ms":20000})"));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  }
  {
    asio::io_context io;
    fracta::engine eng(io.get_executor(), config_for(srv.url()));
    auto forgotten = fracta::core::run_async(io, eng.forget_credentials("s"));
    REQUIRE_MESSAGE(forgotten.ok(), (forgotten.ok() ? "" : forgotten.err().message));
    CHECK(forgotten->items == 1);
    CHECK(forgotten->store == "file " + (env.dir / "fracta" / "tokens.enc").string());
    auto twice = fracta::core::run_async(io, eng.forget_credentials("s"));
    REQUIRE(twice.ok());
    CHECK(twice->items == 0);
    auto unknown = fracta::core::run_async(io, eng.forget_credentials("nope"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.err().code == errc::config);
  }
  client after(config_for(srv.url()));
  CHECK_FALSE(after.logged_in());
}

TEST_CASE("forget_credentials reports a store it cannot open, naming what to set") {
  environment env;
  ::unsetenv("FRACTA_STORE_PASSPHRASE");
  asio::io_context io;
  fracta::engine eng(io.get_executor(), config_for("http://127.0.0.1:9/mcp", "type = \"oauth\"\ntoken_store = \"file\"\n"));
  auto r = fracta::core::run_async(io, eng.forget_credentials("s"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::config);
  CHECK(r.err().message.find("FRACTA_STORE_PASSPHRASE") != std::string::npos);
}

TEST_CASE("forget_credentials of a server that stores nothing erases its in-memory items only") {
  environment env;
  asio::io_context io;
  fracta::engine eng(io.get_executor(), config_for("http://127.0.0.1:9/mcp", "type = \"bearer\"\ntoken = { value = \"t\" }\n"));
  auto r = fracta::core::run_async(io, eng.forget_credentials("s"));
  REQUIRE(r.ok());
  CHECK(r->store == "memory");
  CHECK(r->items == 0);
}
