// SPDX-License-Identifier: Apache-2.0
// Both MCP eras against the in-process server, with the faults real peers cannot produce: the
// stateless 2026-07-28 wire (discover, -32022, pinning, MRTR rounds, x-mcp-header, cache hints,
// cut streams) and the 2025 wire's streams (held open, server pings, primed and resumed).
#include "fracta/engine.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <doctest/doctest.h>
#include <simdjson.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"
#include "session_helpers.hpp"

using fracta::errc;
using fracta::test::fake_mcp_server;
using fracta::test::body_member;
using fracta::test::seen_request;

namespace {

fracta::config::config config_for(const std::string& url, const std::string& extra_remote = {}) {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url + "\"\n" + extra_remote +
                           "\n[mcp.servers.s.remote.auth]\ntype = \"bearer\"\ntoken = { value = \"good\" }\n";
  return fracta::config::parse(text, "/virtual/config.toml");
}

struct log_line {
  fracta::log_level level;
  std::string text;
};

struct client {
  asio::io_context io;
  std::vector<log_line> logged;
  fracta::engine eng;
  std::unique_ptr<fracta::mcp_session> session;

  explicit client(fracta::config::config cfg, fracta::engine_options o = {})
      : eng(io.get_executor(), std::move(cfg), with_log(std::move(o))) {
    session = open();
  }

  std::unique_ptr<fracta::mcp_session> open() {
    auto s = eng.open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    return std::move(s).value();
  }
  fracta::result<fracta::tool_result> call(const std::string& args_json = R"({"text":"hi"})",
                                           fracta::mcp_session* on = nullptr) {
    fracta::mcp_session& s = on != nullptr ? *on : *session;
    return fracta::core::run_async(io, s.call_tool("echo", args_json));
  }
  fracta::result<fracta::tool_list> list() { return fracta::core::run_async(io, session->list_tools()); }
  /// Runs the loop until `done` holds or 5 s pass.
  template <class F>
  bool run_until(F done) {
    return fracta::test::run_until(io, std::move(done));
  }

 private:
  fracta::engine_options with_log(fracta::engine_options o) {
    o.log = [this](fracta::log_level l, std::string_view m) { logged.push_back({l, std::string(m)}); };
    return o;
  }
};

std::string message_of(const fracta::result<fracta::tool_result>& r) { return r.ok() ? "" : r.err().message; }

std::size_t count(const std::vector<seen_request>& seen, const std::string& rpc_method) {
  std::size_t n = 0;
  for (const auto& s : seen) n += s.rpc_method == rpc_method;
  return n;
}


constexpr const char* meta_caps = "io.modelcontextprotocol/clientCapabilities";

}  // namespace

// ---- the 2026-07-28 wire ---------------------------------------------------------------------

TEST_CASE("a modern server is called statelessly: discover, list, call, with no initialize and no session") {
  fake_mcp_server srv;
  srv.modern = true;
  SUBCASE("SSE answers") {}
  SUBCASE("JSON answers") { srv.sse = false; }
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: hi");
  CHECK(c.session->era() == "modern");
  CHECK(c.session->protocol_version() == "2026-07-28");
  fracta::core::run_async(c.io, c.session->close());
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 3);  // the fake refuses any request whose headers do not match its body
  CHECK(seen[0].rpc_method == "server/discover");
  CHECK(seen[1].rpc_method == "tools/list");
  CHECK(seen[2].rpc_method == "tools/call");
  for (const auto& s : seen) {
    CHECK(s.status == 200);
    CHECK(s.http_method == "POST");
    CHECK(s.protocol_version == "2026-07-28");
    CHECK(s.header("Mcp-Method") == s.rpc_method);
    CHECK(s.session_id.empty());
    CHECK(s.authorization == "Bearer good");
  }
  CHECK(seen[2].header("Mcp-Name") == "echo");
}

TEST_CASE("a -32022 on a call after discovery makes fracta discover again and send the call once more") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.unsupported_calls = 1;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: hi");
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 5);
  CHECK(seen[2].rpc_method == "tools/call");
  CHECK(seen[2].status == 400);
  CHECK(seen[3].rpc_method == "server/discover");
  CHECK(seen[4].rpc_method == "tools/call");
  CHECK(seen[4].status == 200);
  CHECK(count(seen, "initialize") == 0);
}

namespace {

// A modern server turns legacy between two calls; its refusal of the stateless call is `refusal`.
void modern_server_turns_legacy(bool sdk_refusals, int refusal) {
  fake_mcp_server srv;
  srv.modern = true;
  srv.sdk_refusals = sdk_refusals;
  client c(config_for(srv.url()));
  REQUIRE(c.call().ok());
  CHECK(c.session->era() == "modern");
  srv.modern = false;
  auto r = c.call(R"({"text":"again"})");
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: again");
  CHECK(c.session->era() == "legacy");
  const auto seen = srv.seen();
  REQUIRE(seen.size() == 8);
  CHECK(seen[3].rpc_method == "tools/call");
  CHECK(seen[3].status == refusal);
  CHECK(seen[4].rpc_method == "server/discover");
  CHECK(seen[5].rpc_method == "initialize");
  CHECK(seen[6].rpc_method == "notifications/initialized");
  CHECK(seen[7].rpc_method == "tools/call");
  CHECK(seen[7].session_id == "sess-1");
  // A second session of the engine goes straight to initialize: the new verdict is kept.
  auto second = c.open();
  REQUIRE(c.call(R"({"text":"three"})", second.get()).ok());
  CHECK(srv.seen("server/discover").size() == 2);
}

}  // namespace

TEST_CASE("a modern server that turns legacy (a JSON-RPC refusal) is probed again and spoken to with initialize") {
  modern_server_turns_legacy(true, 400);
}

TEST_CASE("a modern server that turns legacy (a bare 404) is probed again and spoken to with initialize") {
  modern_server_turns_legacy(false, 404);
}

TEST_CASE("a modern server's error page is reported with its HTTP status, without the credential") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.echo_status = 500;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("HTTP 500") != std::string::npos);
  CHECK(r.err().message.find("Internal error") != std::string::npos);
  CHECK(r.err().message.find("good") == std::string::npos);
  CHECK(srv.seen("tools/call").size() == 1);
}

TEST_CASE("a -32022 to server/discover listing only versions fracta does not speak is a clear error, never initialize") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.supported = {"2027-01-01", "2027-06-30"};
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("no MCP version in common") != std::string::npos);
  CHECK(r.err().message.find("2026-07-28") != std::string::npos);  // what fracta speaks
  CHECK(r.err().message.find("2027-01-01, 2027-06-30") != std::string::npos);
  const auto seen = srv.seen();
  CHECK(count(seen, "server/discover") == 1);
  CHECK(count(seen, "initialize") == 0);
  CHECK(c.session->era().empty());
}

TEST_CASE("a -32022 to server/discover listing the very version asked is tried once more at it, never initialize") {
  fake_mcp_server srv;
  srv.modern = true;
  SUBCASE("the second discover is answered") {
    srv.unsupported_discovers = 1;
    client c(config_for(srv.url()));
    auto r = c.call();
    REQUIRE_MESSAGE(r.ok(), message_of(r));
    CHECK(c.session->era() == "modern");
    CHECK(count(srv.seen(), "server/discover") == 2);
    CHECK(count(srv.seen(), "initialize") == 0);
  }
  SUBCASE("the server refuses it every time: an error after exactly one retry") {
    srv.unsupported_discovers = 1000;
    client c(config_for(srv.url()));
    auto r = c.call();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::protocol);
    CHECK(count(srv.seen(), "server/discover") == 2);
    CHECK(count(srv.seen(), "initialize") == 0);
  }
}

TEST_CASE("the era verdict is kept per endpoint for the engine's life: two sessions, one discover") {
  fake_mcp_server srv;
  SUBCASE("modern") { srv.modern = true; }
  SUBCASE("legacy") {}
  client c(config_for(srv.url()));
  auto second = c.open();
  REQUIRE(c.call().ok());
  auto r = c.call(R"({"text":"two"})", second.get());
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: two");
  CHECK(second->era() == c.session->era());
  const auto seen = srv.seen();
  CHECK(count(seen, "server/discover") == 1);
  CHECK(count(seen, "initialize") == (srv.modern ? 0 : 2));
}

TEST_CASE("remote.protocol = 2025-11-25 pins the 2025 wire: initialize first, no discover") {
  fake_mcp_server srv;
  client c(config_for(srv.url(), "protocol = \"2025-11-25\"\n"));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(c.session->era() == "legacy");
  const auto seen = srv.seen();
  REQUIRE_FALSE(seen.empty());
  CHECK(seen[0].rpc_method == "initialize");
  CHECK(count(seen, "server/discover") == 0);
}

TEST_CASE("remote.protocol = 2026-07-28 against a modern server speaks it after server/discover, no initialize") {
  fake_mcp_server srv;
  srv.modern = true;
  client c(config_for(srv.url(), "protocol = \"2026-07-28\"\n"));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(c.session->era() == "modern");
  CHECK(c.session->protocol_version() == "2026-07-28");
  const auto seen = srv.seen();
  REQUIRE_FALSE(seen.empty());
  CHECK(seen[0].rpc_method == "server/discover");
  CHECK(count(seen, "initialize") == 0);
}

TEST_CASE("remote.protocol = 2026-07-28 against a 2025 server is an error naming remote.protocol, no initialize") {
  fake_mcp_server srv;
  client c(config_for(srv.url(), "protocol = \"2026-07-28\"\n"));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("remote.protocol") != std::string::npos);
  CHECK(r.err().message.find("2026-07-28") != std::string::npos);
  const auto seen = srv.seen();
  CHECK(count(seen, "server/discover") == 1);
  CHECK(count(seen, "initialize") == 0);
}

TEST_CASE("input_required rounds are retried with new ids, the request state echoed exactly, until complete") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.input_rounds = 2;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: hi");
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 3);
  std::set<std::string> ids;
  for (const auto& s : calls) ids.insert(body_member(s.body, {"id"}));
  CHECK(ids.size() == 3);
  CHECK(body_member(calls[0].body, {"params", "requestState"}).empty());  // never one the server did not send
  CHECK(body_member(calls[1].body, {"params", "requestState"}) == R"("opaque \"round\"=1")");
  CHECK(body_member(calls[2].body, {"params", "requestState"}) == R"("opaque \"round\"=2")");
  for (const auto& s : calls) CHECK(body_member(s.body, {"params", "arguments"}) == R"({"text":"hi"})");
  // The state belongs to that call only: the next one starts without it.
  REQUIRE(c.call().ok());
  const auto next = srv.seen("tools/call");
  REQUIRE(next.size() == 6);
  CHECK(body_member(next[3].body, {"params", "requestState"}).empty());
  CHECK(body_member(next[3].body, {"params", "inputResponses"}).empty());
}

TEST_CASE("a server that never completes is given up after 8 input rounds with a clear error") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.input_rounds = -1;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("8 times") != std::string::npos);
  CHECK(r.err().message.find("giving up") != std::string::npos);
  CHECK(srv.seen("tools/call").size() == 8);
}

TEST_CASE("without an elicit callback fracta declares no capability and refuses a server's question") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.input_rounds = 1;
  srv.input_elicit = true;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::unsupported);
  CHECK(r.err().message.find("elicitation/create") != std::string::npos);
  CHECK(srv.seen("tools/call").size() == 1);  // not retried without an answer
  for (const auto& s : srv.seen()) CHECK(body_member(s.body, {"params", "_meta", meta_caps}) == "{}");
}

TEST_CASE("with an elicit callback the person's answer reaches the server in inputResponses") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.input_rounds = 1;
  srv.input_elicit = true;
  std::vector<std::string> asked;
  fracta::engine_options o;
  o.interactive.enabled = true;
  o.interactive.elicit = [&asked](std::string_view params) {
    asked.emplace_back(params);
    return std::string(R"({"action":"accept","content":{"ok":true}})");
  };
  client c(config_for(srv.url()), std::move(o));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].find("Proceed?") != std::string::npos);
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 2);
  CHECK(body_member(calls[1].body, {"params", "inputResponses"}) == R"({"confirm":{"action":"accept","content":{"ok":true}}})");
  CHECK(body_member(calls[0].body, {"params", "inputResponses"}).empty());
  CHECK(body_member(calls[0].body, {"params", "_meta", meta_caps}).find("elicitation") != std::string::npos);
}

TEST_CASE("an unknown resultType is a protocol error") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.result_type = "partial";
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::protocol);
  CHECK(r.err().message.find("cannot read") != std::string::npos);
}

TEST_CASE("a tool with an invalid x-mcp-header is dropped and logged; a valid one's argument becomes Mcp-Param-*") {
  fake_mcp_server srv;
  srv.modern = true;
  srv.tools_json = R"([{"name":"echo","inputSchema":{"type":"object","properties":{"text":{"type":"string"},)"
                   R"("region":{"type":"string","x-mcp-header":"Region"}}}},)"
                   R"({"name":"broken","inputSchema":{"type":"object","properties":{)"
                   R"("where":{"type":"string","x-mcp-header":"two words"}}}}])";
  client c(config_for(srv.url()));
  auto l = c.list();
  REQUIRE_MESSAGE(l.ok(), (l.ok() ? "" : l.err().message));
  REQUIRE(l->tools.size() == 1);
  CHECK(l->tools[0].name == "echo");
  CHECK(l->result_json.find("broken") == std::string::npos);
  bool warned = false;
  for (const auto& line : c.logged) {
    warned = warned || (line.level == fracta::log_level::warn && line.text.find("broken") != std::string::npos);
  }
  CHECK(warned);
  auto r = c.call(R"({"text":"hi","region":"eu-west"})");
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].header("Mcp-Param-Region") == "eu-west");
}

TEST_CASE("tools/list is served from the cache while its ttlMs lasts, and not cached with ttlMs 0") {
  fake_mcp_server srv;
  srv.modern = true;
  SUBCASE("ttlMs 60000") { srv.tools_ttl_ms = 60000; }
  SUBCASE("ttlMs 0") { srv.tools_ttl_ms = 0; }
  client c(config_for(srv.url()));
  auto first = c.list();
  REQUIRE(first.ok());
  auto second = c.list();
  REQUIRE(second.ok());
  CHECK(second->tools.size() == first->tools.size());
  CHECK(srv.seen("tools/list").size() == (srv.tools_ttl_ms > 0 ? 1U : 2U));
}

TEST_CASE("a modern stream cut before its answer is sent again once, with a new id") {
  fake_mcp_server srv;
  srv.modern = true;
  SUBCASE("once: the second attempt answers") {
    srv.cut_streams = 1;
    client c(config_for(srv.url()));
    auto r = c.call();
    REQUIRE_MESSAGE(r.ok(), message_of(r));
    CHECK(r->text == "echo: hi");
  }
  SUBCASE("ended cleanly once: the second attempt answers") {
    srv.cut_streams = 1;
    srv.cut_cleanly = true;
    client c(config_for(srv.url()));
    auto r = c.call();
    REQUIRE_MESSAGE(r.ok(), message_of(r));
    CHECK(r->text == "echo: hi");
  }
  SUBCASE("twice: an error, no third attempt") {
    srv.cut_streams = 2;
    client c(config_for(srv.url()));
    auto r = c.call();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::transport);
  }
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 2);
  CHECK(body_member(calls[0].body, {"id"}) != body_member(calls[1].body, {"id"}));
}

// ---- the 2025 wire's streams -------------------------------------------------------------------

TEST_CASE("a legacy SSE answer on a stream the server keeps open completes without waiting for the timeout") {
  fake_mcp_server srv;
  srv.hold_stream_open = true;
  client c(config_for(srv.url(), "timeout_seconds = 8\n"));
  const auto start = std::chrono::steady_clock::now();
  auto r = c.call();
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: hi");
  CHECK(took < std::chrono::seconds(4));
}

TEST_CASE("a legacy server's ping on the stream gets a JSON-RPC response posted back") {
  fake_mcp_server srv;  // every answer's stream carries a ping with id "srv-1" before the answer
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  REQUIRE(c.run_until([&] { return !srv.replies().empty(); }));
  const auto reply = srv.reply_requests().front();
  CHECK(body_member(reply.body, {"id"}) == R"("srv-1")");
  CHECK(body_member(reply.body, {"result"}) == "{}");
  CHECK(body_member(reply.body, {"error"}).empty());
  CHECK(reply.http_method == "POST");
  CHECK(reply.session_id == "sess-1");  // in the session it was asked in, with the credential
  CHECK(reply.authorization == "Bearer good");
  CHECK(reply.protocol_version == "2025-11-25");
}

TEST_CASE("a legacy server's elicitation on the stream is refused without an elicit callback, answered with one") {
  fake_mcp_server srv;
  srv.stream_request = R"({"jsonrpc":"2.0","id":"srv-1","method":"elicitation/create",)"
                       R"("params":{"mode":"form","message":"Proceed?","requestedSchema":{"type":"object"}}})";
  fracta::engine_options o;
  std::vector<std::string> asked;
  bool can_answer = false;
  SUBCASE("no callback") {}
  SUBCASE("a callback") { can_answer = true; }
  if (can_answer) {
    o.interactive.enabled = true;
    o.interactive.elicit = [&asked](std::string_view params) {
      asked.emplace_back(params);
      return std::string(R"({"action":"decline"})");
    };
  }
  client c(config_for(srv.url()), std::move(o));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  REQUIRE(c.run_until([&] { return !srv.replies().empty(); }));
  const auto reply = srv.replies().front();
  CHECK(body_member(reply, {"id"}) == R"("srv-1")");
  if (can_answer) {
    CHECK(body_member(reply, {"result"}) == R"({"action":"decline"})");
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].find("Proceed?") != std::string::npos);
  } else {
    CHECK(body_member(reply, {"result"}).empty());
    CHECK(body_member(reply, {"error", "code"}) == "-32601");
    CHECK(asked.empty());
  }
  const auto init = srv.seen("initialize");
  REQUIRE(init.size() == 1);
  CHECK((body_member(init[0].body, {"params", "capabilities"}).find("elicitation") != std::string::npos) == can_answer);
  // With a callback the session's GET stream is open: close() ends it and waits for it.
  fracta::core::run_async(c.io, c.session->close());
  auto gets = [&] {
    const auto seen = srv.seen("");
    return std::count_if(seen.begin(), seen.end(), [](const auto& q) { return q.http_method == "GET"; });
  };
  if (can_answer) {
    CHECK(c.run_until([&] { return gets() == 1; }));  // the GET stream was opened
  } else {
    CHECK(gets() == 0);  // nothing to answer with: no GET stream
  }
}

TEST_CASE("a legacy stream primed with an id and closed before the answer is resumed with Last-Event-ID") {
  fake_mcp_server srv;
  srv.prime_then_close = true;
  client c(config_for(srv.url()));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->text == "echo: resumed");
  const auto gets = srv.seen("");
  REQUIRE(gets.size() == 1);
  CHECK(gets[0].http_method == "GET");
  CHECK(gets[0].header("Last-Event-ID") == "prime-1");
  CHECK(gets[0].session_id == "sess-1");
  CHECK(gets[0].authorization == "Bearer good");
  CHECK(gets[0].status == 200);
}

TEST_CASE("with a progress listener, tools/call asks for progress and the server's progress reaches it") {
  fake_mcp_server srv;  // a 2025 server that sends a progress notification before each answer
  fracta::engine_options o;
  std::vector<std::string> heard;
  SUBCASE("a listener") {
    o.interactive.progress = [&heard](std::string_view line) { heard.emplace_back(line); };
  }
  SUBCASE("no listener") {}
  const bool listening = static_cast<bool>(o.interactive.progress);
  client c(config_for(srv.url()), std::move(o));
  auto r = c.call();
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  const auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 1);
  const std::string token = body_member(calls[0].body, {"params", "_meta", "progressToken"});
  if (listening) {
    CHECK(token.find("fracta-") != std::string::npos);
    REQUIRE(c.run_until([&] { return !heard.empty(); }));
    CHECK(heard[0].rfind("progress", 0) == 0);
  } else {
    CHECK(token.empty());
    CHECK(heard.empty());
  }
}
