// SPDX-License-Identifier: Apache-2.0
// The interactive host services: the loopback redirect listener (real TCP requests, 404s,
// timeout, cancel, teardown, a pasted URL on a pipe), $BROWSER parsing and launching, and the
// device-code prompt.
#include "login/redirect.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <doctest/doctest.h>

#include "capture.hpp"
#include "login/browser.hpp"

using namespace fracta;
using fracta::test::async_result;
using fracta::test::completion;
using fracta::test::str;

namespace {

namespace fs = std::filesystem;

// A blocking HTTP GET against 127.0.0.1 (the "browser"); returns the whole answer, or "" when
// the connection is refused.
std::string get(std::uint16_t port, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
  if (ec) return {};
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
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

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits (polling) until `p` holds at least `lines` lines.
std::string wait_for_file(const fs::path& p, int lines = 1) {
  for (int i = 0; i < 200; ++i) {
    const auto text = slurp(p);
    if (std::count(text.begin(), text.end(), '\n') >= lines) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return slurp(p);
}

// Joins `t` while the loop keeps serving (the listener answers on the loop).
void join_serving(test::host_fixture& f, std::thread& t, const std::atomic<bool>& done) {
  f.io.restart();
  auto guard = asio::make_work_guard(f.io);
  while (!done) f.io.run_one_for(std::chrono::milliseconds(20));
  t.join();
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
};

}  // namespace

TEST_CASE("redirect URIs: only loopback http, with port and path taken from them") {
  std::string why;
  auto any = login::parse_redirect_uri("", why);
  REQUIRE(any);
  CHECK(any->port == 0);
  CHECK(any->path == "/callback");
  auto fixed = login::parse_redirect_uri("http://127.0.0.1:8976/cb", why);
  REQUIRE(fixed);
  CHECK(fixed->port == 8976);
  CHECK(fixed->path == "/cb");
  auto no_port = login::parse_redirect_uri("http://localhost/callback", why);
  REQUIRE(no_port);
  CHECK(no_port->port == 0);
  CHECK_FALSE(login::parse_redirect_uri("https://127.0.0.1:1/callback", why));
  CHECK_FALSE(login::parse_redirect_uri("http://example.com:1/callback", why));
  CHECK_FALSE(login::parse_redirect_uri("http://127.0.0.1:1/callback?x=1", why));
  CHECK(why.find("query") != std::string::npos);
}

TEST_CASE("request heads are answered defensively") {
  auto ok = login::answer_request("GET /callback?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n", "/callback");
  CHECK(ok.status == 200);
  CHECK(ok.redirect);
  CHECK(ok.target == "/callback?code=a&state=b");
  CHECK(ok.body.find("authorization received, you can close this tab") != std::string::npos);
  CHECK(login::answer_request("GET /favicon.ico HTTP/1.1\r\n\r\n", "/callback").status == 404);
  auto bare = login::answer_request("GET /callback HTTP/1.1\r\n\r\n", "/callback");
  CHECK(bare.status == 400);
  CHECK_FALSE(bare.redirect);
  CHECK(login::answer_request("POST /callback?code=a HTTP/1.1\r\n\r\n", "/callback").status == 405);
  CHECK(login::answer_request("garbage", "/callback").status == 400);
  CHECK(login::answer_request("GET /callback?code=a SMTP\r\n\r\n", "/callback").status == 400);
}

TEST_CASE("$BROWSER is a ':'-separated list; %s takes the URL, else it is the last argument") {
  const std::string url = "http://127.0.0.1:1/x?a=1&b=2";
  auto cmds = login::browser_commands("firefox --new-tab:open %s --wait", url, true);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == std::vector<std::string>{"firefox", "--new-tab", url});
  CHECK(cmds[1] == std::vector<std::string>{"open", url, "--wait"});
  CHECK(login::browser_commands("", url, true) == std::vector<std::vector<std::string>>{{"xdg-open", url}});
  CHECK(login::browser_commands("", url, false).empty());
  CHECK(login::browser_commands("::", url, true) == std::vector<std::vector<std::string>>{{"xdg-open", url}});
}

TEST_CASE("launch tries each command until one starts, without a shell") {
  const fs::path log = fs::temp_directory_path() / ("fracta-browser-" + std::to_string(::getpid()) + ".log");
  fs::remove(log);
  ::setenv("FRACTA_TEST_BROWSER_LOG", log.c_str(), 1);
  const std::string url = "https://example.invalid/a?b=1&c=$(touch /tmp/no);x";
  auto cmds = login::browser_commands(std::string("/nonexistent/browser:") + FRACTA_TEST_BROWSER + " --flag", url, true);
  std::string why;
  const auto started = login::launch(cmds, why);
  CHECK(started == FRACTA_TEST_BROWSER);
  CHECK(why.find("/nonexistent/browser") != std::string::npos);
  CHECK(wait_for_file(log, 2) == "--flag\n" + url + "\n");  // the URL is one argv item, verbatim
  fs::remove(log);
  std::string why2;
  CHECK(login::launch({{"/nonexistent/a"}, {"/nonexistent/b"}}, why2).empty());
  CHECK(why2.find("/nonexistent/b") != std::string::npos);
}

TEST_CASE("without a user the interactive services are NULL") {
  test::host_fixture f(false);
  instance i(f);
  CHECK_FALSE(static_cast<bool>(i.h->open_url));
  CHECK_FALSE(static_cast<bool>(i.h->show_device_code));
  CHECK_FALSE(static_cast<bool>(i.h->redirect_listen));
  CHECK_FALSE(static_cast<bool>(i.h->redirect_await));
}

TEST_CASE("a GET for the redirect path delivers the URL; other paths get 404") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  CHECK(uri.rfind("http://127.0.0.1:", 0) == 0);
  CHECK(uri.size() > 26);
  CHECK(uri.substr(uri.size() - 9) == "/callback");
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  fracta_op_id op = 0;
  CHECK(i.h->redirect_await(i.h->host_ctx, 10'000, completion(r), &op) == FRACTA_PENDING);
  CHECK(op != 0);
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
  // The listener is closed once the wait is over.
  f.io.poll();
  CHECK(get(port, "/callback?code=again").empty());
}

TEST_CASE("a redirect that arrives before redirect_await is kept for it") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  std::string page;
  std::atomic<bool> answered{false};  // `page` is the browser thread's until then
  std::thread browser([&] {
    page = get(port, "/callback?code=early");
    answered = true;
  });
  // Serve the request without anyone waiting yet.
  for (int n = 0; n < 200 && !answered; ++n) {
    f.io.restart();
    f.io.run_for(std::chrono::milliseconds(10));
  }
  browser.join();
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  async_result r;
  fracta_op_id op = 0;
  CHECK(i.h->redirect_await(i.h->host_ctx, 10'000, completion(r), &op) == FRACTA_PENDING);
  CHECK_FALSE(r.called);  // never inline
  REQUIRE(f.wait(r));
  CHECK(r.value == uri + "?code=early");
}

TEST_CASE("a fixed port and path are honoured; a busy port is UNAVAILABLE; others are refused") {
  test::host_fixture f(true);
  instance i(f);
  const auto port = free_port();
  const std::string want = "http://127.0.0.1:" + std::to_string(port) + "/cb";
  CHECK(i.listen("http://localhost:" + std::to_string(port) + "/cb") == want);

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

TEST_CASE("no redirect within the timeout: FRACTA_E_TIMEOUT naming --timeout") {
  test::host_fixture f(true);
  instance i(f);
  i.listen();
  async_result r;
  fracta_op_id op = 0;
  CHECK(i.h->redirect_await(i.h->host_ctx, 1000, completion(r), &op) == FRACTA_PENDING);
  REQUIRE(f.wait(r));
  CHECK(r.status == FRACTA_E_TIMEOUT);
  CHECK(r.message == "no redirect arrived within 1 s (--timeout)");
}

TEST_CASE("cancel() ends the wait with CANCELLED, later, and closes the listener") {
  test::host_fixture f(true);
  instance i(f);
  const std::string uri = i.listen();
  const auto port = port_of(uri.substr(0, uri.size() - 9));
  async_result r;
  fracta_op_id op = 0;
  CHECK(i.h->redirect_await(i.h->host_ctx, 60'000, completion(r), &op) == FRACTA_PENDING);
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
  fracta_op_id op = 0;
  CHECK(i->h->redirect_await(i->h->host_ctx, 60'000, completion(r), &op) == FRACTA_PENDING);
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
    fracta_op_id op = 0;
    CHECK(i.h->redirect_await(i.h->host_ctx, 20'000, completion(r), &op) == FRACTA_PENDING);
    CHECK(said(f, "paste its whole address here"));
    const std::string lines = "not a url\n" + uri + "?code=pasted&state=s\n";
    REQUIRE(::write(fds[1], lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()));
    REQUIRE(f.wait(r));
    CHECK(r.status == FRACTA_OK);
    CHECK(r.value == uri + "?code=pasted&state=s");
    CHECK(said(f, "That is not the redirect address: it must start with " + uri));
  }
  ::close(fds[1]);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

TEST_CASE("open_url says the URL and starts $BROWSER, which may complete the login") {
  const fs::path log = fs::temp_directory_path() / ("fracta-open-" + std::to_string(::getpid()) + ".log");
  const fs::path page = fs::temp_directory_path() / ("fracta-open-" + std::to_string(::getpid()) + ".html");
  fs::remove(log);
  ::setenv("FRACTA_TEST_BROWSER_LOG", log.c_str(), 1);
  ::setenv("FRACTA_TEST_BROWSER_PAGE", page.c_str(), 1);
  ::setenv("BROWSER", FRACTA_TEST_BROWSER, 1);
  {
    test::host_fixture f(true);
    instance i(f);
    const std::string uri = i.listen();
    const std::string auth_url = uri + "?code=from-browser&state=s1";
    CHECK(i.h->open_url(i.h->host_ctx, str(auth_url)) == FRACTA_OK);
    CHECK(said(f, "Opening your browser at: " + auth_url));
    async_result r;
    fracta_op_id op = 0;
    CHECK(i.h->redirect_await(i.h->host_ctx, 20'000, completion(r), &op) == FRACTA_PENDING);
    REQUIRE(f.wait(r));
    CHECK(r.status == FRACTA_OK);
    CHECK(r.value == auth_url);
    CHECK(wait_for_file(log) == auth_url + "\n");
  }
  fs::remove(log);
  {
    test::host_fixture f(true, true);  // --no-browser: printed, never started
    instance i(f);
    CHECK(i.h->open_url(i.h->host_ctx, str("https://as.example/authorize?x=1")) == FRACTA_OK);
    CHECK(said(f, "Open this URL in a browser: https://as.example/authorize?x=1"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(fs::exists(log));
  }
  {
    test::host_fixture f(true);  // device code: the prompt, and $BROWSER gets the complete URI
    instance i(f);
    CHECK(i.h->show_device_code(i.h->host_ctx, str("https://as.example/device"), str("ABCD-EFGH"),
                                str("https://as.example/device?user_code=ABCD-EFGH")) == FRACTA_OK);
    CHECK(said(f, "To sign in, open https://as.example/device and enter the code ABCD-EFGH"));
    CHECK(said(f, "https://as.example/device?user_code=ABCD-EFGH"));
    CHECK(wait_for_file(log) == "https://as.example/device?user_code=ABCD-EFGH\n");
  }
  ::unsetenv("BROWSER");
  fs::remove(log);
  fs::remove(page);
}
