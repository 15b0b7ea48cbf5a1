// SPDX-License-Identifier: Apache-2.0
// The egress policy: address classes, and http::client refusing destinations before any byte is sent.
#include "http/egress.hpp"

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <thread>

#include "http/client.hpp"
#include "test_support.hpp"

using fracta::result;
using fracta::test::run_async;
namespace http = fracta::http;

namespace {

/// A keep-alive HTTP peer on 127.0.0.1 with its own thread that counts the connections it
/// accepts and the requests it reads; every request gets "200 ok".
class counting_server final {
 public:
  counting_server() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~counting_server() {
    io_.stop();
    thread_.join();
  }
  counting_server(const counting_server&) = delete;
  counting_server& operator=(const counting_server&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      ++connections_;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    try {
      std::string buffer;
      for (;;) {
        const auto n = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                       asio::use_awaitable);
        buffer.erase(0, n);
        ++requests_;
        const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
      }
    } catch (const std::exception&) {
      // the client closed the connection
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

http::address_class class_of(const char* text) { return http::classify(asio::ip::make_address(text)); }

// Sends each request in turn on one client; returns every result.
std::vector<result<http::response>> send_all(http::client_options options, std::vector<http::request> requests) {
  return run_async([&]() -> asio::awaitable<std::vector<result<http::response>>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, options);
    std::vector<result<http::response>> out;
    for (auto& r : requests) out.push_back(co_await c.send(std::move(r)));
    co_return out;
  });
}

http::request get(std::string url, http::egress_policy policy = {}) {
  http::request r;
  r.url = std::move(url);
  r.egress = policy;
  r.timeout = std::chrono::seconds(10);
  return r;
}

const http::client_options direct = [] {  // no proxy at all, whatever the environment says
  http::client_options o;
  o.http_proxy = o.https_proxy = o.no_proxy = "";
  return o;
}();
constexpr http::egress_policy no_loopback{false, true, false};
constexpr http::egress_policy no_private{true, false, false};

}  // namespace

TEST_CASE("addresses are classed as loopback, private, link-local or public") {
  using c = http::address_class;
  for (const char* a : {"127.0.0.1", "127.255.0.9", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::127.0.0.1"}) {
    const std::string address = a;
    CAPTURE(address);
    CHECK(class_of(a) == c::loopback);
  }
  for (const char* a : {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.254",
                        "fc00::1", "fd12:3456::1", "fd00:ec2::253", "fec0::1", "::ffff:10.1.2.3", "64:ff9b::a00:1"}) {
    const std::string address = a;
    CAPTURE(address);
    CHECK(class_of(a) == c::private_network);
  }
  for (const char* a : {"169.254.169.254", "169.254.0.1", "fe80::1", "febf::1", "fd00:ec2::254",
                        "::ffff:169.254.169.254"}) {
    const std::string address = a;
    CAPTURE(address);
    CHECK(class_of(a) == c::link_local);
  }
  for (const char* a : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1", "2001:db8::1",
                        "2606:4700::1111", "64:ff9b::808:808"}) {
    const std::string address = a;
    CAPTURE(address);
    CHECK(class_of(a) == c::public_address);
  }
}

TEST_CASE("the policy allows public addresses always, and each other class only by its flag") {
  using c = http::address_class;
  const http::egress_policy defaults;
  CHECK(http::allows(defaults, c::public_address));
  CHECK(http::allows(defaults, c::loopback));
  CHECK(http::allows(defaults, c::private_network));
  CHECK_FALSE(http::allows(defaults, c::link_local));  // never by default: cloud metadata
  const http::egress_policy none{false, false, false};
  CHECK(http::allows(none, c::public_address));
  CHECK_FALSE(http::allows(none, c::loopback));
  CHECK_FALSE(http::allows(none, c::private_network));
  CHECK(http::allows(http::egress_policy{false, false, true}, c::link_local));
}

TEST_CASE("IP literal hosts are recognised, brackets or not; names are not") {
  CHECK(http::literal_address("10.0.0.1") == asio::ip::make_address("10.0.0.1"));
  CHECK(http::literal_address("[fe80::1]") == asio::ip::make_address("fe80::1"));
  CHECK(http::literal_address("::1") == asio::ip::make_address("::1"));
  CHECK_FALSE(http::literal_address("localhost"));
  CHECK_FALSE(http::literal_address("example.com"));
  CHECK_FALSE(http::literal_address(""));
}

TEST_CASE("proxy settings give the proxy's address and port when they are written") {
  auto p = http::parse_proxy("http://user:pw@127.0.0.1:3128");
  REQUIRE(p);
  CHECK(p->address == asio::ip::make_address("127.0.0.1"));
  CHECK(p->port == 3128);
  CHECK(p->may_be(asio::ip::make_address("127.0.0.1"), 3128));
  CHECK_FALSE(p->may_be(asio::ip::make_address("127.0.0.1"), 6379));
  CHECK_FALSE(p->may_be(asio::ip::make_address("10.0.0.1"), 3128));
  auto named = http::parse_proxy("proxy.corp:8080");
  REQUIRE(named);
  CHECK_FALSE(named->address);
  CHECK(named->port == 8080);
  auto v6 = http::parse_proxy("socks5h://[::1]:1080/");
  REQUIRE(v6);
  CHECK(v6->address == asio::ip::make_address("::1"));
  CHECK(v6->port == 1080);
  auto bare = http::parse_proxy("10.1.1.1");
  REQUIRE(bare);
  CHECK_FALSE(bare->port);
  CHECK_FALSE(http::parse_proxy(""));
}

TEST_CASE("egress: a request to 127.0.0.1 with allow_loopback = false is refused before any connection") {
  counting_server srv;
  const std::string url = "http://user:hunter2@127.0.0.1:" + std::to_string(srv.port()) + "/mcp?api_key=SECRET";
  auto r = send_all(direct, {get(url, no_loopback)});
  REQUIRE_FALSE(r[0].ok());
  CHECK(r[0].err().code == http::errc::egress_refused);
  const auto& m = r[0].err().message;
  CHECK(m.find("GET http://127.0.0.1:" + std::to_string(srv.port()) + "/mcp: ") == 0);
  CHECK(m.find("a loopback address") != std::string::npos);
  CHECK(m.find("allow_private_network") != std::string::npos);
  CHECK(m.find("hunter2") == std::string::npos);
  CHECK(m.find("SECRET") == std::string::npos);
  CHECK(srv.connections() == 0);
  CHECK(srv.requests() == 0);
}

TEST_CASE("egress: a name that resolves to loopback is refused on its resolved address") {
  counting_server srv;
  const std::string url = "http://localhost:" + std::to_string(srv.port()) + "/x";
  auto r = send_all(direct, {get(url, no_loopback), get(url)});
  REQUIRE_FALSE(r[0].ok());
  CHECK(r[0].err().code == http::errc::egress_refused);
  CHECK(r[0].err().message.find("a loopback address") != std::string::npos);
  REQUIRE_MESSAGE(r[1].ok(), r[1].err().message);  // the default policy allows loopback
  CHECK(r[1]->status == 200);
  CHECK(srv.connections() == 1);
  CHECK(srv.requests() == 1);
}

TEST_CASE("egress: a reused connection is checked again before the request is sent") {
  counting_server srv;
  const std::string url = "http://localhost:" + std::to_string(srv.port()) + "/x";
  auto r = send_all(direct, {get(url), get(url, no_loopback), get(url)});
  REQUIRE_MESSAGE(r[0].ok(), r[0].err().message);
  REQUIRE_FALSE(r[1].ok());
  CHECK(r[1].err().code == http::errc::egress_refused);
  REQUIRE_MESSAGE(r[2].ok(), r[2].err().message);
  CHECK(srv.requests() == 2);  // the refused request never reached the server
}

TEST_CASE("egress: private, link-local and metadata literals are refused with the class and the key") {
  struct probe {
    const char* url;
    http::egress_policy policy;
    const char* cls;
  };
  const probe probes[] = {
      {"http://10.255.255.1:9/token", no_private, "a private address"},
      {"https://[fd12::1]/token", no_private, "a private address"},
      {"http://169.254.169.254/latest/meta-data/", {}, "a link-local address"},
      {"http://[fd00:ec2::254]/latest/meta-data/", {}, "a link-local address"},
      {"http://[::ffff:169.254.169.254]/", {}, "a link-local address"},
      {"http://[fe80::1]:8080/", {}, "a link-local address"},
      {"http://[::ffff:127.0.0.1]:9/", no_loopback, "a loopback address"},
  };
  for (const auto& p : probes) {
    const std::string url = p.url;
    CAPTURE(url);
    auto r = send_all(direct, {get(p.url, p.policy)});
    REQUIRE_FALSE(r[0].ok());
    CHECK(r[0].err().code == http::errc::egress_refused);
    CHECK(r[0].err().message.find(p.cls) != std::string::npos);
    CHECK(r[0].err().message.find("allow_private_network") != std::string::npos);
  }
}

TEST_CASE("egress: the proxy the user configured is not subject to the policy") {
  fracta::test::scripted_server proxy("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  auto o = direct;
  o.http_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto r = send_all(o, {get("http://origin.example/a", http::egress_policy{false, false, false})});
  REQUIRE_MESSAGE(r[0].ok(), r[0].err().message);
  REQUIRE(proxy.request_lines().size() == 1);
  CHECK(proxy.request_lines()[0] == "GET http://origin.example/a HTTP/1.1");
  // A refused literal target is refused even through the proxy.
  auto refused = send_all(o, {get("http://169.254.169.254/", {})});
  REQUIRE_FALSE(refused[0].ok());
  CHECK(refused[0].err().code == http::errc::egress_refused);
  CHECK(proxy.request_lines().size() == 1);
}
