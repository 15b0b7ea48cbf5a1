// SPDX-License-Identifier: Apache-2.0
// The loopback redirect listener and its host services: real TCP requests, the Host check, 404s,
// a listener that keeps serving (stray redirects do not end a login), the connection cap,
// localhost, timeout, cancel, teardown, and a pasted URL on a pipe.
#include "login/redirect.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <doctest/doctest.h>

#include "capture.hpp"

using namespace fracta;
using fracta::test::async_result;
using fracta::test::completion;
using fracta::test::str;

namespace {

namespace fs = std::filesystem;

// A blocking HTTP GET against `address`:`port` (the "browser") with the Host header `host`
// (default "127.0.0.1:<port>"); returns the whole answer, or "" when the connection is refused.
std::string get(std::uint16_t port, const std::string& target, std::string host = {},
                const std::string& address = "127.0.0.1") {
  if (host.empty()) host = "127.0.0.1:" + std::to_string(port);
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address(address), port), ec);
  if (ec) return {};
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(req), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

std::uint16_t port_of(const std::string& uri) {
  const auto colon = uri.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(uri.substr(colon + 1)));
}

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

bool ipv6_loopback() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io);
  std::error_code ec;
  a.open(asio::ip::tcp::v6(), ec);
  if (!ec) a.bind(asio::ip::tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
  return !ec;
}

// Joins `t` while the loop keeps serving (the listener answers on the loop).
void join_serving(test::host_fixture& f, std::thread& t, const std::atomic<bool>& done) {
  f.io.restart();
  auto guard = asio::make_work_guard(f.io);
  while (!done) f.io.run_one_for(std::chrono::milliseconds(20));
  t.join();
}

// Runs `get` on a thread while the loop serves; returns the answer.
std::string get_serving(test::host_fixture& f, std::uint16_t port, const std::string& target,
                        const std::string& host = {}, const std::string& address = "127.0.0.1") {
  std::string answer;
  std::atomic<bool> done{false};
  std::thread browser([&] {
    answer = get(port, target, host, address);
    done = true;
  });
  join_serving(f, browser, done);
  return answer;
}

bool said(const test::host_fixture& f, std::string_view needle) {
  for (const auto& l : f.said) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

struct instance {
  std::unique_ptr<plugin::provider_instance> inst;
  const fracta_host* h = nullptr;
  explicit instance(test::host_fixture& f) {
    auto r = plugin::provider_instance::create(test::capturing, f.ctx());
    REQUIRE(r.ok());
    inst = std::move(r).value();
    h = test::captured_host;
  }
  std::string listen(std::string_view requested = {}) {
    test::string_sink uri;
    REQUIRE(h->redirect_listen(h->host_ctx, str(requested), &uri.sink) == FRACTA_OK);
    return uri.text;
  }
  fracta_op_id await(async_result& r, std::int64_t timeout_ms = 10'000) {
    fracta_op_id op = 0;
    REQUIRE(h->redirect_await(h->host_ctx, timeout_ms, completion(r), &op) == FRACTA_PENDING);
    CHECK(op != 0);
    return op;
  }
};

const std::vector<std::string> hosts_5 = {"127.0.0.1:5", "localhost:5"};

}  // namespace

TEST_CASE("redirect URIs: only loopback http; host, port and path are taken from them") {
  std::string why;
  auto any = login::parse_redirect_uri("", why);
  REQUIRE(any);
  CHECK(any->host == "127.0.0.1");
  CHECK(any->port == 0);
  CHECK(any->path == "/callback");
  auto fixed = login::parse_redirect_uri("http://127.0.0.1:8976/cb", why);
  REQUIRE(fixed);
  CHECK(fixed->host == "127.0.0.1");
  CHECK(fixed->port == 8976);
  CHECK(fixed->path == "/cb");
  auto no_port = login::parse_redirect_uri("http://localhost/callback", why);
  REQUIRE(no_port);
  CHECK(no_port->host == "localhost");
  CHECK(no_port->port == 0);
  auto other = login::parse_redirect_uri("http://127.0.0.5:1/cb", why);
  REQUIRE(other);
  CHECK(other->host == "127.0.0.5");
  for (const char* bad : {"https://127.0.0.1:1/callback", "http://example.com:1/callback", "http://[::1]:1/callback",
                          "http://localhost.:1/callback", "http://10.0.0.1:1/callback"}) {
    const std::string shown = bad;
    CAPTURE(shown);
    CHECK_FALSE(login::parse_redirect_uri(bad, why));
  }
  CHECK_FALSE(login::parse_redirect_uri("http://127.0.0.1:1/callback?x=1", why));
  CHECK(why.find("query") != std::string::npos);
}

TEST_CASE("request heads are answered defensively") {
  auto ok = login::answer_request("GET /callback?code=a&state=b HTTP/1.1\r\nHost: 127.0.0.1:5\r\n\r\n", "/callback",
                                  hosts_5);
  CHECK(ok.status == 200);
  CHECK(ok.redirect);
  CHECK(ok.target == "/callback?code=a&state=b");
  CHECK(ok.body.find("authorization received, you can close this tab") != std::string::npos);
  CHECK(login::answer_request("GET /callback?x HTTP/1.1\r\nhost:  LOCALHOST:5 \r\n\r\n", "/callback", hosts_5)
            .status == 200);
  CHECK(login::answer_request("GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:5\r\n\r\n", "/callback", hosts_5).status ==
        404);
  auto bare = login::answer_request("GET /callback HTTP/1.1\r\nHost: 127.0.0.1:5\r\n\r\n", "/callback", hosts_5);
  CHECK(bare.status == 400);
  CHECK_FALSE(bare.redirect);
  CHECK(login::answer_request("POST /callback?code=a HTTP/1.1\r\nHost: 127.0.0.1:5\r\n\r\n", "/callback", hosts_5)
            .status == 405);
  CHECK(login::answer_request("garbage", "/callback", hosts_5).status == 400);
  CHECK(login::answer_request("GET /callback?code=a SMTP\r\n\r\n", "/callback", hosts_5).status == 400);
}

TEST_CASE("a missing, repeated or foreign Host is refused before the path is even looked at") {
  const auto answer = [](std::string_view fields, std::string_view target = "/callback?code=a") {
    const std::string head = "GET " + std::string(target) + " HTTP/1.1\r\n" + std::string(fields) + "\r\n";
    return login::answer_request(head, "/callback", hosts_5);
  };
  CHECK(answer("").status == 400);
  CHECK(answer("Host: 127.0.0.1:5\r\nHost: 127.0.0.1:5\r\n").status == 400);
  for (const char* foreign : {"Host: evil.example:5\r\n", "Host: 127.0.0.1:6\r\n", "Host: 127.0.0.1\r\n",
                              "Host: localhost.:5\r\n", "Host: [::1]:5\r\n"}) {
    const std::string shown = foreign;
    CAPTURE(shown);
    const auto a = answer(foreign);
    CHECK(a.status == 421);
    CHECK_FALSE(a.redirect);
    CHECK(a.body.find("evil") == std::string::npos);
  }
  CHECK(answer("Host: evil.example\r\n", "/favicon.ico").status == 421);  // not even a 404
  CHECK(login::answer_request("GET /cb?x HTTP/1.1\r\nHost: [::1]:5\r\n\r\n", "/cb", {"[::1]:5"}).status == 200);
}

TEST_CASE("without a user the interactive services are NULL") {
  test::host_fixture f(false);
  instance i(f);
  CHECK_FALSE(static_cast<bool>(i.h->open_url));
  CHECK_FALSE(static_cast<bool>(i.h->show_device_code));
  CHECK_FALSE(static_cast<bool>(i.h->redirect_listen));
  CHECK_FALSE(static_cast<bool>(i.h->redirect_await));
}

TEST_CASE("a GET for the redirect path delivers the URL; other paths get 404; the listener keeps serving") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  CHECK(uri.rfind("http://127.0.0.1:", 0) == 0);
  CHECK(uri.size() > 26);
  CHECK(uri.substr(uri.size() - 9) == "/callback");
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  i.await(r);
  std::string favicon, bare, page;
  std::atomic<bool> done{false};
  std::thread browser([&] {
    favicon = get(port, "/favicon.ico");
    bare = get(port, "/callback");
    page = get(port, "/callback?code=abc&state=xyz&iss=https%3A%2F%2Fas.example");
    done = true;
  });
  REQUIRE(f.wait(r));
  join_serving(f, browser, done);
  CHECK(r.status == FRACTA_OK);
  CHECK(r.value == uri + "?code=abc&state=xyz&iss=https%3A%2F%2Fas.example");
  CHECK(favicon.rfind("HTTP/1.1 404", 0) == 0);
  CHECK(bare.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(page.find("fracta: authorization received, you can close this tab and return to the terminal") !=
        std::string::npos);
  // Still listening: the next redirect goes to the next wait.
  CHECK(get_serving(f, port, "/callback?code=again").rfind("HTTP/1.1 200", 0) == 0);
  async_result next;
  i.await(next);
  REQUIRE(f.wait(next));
  CHECK(next.value == uri + "?code=again");
  CHECK(r.calls == 1);
}

TEST_CASE("a stray redirect neither ends nor spoils the login: the next redirect_await gets the real one") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result stray;
  i.await(stray);
  // Any local process or web page can reach the port; it does not know `state`.
  CHECK(get_serving(f, port, "/callback?code=attacker&state=forged").rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(stray.called);
  CHECK(stray.value == uri + "?code=attacker&state=forged");
  // The plugin sees the wrong state and waits again; the browser's redirect still gets through.
  async_result real;
  i.await(real);
  CHECK(get_serving(f, port, "/callback?code=c0de&state=s1").rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(f.wait(real));
  CHECK(real.status == FRACTA_OK);
  CHECK(real.value == uri + "?code=c0de&state=s1");
}

TEST_CASE("a request for another Host (a DNS-rebound page) gets 421 and is never delivered") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  i.await(r);
  const std::string evil_host = "evil.example:" + std::to_string(port);
  CHECK(get_serving(f, port, "/callback?code=evil&state=x", evil_host).rfind("HTTP/1.1 421", 0) == 0);
  CHECK_FALSE(r.called);  // a delivered redirect completes the wait before its page is written
  CHECK(get_serving(f, port, "/callback?code=real").rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(f.wait(r));
  CHECK(r.value == uri + "?code=real");
}

TEST_CASE("redirects that arrive between waits are kept in order, the newest 16 of them") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  const auto early = get_serving(f, port, "/callback?code=early");  // before any wait
  CHECK(early.rfind("HTTP/1.1 200", 0) == 0);
  async_result first;
  i.await(first);
  CHECK_FALSE(first.called);  // never inline
  REQUIRE(f.wait(first));
  CHECK(first.value == uri + "?code=early");
  const std::size_t sent = login::redirect_listener::max_pending + 2;
  for (std::size_t n = 0; n < sent; ++n) {
    CHECK(get_serving(f, port, "/callback?n=" + std::to_string(n)).rfind("HTTP/1.1 200", 0) == 0);
  }
  for (std::size_t n = sent - login::redirect_listener::max_pending; n < sent; ++n) {
    async_result r;
    i.await(r);
    REQUIRE(f.wait(r));
    CHECK(r.value == uri + "?n=" + std::to_string(n));
  }
}

TEST_CASE("a localhost redirect URI stays localhost and is served on 127.0.0.1 and ::1") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen("http://localhost/cb");
  CHECK(uri.rfind("http://localhost:", 0) == 0);
  CHECK(uri.substr(uri.size() - 3) == "/cb");
  const auto port = port_of(uri.substr(0, uri.size() - 3));
  const std::string host = "localhost:" + std::to_string(port);
  async_result v4;
  i.await(v4);
  CHECK(get_serving(f, port, "/cb?code=v4", host).rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(f.wait(v4));
  CHECK(v4.value == uri + "?code=v4");
  if (ipv6_loopback()) {
    async_result v6;
    i.await(v6);
    CHECK(get_serving(f, port, "/cb?code=v6", host, "::1").rfind("HTTP/1.1 200", 0) == 0);
    REQUIRE(f.wait(v6));
    CHECK(v6.value == uri + "?code=v6");
    const std::string literal = "[::1]:" + std::to_string(port);
    CHECK(get_serving(f, port, "/favicon.ico", literal, "::1").rfind("HTTP/1.1 404", 0) == 0);
  }
}

TEST_CASE("a fixed port and path are honoured as written; a busy port is UNAVAILABLE; others are refused") {
  test::host_fixture f(true);
  instance i(f);
  const auto port = free_port();
  const std::string want = "http://localhost:" + std::to_string(port) + "/cb";
  CHECK(i.listen(want) == want);  // a client registered with localhost gets localhost
  instance k(f);
  const auto port2 = free_port();
  const std::string literal = "http://127.0.0.1:" + std::to_string(port2) + "/cb";
  CHECK(k.listen(literal) == literal);

  asio::io_context io;
  asio::ip::tcp::acceptor busy(io, asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  const std::string taken = "http://127.0.0.1:" + std::to_string(busy.local_endpoint().port()) + "/callback";
  test::string_sink out;
  instance j(f);
  CHECK(j.h->redirect_listen(j.h->host_ctx, str(taken), &out.sink) == FRACTA_E_UNAVAILABLE);
  CHECK(j.h->redirect_listen(j.h->host_ctx, str("http://example.com:1/callback"), &out.sink) ==
        FRACTA_E_INVALID_ARGUMENT);
  CHECK(j.h->redirect_listen(j.h->host_ctx, str("https://127.0.0.1:1/callback"), &out.sink) ==
        FRACTA_E_INVALID_ARGUMENT);
  // redirect_await without a listener is a caller mistake.
  async_result r;
  fracta_op_id op = 0;
  CHECK(j.h->redirect_await(j.h->host_ctx, 1000, completion(r), &op) == FRACTA_E_INVALID_ARGUMENT);
  CHECK_FALSE(r.called);
}

TEST_CASE("at most 16 connections are read at once; the others wait in the backlog") {
  asio::io_context io;
  std::int32_t status = 0;
  std::string why;
  auto l = login::redirect_listener::listen(asio::make_strand(io.get_executor()), "", status, why);
  REQUIRE(l);
  const auto port = port_of(l->uri().substr(0, l->uri().size() - 9));
  asio::io_context client_io;
  std::vector<asio::ip::tcp::socket> idle;
  const std::size_t opened = login::redirect_listener::max_connections + 4;
  for (std::size_t n = 0; n < opened; ++n) {
    idle.emplace_back(client_io);
    idle.back().connect(asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  }
  const auto run_until = [&](std::size_t serving) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (l->serving() != serving && std::chrono::steady_clock::now() < until) {
      io.run_one_for(std::chrono::milliseconds(10));
    }
    return l->serving() == serving;
  };
  REQUIRE(run_until(login::redirect_listener::max_connections));
  for (int n = 0; n < 20; ++n) io.poll();  // the other 4 are in the backlog, ready to accept
  CHECK(l->serving() == login::redirect_listener::max_connections);
  // Ten clients go away: their slots go to the ones that waited.
  for (std::size_t n = 0; n < 10; ++n) idle[n].close();
  CHECK(run_until(opened - 10));
  l->close();
  io.poll();
  CHECK(l->serving() == 0);
}

TEST_CASE("no redirect within the timeout: FRACTA_E_TIMEOUT naming --timeout; the listener is closed") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  i.await(r, 1000);
  REQUIRE(f.wait(r));
  CHECK(r.status == FRACTA_E_TIMEOUT);
  CHECK(r.message == "no redirect arrived within 1 s (--timeout)");
  CHECK(get(port, "/callback?code=late").empty());
  // Waiting on the closed listener again completes (later), rather than hanging.
  async_result again;
  i.await(again);
  CHECK_FALSE(again.called);
  REQUIRE(f.wait(again, std::chrono::seconds(5)));
  CHECK(again.status == FRACTA_E_INVALID_ARGUMENT);
}

TEST_CASE("cancel() ends the wait with CANCELLED, later, and closes the listener") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  const auto op = i.await(r, 60'000);
  i.h->cancel(i.h->host_ctx, op);
  CHECK_FALSE(r.called);
  REQUIRE(f.wait(r));
  CHECK(r.status == FRACTA_E_CANCELLED);
  CHECK(get(port, "/callback?code=late").empty());
  f.io.restart();
  f.io.poll();
  CHECK(r.calls == 1);
}

TEST_CASE("teardown completes a pending wait with CANCELLED") {
  test::host_fixture f(true);
  auto i = std::make_unique<instance>(f);
  i->listen();
  async_result r;
  i->await(r, 60'000);
  i.reset();
  CHECK(r.called);
  CHECK(r.status == FRACTA_E_CANCELLED);
  f.io.restart();
  f.io.poll();
  CHECK(r.calls == 1);
}

TEST_CASE("with --no-browser a URL pasted on stdin is accepted; other lines are explained") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int saved = ::dup(STDIN_FILENO);
  REQUIRE(::dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
  ::close(fds[0]);
  {
    test::host_fixture f(true, true);
    instance i(f);
    const std::string uri = i.listen();
    async_result r;
    i.await(r, 20'000);
    CHECK(said(f, "paste its whole address here"));
    const std::string lines = "not a url\n" + uri + "?code=pasted&state=s\n";
    REQUIRE(::write(fds[1], lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()));
    REQUIRE(f.wait(r));
    CHECK(r.status == FRACTA_OK);
    CHECK(r.value == uri + "?code=pasted&state=s");
    CHECK(said(f, "That is not the redirect address: it must start with " + uri));
    // The reader keeps reading for the next wait.
    async_result again;
    i.await(again, 20'000);
    const std::string second = uri + "?code=second\n";
    REQUIRE(::write(fds[1], second.data(), second.size()) == static_cast<ssize_t>(second.size()));
    REQUIRE(f.wait(again));
    CHECK(again.value == uri + "?code=second");
  }
  ::close(fds[1]);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

TEST_CASE("open_url says the URL and starts $BROWSER, whose visit to the redirect completes the login") {
  const fs::path dir = fs::temp_directory_path() / ("fracta-open-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path log = dir / "browser.log";
  const fs::path page = dir / "page.html";
  const std::string browser = std::string(FRACTA_TEST_BROWSER) + " --log " + log.string() + " --page " + page.string();
  ::setenv("BROWSER", browser.c_str(), 1);
  {
    test::host_fixture f(true);
    instance i(f);
    const std::string uri = i.listen();
    const std::string auth_url = uri + "?code=from-browser&state=s1";
    CHECK(i.h->open_url(i.h->host_ctx, str(auth_url)) == FRACTA_OK);
    CHECK(said(f, "Opening your browser at: " + auth_url));
    async_result r;
    i.await(r, 20'000);
    REQUIRE(f.wait(r));
    CHECK(r.status == FRACTA_OK);
    CHECK(r.value == auth_url);
    CHECK(test::wait_for_lines(log) == auth_url + "\n");
    // The browser is detached: wait for it to have read the whole page.
    const std::string answer = test::wait_for_text(page, "</html>");
    CHECK(answer.find("authorization received, you can close this tab") != std::string::npos);
  }
  ::unsetenv("BROWSER");
  fs::remove_all(dir);
}

TEST_CASE("a browser wait counts down to the user, and says it ended before the login's outcome") {
  test::host_fixture f(true);
  std::vector<std::int64_t> heard;
  async_result r;
  bool ended_before_outcome = false;
  f.user.countdown = [&](std::int64_t left) {
    heard.push_back(left);
    if (left < 0) ended_before_outcome = !r.called;
  };
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  i.await(r, 90'000);
  // The first count is said when the wait starts: the whole timeout, in seconds.
  REQUIRE(heard.size() == 1);
  CHECK(heard.front() >= 89);
  CHECK(heard.front() <= 90);
  CHECK(get_serving(f, port, "/callback?code=abc&state=xyz").rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(f.wait(r));
  CHECK(r.status == FRACTA_OK);
  CHECK(heard.back() == -1);
  CHECK(std::count(heard.begin(), heard.end(), -1) == 1);
  CHECK(ended_before_outcome);
}
