// SPDX-License-Identifier: Apache-2.0
// Provider instances: host services implemented on the server's actor, and the bridge that
// turns a C completion into a coroutine resumption.
#include "plugin/instance.hpp"

#include <cstdlib>
#include <utility>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <simdjson.h>
#include <sodium.h>

#include "core/async.hpp"
#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include <fracta/proto/fields.hpp>
#include "login/browser.hpp"
#include "login/redirect.hpp"
#include "store/select.hpp"

namespace fracta::plugin {
namespace {

std::string_view view(fracta_str s) noexcept {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}
fracta_str str(std::string_view s) noexcept { return fracta_str{s.data(), s.size()}; }

bool sink_usable(const fracta_sink* s) noexcept {
  return FRACTA_HAS_FIELD(s, fracta_sink, write) && s->write != nullptr;
}
void write_sink(const fracta_sink* s, std::string_view text) {
  if (sink_usable(s)) s->write(s->ctx, str(text));
}

// A sink that appends into a std::string.
struct string_sink {
  std::string text;
  fracta_sink sink{sizeof(fracta_sink), this, [](void* ctx, fracta_str s) {
                     static_cast<string_sink*>(ctx)->text.append(view(s));
                   }};
};

// Overwrites a string holding a secret before its memory is released.
void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

op_result from_outcome(int32_t status, const fracta_outcome* o) {
  op_result r;
  r.status = status;
  if (o != nullptr) {
    if (FRACTA_HAS_FIELD(o, fracta_outcome, message)) r.message = std::string(view(o->message));
    if (FRACTA_HAS_FIELD(o, fracta_outcome, expires_at_unix_ms)) r.expires_at_ms = o->expires_at_unix_ms;
    if (FRACTA_HAS_FIELD(o, fracta_outcome, value)) r.value = std::string(view(o->value));
  }
  return r;
}

void call_completion(const fracta_completion& c, const op_result& r) {
  if (c.fn == nullptr) return;
  fracta_outcome o{sizeof(fracta_outcome), str(r.message), r.expires_at_ms, str(r.value)};
  c.fn(c.ctx, r.status, &o);
}

// The request lent to apply(): header access over an http::request.
struct request_view {
  http::request* req;
};

int32_t req_get_header(void* host_ctx, fracta_str name, fracta_str* value) {
  auto* rv = static_cast<request_view*>(host_ctx);
  if (rv == nullptr || value == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  auto v = http::find_header(rv->req->headers, view(name));
  if (!v) return FRACTA_E_NOT_FOUND;
  *value = str(*v);
  return FRACTA_OK;
}

int32_t req_set_header(void* host_ctx, fracta_str name, fracta_str value) {
  auto* rv = static_cast<request_view*>(host_ctx);
  if (rv == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  const auto n = view(name);
  const auto v = view(value);
  if (!http::is_token(n) || !http::is_field_value(v)) return FRACTA_E_INVALID_ARGUMENT;
  auto& hs = rv->req->headers;
  std::erase_if(hs, [&](const http::header& h) { return http::iequals(h.name, n); });
  hs.push_back({std::string(n), std::string(v)});
  return FRACTA_OK;
}

// The typed SecretValue behind an auth key, for its location in error messages.
const std::optional<config::secret_value>* typed_secret(const config::auth& a, std::string_view key) {
  if (key == "token") return &a.token;
  if (key == "header_value") return &a.header_value;
  if (key == "username") return &a.username;
  if (key == "password") return &a.password;
  if (key == "client_id") return &a.client_id;
  if (key == "client_secret") return &a.client_secret;
  if (key == "access_token") return &a.access_token;
  if (key == "refresh_token") return &a.refresh_token;
  if (key == "passphrase") return &a.passphrase;
  return nullptr;
}

}  // namespace

// ---- memory store --------------------------------------------------------------------------

std::optional<std::string> memory_store::get(const std::string& key) const {
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}
void memory_store::put(const std::string& key, std::string value) { items_[key] = std::move(value); }
void memory_store::erase(const std::string& key) { items_.erase(key); }

// ---- host operations -------------------------------------------------------------------------

// A host operation in flight on behalf of the plugin (http, timer or posted completion).
struct provider_instance::host_op {
  fracta_completion done{};
  fracta_http_completion http_done{};
  bool is_http = false;
  asio::cancellation_signal signal;
  std::unique_ptr<asio::steady_timer> timer;
  op_result posted;  // for completions queued with complete_later
  std::function<void()> on_cancel;  // stops the host-side work (redirect_await)
};

provider_instance::provider_instance(const fracta_provider& provider, instance_context ctx)
    : provider_(provider), ctx_(std::move(ctx)) {
  host_.struct_size = sizeof(fracta_host);
  host_.abi_major = FRACTA_ABI_MAJOR;
  host_.abi_minor = FRACTA_ABI_MINOR;
  host_.host_ctx = this;
  host_.server_name = str(ctx_.server->name);
  host_.server_url = str(ctx_.server->url);
  host_.log = &h_log;
  host_.wall_clock_ms = &h_wall;
  host_.monotonic_ms = &h_mono;
  host_.resolve_secret = &h_resolve_secret;
  host_.http_send = &h_http_send;
  host_.timer_start = &h_timer_start;
  host_.cancel = &h_cancel;
  host_.post = &h_post;
  if (ctx_.store != nullptr || persistent_store()) {
    host_.store_get = &h_store_get;
    host_.store_put = &h_store_put;
    host_.store_erase = &h_store_erase;
  }
  host_.resolve_secret_async = &h_resolve_secret_async;
  host_.json_get_raw = &h_json_get_raw;
  host_.json_get_string = &h_json_get_string;
  // Interactive services only when a user is attached (the CLI); NULL otherwise.
  if (ctx_.interactive != nullptr && ctx_.interactive->enabled) {
    host_.open_url = &h_open_url;
    host_.show_device_code = &h_show_device_code;
    host_.redirect_listen = &h_redirect_listen;
    host_.redirect_await = &h_redirect_await;
  }
}

result<std::unique_ptr<provider_instance>> provider_instance::create(const fracta_provider& provider,
                                                                    instance_context ctx) {
  std::unique_ptr<provider_instance> self(new provider_instance(provider, std::move(ctx)));
  const auto& json = self->ctx_.server->auth.json;
  string_sink err;
  void* inst = nullptr;
  const int32_t st = provider.create(&self->host_, str(json), &inst, &err.sink);
  if (st != FRACTA_OK || inst == nullptr) {
    const std::string prefix = "server '" + self->ctx_.server->name + "': auth provider '" +
                               provider.type + "': ";
    std::string msg = err.text.empty() ? "create failed with status " + std::to_string(st) : err.text;
    if (st == FRACTA_OK) msg = "create returned no instance";
    return error{make_error_code(st == FRACTA_E_CONFIG ? errc::config : errc_from_plugin_status(st)),
                 prefix + msg};
  }
  self->instance_ = inst;
  return self;
}

provider_instance::~provider_instance() {
  // Every host operation still pending completes now with CANCELLED, while the plugin lives.
  if (listener_) listener_->close();
  listener_.reset();
  auto ops = std::move(ops_);
  ops_.clear();
  for (auto& [id, op] : ops) {
    if (op->on_cancel) op->on_cancel();
    op->signal.emit(asio::cancellation_type::terminal);
    if (op->timer) op->timer->cancel();
    if (op->is_http) {
      if (op->http_done.fn) op->http_done.fn(op->http_done.ctx, FRACTA_E_CANCELLED, nullptr, str("cancelled"));
    } else {
      call_completion(op->done, op_result{FRACTA_E_CANCELLED, "cancelled", 0, {}});
    }
  }
  if (instance_ != nullptr) {
    if (FRACTA_HAS_FIELD(&provider_, fracta_provider, cancel) && provider_.cancel) provider_.cancel(instance_);
    provider_.destroy(instance_);
  }
  *alive_ = false;
}

std::int32_t provider_instance::apply(http::request& req, std::string& message) {
  request_view rv{&req};
  fracta_request r{sizeof(fracta_request), str(req.method), str(req.url), str(req.body), &rv,
                   &req_get_header, &req_set_header};
  string_sink err;
  const int32_t st = provider_.apply(instance_, &r, &err.sink);
  if (st != FRACTA_OK && st != FRACTA_NEED_REFRESH) {
    message = err.text.empty() ? "apply failed with status " + std::to_string(st) : err.text;
  }
  return st;
}

bool provider_instance::has_refresh() const noexcept {
  return FRACTA_HAS_FIELD(&provider_, fracta_provider, refresh) && provider_.refresh != nullptr;
}
bool provider_instance::has_on_challenge() const noexcept {
  return FRACTA_HAS_FIELD(&provider_, fracta_provider, on_challenge) && provider_.on_challenge != nullptr;
}
bool provider_instance::has_login() const noexcept {
  return FRACTA_HAS_FIELD(&provider_, fracta_provider, login) && provider_.login != nullptr;
}

// The bridge: `invoke` starts a plugin operation with a completion; either it finishes at once
// (a final status) or returns PENDING and the completion resumes this coroutine, exactly once.
template <class Invoke>
asio::awaitable<op_result> provider_instance::call_async(Invoke invoke) {
  struct pending {
    std::optional<op_result> result;
    core::async_event done;
  };
  auto st = std::make_shared<pending>();
  auto* holder = new std::shared_ptr<pending>(st);
  fracta_completion c{[](void* ctx, int32_t status, const fracta_outcome* o) {
                        auto* h = static_cast<std::shared_ptr<pending>*>(ctx);
                        auto p = std::move(*h);
                        delete h;
                        if (p->result) return;  // a second call is a plugin bug: ignore it
                        p->result = from_outcome(status == FRACTA_PENDING ? FRACTA_E_INTERNAL : status, o);
                        p->done.set();
                      },
                      holder};
  const int32_t s = invoke(c);
  if (s != FRACTA_PENDING) {
    if (!st->result) {
      delete holder;  // the completion was not (and must not be) called
      co_return op_result{s, {}, 0, {}};
    }
    co_return *st->result;
  }
  co_await st->done.wait();
  co_return *st->result;
}

asio::awaitable<op_result> provider_instance::refresh() {
  if (!has_refresh()) co_return op_result{FRACTA_E_UNSUPPORTED, "the provider cannot refresh", 0, {}};
  co_return co_await call_async([this](fracta_completion c) { return provider_.refresh(instance_, c); });
}

asio::awaitable<op_result> provider_instance::on_challenge(int status, std::string_view www_authenticate,
                                                            std::string_view body) {
  if (!has_on_challenge()) co_return op_result{FRACTA_E_UNSUPPORTED, {}, 0, {}};
  const std::string wa(www_authenticate), b(body);
  co_return co_await call_async([&](fracta_completion c) {
    fracta_challenge ch{sizeof(fracta_challenge), status, str(wa), str(ctx_.server->url), str(b)};
    return provider_.on_challenge(instance_, &ch, c);
  });
}

asio::awaitable<op_result> provider_instance::login(const std::string& options_json) {
  if (!has_login()) co_return op_result{FRACTA_E_UNSUPPORTED, "this auth type has no interactive login", 0, {}};
  co_return co_await call_async([&](fracta_completion c) {
    return provider_.login(instance_, str(options_json), c);
  });
}

asio::awaitable<op_result> provider_instance::logout() {
  if (!(FRACTA_HAS_FIELD(&provider_, fracta_provider, logout) && provider_.logout)) {
    co_return op_result{FRACTA_E_UNSUPPORTED, "this auth type stores nothing to log out from", 0, {}};
  }
  co_return co_await call_async([this](fracta_completion c) { return provider_.logout(instance_, c); });
}

std::optional<std::string> provider_instance::status_json() {
  if (!(FRACTA_HAS_FIELD(&provider_, fracta_provider, status) && provider_.status)) return std::nullopt;
  string_sink out;
  if (provider_.status(instance_, &out.sink) != FRACTA_OK) return std::nullopt;
  // Only pass on a well-formed document.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, out.text, doc).empty() || !doc.is_object()) return std::nullopt;
  return out.text;
}

asio::any_io_executor provider_instance::blocking_executor() {
  if (ctx_.blocking) return ctx_.blocking;
  static asio::thread_pool fallback(1);
  return fallback.get_executor();
}

void provider_instance::complete_later(fracta_completion done, op_result r) {
  const auto id = next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  op->posted = std::move(r);
  ops_[id] = op;
  asio::post(ctx_.strand, [this, id, alive = alive_] {
    if (!*alive) return;
    auto it = ops_.find(id);
    if (it == ops_.end()) return;
    auto o = it->second;
    ops_.erase(it);
    call_completion(o->done, o->posted);
  });
}

// ---- host service trampolines ---------------------------------------------------------------

void provider_instance::h_log(void* ctx, int32_t level, fracta_str msg) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (self && self->ctx_.log) self->ctx_.log(level, view(msg));
}

int64_t provider_instance::h_wall(void* ctx) {
  return static_cast<provider_instance*>(ctx)->ctx_.clock->wall_ms();
}

int64_t provider_instance::h_mono(void* ctx) {
  return static_cast<provider_instance*>(ctx)->ctx_.clock->monotonic_ms();
}

std::optional<config::secret_value> provider_instance::secret_from_json(std::string_view key,
                                                                      std::string_view json_text,
                                                                      std::string& why) const {
  const auto& server = *ctx_.server;
  const std::string k(key);
  const std::string dotted = "mcp.servers." + server.name + ".remote.auth." + k;
  auto fail = [&](const std::string& problem) -> std::optional<config::secret_value> {
    why = "server '" + server.name + "': " + dotted + ": " + problem;
    return std::nullopt;
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, json_text, doc).empty() || !doc.is_object()) {
    return fail("a secret must be a table with exactly one of value, env or file, e.g. { env = \"NAME\" }");
  }
  config::secret_value sv;
  int sources = 0;
  const simdjson::dom::object fields = doc.get_object().value_unsafe();
  for (auto [field, val] : fields) {
    if (!val.is_string()) return fail("'" + std::string(field) + "' must be a string");
    if (field == "value") sv.from = config::secret_value::source::value;
    else if (field == "env") sv.from = config::secret_value::source::env;
    else if (field == "file") sv.from = config::secret_value::source::file;
    else return fail("unknown secret source '" + std::string(field) + "'; use value, env or file");
    sv.ref = std::string(val.get_string().value_unsafe());
    ++sources;
  }
  if (sources != 1) return fail("a secret takes exactly one of value, env or file");
  sv.key = dotted;
  if (const auto* typed = typed_secret(server.auth, k); typed && typed->has_value()) {
    sv.where = (*typed)->where;
  } else {
    sv.where = server.auth.where;
  }
  return sv;
}

int32_t provider_instance::h_resolve_secret(void* ctx, fracta_str key, fracta_str json_text,
                                            const fracta_sink* out, const fracta_sink* err) {
  auto* self = static_cast<provider_instance*>(ctx);
  std::string why;
  auto sv = self->secret_from_json(view(key), view(json_text), why);
  if (!sv) {
    write_sink(err, why);
    return FRACTA_E_CONFIG;
  }
  auto r = config::resolve(*sv);
  if (!r) {
    write_sink(err, r.err().message);
    return FRACTA_E_CONFIG;
  }
  write_sink(out, *r);
  wipe(*r);
  return FRACTA_OK;
}

int32_t provider_instance::h_resolve_secret_async(void* ctx, fracta_str key, fracta_str json_text,
                                                  fracta_completion done, fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  std::string why;
  auto sv = self->secret_from_json(view(key), view(json_text), why);
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  if (!sv) {
    // Mistakes in the reference itself need no I/O: complete on the actor.
    self->ops_.erase(id);
    self->complete_later(done, op_result{FRACTA_E_CONFIG, why, 0, {}});
    return FRACTA_PENDING;
  }
  // Read on the blocking pool; deliver on the actor, unless cancelled or torn down meanwhile.
  // The pool thread touches neither `self` nor its members: only what it was given.
  asio::post(self->blocking_executor(), [self, id, op, alive = self->alive_, strand = self->ctx_.strand,
                                   sv = std::move(*sv)] {
    auto r = config::resolve(sv);
    op_result out = r ? op_result{FRACTA_OK, {}, 0, std::move(r).value()}
                      : op_result{FRACTA_E_CONFIG, r.err().message, 0, {}};
    asio::post(strand, [self, id, op, alive, out = std::move(out)]() mutable {
      if (*alive) {
        auto it = self->ops_.find(id);
        if (it != self->ops_.end() && it->second == op) {
          self->ops_.erase(it);
          call_completion(op->done, out);
        }
      }
      wipe(out.value);
    });
  });
  return FRACTA_PENDING;
}

int32_t provider_instance::h_http_send(void* ctx, const fracta_http_request* req,
                                       fracta_http_completion done, fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (!FRACTA_HAS_FIELD(req, fracta_http_request, timeout_ms) || done.fn == nullptr) {
    return FRACTA_E_INVALID_ARGUMENT;
  }
  http::request r;
  r.method = std::string(view(req->method));
  r.url = std::string(view(req->url));
  r.body = std::string(view(req->body));
  for (std::size_t i = 0; i < req->header_count; ++i) {
    r.headers.push_back({std::string(view(req->headers[i].name)), std::string(view(req->headers[i].value))});
  }
  if (req->timeout_ms != 0) r.timeout = std::chrono::milliseconds(req->timeout_ms);
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->is_http = true;
  op->http_done = done;
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  asio::co_spawn(self->ctx_.strand, run_http_op(self, id, op, self->alive_, std::move(r)),
                 asio::bind_cancellation_slot(op->signal.slot(), asio::detached));
  return FRACTA_PENDING;
}

asio::awaitable<void> provider_instance::run_http_op(provider_instance* self, fracta_op_id id,
                                                     std::shared_ptr<host_op> op, std::shared_ptr<bool> alive,
                                                     http::request r) {
  auto res = co_await self->ctx_.http->send(r);
  if (!*alive) co_return;
  auto it = self->ops_.find(id);
  if (it == self->ops_.end() || it->second != op) co_return;  // cancelled meanwhile
  self->ops_.erase(it);
  deliver_http(*op, res);
}

void provider_instance::deliver_http(const host_op& op, const result<http::response>& res) {
  if (!res) {
    const auto& e = res.err();
    int32_t st = FRACTA_E_UNAVAILABLE;
    if (e.code == http::errc::timeout) st = FRACTA_E_TIMEOUT;
    else if (e.code == http::errc::cancelled) st = FRACTA_E_CANCELLED;
    op.http_done.fn(op.http_done.ctx, st, nullptr, str(e.message));
    return;
  }
  const auto& resp = *res;
  std::vector<fracta_http_header> hs;
  hs.reserve(resp.headers.size());
  for (const auto& h : resp.headers) hs.push_back({str(h.name), str(h.value)});
  fracta_http_response out{sizeof(fracta_http_response), static_cast<int32_t>(resp.status), hs.data(), hs.size(),
                           str(resp.body)};
  op.http_done.fn(op.http_done.ctx, FRACTA_OK, &out, fracta_str{nullptr, 0});
}

int32_t provider_instance::h_timer_start(void* ctx, int64_t delay_ms, fracta_completion done,
                                         fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  op->timer = std::make_unique<asio::steady_timer>(self->ctx_.strand);
  op->timer->expires_after(std::chrono::milliseconds(delay_ms < 0 ? 0 : delay_ms));
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  op->timer->async_wait([self, id, op, alive = self->alive_](std::error_code) {
    if (!*alive) return;
    auto it = self->ops_.find(id);
    if (it == self->ops_.end() || it->second != op) return;
    self->ops_.erase(it);
    call_completion(op->done, op_result{FRACTA_OK, {}, 0, {}});
  });
  return FRACTA_PENDING;
}

void provider_instance::h_cancel(void* ctx, fracta_op_id id) {
  auto* self = static_cast<provider_instance*>(ctx);
  auto it = self->ops_.find(id);
  if (it == self->ops_.end()) return;
  auto op = it->second;
  self->ops_.erase(it);
  if (op->on_cancel) op->on_cancel();
  op->signal.emit(asio::cancellation_type::terminal);
  if (op->timer) op->timer->cancel();
  // Deliver CANCELLED later on the actor, never re-entrantly from inside cancel().
  if (op->is_http) {
    const auto done = op->http_done;
    const auto nid = self->next_op_id();
    auto posted = std::make_shared<host_op>();
    posted->is_http = true;
    posted->http_done = done;
    self->ops_[nid] = posted;
    asio::post(self->ctx_.strand, [self, nid, alive = self->alive_] {
      if (!*alive) return;
      auto pit = self->ops_.find(nid);
      if (pit == self->ops_.end()) return;
      auto p = pit->second;
      self->ops_.erase(pit);
      p->http_done.fn(p->http_done.ctx, FRACTA_E_CANCELLED, nullptr, str("cancelled"));
    });
  } else {
    self->complete_later(op->done, op_result{FRACTA_E_CANCELLED, "cancelled", 0, {}});
  }
}

void provider_instance::h_post(void* ctx, fracta_completion done) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr) return;
  self->complete_later(done, op_result{FRACTA_OK, {}, 0, {}});
}

int32_t provider_instance::h_store_get(void* ctx, fracta_str key, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::get, key, {nullptr, 0}, done);
}

int32_t provider_instance::h_store_put(void* ctx, fracta_str key, fracta_str value, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::put, key, value, done);
}

int32_t provider_instance::h_store_erase(void* ctx, fracta_str key, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::erase, key, {nullptr, 0}, done);
}

bool provider_instance::persistent_store() const noexcept {
  return ctx_.stores != nullptr && store::persists(*ctx_.server);
}

namespace {

// Store errors for the plugin: "not found" and "unavailable" apart, permanent problems as
// FRACTA_E_CONFIG; the message is the store's (it never contains a stored value).
op_result store_failure(const error& e) {
  int32_t st = FRACTA_E_INTERNAL;
  if (e.code.category() == store::category()) {
    switch (static_cast<store::errc>(e.code.value())) {
      case store::errc::not_found: st = FRACTA_E_NOT_FOUND; break;
      case store::errc::unavailable:
      case store::errc::locked:
      case store::errc::io: st = FRACTA_E_UNAVAILABLE; break;
      case store::errc::corrupt:
      case store::errc::bad_key:
      case store::errc::too_large: st = FRACTA_E_CONFIG; break;
    }
  } else if (e.code == make_error_code(errc::config)) {
    st = FRACTA_E_CONFIG;
  }
  std::string msg = e.message;
  if (e.code == make_error_code(store::errc::too_large)) {
    msg += "; set token_store = \"file\" to keep this server's tokens in the encrypted file instead";
  }
  return op_result{st, std::move(msg), 0, {}};
}

}  // namespace

int32_t provider_instance::start_store_op(store_kind kind, fracta_str key_in, fracta_str value_in,
                                          fracta_completion done) {
  if (done.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  std::string key(view(key_in));
  if (key.empty()) return FRACTA_E_INVALID_ARGUMENT;
  if (!persistent_store()) {
    // In memory, on the actor: no I/O.
    if (kind == store_kind::get) {
      auto v = ctx_.store->get(key);
      complete_later(done, v ? op_result{FRACTA_OK, {}, 0, std::move(*v)}
                             : op_result{FRACTA_E_NOT_FOUND, "not stored", 0, {}});
    } else {
      if (kind == store_kind::put) ctx_.store->put(key, std::string(view(value_in)));
      else ctx_.store->erase(key);
      complete_later(done, op_result{FRACTA_OK, {}, 0, {}});
    }
    return FRACTA_PENDING;
  }
  const auto id = next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  ops_[id] = op;
  // On the blocking pool: pick (once) and call the store. The pool thread touches neither
  // `this` nor its members, only what it was given; the answer goes back to the actor.
  std::string value(view(value_in));
  asio::post(blocking_executor(), [self = this, id, op, alive = alive_, strand = ctx_.strand, stores = ctx_.stores,
                                   server = ctx_.server, kind, key = std::move(key), value = std::move(value)]() mutable {
    op_result out{FRACTA_OK, {}, 0, {}};
    auto chosen = stores->open(*server);
    if (!chosen) {
      out = store_failure(chosen.err());
    } else {
      const store::item_key ik{server->name, "", key};
      auto& backend = *chosen->store;
      if (kind == store_kind::get) {
        auto r = backend.get(ik);
        if (r) out.value = std::move(r).value();
        else out = store_failure(r.err());
      } else {
        auto r = kind == store_kind::put ? backend.put(ik, value) : backend.erase(ik);
        if (!r) out = store_failure(r.err());
      }
    }
    wipe(value);
    asio::post(strand, [self, id, op, alive, out = std::move(out)]() mutable {
      if (*alive) {
        auto it = self->ops_.find(id);
        if (it != self->ops_.end() && it->second == op) {
          self->ops_.erase(it);
          call_completion(op->done, out);
        }
      }
      wipe(out.value);
    });
  });
  return FRACTA_PENDING;
}

// ---- interactive services --------------------------------------------------------------------

void provider_instance::say(std::string_view line) const {
  if (ctx_.interactive != nullptr && ctx_.interactive->say) ctx_.interactive->say(line);
}

void provider_instance::open_in_browser(std::string_view url, bool browser_env_only) {
  const char* env = std::getenv("BROWSER");
  const std::string browser = env != nullptr ? env : "";
  if (browser_env_only && browser.empty()) return;
  const auto commands = login::browser_commands(browser, url, !browser_env_only);
  std::string why;
  const std::string started = login::launch(url, commands, why);
  if (started.empty()) {
    say("Could not start a browser (" + why + "); open the URL above yourself.");
  } else if (ctx_.log) {
    ctx_.log(FRACTA_LOG_DEBUG, "started " + started + " for the login page");
  }
}

int32_t provider_instance::h_open_url(void* ctx, fracta_str url) {
  auto* self = static_cast<provider_instance*>(ctx);
  const std::string u(view(url));
  if (u.empty()) return FRACTA_E_INVALID_ARGUMENT;
  const bool no_browser = self->ctx_.interactive->no_browser;
  self->say((no_browser ? "Open this URL in a browser: " : "Opening your browser at: ") + u);
  if (!no_browser) self->open_in_browser(u, false);
  return FRACTA_OK;
}

int32_t provider_instance::h_show_device_code(void* ctx, fracta_str uri, fracta_str user_code,
                                              fracta_str complete_uri) {
  auto* self = static_cast<provider_instance*>(ctx);
  const std::string u(view(uri)), code(view(user_code)), complete(view(complete_uri));
  if (u.empty() || code.empty()) return FRACTA_E_INVALID_ARGUMENT;
  self->say("To sign in, open " + u + " and enter the code " + code);
  if (!complete.empty()) {
    self->say("(or open " + complete + ", which carries the code)");
    if (!self->ctx_.interactive->no_browser) self->open_in_browser(complete, true);
  }
  return FRACTA_OK;
}

int32_t provider_instance::h_redirect_listen(void* ctx, fracta_str requested_uri, const fracta_sink* actual_uri) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (!sink_usable(actual_uri)) return FRACTA_E_INVALID_ARGUMENT;
  // A new listener replaces the previous one (and ends a wait on it).
  if (self->listener_ && self->listener_->awaiting()) return FRACTA_E_INVALID_ARGUMENT;
  if (self->listener_) self->listener_->close();
  self->listener_.reset();
  int32_t status = FRACTA_OK;
  std::string why;
  auto l = login::redirect_listener::listen(self->ctx_.strand, view(requested_uri), status, why);
  if (!l) {
    if (self->ctx_.log) self->ctx_.log(FRACTA_LOG_DEBUG, why);
    return status;
  }
  self->listener_ = l;
  write_sink(actual_uri, l->uri());
  return FRACTA_OK;
}

int32_t provider_instance::h_redirect_await(void* ctx, int64_t timeout_ms, fracta_completion done,
                                            fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr || !self->listener_ || self->listener_->awaiting()) return FRACTA_E_INVALID_ARGUMENT;
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  auto listener = self->listener_;
  op->on_cancel = [listener] { listener->close(); };
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  const bool no_browser = self->ctx_.interactive->no_browser;
  if (no_browser) {
    self->say("After you approve, your browser is sent to " + listener->uri() +
              "?…; if that page does not load (a browser on another machine), paste its whole address here "
              "and press Enter.");
  }
  login::redirect_listener::say_fn say;
  if (self->ctx_.interactive->say) say = self->ctx_.interactive->say;
  const auto timeout = std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 300'000);
  listener->await(timeout, no_browser, std::move(say), self->blocking_executor(),
                  [self, id, op, alive = self->alive_](login::redirect_listener::outcome o) {
                    if (!*alive) return;
                    auto it = self->ops_.find(id);
                    if (it == self->ops_.end() || it->second != op) return;
                    self->ops_.erase(it);
                    call_completion(op->done, op_result{o.status, std::move(o.message), 0, std::move(o.value)});
                  });
  return FRACTA_PENDING;
}

namespace {
int32_t json_lookup(fracta_str json_text, fracta_str pointer, const fracta_sink* out, bool want_string) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, view(json_text), doc).empty()) return FRACTA_E_INVALID_ARGUMENT;
  auto r = doc.at_pointer(view(pointer));
  if (r.error() == simdjson::NO_SUCH_FIELD || r.error() == simdjson::INDEX_OUT_OF_BOUNDS) return FRACTA_E_NOT_FOUND;
  if (r.error()) return FRACTA_E_INVALID_ARGUMENT;
  auto e = r.value_unsafe();
  if (want_string) {
    if (!e.is_string()) return FRACTA_E_INVALID_ARGUMENT;
    write_sink(out, e.get_string().value_unsafe());
  } else {
    write_sink(out, json::to_string(e));
  }
  return FRACTA_OK;
}
}  // namespace

int32_t provider_instance::h_json_get_raw(void*, fracta_str json_text, fracta_str pointer, const fracta_sink* out) {
  return json_lookup(json_text, pointer, out, false);
}

int32_t provider_instance::h_json_get_string(void*, fracta_str json_text, fracta_str pointer,
                                             const fracta_sink* out) {
  return json_lookup(json_text, pointer, out, true);
}

}  // namespace fracta::plugin
