// SPDX-License-Identifier: Apache-2.0
// The gateway's HTTP/1.1 server: one coroutine per connection on its own strand, reading
// requests with the Beast parser and writing responses from a queue.
#include "gateway/http_server.hpp"

#include <cstdio>
#include <deque>
#include <string_view>
#include <system_error>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "fracta/json_writer.hpp"

namespace fracta::gateway {

namespace {

using tcp = asio::ip::tcp;
using strand_t = asio::strand<asio::io_context::executor_type>;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string head(int status, const header_list& headers, unsigned version) {
  std::string out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  for (const auto& [k, v] : headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string error_body(std::string_view message) {
  json::writer w;
  w.begin_object().key("error").value(message).end_object();
  return w.take();
}

}  // namespace

/// What the server keeps of each connection (loop threads read it under the server's mutex).
struct http_server::connection_base {
  virtual ~connection_base() = default;
  /// Closes now when idle, ends a marked stream; otherwise closes after the exchange. Any thread.
  virtual void begin_drain() = 0;
  virtual void cut() = 0;  // closes now, whatever it is doing. Any thread.
};

template <class Stream>
class connection final : public http_server::connection_base,
                         public std::enable_shared_from_this<connection<Stream>> {
 public:
  template <class... Args>
  connection(http_server& server, strand_t strand, Args&&... args)
      : server_(server), strand_(strand), stream_(std::forward<Args>(args)...), timer_(strand),
        wake_(strand, std::chrono::steady_clock::time_point::max()), parser_(server.limits_.parse) {}

  static asio::awaitable<void> run(std::shared_ptr<connection> self) {
    co_await self->serve();
    self->close_socket();
    self->server_.forget(self.get());
  }

  void begin_drain() override {
    asio::post(strand_, [self = this->shared_from_this()] {
      self->draining_ = true;
      if (self->exchange_ == nullptr) {
        self->close_socket();
      } else if (self->exchange_->stream) {
        self->end_exchange(self->exchange_.get(), true);
      }
    });
  }
  void cut() override {
    asio::post(strand_, [self = this->shared_from_this()] { self->close_socket(); });
  }

 private:
  // One request's response, as the handler writes it.
  struct exchange final : responder {
    std::shared_ptr<connection> conn;
    unsigned version = 11;
    bool head_only = false;
    bool keep_alive = true;
    bool started = false, ended = false, stream = false, gone = false;
    std::function<void()> disconnect;

    void send(int status, header_list headers, std::string body) override {
      asio::post(conn->strand_, [self = shared(), status, headers = std::move(headers), body = std::move(body)]() mutable {
        if (self->started || self->ended) return;
        self->started = true;
        headers.emplace_back("Content-Length", std::to_string(body.size()));
        if (!self->keep_alive || self->conn->draining_) headers.emplace_back("Connection", "close");
        std::string out = head(status, headers, self->version);
        out += body;
        self->conn->queue(std::move(out));
        self->conn->end_exchange(self.get(), false);
      });
    }
    void start(int status, header_list headers) override {
      asio::post(conn->strand_, [self = shared(), status, headers = std::move(headers)]() mutable {
        if (self->started || self->ended) return;
        self->started = true;
        if (self->version == 10) {
          self->keep_alive = false;
          headers.emplace_back("Connection", "close");
        } else {
          headers.emplace_back("Transfer-Encoding", "chunked");
        }
        self->conn->queue(head(status, headers, self->version));
      });
    }
    void write(std::string chunk) override {
      if (chunk.empty()) return;
      asio::post(conn->strand_, [self = shared(), chunk = std::move(chunk)]() mutable {
        if (!self->started || self->ended) return;
        if (self->version == 10) {
          self->conn->queue(std::move(chunk));
          return;
        }
        char size[20];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
        std::string out(size, static_cast<std::size_t>(n));
        out += chunk;
        out += "\r\n";
        self->conn->queue(std::move(out));
      });
    }
    void end() override {
      asio::post(conn->strand_, [self = shared()] {
        if (!self->started || self->ended) return;
        if (self->version != 10) self->conn->queue("0\r\n\r\n");
        self->conn->end_exchange(self.get(), false);
      });
    }
    void on_disconnect(std::function<void()> f) override {
      asio::post(conn->strand_, [self = shared(), f = std::move(f)]() mutable {
        if (self->gone) {
          f();
        } else {
          self->disconnect = std::move(f);
        }
      });
    }
    bool disconnected() const override { return gone_flag.load(); }
    void mark_stream() override {
      asio::post(conn->strand_, [self = shared()] {
        self->stream = true;
        if (self->conn->draining_) self->conn->end_exchange(self.get(), true);
      });
    }
    std::shared_ptr<exchange> shared() { return std::static_pointer_cast<exchange>(self_ref.lock()); }
    std::weak_ptr<responder> self_ref;
    std::atomic<bool> gone_flag{false};
  };

  asio::awaitable<void> serve() {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      std::error_code ec;
      arm(server_.limits_.read_timeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      timer_.cancel();
      if (ec) co_return;
    }
    for (;;) {
      http_request req;
      const bool got = co_await read_request(req);
      if (!got) co_return;
      co_await dispatch(std::move(req));
      if (closed_ || !keep_alive_ || draining_) co_return;
    }
  }

  // Arms the read deadline: on expiry the pending read is cancelled.
  void arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = this->shared_from_this()](const std::error_code& ec) {
      if (ec) return;
      self->timed_out_ = true;
      std::error_code ignored;
      self->socket().cancel(ignored);
    });
  }

  tcp::socket& socket() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      return stream_;
    } else {
      return stream_.next_layer();
    }
  }

  asio::awaitable<bool> read_request(http_request& out) {
    for (;;) {
      if (!buffer_.empty()) {
        request_parser::state st;
        const std::size_t used = parser_.feed(buffer_, st);
        buffer_.erase(0, used);
        if (st == request_parser::state::done) {
          out = parser_.take();
          keep_alive_ = out.keep_alive;
          co_return true;
        }
        if (st == request_parser::state::failed) {
          const int status = parser_.error_status();
          std::string body = error_body(parser_.error_reason());
          header_list h{{"Content-Type", "application/json"}, {"Connection", "close"},
                        {"Content-Length", std::to_string(body.size())}};
          queue(head(status, h, 11) + body);
          co_await flushed();
          co_return false;
        }
      }
      if (draining_ && buffer_.empty() && !parser_.started()) co_return false;
      const bool midway = !buffer_.empty() || parser_.started();  // a request under way
      arm(midway ? server_.limits_.read_timeout : server_.limits_.idle_timeout);
      char chunk[16 * 1024];
      std::error_code ec;
      const std::size_t n =
          co_await stream_.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      timer_.cancel();
      if (ec || n == 0) {
        if (timed_out_ && midway) {
          std::string body = error_body("the request did not arrive in time");
          header_list h{{"Content-Type", "application/json"}, {"Connection", "close"},
                        {"Content-Length", std::to_string(body.size())}};
          queue(head(408, h, 11) + body);
          co_await flushed();
        }
        co_return false;
      }
      buffer_.append(chunk, n);
    }
  }

  asio::awaitable<void> dispatch(http_request req) {
    auto ex = std::make_shared<exchange>();
    ex->self_ref = ex;
    ex->conn = this->shared_from_this();
    ex->version = req.version;
    ex->keep_alive = req.keep_alive;
    exchange_ = ex;
    exchange_done_ = false;
    server_.handler_(std::move(req), ex);
    // While the handler answers, a read tells when the client goes away; bytes it brings
    // (a pipelined request) wait in the buffer.
    while (!exchange_done_ && !closed_) {
      read_cancel_ = std::make_shared<asio::cancellation_signal>();
      char chunk[4096];
      std::error_code ec;
      const std::size_t n = co_await stream_.async_read_some(
          asio::buffer(chunk),
          asio::bind_cancellation_slot(read_cancel_->slot(), asio::redirect_error(asio::use_awaitable, ec)));
      read_cancel_.reset();
      if (!ec && n > 0) {
        buffer_.append(chunk, n);
        if (buffer_.size() > server_.limits_.parse.header_bytes + server_.limits_.parse.body_bytes) break;
        // Wait for the end of the exchange before reading more.
        std::error_code wait_ec;
        if (!exchange_done_) co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        continue;
      }
      if (ec == asio::error::operation_aborted && exchange_done_) break;
      // The client went away (or the read failed): the handler hears it.
      client_gone();
      break;
    }
    if (!exchange_done_ && !closed_) {
      std::error_code wait_ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    }
    co_await flushed();
    keep_alive_ = keep_alive_ && ex->keep_alive;
    exchange_.reset();  // the exchange keeps the connection for as long as its handler holds it
  }

  void client_gone() {
    if (exchange_ == nullptr || exchange_->gone) return;
    exchange_->gone = true;
    exchange_->gone_flag = true;
    if (auto f = std::move(exchange_->disconnect)) f();
  }

  // The current exchange ended (its last bytes are queued); `cut`: a drained stream.
  void end_exchange(const exchange* ex, bool cut) {
    if (exchange_ == nullptr || exchange_.get() != ex || exchange_->ended) return;
    exchange_->ended = true;
    if (cut) {
      keep_alive_ = false;
      if (exchange_->started && exchange_->version != 10) queue("0\r\n\r\n");
      client_gone();  // the handler lets go of its upstream stream
    }
    exchange_done_ = true;
    if (read_cancel_) read_cancel_->emit(asio::cancellation_type::terminal);
    wake_.cancel();
  }

  void queue(std::string bytes) {
    if (closed_) return;
    queued_bytes_ += bytes.size();
    out_.push_back(std::move(bytes));
    if (queued_bytes_ > server_.limits_.max_write_queue) {
      // A client that does not read: disconnect it rather than hold its backlog.
      close_socket();
      return;
    }
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(strand_, write_loop(this->shared_from_this()), asio::detached);
    }
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<connection> self) {
    while (!self->out_.empty() && !self->closed_) {
      std::string bytes = std::move(self->out_.front());
      self->out_.pop_front();
      std::error_code ec;
      co_await asio::async_write(self->stream_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
      self->queued_bytes_ -= bytes.size();
      if (ec) {
        self->client_gone();
        self->close_socket();
        break;
      }
    }
    self->writing_ = false;
    self->flush_wake_.cancel();
  }

  asio::awaitable<void> flushed() {
    while (writing_ && !closed_) {
      flush_wake_.expires_at(std::chrono::steady_clock::time_point::max());
      std::error_code ec;
      co_await flush_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void close_socket() {
    if (closed_) return;
    closed_ = true;
    std::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
    timer_.cancel();
    client_gone();
    wake_.cancel();
    flush_wake_.cancel();
  }

  http_server& server_;
  strand_t strand_;
  Stream stream_;
  asio::steady_timer timer_;
  asio::steady_timer wake_;
  asio::steady_timer flush_wake_{strand_, std::chrono::steady_clock::time_point::max()};
  request_parser parser_;
  std::string buffer_;
  std::deque<std::string> out_;
  std::size_t queued_bytes_ = 0;
  std::shared_ptr<exchange> exchange_;
  std::shared_ptr<asio::cancellation_signal> read_cancel_;
  bool exchange_done_ = false;
  bool writing_ = false, closed_ = false, keep_alive_ = true, timed_out_ = false;
  bool draining_ = false;
};

http_server::http_server(asio::io_context& io, server_limits limits, request_handler handler)
    : io_(io), limits_(limits), handler_(std::move(handler)) {}

http_server::~http_server() = default;

void http_server::listen(const std::string& address, std::uint16_t port, std::shared_ptr<asio::ssl::context> tls) {
  tls_ = std::move(tls);
  std::error_code ec;
  const auto addr = asio::ip::make_address(address == "localhost" ? "127.0.0.1" : address, ec);
  if (ec) throw std::system_error(ec, "'" + address + "' is not an IP address");
  tcp::endpoint ep(addr, port);
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  acceptor_->open(ep.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(ep, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + address + ":" + std::to_string(port));
  acceptor_->listen(asio::socket_base::max_listen_connections);
  accept_more();
}

std::uint16_t http_server::port() const { return acceptor_ ? acceptor_->local_endpoint().port() : 0; }

std::size_t http_server::open_connections() const {
  std::lock_guard lk(mutex_);
  return connections_.size();
}

void http_server::accept_more() {
  acceptor_->async_accept([this](const std::error_code& ec, tcp::socket sock) mutable {
    if (ec == asio::error::operation_aborted || draining_) return;
    auto strand = asio::make_strand(io_);
    if (!ec) {
      std::shared_ptr<connection_base> conn;
      bool refused = false;
      {
        std::lock_guard lk(mutex_);
        refused = connections_.size() >= limits_.max_connections;
      }
      if (refused) {
        // Over the limit: a short answer, then closed (the client may retry later).
        static const std::string busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";
        std::error_code wec;
        sock.non_blocking(true, wec);
        sock.write_some(asio::buffer(busy), wec);
        sock.close(wec);
        if (count_hook_) count_hook_(0);
      } else if (tls_) {
        auto c = std::make_shared<connection<asio::ssl::stream<tcp::socket>>>(*this, strand, std::move(sock), *tls_);
        {
          std::lock_guard lk(mutex_);
          connections_.insert(c.get());
        }
        if (count_hook_) count_hook_(1);
        asio::co_spawn(strand, connection<asio::ssl::stream<tcp::socket>>::run(c), asio::detached);
      } else {
        std::error_code oec;
        sock.set_option(tcp::no_delay(true), oec);
        auto c = std::make_shared<connection<tcp::socket>>(*this, strand, std::move(sock));
        {
          std::lock_guard lk(mutex_);
          connections_.insert(c.get());
        }
        if (count_hook_) count_hook_(1);
        asio::co_spawn(strand, connection<tcp::socket>::run(c), asio::detached);
      }
    }
    accept_more();
  });
}

void http_server::forget(connection_base* c) {
  {
    std::lock_guard lk(mutex_);
    connections_.erase(c);
  }
  if (count_hook_) count_hook_(-1);
  if (draining_) check_drained();
}

void http_server::check_drained() {
  std::function<void()> done;
  {
    std::lock_guard lk(mutex_);
    if (!connections_.empty() || !drained_) return;
    done = std::move(drained_);
  }
  if (drain_timer_) drain_timer_->cancel();
  asio::post(io_, std::move(done));
}

void http_server::drain(std::chrono::milliseconds deadline, std::function<void()> done) {
  draining_ = true;
  {
    // Under the mutex: a connection in the set is alive (it leaves the set before it dies).
    std::lock_guard lk(mutex_);
    drained_ = std::move(done);
    for (auto* c : connections_) c->begin_drain();
  }
  asio::post(io_, [this] {
    std::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  });
  drain_timer_ = std::make_unique<asio::steady_timer>(io_, deadline);
  drain_timer_->async_wait([this](const std::error_code& ec) {
    if (ec) return;
    std::lock_guard lk(mutex_);
    for (auto* c : connections_) c->cut();
  });
  check_drained();
}

}  // namespace fracta::gateway
