// SPDX-License-Identifier: Apache-2.0
// A session whose OAuth tokens come from a mounted token_file switches to the new token as soon
// as the file is swapped the Kubernetes way, before any 401. The real OAuth plugin against the
// in-process MCP server, which records the credential of every request.
#include "fracta/engine.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include "core/async.hpp"
#include "fake_mcp_server.hpp"
#include "session_helpers.hpp"

using fracta::test::fake_mcp_server;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string token_json(const std::string& access) {
  fracta::json::writer w;
  w.begin_object().key("access_token").value(access).key("token_type").value("Bearer").end_object();
  return w.take();
}

// A mounted Secret as the kubelet lays it out: token.json -> ..data/token.json, ..data -> ..<ts>.
struct mounted_secret {
  fs::path dir = fs::temp_directory_path() / ("fracta-token-watch-" + std::to_string(::getpid()));
  int version = 0;

  explicit mounted_secret(const std::string& first) {
    fs::remove_all(dir);
    fs::create_directories(dir / "state");
    ::setenv("XDG_STATE_HOME", (dir / "state").c_str(), 1);
    ::setenv("FRACTA_STORE_PASSPHRASE", "token-watch", 1);  // the store the provider reads its registration from
    const std::string ts = publish(first);
    fs::create_directory_symlink(ts, dir / "..data");
    fs::create_symlink("..data/token.json", dir / "token.json");
  }
  ~mounted_secret() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string publish(const std::string& contents) {
    const std::string ts = "..2026_12_01_18_00_0" + std::to_string(version++) + ".123";
    fs::create_directory(dir / ts);
    write_file(dir / ts / "token.json", contents);
    return ts;
  }
  /// An update: a new timestamped directory, ..data_tmp renamed over ..data, the old one removed.
  void update(const std::string& contents) {
    const std::string old = fs::read_symlink(dir / "..data").string();
    const std::string ts = publish(contents);
    fs::create_directory_symlink(ts, dir / "..data_tmp");
    fs::rename(dir / "..data_tmp", dir / "..data");
    fs::remove_all(dir / old);
  }
  std::string path() const { return (dir / "token.json").string(); }
};

struct client {
  asio::io_context io;
  fracta::test::log_lines log;
  fracta::engine eng;
  std::unique_ptr<fracta::mcp_session> session;

  client(const std::string& url, const std::string& token_file)
      : eng(io.get_executor(), config_for(url, token_file), fracta::test::logging_to(log)) {
    auto s = eng.open("s");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.err().message));
    session = std::move(s).value();
  }
  static fracta::config::config config_for(const std::string& url, const std::string& token_file) {
    const std::string text = "[mcp.servers.s.remote]\nurl = \"" + url +
                             "\"\n\n[mcp.servers.s.remote.auth]\ntype = \"oauth\"\ntoken_store = \"file\"\ntoken_file = \"" + token_file + "\"\n";
    return fracta::config::parse(text, "/virtual/config.toml");
  }
  fracta::result<fracta::tool_result> call(const std::string& text) {
    const std::string args = "{\"text\":\"" + text + "\"}";
    return fracta::core::run_async(io, session->call_tool("echo", args));
  }
};

}  // namespace

TEST_CASE("a token_file swapped the Kubernetes way is used by the next request, before any 401") {
  mounted_secret secret(token_json("token-A-0123456789"));
  fake_mcp_server srv;
  srv.expected_authorization = "Bearer token-A-0123456789";
  srv.also_accepted = "Bearer token-B-9876543210";
  client c(srv.url(), secret.path());

  auto first = c.call("one");
  REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.err().message));
  auto calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].authorization == "Bearer token-A-0123456789");

  secret.update(token_json("token-B-9876543210"));
  // The watch notices the swap and the credential is refreshed from the file (no request runs).
  const bool switched = fracta::test::run_until(c.io, [&] {
    return c.log.count("token_file of s changed; using the new token") == 1;
  });
  REQUIRE_MESSAGE(switched, c.log.all());

  auto second = c.call("two");
  REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.err().message));
  calls = srv.seen("tools/call");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].authorization == "Bearer token-B-9876543210");
  for (const auto& r : srv.seen()) CHECK_MESSAGE(r.status != 401, r.rpc_method);  // never refused first

  // The status says where the tokens come from and when the file was read.
  const std::string doc = fracta::core::run_async(c.io, c.session->auth_status());
  CHECK(fracta::test::body_member(doc, {"source"}) == "\"token_file\"");
  CHECK(fracta::test::body_member(doc, {"source_path"}) == "\"" + secret.path() + "\"");
  CHECK(fracta::test::body_member(doc, {"source_read_at"}) != "0");
  CHECK(fracta::test::body_member(doc, {"source_read_at"}) != "");

  fracta::core::run_async(c.io, c.session->close());
  // Let what the closed session still had in flight finish (run returns once the loop has no
  // work; the deadline only bounds a hang), so the test ends with nothing pending.
  c.io.restart();
  c.io.run_for(std::chrono::seconds(5));
  const std::string all = c.log.all();
  CHECK(all.find("token-A-0123456789") == std::string::npos);  // no token in any line
  CHECK(all.find("token-B-9876543210") == std::string::npos);
}

TEST_CASE("a token_file rewritten with other tokens after close() changes nothing: the watch ended with the session") {
  mounted_secret secret(token_json("token-A-0123456789"));
  fake_mcp_server srv;
  srv.expected_authorization = "Bearer token-A-0123456789";
  client c(srv.url(), secret.path());
  auto first = c.call("one");
  REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.err().message));
  fracta::core::run_async(c.io, c.session->close());
  secret.update(token_json("token-B-9876543210"));
  // Once the closed session's operations have completed, nothing of it is pending on the loop:
  // run() returns instead of waiting for file events.
  c.io.restart();
  auto ran = std::async(std::launch::async, [&] { c.io.run(); });
  const bool returned = ran.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!returned) c.io.stop();
  ran.wait();
  CHECK(returned);
  CHECK(c.log.count("token_file of s changed") == 0);
  CHECK(c.session->status().state == fracta::server_state::ready);
}
