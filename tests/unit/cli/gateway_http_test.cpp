// SPDX-License-Identifier: Apache-2.0
// The gateway's HTTP/1.1 server over real loopback sockets: keep-alive and pipelining, whole
// and chunked responses, the limits (431, 413, 408), a client's disconnect reaching the handler,
// the connection limit, and the drain.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "gateway/http_server.hpp"

using namespace fracta::gateway;
using asio::ip::tcp;

namespace {

// A server on its own loop thread; the handler is the test's.
struct fixture {
  explicit fixture(request_handler h, server_limits limits = {}) : server(io, limits, std::move(h)) {
    server.listen("127.0.0.1", 0);
    thread = std::thread([this] { io.run(); });
  }
  ~fixture() {
    // As the gateway stops: a drain ends every connection (cut after a short deadline), so no
    // connection or coroutine is left behind when the loop stops.
    std::promise<void> drained;
    asio::post(io, [this, &drained] { server.drain(std::chrono::milliseconds(200), [&drained] { drained.set_value(); }); });
    drained.get_future().wait_for(std::chrono::seconds(5));
    io.stop();
    thread.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  http_server server;
  std::thread thread;
};

// A blocking client socket (the test's thread, not the server's loop).
struct client {
  explicit client(std::uint16_t port) : sock(io) { sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  void send(const std::string& bytes) { asio::write(sock, asio::buffer(bytes)); }
  // Everything until the server closes the connection.
  std::string read_all() {
    std::string out;
    std::error_code ec;
    char buf[4096];
    for (;;) {
      const std::size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }
  // Reads until `needle` has arrived (or the connection ends).
  std::string read_until(const std::string& needle) {
    std::error_code ec;
    char buf[4096];
    while (pending.find(needle) == std::string::npos) {
      const std::size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec) break;
      pending.append(buf, n);
    }
    auto at = pending.find(needle);
    std::string out = at == std::string::npos ? pending : pending.substr(0, at + needle.size());
    pending.erase(0, out.size());
    return out;
  }
  asio::io_context io;
  tcp::socket sock;
  std::string pending;
};

const std::string get_ping = "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n";

void echo_path(http_request req, std::shared_ptr<responder> out) {
  out->send(200, {{"Content-Type", "text/plain"}}, req.method + " " + req.path + " " + req.body);
}

}  // namespace

TEST_CASE("keep-alive: two requests on one connection, and two pipelined in one write, are answered in order") {
  fixture f(echo_path);
  client c(f.server.port());
  c.send(get_ping);
  CHECK(c.read_until("GET /ping ").find("HTTP/1.1 200 OK") == 0);
  c.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nde");
  const std::string first = c.read_until("POST /a abc");
  CHECK(first.find("Content-Length: 11") != std::string::npos);
  const std::string second = c.read_until("POST /b de");
  CHECK(second.find("HTTP/1.1 200 OK") != std::string::npos);
}

TEST_CASE("a streamed response is chunked, each write a chunk, ended by the zero chunk") {
  fixture f([](http_request, std::shared_ptr<responder> out) {
    out->start(200, {{"Content-Type", "text/event-stream"}});
    out->write("event: a\n\n");
    out->write("event: b\n\n");
    out->end();
  });
  client c(f.server.port());
  c.send(get_ping);
  const std::string r = c.read_until("0\r\n\r\n");
  CHECK(r.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(r.find("a\r\nevent: a\n\n\r\n") != std::string::npos);
  CHECK(r.find("a\r\nevent: b\n\n\r\n") != std::string::npos);
}

TEST_CASE("limits: an oversized header gets 431, an oversized body 413, both close the connection") {
  server_limits limits;
  limits.parse.header_bytes = 1024;
  limits.parse.body_bytes = 16;
  fixture f(echo_path, limits);
  {
    client c(f.server.port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    CHECK(c.read_all().find("HTTP/1.1 431") == 0);
  }
  {
    client c(f.server.port());
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'));
    const std::string r = c.read_all();
    CHECK(r.find("HTTP/1.1 413") == 0);
    CHECK(r.find("Connection: close") != std::string::npos);
  }
  {
    client c(f.server.port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(c.read_all().find("HTTP/1.1 400") == 0);
  }
}

TEST_CASE("a request that stops half-way gets 408 after the read timeout; an idle connection is closed") {
  server_limits limits;
  limits.read_timeout = std::chrono::milliseconds(200);
  limits.idle_timeout = std::chrono::milliseconds(200);
  fixture f(echo_path, limits);
  {
    client c(f.server.port());
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(c.read_all().find("HTTP/1.1 408") == 0);
  }
  {
    client c(f.server.port());
    CHECK(c.read_all().empty());  // closed without a word
  }
}

TEST_CASE("a client that goes away is told to the handler, once, while its response is pending") {
  std::promise<void> gone;
  std::shared_ptr<responder> held;
  std::promise<void> got;
  fixture f([&](http_request, std::shared_ptr<responder> out) {
    held = out;
    out->on_disconnect([&gone] { gone.set_value(); });
    got.set_value();
  });
  {
    client c(f.server.port());
    c.send(get_ping);
    got.get_future().wait();
  }  // closed
  CHECK(gone.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(held->disconnected());
  held->send(200, {}, "too late");  // harmless
  held.reset();  // before the server and its loop go
}

TEST_CASE("over the connection limit a client gets 503 with Retry-After") {
  server_limits limits;
  limits.max_connections = 1;
  fixture f(echo_path, limits);
  client first(f.server.port());
  first.send(get_ping);
  first.read_until("GET /ping ");
  client second(f.server.port());
  const std::string r = second.read_all();
  CHECK(r.find("HTTP/1.1 503") == 0);
  CHECK(r.find("Retry-After: 1") != std::string::npos);
}

TEST_CASE("drain: a request in flight finishes, a marked stream is ended, then done runs") {
  std::shared_ptr<responder> slow;
  std::promise<void> both;
  int arrived = 0;
  fixture f([&](http_request req, std::shared_ptr<responder> out) {
    if (req.path == "/stream") {
      out->mark_stream();
      out->start(200, {{"Content-Type", "text/event-stream"}});
    } else {
      slow = out;
    }
    if (++arrived == 2) both.set_value();
  });
  client s(f.server.port()), r(f.server.port());
  s.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  r.send(get_ping);
  both.get_future().wait();
  std::promise<void> drained;
  asio::post(f.io, [&] { f.server.drain(std::chrono::seconds(10), [&] { drained.set_value(); }); });
  CHECK(s.read_all().find("0\r\n\r\n") != std::string::npos);  // the stream ended cleanly
  auto d = drained.get_future();
  CHECK(d.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);  // the request still runs
  slow->send(200, {}, "finished");
  const std::string answer = r.read_all();
  CHECK(answer.find("finished") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(d.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  slow.reset();  // before the server and its loop go
}
