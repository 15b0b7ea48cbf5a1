// SPDX-License-Identifier: Apache-2.0
// The async HTTP client: libcurl's multi-socket interface driven by Asio on one strand.
//
// Every curl call happens on impl::strand_. Asio owns the sockets (curl opens and closes
// them through our callbacks) and reports readiness with async_wait; a steady_timer carries
// curl's timeout. A transfer completes exactly once: done, failed, cancelled or shut down.
#include "http/client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fracta/proto/fields.hpp>
#include <fracta/proto/url.hpp>
#include "http/transfer.hpp"

namespace fracta::http {

using detail::completion;
using detail::completion_for;
using detail::errc_for;
using detail::max_header_bytes;
using detail::max_header_fields;
using detail::on_body;
using detail::on_header;
using detail::redact_unparsed;
using detail::transfer;
using detail::trim_ows;

namespace {

constexpr long max_idle_connections = 512;  // kept for reuse, over every host

std::optional<std::string> env_first(const char* a, const char* b) {
  for (const char* name : {a, b}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::string(v);
  }
  return std::nullopt;
}

void global_init() {
  static std::once_flag once;
  static CURLcode status = CURLE_OK;
  std::call_once(once, [] { status = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (status != CURLE_OK) throw std::runtime_error("libcurl initialisation failed");
}

/// The address and port curl is about to connect to.
std::optional<asio::ip::tcp::endpoint> endpoint_of(const curl_sockaddr& a) {
  asio::ip::tcp::endpoint ep;
  if (a.addrlen > ep.capacity()) return std::nullopt;
  std::memcpy(ep.data(), &a.addr, a.addrlen);
  ep.resize(a.addrlen);
  return ep;
}

/// A descriptor curl asked us to watch: either a socket we opened for it, or a duplicate
/// of a descriptor curl made itself (its resolver's wake-up pipe), which we own and close.
struct socket_state {
  curl_socket_t fd = CURL_SOCKET_BAD;  // curl's number for it
  std::optional<asio::ip::tcp::socket> socket;
  std::optional<asio::posix::stream_descriptor> watcher;
  int what = 0;  // CURL_POLL_* curl currently wants
  bool reading = false;
  bool writing = false;
  bool closed = false;

  template <class Handler>
  void async_wait(bool read, Handler&& handler) {
    if (socket) {
      socket->async_wait(read ? asio::socket_base::wait_read : asio::socket_base::wait_write,
                         std::forward<Handler>(handler));
    } else {
      watcher->async_wait(
          read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
          std::forward<Handler>(handler));
    }
  }

  void close() noexcept {
    closed = true;
    asio::error_code ignored;
    if (socket) socket->close(ignored);
    if (watcher) watcher->close(ignored);
  }
};

}  // namespace

std::optional<std::string_view> find_header(const std::vector<header>& headers,
                                            std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

struct client::impl final : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, client_options opts)
      : strand_(asio::make_strand(std::move(ex))), opts_(std::move(opts)), timer_(strand_) {
    global_init();
    if (!opts_.http_proxy) opts_.http_proxy = env_first("http_proxy", "HTTP_PROXY");
    if (!opts_.https_proxy) opts_.https_proxy = env_first("https_proxy", "HTTPS_PROXY");
    if (!opts_.no_proxy) opts_.no_proxy = env_first("no_proxy", "NO_PROXY");
    if (opts_.http_proxy) http_proxy_ = parse_proxy(*opts_.http_proxy);
    if (opts_.https_proxy) https_proxy_ = parse_proxy(*opts_.https_proxy);
    if (opts_.http_proxy && !opts_.http_proxy->empty()) {
      http_proxy_shown_ = redact_unparsed(*opts_.http_proxy) + " (from http_proxy)";
    }
    if (opts_.https_proxy && !opts_.https_proxy->empty()) {
      https_proxy_shown_ = redact_unparsed(*opts_.https_proxy) + " (from https_proxy)";
    }
    multi_ = curl_multi_init();
    if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // Fixed: curl's default sizes the cache by the transfers in flight and, after a burst,
    // closes idle connections a gateway is about to reuse.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max_idle_connections);
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  ~impl() {
    if (multi_ != nullptr) {
      // Never shut down on the strand (the io_context stopped running before the client went
      // away). Nobody else can reach *this any more; callbacks must not call shared_from_this.
      curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
      curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
      shutdown();
    }
  }

  // -- called on the caller's thread --------------------------------------------------------

  template <class Handler>
  void start(Handler&& handler, request req) {
    auto t = std::make_unique<transfer>();
    t->id = next_id_.fetch_add(1, std::memory_order_relaxed);
    t->req = std::move(req);
    auto slot = asio::get_associated_cancellation_slot(handler);
    t->done = std::make_unique<completion_for<std::decay_t<Handler>>>(
        std::forward<Handler>(handler), strand_.get_inner_executor());
    if (slot.is_connected()) {
      slot.assign([weak = weak_from_this(), id = t->id,
                   flag = t->cancel_requested](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        flag->store(true);
        if (auto self = weak.lock()) {
          asio::post(self->strand_, [self, id] { self->cancel(id); });
        }
      });
    }
    asio::post(strand_, [self = shared_from_this(), t = std::move(t)]() mutable {
      self->add(std::move(t));
    });
  }

  // -- everything below runs on strand_ -----------------------------------------------------

  void add(std::unique_ptr<transfer> t) {
    if (stopped_ || t->cancel_requested->load()) {
      t->what = t->req.method + " " + redact_unparsed(t->req.url);
      t->done->complete(
          t->fail(errc::cancelled, stopped_ ? "the client was shut down" : "cancelled"));
      return;
    }
    if (auto failure = configure(*t)) {
      t->done->complete(std::move(failure));
      return;
    }
    auto id = t->id;
    auto* easy = t->easy;
    auto it = transfers_.emplace(id, std::move(t)).first;
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
      auto failed = std::move(it->second);
      transfers_.erase(it);
      failed->done->complete(failed->fail(errc::internal, "could not start the transfer"));
    }
  }

  /// Validates the request and sets every curl option; returns an error or an empty error.
  error configure(transfer& t) {
    auto& req = t.req;
    auto parsed = url::parse(req.url);
    if (!parsed) {
      t.what = req.method + " " + redact_unparsed(req.url);
      return t.fail(errc::bad_url, parsed.err().message);
    }
    t.what = req.method + " " + parsed->redacted();
    if (!is_token(req.method)) {
      t.what = "request " + parsed->redacted();
      return t.fail(errc::send_failed, "the method is not a valid HTTP token");
    }
    // An IP literal is refused before any connection, proxy or not; names are checked on
    // each address they resolve to (on_open_socket) and on reused connections (on_prereq).
    if (const auto literal = literal_address(parsed->host)) {
      if (const auto cls = classify(*literal); !allows(req.egress, cls)) {
        return t.fail(errc::egress_refused, refusal(*literal, cls));
      }
    }
    bool has_expect = false, has_content_type = false;
    for (const auto& h : req.headers) {
      if (!is_token(h.name))
        return t.fail(errc::send_failed, "a header name is not a valid HTTP token");
      if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        return t.fail(errc::send_failed,
                      "the value of header '" + h.name + "' contains CR, LF or NUL");
      has_expect = has_expect || iequals(h.name, "Expect");
      has_content_type = has_content_type || iequals(h.name, "Content-Type");
      std::string line = h.name;
      line += h.value.empty() ? ";" : ": " + h.value;  // "Name;" sends an empty header
      auto* next = curl_slist_append(t.headers, line.c_str());
      if (next == nullptr) return t.fail(errc::internal, "out of memory");
      t.headers = next;
    }
    // No "Expect: 100-continue" round trip, and no default form Content-Type from curl.
    for (const char* line :
         {has_expect ? nullptr : "Expect:", has_content_type ? nullptr : "Content-Type:"}) {
      if (line == nullptr) continue;
      auto* next = curl_slist_append(t.headers, line);
      if (next == nullptr) return t.fail(errc::internal, "out of memory");
      t.headers = next;
    }

    if (!idle_easy_.empty()) {
      t.easy = idle_easy_.back();  // reset when it was put back: no option of the last request
      idle_easy_.pop_back();
    } else {
      t.easy = curl_easy_init();
    }
    if (t.easy == nullptr) return t.fail(errc::internal, "curl_easy_init failed");
    CURL* e = t.easy;
    auto target = *parsed;
    target.fragment.reset();
    const std::string effective_url = target.str();
    const bool https = parsed->scheme == "https";
    const auto& proxy = https ? opts_.https_proxy : opts_.http_proxy;
    const auto& endpoint = https ? https_proxy_ : http_proxy_;
    t.owner = this;
    t.proxy = endpoint ? &*endpoint : nullptr;
    t.proxy_shown = https ? &https_proxy_shown_ : &http_proxy_shown_;
    const long verify = opts_.verify_tls ? 1L : 0L;
    const auto timeout_ms = std::max<long long>(1, req.timeout.count());

    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
    };
    set(CURLOPT_URL, effective_url.c_str());  // curl copies strings
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_ERRORBUFFER, t.errbuf);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    set(CURLOPT_SSL_VERIFYPEER, verify);
    set(CURLOPT_SSL_VERIFYHOST, verify * 2L);
    set(CURLOPT_PROXY_SSL_VERIFYPEER, verify);
    set(CURLOPT_PROXY_SSL_VERIFYHOST, verify * 2L);
    if (!opts_.ca_bundle.empty()) set(CURLOPT_CAINFO, opts_.ca_bundle.c_str());
    // Always explicit: "" disables curl's own (lower-case only) environment lookup.
    set(CURLOPT_PROXY, proxy ? proxy->c_str() : "");
    set(CURLOPT_NOPROXY, opts_.no_proxy ? opts_.no_proxy->c_str() : "");
    if (!opts_.user_agent.empty()) set(CURLOPT_USERAGENT, opts_.user_agent.c_str());
    set(CURLOPT_HTTPHEADER, t.headers);
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_OPENSOCKETFUNCTION, &impl::on_open_socket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&t));
    set(CURLOPT_PREREQFUNCTION, &impl::on_prereq);
    set(CURLOPT_PREREQDATA, static_cast<void*>(&t));
    set(CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close_socket);
    set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));

    const bool sends_body =
        !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (req.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
      // The body lives in the transfer, which outlives the easy handle's use of it.
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      set(CURLOPT_POSTFIELDS, req.body.data());
      if (req.method != "POST") set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else {
      set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (rc != CURLE_OK) return t.fail(errc::internal, curl_easy_strerror(rc));
    return {};
  }

  void cancel(std::uint64_t id) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) return;  // already finished
    auto t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, t->easy);
    t->done->complete(t->fail(errc::cancelled, "cancelled"));
  }

  /// Completes every transfer with errc::cancelled and releases curl. Idempotent.
  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    auto transfers = std::move(transfers_);
    transfers_.clear();
    for (auto& [id, t] : transfers) {
      curl_multi_remove_handle(multi_, t->easy);
      t->done->complete(t->fail(errc::cancelled, "the client was shut down"));
    }
    transfers.clear();
    for (CURL* e : idle_easy_) curl_easy_cleanup(e);
    idle_easy_.clear();
    curl_multi_cleanup(multi_);  // closes pooled connections through on_close_socket
    multi_ = nullptr;
    timer_.cancel();
    for (auto& [fd, s] : sockets_) s->close();
    for (auto& [fd, s] : watched_) s->close();
    sockets_.clear();
    watched_.clear();
  }

  void drain_completed() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;  // msg dies with remove_handle
      void* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      curl_multi_remove_handle(multi_, easy);
      auto it = transfers_.find(static_cast<transfer*>(priv)->id);
      if (it == transfers_.end()) continue;
      auto t = std::move(it->second);
      transfers_.erase(it);
      finish(*t, code);
      // The handle's buffers serve the next request (curl_easy_reset drops every option).
      if (idle_easy_.size() < max_idle_easy) {
        curl_easy_reset(t->easy);
        idle_easy_.push_back(std::exchange(t->easy, nullptr));
      }
    }
  }

  void finish(transfer& t, CURLcode code) {
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.completed_early)) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      t.resp.status = status;
      t.done->complete(std::move(t.resp));
      return;
    }
    if (t.too_large) {
      t.done->complete(t.fail(
          errc::response_too_large,
          "the response body exceeds " + std::to_string(t.req.max_response_bytes) + " bytes"));
      return;
    }
    if (t.headers_too_large) {
      t.done->complete(t.fail(errc::response_too_large,
                              "the response headers exceed " + std::to_string(max_header_fields) + " fields or " +
                                  std::to_string(max_header_bytes) + " bytes"));
      return;
    }
    if (t.callback_failed) {
      t.done->complete(t.fail(errc::internal, "the body chunk callback threw"));
      return;
    }
    if (!t.refused.empty() && (code == CURLE_COULDNT_CONNECT || code == CURLE_ABORTED_BY_CALLBACK)) {
      t.done->complete(t.fail(errc::egress_refused, t.refused));
      return;
    }
    std::string reason = curl_easy_strerror(code);
    std::string_view detail(t.errbuf);
    // curl's detail names hosts and certificates; drop it if it could carry credentials or
    // a query string (some proxy messages echo the proxy URL).
    if (!detail.empty() && detail.find_first_of("@?") == std::string_view::npos) {
      reason += " (";
      reason.append(trim_ows(detail));
      reason += ")";
    }
    const bool proxy_code = code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_PROXY;
    if (t.proxy_shown != nullptr && !t.proxy_shown->empty() &&
        (proxy_code || code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT)) {
      reason += "; through the proxy " + *t.proxy_shown + ": check it, or list the host in no_proxy";
    }
    t.done->complete(t.fail(errc_for(code), reason));
  }

  // -- curl callbacks (always invoked from inside a curl call on the strand) ----------------

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    static_cast<impl*>(userp)->watch(fd, what);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<impl*>(userp);
    if (timeout_ms < 0) {
      self->timer_.cancel();
      return 0;
    }
    // curl forbids calling socket_action from here, even for a zero timeout: go through Asio.
    // "At once" is a post, not a timer: re-arming the timer costs a timerfd update (a syscall
    // that is slow on virtual machines) for each request. A wait still pending then fires
    // early, which curl takes as a timeout check with nothing due.
    if (timeout_ms == 0) {
      asio::post(self->strand_, [self = self->shared_from_this()] { self->on_timeout(); });
      return 0;
    }
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_.async_wait([self = self->shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->on_timeout();
    });
    return 0;
  }

  /// Applies the request's egress policy to a connection to `a`:`port`; false (with the
  /// reason kept for the error) when refused. The configured proxy is exempt.
  static bool admit(transfer& t, const asio::ip::address& a, std::uint16_t port) {
    const auto cls = classify(a);
    if (allows(t.req.egress, cls) || (t.proxy != nullptr && t.proxy->may_be(a, port))) return true;
    t.refused = refusal(a, cls);
    return false;
  }

  static curl_socket_t on_open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<transfer*>(clientp);
    auto* self = static_cast<impl*>(t->owner);
    if (purpose != CURLSOCKTYPE_IPCXN || address->socktype != SOCK_STREAM ||
        (address->family != AF_INET && address->family != AF_INET6))
      return CURL_SOCKET_BAD;
    const auto destination = endpoint_of(*address);
    if (!destination || !admit(*t, destination->address(), destination->port())) return CURL_SOCKET_BAD;
    auto s = std::make_shared<socket_state>();
    s->socket.emplace(self->strand_);
    asio::error_code ec;
    s->socket->open(address->family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
    if (ec) return CURL_SOCKET_BAD;
    s->fd = s->socket->native_handle();
    // A watcher still registered under this number belongs to a descriptor curl closed.
    if (auto it = self->watched_.find(s->fd); it != self->watched_.end()) {
      it->second->close();
      self->watched_.erase(it);
    }
    self->sockets_[s->fd] = s;
    return s->fd;
  }

  // Before the request goes out on a new or reused connection (a reused one skipped on_open_socket).
  static int on_prereq(void* clientp, char* primary_ip, char*, int primary_port, int) {
    auto* t = static_cast<transfer*>(clientp);
    const auto a = literal_address(primary_ip != nullptr ? primary_ip : "");
    if (!a || primary_port < 0 || primary_port > 65535) {
      t->refused = "refused a connection whose address curl did not report";
      return CURL_PREREQFUNC_ABORT;
    }
    return admit(*t, *a, static_cast<std::uint16_t>(primary_port)) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
  }

  static int on_close_socket(void* clientp, curl_socket_t fd) {
    auto* self = static_cast<impl*>(clientp);
    if (auto it = self->sockets_.find(fd); it != self->sockets_.end()) {
      it->second->close();  // Asio deregisters it, aborts its waits and closes it
      self->sockets_.erase(it);
      return 0;
    }
    return ::close(fd);
  }

  void watch(curl_socket_t fd, int what) {
    std::shared_ptr<socket_state> s;
    bool foreign = false;
    if (auto it = sockets_.find(fd); it != sockets_.end()) {
      s = it->second;
    } else if (auto w = watched_.find(fd); w != watched_.end()) {
      s = w->second;
      foreign = true;
    }
    if (what == CURL_POLL_REMOVE) {
      if (s) s->what = 0;  // pending waits see this and stop
      if (foreign) {
        s->close();
        watched_.erase(fd);
      }
      return;
    }
    if (!s) {
      // Not opened through on_open_socket (the threaded resolver's pipe): watch a duplicate,
      // so closing our side never touches curl's descriptor.
      const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (copy < 0) return;  // curl's timer still drives the transfer (and its timeout)
      s = std::make_shared<socket_state>();
      s->fd = fd;
      s->watcher.emplace(strand_);
      asio::error_code ec;
      s->watcher->assign(copy, ec);
      if (ec) {
        ::close(copy);
        return;
      }
      watched_[fd] = s;
    }
    s->what = what;
    arm(s);
  }

  void arm(const std::shared_ptr<socket_state>& s) {
    if (s->closed || stopped_) return;
    if ((s->what & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->async_wait(true, [self = shared_from_this(), s](const asio::error_code& ec) {
        s->reading = false;
        self->on_ready(s, CURL_POLL_IN, CURL_CSELECT_IN, ec);
      });
    }
    if ((s->what & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->async_wait(false, [self = shared_from_this(), s](const asio::error_code& ec) {
        s->writing = false;
        self->on_ready(s, CURL_POLL_OUT, CURL_CSELECT_OUT, ec);
      });
    }
  }

  void on_ready(const std::shared_ptr<socket_state>& s, int wanted, int event,
                const asio::error_code& ec) {
    if (s->closed || stopped_ || ec == asio::error::operation_aborted) return;
    if (!(s->what & wanted)) return;  // curl lost interest while we waited
    int running = 0;
    curl_multi_socket_action(multi_, s->fd, ec ? CURL_CSELECT_ERR : event, &running);
    drain_completed();
    arm(s);
  }

  void on_timeout() {
    if (stopped_) return;
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_completed();
  }

  asio::strand<asio::any_io_executor> strand_;
  client_options opts_;
  std::optional<proxy_endpoint> http_proxy_, https_proxy_;
  std::string http_proxy_shown_, https_proxy_shown_;  // for messages: "URL (from https_proxy)", no userinfo
  CURLM* multi_ = nullptr;
  asio::steady_timer timer_;
  // Finished easy handles, reset, for the next requests (their buffers are allocated once).
  static constexpr std::size_t max_idle_easy = 16;
  std::vector<CURL*> idle_easy_;
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_state>> sockets_;  // opened by us
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_state>> watched_;  // curl's own
  std::unordered_map<std::uint64_t, std::unique_ptr<transfer>> transfers_;
  std::atomic<std::uint64_t> next_id_{1};
  bool stopped_ = false;
};

client::client(asio::any_io_executor ex, client_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

client::~client() {
  if (!impl_) return;
  auto strand = impl_->strand_;
  asio::post(strand, [impl = std::move(impl_)] { impl->shutdown(); });
}

asio::awaitable<result<response>> client::send(request req) {
  // Only a raw pointer crosses the suspension: the initiation's arguments live in the
  // awaiting frame until completion, and a shared_ptr there would keep impl alive forever.
  impl* self = impl_.get();
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(result<response>)>(
      [self](auto handler, request r) { self->start(std::move(handler), std::move(r)); },
      asio::use_awaitable, std::move(req));
}

}  // namespace fracta::http
