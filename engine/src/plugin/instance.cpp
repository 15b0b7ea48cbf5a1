// SPDX-License-Identifier: Apache-2.0
// Provider instances: creation and teardown on the actor, the optional operations, and the
// bridge that turns a C completion into a coroutine resumption. The host services themselves
// are in host_services.cpp, host_store.cpp and host_interactive.cpp.
#include "plugin/instance.hpp"

#include <utility>

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <simdjson.h>

#include "core/actor.hpp"
#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include <fracta/proto/fields.hpp>
#include "login/redirect.hpp"
#include "plugin/host_common.hpp"

namespace fracta::plugin {
namespace {

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

}  // namespace

// ---- memory store --------------------------------------------------------------------------

std::optional<std::string> memory_store::get(const std::string& key) const {
  const std::lock_guard lk(mutex_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}
void memory_store::put(const std::string& key, std::string value) {
  const std::lock_guard lk(mutex_);
  items_[key] = std::move(value);
}
void memory_store::erase(const std::string& key) {
  const std::lock_guard lk(mutex_);
  items_.erase(key);
}
std::size_t memory_store::clear() {
  const std::lock_guard lk(mutex_);
  const std::size_t n = items_.size();
  for (auto& [k, v] : items_) wipe(v);
  items_.clear();
  return n;
}

// ---- creation and teardown -------------------------------------------------------------------

provider_instance::provider_instance(const fracta_provider& provider, instance_context ctx)
    : provider_(provider), ctx_(std::move(ctx)) {
  const bool with_store = ctx_.store != nullptr || persistent_store();
  // Interactive services only when a user is attached (the CLI); NULL otherwise.
  const bool with_user = ctx_.interactive != nullptr && ctx_.interactive->enabled;
  host_ = fracta_host{
      .struct_size = sizeof(fracta_host),
      .abi_major = FRACTA_ABI_MAJOR,
      .abi_minor = FRACTA_ABI_MINOR,
      .host_ctx = this,
      .server_name = str(ctx_.server->name),
      .server_url = str(ctx_.server->url),
      .log = &h_log,
      .wall_clock_ms = &h_wall,
      .monotonic_ms = &h_mono,
      .resolve_secret = &h_resolve_secret,
      .http_send = &h_http_send,
      .timer_start = &h_timer_start,
      .cancel = &h_cancel,
      .post = &h_post,
      .store_get = with_store ? &h_store_get : nullptr,
      .store_put = with_store ? &h_store_put : nullptr,
      .store_erase = with_store ? &h_store_erase : nullptr,
      .json_get_raw = &h_json_get_raw,
      .json_get_string = &h_json_get_string,
      .open_url = with_user ? &h_open_url : nullptr,
      .show_device_code = with_user ? &h_show_device_code : nullptr,
      .redirect_listen = with_user ? &h_redirect_listen : nullptr,
      .redirect_await = with_user ? &h_redirect_await : nullptr,
      .resolve_secret_async = &h_resolve_secret_async,
  };
}

result<std::unique_ptr<provider_instance>> provider_instance::create(const fracta_provider& provider,
                                                                    instance_context ctx) {
  std::unique_ptr<provider_instance> self(new provider_instance(provider, std::move(ctx)));
  const auto strand = self->ctx_.strand;
  std::optional<error> failure;
  // On the actor: completions that create() starts (a store read, a post) are queued behind
  // it, even when other threads already run the loop. A failed instance is torn down there too.
  core::run_now_on(strand, [&self, &failure] {
    failure = self->run_create();
    if (failure) self.reset();
  });
  if (failure) return std::move(*failure);
  return self;
}

std::string status_words(std::int32_t status) {
  const char* what = "an internal failure (FRACTA_E_INTERNAL)";
  switch (status) {
    case FRACTA_E_CONFIG: what = "a problem with its settings (FRACTA_E_CONFIG)"; break;
    case FRACTA_E_NEEDS_LOGIN: what = "that a login is needed (FRACTA_E_NEEDS_LOGIN)"; break;
    case FRACTA_E_TRANSIENT: what = "a temporary failure (FRACTA_E_TRANSIENT)"; break;
    case FRACTA_E_DENIED: what = "a refusal (FRACTA_E_DENIED)"; break;
    case FRACTA_E_UNSUPPORTED: what = "that it does not do this (FRACTA_E_UNSUPPORTED)"; break;
    case FRACTA_E_CANCELLED: what = "a cancellation (FRACTA_E_CANCELLED)"; break;
    case FRACTA_E_TIMEOUT: what = "a timeout (FRACTA_E_TIMEOUT)"; break;
    case FRACTA_E_NOT_FOUND: what = "that something was not found (FRACTA_E_NOT_FOUND)"; break;
    case FRACTA_E_UNAVAILABLE: what = "that something it needs is unavailable (FRACTA_E_UNAVAILABLE)"; break;
    case FRACTA_E_INVALID_ARGUMENT: what = "an argument it could not use (FRACTA_E_INVALID_ARGUMENT)"; break;
    default: break;
  }
  return std::string("it reported ") + what + " without saying more (with -vv its log may)";
}

std::optional<error> provider_instance::run_create() {
  const auto& json = ctx_.server->auth.json;
  string_sink err;
  void* inst = nullptr;
  const int32_t st = provider_.create(&host_, str(json), &inst, &err.sink);
  if (st == FRACTA_OK && inst != nullptr) {
    instance_ = inst;
    return std::nullopt;
  }
  const std::string prefix = "server '" + ctx_.server->name + "': auth provider '" + provider_.type + "': ";
  std::string msg = err.text.empty() ? "could not start: " + status_words(st) : err.text;
  if (st == FRACTA_OK) msg = "create returned no instance";
  return error{make_error_code(st == FRACTA_E_CONFIG ? errc::config : errc_from_plugin_status(st)), prefix + msg};
}

provider_instance::~provider_instance() {
  if (core::is_actor_strand(ctx_.strand) && !ctx_.strand.running_in_this_thread()) {
    core::run_now_on(ctx_.strand, [this] { teardown(); });
  } else {
    teardown();
  }
}

void provider_instance::teardown() noexcept {
  // Every host operation still pending completes now with CANCELLED, while the plugin lives.
  // After a failed create() there is no plugin state left to complete into: only the host
  // side stops.
  const bool plugin_alive = instance_ != nullptr;
  if (listener_) listener_->close();
  listener_.reset();
  auto ops = std::move(ops_);
  ops_.clear();
  for (auto& [id, op] : ops) {
    if (op->on_cancel) op->on_cancel();
    op->signal.emit(asio::cancellation_type::terminal);
    if (op->timer) op->timer->cancel();
    if (!plugin_alive) continue;
    if (op->is_http) {
      if (op->http_done.fn) op->http_done.fn(op->http_done.ctx, FRACTA_E_CANCELLED, nullptr, str("cancelled"));
    } else {
      call_completion(op->done, op_result{FRACTA_E_CANCELLED, "cancelled", 0, {}});
    }
  }
  if (plugin_alive) {
    if (FRACTA_HAS_FIELD(&provider_, fracta_provider, cancel) && provider_.cancel) provider_.cancel(instance_);
    provider_.destroy(instance_);
    instance_ = nullptr;
  }
  alive_->store(false);
  progressed();  // nobody waits on a dead instance
}

// ---- operations ------------------------------------------------------------------------------

std::int32_t provider_instance::apply(http::request& req, std::string& message) {
  request_view rv{&req};
  fracta_request r{sizeof(fracta_request), str(req.method), str(req.url), str(req.body), &rv,
                   &req_get_header, &req_set_header};
  string_sink err;
  const int32_t st = provider_.apply(instance_, &r, &err.sink);
  if (st != FRACTA_OK && st != FRACTA_NEED_REFRESH) {
    message = err.text.empty() ? "could not attach the credential: " + status_words(st) : err.text;
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
  auto wait = st->done.wait();
  co_await std::move(wait);
  co_return *st->result;
}

// Each operation builds its invoker in a named local: no class temporary inside the co_await
// expression (GCC 12).
asio::awaitable<op_result> provider_instance::refresh() {
  if (!has_refresh()) co_return op_result{FRACTA_E_UNSUPPORTED, "the provider cannot refresh", 0, {}};
  auto invoke = [this](fracta_completion c) { return provider_.refresh(instance_, c); };
  auto run = call_async(invoke);
  co_return co_await std::move(run);
}

asio::awaitable<op_result> provider_instance::on_challenge(int status, std::string_view www_authenticate,
                                                            std::string_view body) {
  if (!has_on_challenge()) co_return op_result{FRACTA_E_UNSUPPORTED, {}, 0, {}};
  const std::string wa(www_authenticate), b(body);
  const std::string* wa_p = &wa;
  const std::string* b_p = &b;
  auto invoke = [this, status, wa_p, b_p](fracta_completion c) {
    fracta_challenge ch{sizeof(fracta_challenge), status, str(*wa_p), str(ctx_.server->url), str(*b_p)};
    return provider_.on_challenge(instance_, &ch, c);
  };
  auto run = call_async(invoke);
  co_return co_await std::move(run);
}

asio::awaitable<op_result> provider_instance::login(const std::string& options_json) {
  if (!has_login()) co_return op_result{FRACTA_E_UNSUPPORTED, "this auth type has no interactive login", 0, {}};
  const std::string* opts = &options_json;
  auto invoke = [this, opts](fracta_completion c) { return provider_.login(instance_, str(*opts), c); };
  auto run = call_async(invoke);
  co_return co_await std::move(run);
}

asio::awaitable<op_result> provider_instance::logout() {
  if (!(FRACTA_HAS_FIELD(&provider_, fracta_provider, logout) && provider_.logout)) {
    co_return op_result{FRACTA_E_UNSUPPORTED, "this auth type stores nothing to log out from", 0, {}};
  }
  auto invoke = [this](fracta_completion c) { return provider_.logout(instance_, c); };
  auto run = call_async(invoke);
  co_return co_await std::move(run);
}

asio::awaitable<op_result> provider_instance::export_credentials() {
  if (!(FRACTA_HAS_FIELD(&provider_, fracta_provider, export_credentials) && provider_.export_credentials)) {
    co_return op_result{FRACTA_E_UNSUPPORTED, "this auth type has no credentials to export", 0, {}};
  }
  auto invoke = [this](fracta_completion c) { return provider_.export_credentials(instance_, c); };
  auto run = call_async(invoke);
  co_return co_await std::move(run);
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

asio::awaitable<void> provider_instance::host_progress() {
  auto event = progress_;
  auto wait = event->wait();
  co_await std::move(wait);
}

// ---- host operation bookkeeping ----------------------------------------------------------------

asio::any_io_executor provider_instance::blocking_executor() {
  if (ctx_.blocking) return ctx_.blocking;
  static asio::thread_pool fallback(1);
  return fallback.get_executor();
}

std::shared_ptr<provider_instance::host_op> provider_instance::take_op(fracta_op_id id, const host_op* expected) {
  auto it = ops_.find(id);
  if (it == ops_.end() || it->second.get() != expected) return nullptr;
  auto op = std::move(it->second);
  ops_.erase(it);
  return op;
}

void provider_instance::progressed() {
  auto event = std::exchange(progress_, std::make_shared<core::async_event>());
  event->set();
}

void provider_instance::deliver(const host_op& op, const op_result& r) {
  call_completion(op.done, r);
  progressed();
}

void provider_instance::complete_later(fracta_completion done, op_result r) {
  const auto id = next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  op->posted = std::move(r);
  ops_[id] = op;
  asio::post(ctx_.strand, [this, id, raw = op.get(), alive = alive_] {
    if (!alive->load()) return;
    if (auto o = take_op(id, raw)) deliver(*o, o->posted);
  });
}

}  // namespace fracta::plugin
