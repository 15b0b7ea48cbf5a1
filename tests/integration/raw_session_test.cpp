// SPDX-License-Identifier: Apache-2.0
// The session's raw face for embedders against the in-process server: request() answers as the
// server gave them, its stream's messages, cancel(), post(), the session's message handler on
// a 2025 GET stream, and the status a watcher sees.
#include "fracta/engine.hpp"

#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"
#include "session_helpers.hpp"

using fracta::errc;
using fracta::server_state;
using fracta::test::body_member;
using fracta::test::fake_mcp_server;

namespace {

fracta::config::config config_for(const std::string& url, const std::string& token = "good") {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url + "\"\n" +
                           "\n[mcp.servers.s.remote.auth]\ntype = \"bearer\"\ntoken = { value = \"" + token + "\" }\n";
  return fracta::config::parse(text, "/virtual/config.toml");
}

struct client {
  asio::io_context io;
  fracta::engine eng;
  std::unique_ptr<fracta::mcp_session> session;

  explicit client(fracta::config::config cfg) : eng(io.get_executor(), std::move(cfg)) {
    auto s = eng.open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    session = std::move(s).value();
  }
  fracta::result<fracta::rpc_answer> request(const std::string& method, const std::string& params,
                                             fracta::request_options o = {}) {
    return fracta::core::run_async(io, session->request(method, params, std::move(o)));
  }
  template <class F>
  bool run_until(F done) {
    return fracta::test::run_until(io, std::move(done));
  }
};


const std::string echo_call = R"({"name":"echo","arguments":{"text":"hi"}})";

}  // namespace

TEST_CASE("request() returns a JSON-RPC error as an rpc_answer with is_error, and the server counts as ready") {
  fake_mcp_server srv;
  srv.jsonrpc_error = true;
  client c(config_for(srv.url()));
  auto r = c.request("tools/call", echo_call);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(r->is_error);
  CHECK(body_member(r->json, {"code"}) == "-32602");
  CHECK(body_member(r->json, {"message"}) == R"("unknown tool: nope")");
  CHECK(c.session->status().state == server_state::ready);
}

TEST_CASE("request() returns a result as the server gave it, params sent as given to a 2025 server") {
  fake_mcp_server srv;
  client c(config_for(srv.url()));
  const std::string params = R"({"name":"echo","arguments":{"text":"raw"},"_meta":{"progressToken":"p-1"}})";
  auto r = c.request("tools/call", params);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK_FALSE(r->is_error);
  CHECK(r->json == R"({"content":[{"type":"text","text":"echo: raw"}]})");
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 1);
  CHECK(body_member(calls[0].body, {"params"}) == params);
}

TEST_CASE("on_message hears the request stream's notification and server request in order, and fracta leaves the request to it") {
  fake_mcp_server srv;  // each answer's stream: a progress notification, then a ping request
  client c(config_for(srv.url()));
  std::vector<std::string> heard;
  fracta::request_options o;
  o.on_message = [&heard](std::string m) { heard.push_back(std::move(m)); };
  auto r = c.request("tools/call", echo_call, std::move(o));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  CHECK(body_member(r->json, {"content"}) == R"([{"type":"text","text":"echo: hi"}])");
  REQUIRE(heard.size() == 2);
  CHECK(body_member(heard[0], {"method"}) == R"("notifications/progress")");
  CHECK(body_member(heard[1], {"method"}) == R"("ping")");
  CHECK(body_member(heard[1], {"id"}) == R"("srv-1")");
  fracta::core::run_async(c.io, c.session->close());
  CHECK(srv.replies().empty());  // the embedder answers it (with post), not fracta
}

TEST_CASE("cancel(key) ends an in-flight request with cancelled and tells a 2025 server the request's id") {
  fake_mcp_server srv;
  srv.withhold_answer = true;  // a progress notification, then nothing
  client c(config_for(srv.url()));
  fracta::mcp_session* s = c.session.get();
  fracta::request_options o;
  o.cancel_key = 42;
  o.on_message = [s](std::string) { s->cancel(42); };  // the request is surely in flight now
  auto r = c.request("tools/call", echo_call, std::move(o));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::cancelled);
  REQUIRE(c.run_until([&] { return !srv.seen("notifications/cancelled").empty(); }));
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 1);
  const auto cancelled = srv.seen("notifications/cancelled");
  REQUIRE(cancelled.size() == 1);
  CHECK(body_member(cancelled[0].body, {"params", "requestId"}) == body_member(calls[0].body, {"id"}));
  CHECK(cancelled[0].session_id == calls[0].session_id);
  CHECK(cancelled[0].authorization == "Bearer good");
  // An unknown or finished key is ignored; the session goes on.
  c.session->cancel(42);
  c.session->cancel(7);
  auto again = c.request("tools/list", "{}");
  CHECK(again.ok());
}

TEST_CASE("cancel(key) ends an in-flight request to a 2026-07-28 server with cancelled, sending no notification") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.withhold_answer = true;
  client c(config_for(srv.url()));
  fracta::mcp_session* s = c.session.get();
  fracta::request_options o;
  o.cancel_key = 9;
  std::vector<std::string> heard;
  o.on_message = [s, &heard](std::string m) {
    heard.push_back(std::move(m));
    s->cancel(9);
  };
  auto r = c.request("tools/call", echo_call, std::move(o));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::cancelled);
  REQUIRE(heard.size() == 1);
  CHECK(body_member(heard[0], {"method"}) == R"("notifications/progress")");
  CHECK(srv.seen("tools/call").size() == 1);
  auto list = c.request("tools/list", "{}");  // the session goes on (and the loop drains)
  CHECK(list.ok());
  CHECK(srv.seen("notifications/cancelled").empty());  // the closed stream is the cancellation
}

TEST_CASE("post() of a notification reaches a 2025 server in its session; a 2026-07-28 server is sent nothing") {
  fake_mcp_server srv;
  bool modern = false;
  SUBCASE("2025") {}
  SUBCASE("2026-07-28") { modern = true; }
  srv.modern = modern;
  client c(config_for(srv.url()));
  const std::string note = R"({"jsonrpc":"2.0","method":"notifications/roots/list_changed"})";
  auto r = fracta::core::run_async(c.io, c.session->post(note));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  const auto seen = srv.seen("notifications/roots/list_changed");
  if (modern) {
    CHECK(seen.empty());
    CHECK(c.session->era() == "modern");  // the conversation was opened first all the same
  } else {
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].body == note);
    CHECK(seen[0].session_id == "sess-1");
    CHECK(seen[0].protocol_version == "2025-11-25");
  }
}

TEST_CASE("set_message_handler hears a notification on a 2025 session's GET stream") {
  fake_mcp_server srv;
  const std::string changed = R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})";
  srv.get_stream_message = changed;
  client c(config_for(srv.url()));
  std::vector<std::string> heard;
  c.session->set_message_handler([&heard](std::string m) { heard.push_back(std::move(m)); });
  auto r = c.request("tools/list", "{}");
  REQUIRE(r.ok());
  auto has_changed = [&] {
    for (const auto& m : heard) {
      if (m == changed) return true;
    }
    return false;
  };
  CHECK(c.run_until(has_changed));
  std::size_t gets = 0;
  for (const auto& s : srv.seen()) gets += s.http_method == "GET" && s.session_id == "sess-1";
  CHECK(gets == 1);
  fracta::core::run_async(c.io, c.session->close());
}

TEST_CASE("status() starts at starting; a watcher sees ready after the first answer, refreshing then failing when the credential is refused") {
  fake_mcp_server srv;
  bool refused = false;
  SUBCASE("accepted") {}
  SUBCASE("refused") { refused = true; }
  client c(config_for(srv.url(), refused ? "refused-token-4711" : "good"));
  CHECK(c.session->status().state == server_state::starting);
  std::vector<fracta::server_status> seen;
  c.session->watch_status([&seen](const fracta::server_status& st) { seen.push_back(st); });
  auto r = c.request("tools/list", "{}");
  std::vector<server_state> states;
  for (const auto& st : seen) states.push_back(st.state);
  if (!refused) {
    CHECK(r.ok());
    REQUIRE(states == std::vector{server_state::ready});
    CHECK(seen[0].detail.empty());
    // The same outcome again is no transition.
    auto again = c.request("tools/list", "{}");
    CHECK(again.ok());
    CHECK(seen.size() == 1);
  } else {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::auth_failed);
    // The 401 consults the provider (a refresh, which has nothing new), then the request fails.
    REQUIRE(states == std::vector{server_state::refreshing, server_state::failing, server_state::failing});
    CHECK(seen.back().detail.find("token not accepted here") != std::string::npos);
    for (const auto& st : seen) CHECK(st.detail.find("refused-token-4711") == std::string::npos);
  }
  CHECK(c.session->status().state == seen.back().state);
  CHECK(c.session->status().detail == seen.back().detail);
}
