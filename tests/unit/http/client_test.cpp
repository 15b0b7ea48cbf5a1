// SPDX-License-Identifier: Apache-2.0
// Specification of http::client against in-process loopback peers (no network beyond 127.0.0.1).
#include "http/client.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <stdlib.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <mutex>
#include <set>

#include "test_support.hpp"

// Note: objects are never built in the same full-expression as a co_await (GCC 12 mis-copies
// default-argument temporaries there); the executor is fetched first.
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using fracta::result;
using fracta::test::run_async;
namespace http = fracta::http;

namespace {

/// A cpp-httplib server on 127.0.0.1:<ephemeral>, on its own thread.
class test_server final {
 public:
  test_server() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_.set_keep_alive_timeout(1);
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Method", req.method);
      res.set_header("X-Custom-Seen", req.get_header_value("X-Custom"));
      res.set_header("X-Content-Type-Seen", req.get_header_value("Content-Type"));
      res.set_header("X-Query-Seen", req.get_param_value("q"));
      res.set_header("x-lower-case", "yes");
      res.set_content(req.body.empty() ? std::string("empty") : req.body, "text/plain");
    };
    server_.Get("/echo", echo);
    server_.Post("/echo", echo);
    server_.Put("/echo", echo);
    server_.Delete("/echo", echo);
    server_.Patch("/echo", echo);
    server_.Get("/status/401", [](const httplib::Request&, httplib::Response& res) {
      res.status = 401;
      res.set_header("WWW-Authenticate", R"(Bearer resource_metadata="https://x/.well-known")");
      res.set_content("unauthorized", "text/plain");
    });
    server_.Get("/status/500", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    });
    server_.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", "/echo?q=followed");
      res.set_content("moved", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100'000, 'x'), "application/octet-stream");
    });
    server_.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain",
                                       [](std::size_t offset, httplib::DataSink& sink) {
                                         if (offset >= 40'000) {
                                           sink.done();
                                           return true;
                                         }
                                         std::string piece(1000, 'c');
                                         return sink.write(piece.data(), piece.size());
                                       });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs is lost (cpp-httplib 0.11): wait for it.
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~test_server() {
    server_.stop();
    thread_.join();
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

http::request get(std::string url) {
  http::request r;
  r.url = std::move(url);
  return r;
}

http::client_options no_proxy_options() {
  http::client_options o;
  o.http_proxy = "";
  o.https_proxy = "";
  o.no_proxy = "";
  return o;
}

/// Clears every proxy variable for the duration of a test, restoring nothing: tests own
/// the environment of this process.
void clear_proxy_env() {
  for (const char* name :
       {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"})
    unsetenv(name);
}

}  // namespace

TEST_CASE("GET returns the status, the headers and the body; request headers are sent") {
  test_server server;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get(server.url("/echo?q=a%20b"));
    req.headers.push_back({"X-Custom", "hello"});
    co_return co_await c.send(std::move(req));
  });
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "empty");
  CHECK(r->header("X-Method") == "GET");
  CHECK(r->header("X-Custom-Seen") == "hello");
  CHECK(r->header("X-Query-Seen") == "a b");
  SUBCASE("header lookup ignores case") {
    CHECK(r->header("x-method") == "GET");
    CHECK(r->header("X-LOWER-CASE") == "yes");
    CHECK(http::find_header(r->headers, "content-type") == "text/plain");
    CHECK_FALSE(r->header("X-Absent").has_value());
  }
}

TEST_CASE("POST, PUT, PATCH and DELETE send their method, body and content type") {
  test_server server;
  for (std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    CAPTURE(method);
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      auto req = get(server.url("/echo"));
      req.method = method;
      req.body = R"({"k":"v"})";
      req.headers.push_back({"Content-Type", "application/json"});
      co_return co_await c.send(std::move(req));
    });
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->header("X-Method") == method);
    CHECK(r->body == R"({"k":"v"})");
    CHECK(r->header("X-Content-Type-Seen") == "application/json");
  }
}

TEST_CASE("POST with an empty body and no content type sends neither a body nor a default type") {
  test_server server;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get(server.url("/echo"));
    req.method = "POST";
    co_return co_await c.send(std::move(req));
  });
  REQUIRE(r.ok());
  CHECK(r->body == "empty");
  CHECK(r->header("X-Content-Type-Seen") == "");
}

TEST_CASE("HTTP error statuses are responses, not errors") {
  test_server server;
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto unauthorized = co_await c.send(get(server.url("/status/401")));
    REQUIRE(unauthorized.ok());
    CHECK(unauthorized->status == 401);
    CHECK(unauthorized->header("www-authenticate") ==
          R"(Bearer resource_metadata="https://x/.well-known")");
    CHECK(unauthorized->body == "unauthorized");
    auto failed = co_await c.send(get(server.url("/status/500")));
    REQUIRE(failed.ok());
    CHECK(failed->status == 500);
    CHECK(failed->body == "boom");
  });
}

TEST_CASE("redirects are returned, never followed") {
  test_server server;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    co_return co_await c.send(get(server.url("/redirect")));
  });
  REQUIRE(r.ok());
  CHECK(r->status == 302);
  CHECK(r->header("Location") == "/echo?q=followed");
  CHECK(r->body == "moved");
}

TEST_CASE("HEAD returns headers and no body") {
  test_server server;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get(server.url("/big"));
    req.method = "HEAD";
    req.max_response_bytes = 10;  // the announced length does not count: nothing is received
    co_return co_await c.send(std::move(req));
  });
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.empty());
}

TEST_CASE("only the final response's headers are kept (interim 1xx responses are dropped)") {
  fracta::test::scripted_server peer(
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
      "HTTP/1.1 200 OK\r\nX-Final: 1\r\nX-Folded: first\r\n  second\r\nX-Spaces:   padded  \r\n"
      "Content-Length: 2\r\nConnection: close\r\n\r\nok");
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    co_return co_await c.send(get("http://127.0.0.1:" + std::to_string(peer.port()) + "/"));
  });
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "ok");
  CHECK_FALSE(r->header("X-Interim").has_value());
  CHECK(r->header("X-Final") == "1");
  CHECK(r->header("X-Folded") == "first second");
  CHECK(r->header("X-Spaces") == "padded");
  CHECK(r->headers.front().name == "X-Final");
}

TEST_CASE(
    "a peer that never answers fails with errc::timeout; the message names method and URL only") {
  fracta::test::black_hole hole;
  auto started = std::chrono::steady_clock::now();
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get("http://127.0.0.1:" + std::to_string(hole.port()) + "/token?code=QUERYSECRET");
    req.method = "POST";
    req.timeout = 300ms;
    req.headers.push_back({"Authorization", "Bearer HEADERSECRET"});
    req.body = "client_secret=BODYSECRET";
    co_return co_await c.send(std::move(req));
  });
  auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == http::errc::timeout);
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 5s);
  const auto& message = r.err().message;
  CHECK(message.find("POST http://127.0.0.1:" + std::to_string(hole.port()) + "/token") !=
        std::string::npos);
  CHECK(message.find("SECRET") == std::string::npos);
  CHECK(message.find("code=") == std::string::npos);
}

TEST_CASE(
    "cancellation through awaitable operator || yields errc::cancelled and the client stays "
    "usable") {
  using namespace asio::experimental::awaitable_operators;
  fracta::test::black_hole hole;
  test_server server;
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    std::optional<result<http::response>> seen;
    auto slow = [&]() -> awaitable<void> {
      seen.emplace(co_await c.send(get("http://127.0.0.1:" + std::to_string(hole.port()) + "/")));
    };
    asio::steady_timer timer(ex, 100ms);
    auto winner = co_await (slow() || timer.async_wait(use_awaitable));
    CHECK(winner.index() == 1);
    REQUIRE(seen.has_value());
    REQUIRE_FALSE(seen->ok());
    CHECK(seen->err().code == http::errc::cancelled);
    auto after = co_await c.send(get(server.url("/echo")));
    REQUIRE(after.ok());
    CHECK(after->status == 200);
  });
}

namespace {

// GETs `url` with `c` into `seen`, open to every kind of cancellation.
awaitable<void> send_cancellable(http::client& c, std::string url,
                                 std::optional<result<http::response>>& seen) {
  // co_spawn lets only terminal cancellation through unless the coroutine widens it.
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  auto send = c.send(get(std::move(url)));
  seen.emplace(co_await std::move(send));
}

}  // namespace

TEST_CASE("cancellation through a cancellation_signal yields errc::cancelled") {
  fracta::test::black_hole hole;
  for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                    asio::cancellation_type::total}) {
    run_async([&]() -> awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      asio::cancellation_signal signal;
      std::optional<result<http::response>> seen;
      auto url = "http://127.0.0.1:" + std::to_string(hole.port()) + "/";
      asio::co_spawn(ex, send_cancellable(c, url, seen),
                     asio::bind_cancellation_slot(signal.slot(),
                                                  [](std::exception_ptr e) { CHECK_FALSE(e); }));
      asio::steady_timer timer(ex, 50ms);
      co_await timer.async_wait(use_awaitable);
      signal.emit(type);
      while (!seen) {
        timer.expires_after(5ms);
        co_await timer.async_wait(use_awaitable);
      }
      REQUIRE_FALSE(seen->ok());
      CHECK(seen->err().code == http::errc::cancelled);
    });
  }
}

TEST_CASE("a response over max_response_bytes fails with errc::response_too_large") {
  test_server server;
  SUBCASE("announced by Content-Length") {
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      auto req = get(server.url("/big"));
      req.max_response_bytes = 1000;
      co_return co_await c.send(std::move(req));
    });
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == http::errc::response_too_large);
  }
  SUBCASE("streamed in chunks: aborted as soon as the cap is passed") {
    std::size_t delivered = 0;
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      auto req = get(server.url("/chunked"));
      req.max_response_bytes = 5000;
      req.on_body_chunk = [&](std::string_view chunk) { delivered += chunk.size(); };
      co_return co_await c.send(std::move(req));
    });
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == http::errc::response_too_large);
    CHECK(delivered <= 5000);
  }
  SUBCASE("exactly at the cap is fine") {
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      auto req = get(server.url("/big"));
      req.max_response_bytes = 100'000;
      co_return co_await c.send(std::move(req));
    });
    REQUIRE(r.ok());
    CHECK(r->body.size() == 100'000);
  }
}

TEST_CASE("a response with more than 100 header fields or 64 KiB of headers fails with errc::response_too_large") {
  const auto reply_with = [](int fields, std::size_t value_size) {
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n";
    for (int n = 2; n < fields; ++n) {
      reply += "X-Field-" + std::to_string(n) + ": " + std::string(value_size, 'v') + "\r\n";
    }
    return reply + "\r\nok";
  };
  const auto fetch = [](unsigned short port) {
    return run_async([port]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      auto req = get("http://127.0.0.1:" + std::to_string(port) + "/");
      co_return co_await c.send(std::move(req));
    });
  };
  {
    fracta::test::scripted_server at_cap(reply_with(100, 8));  // Content-Length + Connection + 98
    auto r = fetch(at_cap.port());
    REQUIRE_MESSAGE(r.ok(), r.err().message);
    CHECK(r->headers.size() == 100);
  }
  {
    fracta::test::scripted_server many(reply_with(101, 8));
    auto r = fetch(many.port());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == http::errc::response_too_large);
    CHECK(r.err().message.find("the response headers exceed 100 fields or 65536 bytes") != std::string::npos);
  }
  {
    fracta::test::scripted_server large(reply_with(70, 1024));  // 68 lines of about 1 KiB
    auto r = fetch(large.port());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == http::errc::response_too_large);
  }
}

TEST_CASE("on_body_chunk sees the whole body, in order, while it is also accumulated") {
  test_server server;
  std::string streamed;
  int calls = 0;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get(server.url("/chunked"));
    req.on_body_chunk = [&](std::string_view chunk) {
      streamed.append(chunk);
      ++calls;
    };
    co_return co_await c.send(std::move(req));
  });
  REQUIRE(r.ok());
  CHECK(r->body.size() == 40'000);
  CHECK(streamed == r->body);
  CHECK(calls >= 1);
}

TEST_CASE("a body chunk callback that throws fails the exchange with errc::internal") {
  test_server server;
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    auto req = get(server.url("/chunked"));
    req.on_body_chunk = [](std::string_view) { throw std::runtime_error("no"); };
    co_return co_await c.send(std::move(req));
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == http::errc::internal);
}

TEST_CASE("connection refused fails with errc::connect_failed") {
  auto port = fracta::test::unused_port();
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    co_return co_await c.send(
        get("http://127.0.0.1:" + std::to_string(port) + "/x?token=QUERYSECRET"));
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == http::errc::connect_failed);
  CHECK(r.err().message.starts_with("GET http://127.0.0.1:" + std::to_string(port) + "/x"));
  CHECK(r.err().message.find("QUERYSECRET") == std::string::npos);
}

TEST_CASE("invalid URLs and requests fail before anything is sent, without echoing secrets") {
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, no_proxy_options());
    for (std::string bad : {"ftp://example.com/", "not a url",
                            "http://user:PASSSECRET@/x?QUERYSECRET", "http://exa mple.com/"}) {
      CAPTURE(bad);
      auto r = co_await c.send(get(bad));
      REQUIRE_FALSE(r.ok());
      CHECK(r.err().code == http::errc::bad_url);
      CHECK(r.err().message.find("SECRET") == std::string::npos);
    }
    auto req = get("http://127.0.0.1:1/");
    req.headers.push_back({"Authorization", "Bearer HEADERSECRET\r\nX-Injected: 1"});
    auto injected = co_await c.send(req);
    REQUIRE_FALSE(injected.ok());
    CHECK(injected.err().code == http::errc::send_failed);
    CHECK(injected.err().message.find("Authorization") != std::string::npos);
    CHECK(injected.err().message.find("SECRET") == std::string::npos);
    req = get("http://127.0.0.1:1/");
    req.method = "GET /x";
    auto bad_method = co_await c.send(req);
    REQUIRE_FALSE(bad_method.ok());
    CHECK(bad_method.err().code == http::errc::send_failed);
  });
}

namespace {

// GETs `url` with `c` and records whether the answer resumed this coroutine on `caller`.
awaitable<void> send_on(asio::strand<asio::any_io_executor> caller, http::client& c, std::string url,
                        bool& on_caller_strand) {
  auto send = c.send(get(std::move(url)));
  auto r = co_await std::move(send);
  CHECK(r.ok());
  on_caller_strand = caller.running_in_this_thread();
}

}  // namespace

TEST_CASE("the completion resumes the caller on the caller's own executor") {
  test_server server;
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto caller = asio::make_strand(ex);
    http::client c(ex, no_proxy_options());
    bool on_caller_strand = false;
    auto spawned = asio::co_spawn(caller, send_on(caller, c, server.url("/echo"), on_caller_strand),
                                  use_awaitable);
    co_await std::move(spawned);
    CHECK(on_caller_strand);
  });
}

namespace {

struct flight_counts {
  std::atomic<int> ok{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
};

// GETs <base>/n/<i> with `c`, counted in `counts` while outstanding and once more (`ok`) when the
// answer carries that path back.
awaitable<void> send_numbered(std::shared_ptr<http::client> c, std::string base, int i,
                              flight_counts& counts) {
  auto path = "/n/" + std::to_string(i);
  counts.max_in_flight = std::max(counts.max_in_flight.load(), ++counts.in_flight);
  auto send = c->send(get(base + path));
  auto r = co_await std::move(send);
  --counts.in_flight;
  if (r.ok() && r->status == 200 && r->body == path) ++counts.ok;
}

}  // namespace

TEST_CASE("50 concurrent requests on one client all complete") {
  // Each request gets its own path back: answers cannot be mixed up between transfers.
  fracta::test::scripted_server peer([](const std::string& head) {
    auto path = head.substr(4, head.find(' ', 4) - 4);
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(path.size()) +
           "\r\nConnection: close\r\n\r\n" + path;
  });
  constexpr int count = 50;
  flight_counts counts;
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = std::make_shared<http::client>(ex, no_proxy_options());
    const std::string base = "http://127.0.0.1:" + std::to_string(peer.port());
    for (int i = 0; i < count; ++i) asio::co_spawn(ex, send_numbered(c, base, i, counts), asio::detached);
    co_return;
  });
  CHECK(counts.ok.load() == count);
  CHECK(counts.max_in_flight.load() == count);  // all were outstanding at once
  CHECK(peer.request_lines().size() == count);
}

namespace {

// Three GETs of `url` with `c`: each good answer counted in `ok`, each resuming thread noted.
awaitable<void> send_three(std::shared_ptr<http::client> c, std::string url, std::atomic<int>& ok,
                           std::mutex& mutex, std::set<std::thread::id>& threads) {
  for (int j = 0; j < 3; ++j) {
    auto send = c->send(get(url));
    auto r = co_await std::move(send);
    if (r.ok() && r->status == 200 && r->body == "ok") ++ok;
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  }
}

}  // namespace

TEST_CASE("an io_context run by two threads drives many requests safely") {
  fracta::test::scripted_server peer(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  constexpr int count = 40;
  std::atomic<int> ok{0};
  std::mutex mutex;
  std::set<std::thread::id> threads;
  run_async(
      [&]() -> awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto c = std::make_shared<http::client>(ex, no_proxy_options());
        auto url = "http://127.0.0.1:" + std::to_string(peer.port()) + "/";
        for (int i = 0; i < count; ++i) {
          // Each caller on its own strand: completions land on both threads at once.
          asio::co_spawn(asio::make_strand(ex), send_three(c, url, ok, mutex, threads), asio::detached);
        }
        co_return;
      },
      2);
  CHECK(ok.load() == count * 3);
  CHECK(threads.size() >= 1);
}

namespace {

// GETs `url` with `c`; counts the transfer in `cancelled` when it ends with errc::cancelled.
awaitable<void> send_counting_cancelled(http::client& c, std::string url, std::atomic<int>& cancelled) {
  auto send = c.send(get(std::move(url)));
  auto r = co_await std::move(send);
  if (!r.ok() && r.err().code == http::errc::cancelled) ++cancelled;
}

}  // namespace

TEST_CASE("destroying the client completes in-flight transfers with errc::cancelled") {
  fracta::test::black_hole hole;
  std::atomic<int> cancelled{0};
  run_async([&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = std::make_unique<http::client>(ex, no_proxy_options());
    const std::string url = "http://127.0.0.1:" + std::to_string(hole.port()) + "/";
    for (int i = 0; i < 5; ++i) asio::co_spawn(ex, send_counting_cancelled(*c, url, cancelled), asio::detached);
    asio::steady_timer timer(ex, 100ms);
    co_await timer.async_wait(use_awaitable);
    c.reset();
  });
  CHECK(cancelled.load() == 5);
}

TEST_CASE("destroying the client while its io_context is not running leaks nothing") {
  fracta::test::black_hole hole;
  asio::io_context io;
  auto c = std::make_unique<http::client>(io.get_executor(), no_proxy_options());
  auto url = "http://127.0.0.1:" + std::to_string(hole.port()) + "/";
  auto send_and_forget = [](http::client& client, std::string target) -> awaitable<void> {
    (void)co_await client.send(get(std::move(target)));
  };
  asio::co_spawn(io, send_and_forget(*c, url), asio::detached);
  io.run_for(100ms);
  c.reset();
  // io is destroyed without running again: LeakSanitizer checks the rest.
  CHECK(true);
}

TEST_CASE("proxies: client_options::http_proxy receives the absolute-form request") {
  clear_proxy_env();
  fracta::test::scripted_server proxy(
      "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied");
  auto r = run_async([&]() -> awaitable<result<http::response>> {
    http::client_options o;
    o.http_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, o);
    co_return co_await c.send(get("http://origin.example:8080/path?x=1"));
  });
  REQUIRE(r.ok());
  CHECK(r->body == "proxied");
  REQUIRE(proxy.request_lines().size() == 1);
  CHECK(proxy.request_lines()[0] == "GET http://origin.example:8080/path?x=1 HTTP/1.1");
}

TEST_CASE("proxies: HTTP_PROXY and NO_PROXY from the environment") {
  clear_proxy_env();
  fracta::test::scripted_server proxy(
      "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied");
  test_server direct;
  setenv("HTTP_PROXY", ("http://127.0.0.1:" + std::to_string(proxy.port())).c_str(), 1);

  SUBCASE("upper-case HTTP_PROXY is honoured") {
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex);
      co_return co_await c.send(get("http://origin.example/a"));
    });
    REQUIRE(r.ok());
    CHECK(r->body == "proxied");
    REQUIRE(proxy.request_lines().size() == 1);
    CHECK(proxy.request_lines()[0] == "GET http://origin.example/a HTTP/1.1");
  }
  SUBCASE("NO_PROXY excludes the host") {
    setenv("NO_PROXY", "origin.example,127.0.0.1", 1);
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex);
      co_return co_await c.send(get(direct.url("/echo")));
    });
    REQUIRE(r.ok());
    CHECK(r->body == "empty");
    CHECK(proxy.request_lines().empty());
  }
  SUBCASE("the HTTP proxy is not used for https URLs") {
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex);
      co_return co_await c.send(
          get("https://127.0.0.1:" + std::to_string(fracta::test::unused_port()) + "/"));
    });
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == http::errc::connect_failed);
    CHECK(proxy.request_lines().empty());
  }
  SUBCASE("explicit options win over the environment") {
    auto r = run_async([&]() -> awaitable<result<http::response>> {
      auto ex = co_await asio::this_coro::executor;
      http::client c(ex, no_proxy_options());
      co_return co_await c.send(get(direct.url("/echo")));
    });
    REQUIRE(r.ok());
    CHECK(r->body == "empty");
    CHECK(proxy.request_lines().empty());
  }
  clear_proxy_env();
}

TEST_CASE("the error category names every code") {
  CHECK(std::string(http::category().name()) == "fracta.http");
  for (int e = static_cast<int>(http::errc::timeout); e <= static_cast<int>(http::errc::egress_refused);
       ++e) {
    CAPTURE(e);
    CHECK(http::make_error_code(static_cast<http::errc>(e)).message() != "unknown HTTP client error");
  }
  std::error_code ec = http::errc::timeout;
  CHECK(ec == http::make_error_code(http::errc::timeout));
}
