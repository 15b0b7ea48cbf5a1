// SPDX-License-Identifier: Apache-2.0
// The engine's MCP session against an in-process server that injects faults: the one-retry
// 401/403 policy, session expiry, SSE with interleaved traffic, content-type and JSON-RPC
// errors, timeouts, and headers on every request; no credential, session id, URL userinfo or
// query value in any error. Uses the public API and the built bearer plugin (found through
// FRACTA_PLUGIN_PATH).
#include "fracta/engine.hpp"

#include <cstdlib>
#include <fstream>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"

using fracta::errc;
using fracta::test::fake_mcp_server;

namespace {

fracta::config::config config_for(const std::string& url, const std::string& auth_toml,
                                  const std::string& extra_remote = {}) {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url + "\"\n" + extra_remote +
                           "\n[mcp.servers.s.remote.auth]\n" + auth_toml;
  return fracta::config::parse(text, "/virtual/config.toml");
}

fracta::engine_options logging(std::vector<std::string>& lines) {
  fracta::engine_options o;
  o.log = [&lines](fracta::log_level, std::string_view m) { lines.emplace_back(m); };
  return o;
}

struct client {
  asio::io_context io;
  std::vector<std::string> logged;
  fracta::engine eng;
  std::unique_ptr<fracta::mcp_session> session;

  explicit client(fracta::config::config cfg) : eng(io.get_executor(), std::move(cfg), logging(logged)) {
    auto s = eng.open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    session = std::move(s).value();
  }
  fracta::result<fracta::tool_result> call(const std::string& text) {
    const std::string args = "{\"text\":\"" + text + "\"}";
    return fracta::core::run_async(io, session->call_tool("echo", args));
  }
};

const std::string good_bearer = "type = \"bearer\"\ntoken = { value = \"good\" }\n";
const std::string bad_bearer = "type = \"bearer\"\ntoken = { value = \"bad\" }\n";

}  // namespace

TEST_CASE("a tool call probes the era, initializes, carries the credential, session id and version on every request") {
  fake_mcp_server srv;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("hi");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(r->text == "echo: hi");
  CHECK_FALSE(r->is_error);
  CHECK(c.session->era() == "legacy");
  CHECK(c.session->protocol_version() == "2025-11-25");
  fracta::core::run_async(c.io, c.session->close());
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 5);
  // server/discover first: this 2025 server refuses it (404, no session), so initialize follows.
  CHECK(seen[0].rpc_method == "server/discover");
  CHECK(seen[0].protocol_version == "2026-07-28");
  CHECK(seen[0].status == 404);
  CHECK(seen[1].rpc_method == "initialize");
  CHECK(seen[1].session_id.empty());
  CHECK(seen[1].protocol_version.empty());
  CHECK(seen[2].rpc_method == "notifications/initialized");
  CHECK(seen[3].rpc_method == "tools/call");
  CHECK(seen[4].http_method == "DELETE");
  for (const auto& s : seen) {
    CHECK(s.authorization == "Bearer good");
    CHECK(s.target == "/mcp");  // never a credential in the query string
  }
  for (std::size_t i = 2; i < seen.size(); ++i) {
    CHECK(seen[i].session_id == "sess-1");
    CHECK(seen[i].protocol_version == "2025-11-25");
  }
}

TEST_CASE("JSON answers work as well as SSE") {
  fake_mcp_server srv;
  srv.sse = false;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("json");
  REQUIRE(r.ok());
  CHECK(r->text == "echo: json");
}

TEST_CASE("a 401 with a provider that has nothing new ends after one attempt with the server's words") {
  fake_mcp_server srv;
  client c(config_for(srv.url(), bad_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::auth_failed);
  CHECK(r.err().message.find("token not accepted here") != std::string::npos);
  CHECK(r.err().message.find("bad") == std::string::npos);  // the credential is never echoed
  CHECK(srv.seen().size() == 1);
}

TEST_CASE("a renewed credential refused again is a hard failure after exactly one retry") {
  // The token is rotated (as a rotator would), but the server refuses everything: two
  // attempts, then a clear error.
  fake_mcp_server srv;
  srv.reject_everything = true;
  const auto dir = std::filesystem::temp_directory_path() / ("fracta-int-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto token = dir / "token";
  std::ofstream(token) << "first\n";
  srv.www_authenticate = R"(Bearer error="invalid_token", error_description="revoked")";
  client c(config_for(srv.url(), "type = \"bearer\"\ntoken = { file = \"" + token.string() + "\" }\n"));
  // The provider read "first" when the session opened; refresh() will find "second".
  std::ofstream(token) << "second\n";
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::auth_failed);
  CHECK(r.err().message.find("refused the renewed credential too") != std::string::npos);
  CHECK(r.err().message.find("revoked") != std::string::npos);
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].authorization == "Bearer first");
  CHECK(seen[1].authorization == "Bearer second");
  std::filesystem::remove_all(dir);
}

TEST_CASE("403 goes through the same consult-and-retry-once policy as 401") {
  fake_mcp_server srv;
  srv.reject_status = 403;
  client c(config_for(srv.url(), bad_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::auth_failed);
  CHECK(r.err().message.find("HTTP 403") != std::string::npos);
}

TEST_CASE("a forgotten session (404) starts a new session once and resends") {
  fake_mcp_server srv;
  srv.expire_session_once = true;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("again");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(r->text == "echo: again");
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 7);  // the era probe, then the session, forgotten and started again
  CHECK(seen[3].status == 404);
  CHECK(seen[4].rpc_method == "initialize");
  CHECK(seen[4].session_id.empty());
  CHECK(seen[6].session_id == "sess-2");
}

TEST_CASE("an unsupported protocol version is refused with the versions fracta speaks") {
  fake_mcp_server srv;
  srv.answer_version = "2099-01-01";
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("2099-01-01") != std::string::npos);
  CHECK(r.err().message.find("2025-06-18") != std::string::npos);
}

TEST_CASE("an HTML answer is a protocol error naming the content type") {
  fake_mcp_server srv;
  srv.html_answers = true;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("text/html") != std::string::npos);
}

TEST_CASE("a JSON-RPC error is reported as a remote error with its message and code") {
  fake_mcp_server srv;
  srv.jsonrpc_error = true;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::remote);
  CHECK(r.err().message.find("unknown tool: nope") != std::string::npos);
  CHECK(r.err().message.find("-32602") != std::string::npos);
}

TEST_CASE("a server slower than timeout_seconds is a transport error") {
  fake_mcp_server srv;
  srv.delay_ms = 2500;
  client c(config_for(srv.url(), good_bearer, "timeout_seconds = 1\n"));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::transport);
}

TEST_CASE("arguments that are not a JSON object are refused before any request") {
  fake_mcp_server srv;
  client c(config_for(srv.url(), good_bearer));
  auto r = fracta::core::run_async(c.io, c.session->call_tool("echo", "[1,2]"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::config);
  CHECK(srv.seen().empty());
}

TEST_CASE("concurrent calls from two loop threads are serialised by the session's actor") {
  fake_mcp_server srv;
  asio::io_context io;
  fracta::engine eng(io.get_executor(), config_for(srv.url(), good_bearer));
  auto s = eng.open("s");
  REQUIRE(s.ok());
  auto& session = **s;
  std::atomic<int> ok{0};
  constexpr int n = 20;
  auto one = [](fracta::mcp_session& sess, std::atomic<int>& count, int i) -> asio::awaitable<void> {
    const std::string args = "{\"text\":\"" + std::to_string(i) + "\"}";
    const std::string tool = "echo";
    auto r = co_await sess.call_tool(tool, args);
    if (r && r->text == "echo: " + std::to_string(i)) ++count;
  };
  for (int i = 0; i < n; ++i) asio::co_spawn(io, one(session, ok, i), asio::detached);
  std::thread t([&] { io.run(); });
  io.run();
  t.join();
  CHECK(ok == n);
  // One initialize for all of them.
  int inits = 0;
  for (const auto& r : srv.seen()) inits += r.rpc_method == "initialize";
  CHECK(inits == 1);
}

TEST_CASE("an auth type no plugin provides is a config error naming file, server, key and search path") {
  auto cfg = config_for("http://127.0.0.1:1/mcp", "type = \"no-such-plugin\"\n");
  asio::io_context io;
  fracta::engine eng(io.get_executor(), std::move(cfg));
  auto s = eng.open("s");
  REQUIRE_FALSE(s.ok());
  CHECK(s.err().code == errc::config);
  const auto& m = s.err().message;
  CHECK(m.find("/virtual/config.toml:") != std::string::npos);
  CHECK(m.find("server 's'") != std::string::npos);
  CHECK(m.find("mcp.servers.s.remote.auth.type") != std::string::npos);
  CHECK(m.find("no plugin provides auth type 'no-such-plugin'") != std::string::npos);
  CHECK(m.find("Searched:") != std::string::npos);
}

TEST_CASE("a server echoing the presented credential in its error never gets it repeated") {
  fake_mcp_server srv;
  srv.www_authenticate = R"(Bearer error="invalid_token", error_description="token bad-but-secret-token is revoked")";
  client c(config_for(srv.url(), "type = \"bearer\"\ntoken = { value = \"bad-but-secret-token\" }\n"));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("bad-but-secret-token") == std::string::npos);
  CHECK(r.err().message.find("token [redacted] is revoked") != std::string::npos);
}

TEST_CASE("errors name the server's URL without its userinfo or query values") {
  fake_mcp_server srv;
  srv.echo_status = 500;
  const std::string url = "http://alice:hunter2@127.0.0.1:" + srv.url().substr(17) + "?api_key=SECRET123";
  client c(config_for(url, good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  const auto& m = r.err().message;
  CHECK(m.find("server 's' (" + srv.url() + ")") != std::string::npos);
  CHECK(m.find("hunter2") == std::string::npos);
  CHECK(m.find("alice") == std::string::npos);
  CHECK(m.find("SECRET123") == std::string::npos);
  CHECK(m.find("api_key") == std::string::npos);
}

TEST_CASE("a 500 page echoing the request never shows a credential, however short") {
  fake_mcp_server srv;
  srv.echo_status = 500;
  client c(config_for(srv.url(), good_bearer, "headers = { X-Api-Key = \"k9\" }\n"));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  const auto& m = r.err().message;
  CHECK(r.err().code == errc::protocol);
  CHECK(m.find("HTTP 500") != std::string::npos);
  CHECK(m.find("Internal error") != std::string::npos);  // the page is quoted…
  CHECK(m.find("[redacted]") != std::string::npos);      // …without what fracta sent
  CHECK(m.find("good") == std::string::npos);
  CHECK(m.find("k9") == std::string::npos);
  CHECK(m.find("X-Api-Key: [redacted]") != std::string::npos);
  CHECK(m.find("Mcp-Session-Id: [redacted]") != std::string::npos);
  CHECK(m.find("sess-") == std::string::npos);
  CHECK(m.find('\n') == std::string::npos);  // printable: one line
}

TEST_CASE("a credential renewed by a refresh is kept out of errors too") {
  fake_mcp_server srv;
  srv.expected_authorization = "Bearer second-credential";
  srv.echo_status = 500;
  const auto dir = std::filesystem::temp_directory_path() / ("fracta-int-renew-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto token = dir / "token";
  std::ofstream(token) << "first-credential\n";
  client c(config_for(srv.url(), "type = \"bearer\"\ntoken = { file = \"" + token.string() + "\" }\n"));
  std::ofstream(token) << "second-credential\n";  // rotated: the 401 makes the provider read it
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("HTTP 500") != std::string::npos);
  CHECK(r.err().message.find("second-credential") == std::string::npos);
  CHECK(r.err().message.find("first-credential") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the session id is never in an error or a log line") {
  fake_mcp_server srv;
  srv.expire_session_always = true;
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("no longer knows the session") != std::string::npos);
  CHECK(r.err().message.find("sess-") == std::string::npos);
  REQUIRE_FALSE(c.logged.empty());
  for (const auto& line : c.logged) CHECK(line.find("sess-") == std::string::npos);
}

TEST_CASE("a JSON-RPC error message reaches the user without terminal escapes or control characters") {
  fake_mcp_server srv;
  srv.jsonrpc_error = true;
  srv.jsonrpc_error_message = "unknown\x1b[2J\x1b]0;pwned\x07 tool:\r\n\x9b nope";
  client c(config_for(srv.url(), good_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::remote);
  CHECK(r.err().message.find("tools/call failed: unknown tool: \xef\xbf\xbd nope (JSON-RPC error -32602)") !=
        std::string::npos);
  CHECK(r.err().message.find('\x1b') == std::string::npos);
  CHECK(r.err().message.find("pwned") == std::string::npos);
}

TEST_CASE("a short credential echoed as a word in a 401 description is redacted") {
  fake_mcp_server srv;
  srv.www_authenticate = R"(Bearer error="invalid_token", error_description="token bad is not valid, badly")";
  client c(config_for(srv.url(), bad_bearer));
  auto r = c.call("x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("token [redacted] is not valid, badly") != std::string::npos);
}
