// SPDX-License-Identifier: Apache-2.0
// The loopback redirect listener: accept, read one request head (16 KiB, 10 s), answer, deliver.
#include "login/redirect.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "fracta/auth_plugin.h"
#include <fracta/proto/url.hpp>

namespace fracta::login {
namespace {

constexpr std::size_t max_head = 16 * 1024;
constexpr auto read_deadline = std::chrono::seconds(10);

std::string page(std::string_view title, std::string_view text) {
  std::string out = "<!doctype html><html><head><meta charset=\"utf-8\"><title>";
  out += title;
  out += "</title></head><body style=\"font-family:sans-serif;margin:3em\"><p>";
  out += text;
  out += "</p></body></html>\n";
  return out;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Error";
  }
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::optional<listen_spec> parse_redirect_uri(std::string_view requested, std::string& why) {
  listen_spec spec;
  if (requested.empty()) return spec;
  auto u = http::url::parse(requested);
  if (!u || u->scheme != "http" || !http::is_loopback_host(u->host) || u->host.front() == '[') {
    why = "the redirect URI must be a loopback http URI such as http://127.0.0.1:8976/callback";
    return std::nullopt;
  }
  if (u->query || u->fragment) {
    why = "the redirect URI must not carry a query or fragment";
    return std::nullopt;
  }
  // http::url fills in port 80 when none is written: no written port means "any port".
  const std::string_view rest = requested.substr(requested.find("//") + 2);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  spec.port = authority.find(':') == std::string_view::npos ? 0 : u->port;
  spec.path = u->path.empty() ? "/callback" : u->path;
  if (spec.path == "/" && rest.find('/') == std::string_view::npos) spec.path = "/callback";
  return spec;
}

http_answer answer_request(std::string_view head, std::string_view path) {
  http_answer a;
  const auto eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0) {
    a.status = 400;
    a.body = page("fracta", "fracta: this is not a request fracta understands.");
    return a;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  a.target = std::string(target);
  const auto q = target.find('?');
  const std::string_view tpath = target.substr(0, q);
  if (tpath != path) {
    a.status = 404;
    a.body = page("fracta", "fracta: not found.");
    return a;
  }
  if (method != "GET") {
    a.status = 405;
    a.body = page("fracta", "fracta: the authorization redirect is a GET request.");
    return a;
  }
  if (q == std::string_view::npos || q + 1 == target.size()) {
    a.status = 400;
    a.body = page("fracta", "fracta: this address waits for the authorization server's redirect; it carried no "
                            "answer. Finish signing in in the browser tab fracta opened.");
    return a;
  }
  a.status = 200;
  a.redirect = true;
  a.body = page("fracta: authorization received",
                "fracta: authorization received, you can close this tab and return to the terminal.");
  return a;
}

// ---- listener ----------------------------------------------------------------------------------

struct redirect_listener::connection {
  explicit connection(const asio::strand<asio::any_io_executor>& s) : socket(s), timer(s) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::string in;
  std::string out;
};

redirect_listener::redirect_listener(asio::strand<asio::any_io_executor> strand, listen_spec spec)
    : strand_(strand), spec_(std::move(spec)), acceptor_(strand_), deadline_(strand_) {}

redirect_listener::~redirect_listener() = default;

std::shared_ptr<redirect_listener> redirect_listener::listen(asio::strand<asio::any_io_executor> strand,
                                                             std::string_view requested_uri, std::int32_t& status,
                                                             std::string& why) {
  auto spec = parse_redirect_uri(requested_uri, why);
  if (!spec) {
    status = FRACTA_E_INVALID_ARGUMENT;
    return nullptr;
  }
  auto self = std::make_shared<redirect_listener>(strand, *spec);
  std::error_code ec;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), spec->port);
  self->acceptor_.open(ep.protocol(), ec);
  if (!ec) self->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) self->acceptor_.bind(ep, ec);
  if (!ec) self->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  std::uint16_t port = 0;
  if (!ec) port = self->acceptor_.local_endpoint(ec).port();
  if (ec) {
    status = FRACTA_E_UNAVAILABLE;
    why = "cannot listen on 127.0.0.1:" + std::to_string(spec->port) + " for the login redirect: " + ec.message();
    return nullptr;
  }
  self->uri_ = "http://127.0.0.1:" + std::to_string(port) + spec->path;
  status = FRACTA_OK;
  self->accept_next();
  return self;
}

void redirect_listener::accept_next() {
  if (closed_) return;
  auto c = std::make_shared<connection>(strand_);
  acceptor_.async_accept(c->socket, [self = shared_from_this(), c](std::error_code ec) {
    if (self->closed_) return;
    if (!ec) self->serve(c);
    if (ec == asio::error::operation_aborted) return;
    self->accept_next();
  });
}

void redirect_listener::serve(std::shared_ptr<connection> c) {
  connections_.insert(c);
  c->timer.expires_after(read_deadline);
  c->timer.async_wait([self = shared_from_this(), c](std::error_code ec) {
    if (ec) return;
    std::error_code ignored;
    c->socket.close(ignored);
    self->connections_.erase(c);
  });
  asio::async_read_until(
      c->socket, asio::dynamic_buffer(c->in, max_head), "\r\n\r\n",
      [self = shared_from_this(), c](std::error_code ec, std::size_t) {
        if (self->closed_) return;
        if (ec) {  // a dropped connection, an oversized head, or the read deadline
          std::error_code ignored;
          c->timer.cancel();
          c->socket.close(ignored);
          self->connections_.erase(c);
          return;
        }
        const auto a = answer_request(c->in, self->spec_.path);
        c->out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) +
                 "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
                 "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body;
        asio::async_write(c->socket, asio::buffer(c->out), [self, c](std::error_code, std::size_t) {
          std::error_code ignored;
          c->timer.cancel();
          c->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
          c->socket.close(ignored);
          self->connections_.erase(c);
        });
        if (a.redirect) {
          // The answer page is being written: finishing must not cut this connection.
          self->connections_.erase(c);
          const std::string base = self->uri_.substr(0, self->uri_.size() - self->spec_.path.size());
          self->arrived(base + a.target);
        }
      });
}

void redirect_listener::arrived(const std::string& url) {
  if (closed_) return;
  if (!finish_) {
    if (!early_) early_ = url;
    return;
  }
  finish(outcome{FRACTA_OK, {}, url});
}

void redirect_listener::await(std::chrono::milliseconds timeout, bool read_stdin, say_fn say,
                              asio::any_io_executor blocking, finish_fn fin) {
  finish_ = std::move(fin);
  say_ = std::move(say);
  timeout_ = timeout;
  blocking_ = std::move(blocking);
  if (early_) {
    // Never complete from inside the call that started the wait.
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->closed_ && self->early_) self->finish(outcome{FRACTA_OK, {}, *self->early_});
    });
    return;
  }
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->closed_) return;
    const auto secs = self->timeout_.count() / 1000;
    self->finish(outcome{FRACTA_E_TIMEOUT,
                         "no redirect arrived within " + std::to_string(secs) + " s (--timeout)", {}});
  });
  if (read_stdin) {
    struct stat st{};
    if (::fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))) {
      const int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
      if (fd >= 0) {
        stdin_ = std::make_unique<asio::posix::stream_descriptor>(strand_, fd);
        read_line();
      }
    } else if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) && blocking_) {
      read_line_blocking();
    }
  }
}

void redirect_listener::read_line() {
  if (closed_ || !stdin_) return;
  asio::async_read_until(*stdin_, asio::dynamic_buffer(stdin_buf_, max_head), '\n',
                         [self = shared_from_this()](std::error_code ec, std::size_t n) {
                           if (self->closed_) return;
                           if (ec) {  // end of input: keep waiting for the browser
                             std::string rest = std::move(self->stdin_buf_);
                             self->stdin_buf_.clear();
                             if (!trim(rest).empty()) self->pasted(std::move(rest));
                             return;
                           }
                           std::string line = self->stdin_buf_.substr(0, n);
                           self->stdin_buf_.erase(0, n);
                           self->pasted(std::move(line));
                           if (!self->closed_) self->read_line();
                         });
}

// A regular file on stdin: read one line on the blocking pool, deliver it on the strand.
void redirect_listener::read_line_blocking() {
  asio::post(blocking_, [self = shared_from_this(), strand = strand_] {
    std::string line;
    char ch = 0;
    bool eof = false;
    while (line.size() < max_head) {
      const ssize_t r = ::read(STDIN_FILENO, &ch, 1);
      if (r <= 0) {
        eof = true;
        break;
      }
      if (ch == '\n') break;
      line.push_back(ch);
    }
    asio::post(strand, [self, line = std::move(line), eof]() mutable {
      if (self->closed_) return;
      if (!trim(line).empty()) self->pasted(std::move(line));
      if (!eof && !self->closed_) self->read_line_blocking();
    });
  });
}

void redirect_listener::pasted(std::string line) {
  line = trim(std::move(line));
  if (line.empty() || closed_) return;
  const bool ok = line.size() > uri_.size() && line.compare(0, uri_.size(), uri_) == 0 && line[uri_.size()] == '?';
  if (ok) {
    finish(outcome{FRACTA_OK, {}, line});
    return;
  }
  if (say_) {
    say_("That is not the redirect address: it must start with " + uri_ +
         "? (copy the whole address from the browser's address bar and paste it here).");
  }
}

void redirect_listener::finish(outcome o) {
  auto fin = std::move(finish_);
  finish_ = nullptr;
  close();
  if (fin) fin(std::move(o));
}

void redirect_listener::close() {
  if (closed_) return;
  closed_ = true;
  finish_ = nullptr;
  std::error_code ignored;
  acceptor_.close(ignored);
  deadline_.cancel();
  for (const auto& c : connections_) {
    c->timer.cancel();
    c->socket.close(ignored);
  }
  connections_.clear();
  if (stdin_) {
    // Asio made the descriptor non-blocking; that flag is shared with fd 0: put it back.
    const int fd = stdin_->native_handle();
    const int flags = ::fcntl(fd, F_GETFL);
    stdin_->cancel(ignored);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    stdin_->close(ignored);
    stdin_.reset();
  }
}

}  // namespace fracta::login
