// SPDX-License-Identifier: Apache-2.0
// The loopback redirect listener: accept (16 at a time), read one request head (16 KiB, 10 s), check
// Host, answer, and queue each redirect for the next wait.
#include "login/redirect.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "fracta/auth_plugin.h"
#include <fracta/proto/fields.hpp>
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
    case 421: return "Misdirected Request";
    default: return "Error";
  }
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The value of the only Host field in `fields` (the head after its request line), else nullopt.
std::optional<std::string> host_header(std::string_view fields) {
  std::optional<std::string> host;
  int seen = 0;
  while (!fields.empty()) {
    const auto eol = fields.find("\r\n");
    const std::string_view field = fields.substr(0, eol);
    fields = eol == std::string_view::npos ? std::string_view() : fields.substr(eol + 2);
    if (field.empty()) break;
    const auto colon = field.find(':');
    if (colon == std::string_view::npos || !http::iequals(field.substr(0, colon), "Host")) continue;
    ++seen;
    host = trim(std::string(field.substr(colon + 1)));
  }
  if (seen != 1) return std::nullopt;
  return host;
}

}  // namespace

std::optional<listen_spec> parse_redirect_uri(std::string_view requested, std::string& why) {
  listen_spec spec;
  if (requested.empty()) return spec;
  auto u = http::url::parse(requested);
  std::error_code ec;
  const bool v4_loopback = u && asio::ip::make_address_v4(u->host, ec).is_loopback() && !ec;
  if (!u || u->scheme != "http" || !(u->host == "localhost" || v4_loopback)) {
    why = "the redirect URI must be a loopback http URI such as http://127.0.0.1:8976/callback or "
          "http://localhost:8976/callback";
    return std::nullopt;
  }
  if (u->query || u->fragment) {
    why = "the redirect URI must not carry a query or fragment";
    return std::nullopt;
  }
  spec.host = u->host;
  // http::url fills in port 80 when none is written: no written port means "any port".
  const std::string_view rest = requested.substr(requested.find("//") + 2);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  spec.port = authority.find(':') == std::string_view::npos ? 0 : u->port;
  spec.path = u->path.empty() ? "/callback" : u->path;
  if (spec.path == "/" && rest.find('/') == std::string_view::npos) spec.path = "/callback";
  return spec;
}

http_answer answer_request(std::string_view head, std::string_view path, const std::vector<std::string>& hosts) {
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
  // Before anything else: a page of another site (DNS rebinding) gets nothing, not even a 404.
  const auto host = host_header(eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2));
  if (!host) {
    a.status = 400;
    a.body = page("fracta", "fracta: this request does not carry exactly one Host header.");
    return a;
  }
  if (std::none_of(hosts.begin(), hosts.end(), [&](const std::string& h) { return http::iequals(h, *host); })) {
    a.status = 421;
    a.body = page("fracta", "fracta: this address answers only requests for itself.");
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
    : strand_(strand), spec_(std::move(spec)), deadline_(strand_), tick_(strand_) {}

redirect_listener::~redirect_listener() = default;

bool redirect_listener::bind(const asio::ip::address& address, std::uint16_t port, std::error_code& ec) {
  auto a = std::make_unique<asio::ip::tcp::acceptor>(strand_);
  const asio::ip::tcp::endpoint ep(address, port);
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && address.is_v6()) a->set_option(asio::ip::v6_only(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return false;
  acceptors_.push_back(std::move(a));
  paused_.push_back(false);
  return true;
}

std::shared_ptr<redirect_listener> redirect_listener::listen(asio::strand<asio::any_io_executor> strand,
                                                             std::string_view requested_uri, std::int32_t& status,
                                                             std::string& why) {
  auto spec = parse_redirect_uri(requested_uri, why);
  if (!spec) {
    status = FRACTA_E_INVALID_ARGUMENT;
    return nullptr;
  }
  auto self = std::make_shared<redirect_listener>(strand, *spec);
  const bool localhost = spec->host == "localhost";
  const auto v4 = asio::ip::make_address_v4(localhost ? std::string("127.0.0.1") : spec->host);
  std::error_code ec;
  std::uint16_t port = 0;
  // "localhost" may resolve to ::1 first: hold that port too, or another program could.
  for (int attempt = 0; attempt < 5; ++attempt) {
    self->acceptors_.clear();
    self->paused_.clear();
    if (!self->bind(v4, spec->port, ec)) break;
    port = self->acceptors_[0]->local_endpoint(ec).port();
    if (ec || !localhost) break;
    std::error_code v6_ec;
    if (self->bind(asio::ip::address_v6::loopback(), port, v6_ec)) break;
    if (v6_ec != asio::error::address_in_use) break;  // no IPv6 loopback here: 127.0.0.1 alone
    ec = v6_ec;
    if (spec->port != 0) break;  // a fixed port that is busy on ::1
  }
  if (ec) {
    status = FRACTA_E_UNAVAILABLE;
    why = "cannot listen on " + spec->host + ":" + std::to_string(spec->port) + " for the login redirect: " +
          ec.message();
    return nullptr;
  }
  const std::string p = std::to_string(port);
  for (const std::string& h : {spec->host, std::string("localhost"), std::string("127.0.0.1")}) {
    if (std::find(self->hosts_.begin(), self->hosts_.end(), h + ":" + p) == self->hosts_.end()) {
      self->hosts_.push_back(h + ":" + p);
    }
  }
  if (self->acceptors_.size() > 1) self->hosts_.push_back("[::1]:" + p);
  self->uri_ = "http://" + spec->host + ":" + p + spec->path;
  status = FRACTA_OK;
  for (std::size_t i = 0; i < self->acceptors_.size(); ++i) self->accept_next(i);
  return self;
}

void redirect_listener::accept_next(std::size_t i) {
  if (closed_) return;
  // A slot is taken by each connection being read and each accept in flight.
  if (connections_.size() + accepting_ >= max_connections) {
    paused_[i] = true;
    return;
  }
  ++accepting_;
  auto c = std::make_shared<connection>(strand_);
  acceptors_[i]->async_accept(c->socket, [self = shared_from_this(), c, i](std::error_code ec) {
    --self->accepting_;
    if (self->closed_ || ec == asio::error::operation_aborted) return;
    if (!ec) self->serve(c);
    self->accept_next(i);
  });
}

void redirect_listener::serve(const std::shared_ptr<connection>& c) {
  connections_.insert(c);
  c->timer.expires_after(read_deadline);
  c->timer.async_wait([self = shared_from_this(), c](std::error_code ec) {
    if (ec) return;
    std::error_code ignored;
    c->socket.close(ignored);
    self->drop(c);
  });
  asio::async_read_until(c->socket, asio::dynamic_buffer(c->in, max_head), "\r\n\r\n",
                         [self = shared_from_this(), c](std::error_code ec, std::size_t) {
                           if (self->closed_) return;
                           if (ec) {  // a dropped connection, an oversized head, or the read deadline
                             std::error_code ignored;
                             c->timer.cancel();
                             c->socket.close(ignored);
                             self->drop(c);
                             return;
                           }
                           self->answer(c);
                         });
}

void redirect_listener::answer(const std::shared_ptr<connection>& c) {
  const auto a = answer_request(c->in, spec_.path, hosts_);
  c->out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) +
           "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
           "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body;
  // Writing the page frees the slot; close() lets the page finish (the read deadline still bounds it).
  drop(c);
  asio::async_write(c->socket, asio::buffer(c->out), [c](std::error_code, std::size_t) {
    std::error_code ignored;
    c->timer.cancel();
    c->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    c->socket.close(ignored);
  });
  if (a.redirect) {
    const std::string base = uri_.substr(0, uri_.size() - spec_.path.size());
    arrived(base + a.target);
  }
}

void redirect_listener::drop(const std::shared_ptr<connection>& c) {
  connections_.erase(c);
  for (std::size_t i = 0; i < acceptors_.size() && !closed_; ++i) {
    if (paused_[i] && connections_.size() + accepting_ < max_connections) {
      paused_[i] = false;
      accept_next(i);
    }
  }
}

void redirect_listener::arrived(std::string url) {
  if (closed_) return;
  pending_.push_back(std::move(url));
  if (pending_.size() > max_pending) pending_.pop_front();
  deliver_pending();
}

void redirect_listener::deliver_pending() {
  if (closed_ || !finish_ || pending_.empty()) return;
  std::string url = std::move(pending_.front());
  pending_.pop_front();
  finish(outcome{FRACTA_OK, {}, std::move(url)});
}

void redirect_listener::await(std::chrono::milliseconds timeout, bool read_stdin, say_fn say,
                              asio::any_io_executor blocking, finish_fn fin) {
  finish_ = std::move(fin);
  say_ = std::move(say);
  timeout_ = timeout;
  const auto wait = ++wait_id_;
  if (closed_ || !pending_.empty()) {
    // Never complete from inside the call that started the wait.
    asio::post(strand_, [self = shared_from_this(), wait] {
      if (self->wait_id_ != wait || !self->finish_) return;
      if (!self->closed_) {
        self->deliver_pending();
        return;
      }
      auto f = std::move(self->finish_);
      self->finish_ = nullptr;
      f(outcome{FRACTA_E_INVALID_ARGUMENT, "the redirect listener is closed; start a new one", {}});
    });
    if (closed_) return;
  }
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this(), wait](std::error_code ec) {
    if (ec || self->closed_ || !self->finish_ || self->wait_id_ != wait) return;
    const auto secs = self->timeout_.count() / 1000;
    self->finish(outcome{FRACTA_E_TIMEOUT,
                         "no redirect arrived within " + std::to_string(secs) + " s (--timeout)", {}});
  });
  if (read_stdin) start_stdin(std::move(blocking));
  if (countdown_) {
    ends_at_ = std::chrono::steady_clock::now() + timeout;
    counting_ = true;
    tick(wait);
  }
}

void redirect_listener::tick(std::uint64_t wait) {
  if (!counting_ || closed_ || !finish_ || wait_id_ != wait) return;
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(ends_at_ - std::chrono::steady_clock::now());
  countdown_(std::max<std::int64_t>(0, left.count()));
  tick_.expires_after(std::chrono::seconds(1));
  tick_.async_wait([self = shared_from_this(), wait](std::error_code ec) {
    if (!ec) self->tick(wait);
  });
}

void redirect_listener::end_countdown() {
  tick_.cancel();
  if (!counting_) return;
  counting_ = false;
  countdown_(-1);
}

void redirect_listener::start_stdin(asio::any_io_executor blocking) {
  if (stdin_started_) return;
  stdin_started_ = true;
  blocking_ = std::move(blocking);
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
    arrived(std::move(line));
    return;
  }
  if (say_) {
    say_("That is not the redirect address: it must start with " + uri_ +
         "? (copy the whole address from the browser's address bar and paste it here).");
  }
}

void redirect_listener::finish(outcome o) {
  auto keep = shared_from_this();  // the owner may drop the listener from inside `fin`
  auto fin = std::move(finish_);
  finish_ = nullptr;
  deadline_.cancel();
  end_countdown();
  if (o.status != FRACTA_OK) close();
  if (fin) fin(std::move(o));
}

void redirect_listener::close() {
  finish_ = nullptr;
  if (closed_) return;
  closed_ = true;
  end_countdown();
  pending_.clear();
  std::error_code ignored;
  for (auto& a : acceptors_) a->close(ignored);
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
