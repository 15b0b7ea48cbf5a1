// SPDX-License-Identifier: Apache-2.0
// The provider's host services that need no store and no user: log, clocks, secrets, HTTP,
// timers, cancel, post and JSON lookups. Every one runs on the instance's actor.

#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/url.hpp>
#include "http/egress.hpp"
#include "plugin/host_common.hpp"

namespace fracta::plugin {
namespace {

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
  if (key == "expires_at") return &a.expires_at_secret;
  return nullptr;
}

// True for an IP literal in a private range (the egress policy's classes).
bool is_private_literal(std::string_view host) {
  const auto a = http::literal_address(host);
  return a && http::classify(*a) == http::address_class::private_network;
}

}  // namespace

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

// ---- secrets -------------------------------------------------------------------------------------

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
  if (!sv) {
    // Mistakes in the reference itself need no I/O: complete on the actor.
    self->complete_later(done, op_result{FRACTA_E_CONFIG, why, 0, {}});
    if (op_out) *op_out = self->last_op_;
    return FRACTA_PENDING;
  }
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  // Read on the blocking pool; deliver on the actor, unless cancelled or torn down meanwhile.
  // The pool thread touches neither `self` nor its members: only what it was given.
  asio::post(self->blocking_executor(), [self, id, raw = op.get(), alive = self->alive_,
                                         strand = self->ctx_.strand, sv = std::move(*sv)] {
    auto r = config::resolve(sv);
    op_result out = r ? op_result{FRACTA_OK, {}, 0, std::move(r).value()}
                      : op_result{FRACTA_E_CONFIG, r.err().message, 0, {}};
    asio::post(strand, [self, id, raw, alive, out = std::move(out)]() mutable {
      if (alive->load()) {
        if (auto o = self->take_op(id, raw)) self->deliver(*o, out);
      }
      wipe(out.value);
    });
  });
  return FRACTA_PENDING;
}

// ---- HTTP -----------------------------------------------------------------------------------------

http::egress_policy egress_policy_for(const config::server& s) {
  http::egress_policy p;
  p.allow_link_local = false;
  p.allow_loopback = false;
  p.allow_private = s.allow_private_network;
  if (auto u = http::url::parse(s.url)) {
    p.allow_loopback = u->is_loopback_host();
    p.allow_private = p.allow_private || is_private_literal(u->host);
  }
  return p;
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
  r.egress = egress_policy_for(*self->ctx_.server);
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
                                                     std::shared_ptr<host_op> op, alive_flag alive,
                                                     http::request r) {
  if (!alive->load()) co_return;  // torn down before this started
  const auto started = std::chrono::steady_clock::now();
  std::string method, shown;
  if (self->ctx_.on_exchange) {
    method = r.method;
    auto parsed = http::url::parse(r.url);
    shown = parsed ? parsed->redacted() : std::string("(a malformed URL)");
  }
  auto send = self->ctx_.http->send(std::move(r));
  auto res = co_await std::move(send);
  if (!alive->load()) co_return;
  if (self->ctx_.on_exchange) {
    exchange_info x;
    x.method = method;
    x.url = shown;
    x.status = res ? res->status : 0;
    x.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (!res) x.error = res.err().message;
    self->ctx_.on_exchange(x);
  }
  auto taken = self->take_op(id, op.get());
  if (!taken) co_return;  // cancelled meanwhile
  deliver_http(*taken, res);
  self->progressed();
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

// ---- timers, cancel, post ----------------------------------------------------------------------------

int32_t provider_instance::h_timer_start(void* ctx, int64_t delay_ms, fracta_completion done,
                                         fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  // The instance's clock drives it: a fake clock in tests, steady time otherwise.
  op->timer = self->ctx_.clock->make_timer(self->ctx_.strand);
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  op->timer->wait(std::chrono::milliseconds(delay_ms < 0 ? 0 : delay_ms),
                  [self, id, raw = op.get(), alive = self->alive_](bool) {
                    if (!alive->load()) return;
                    if (auto o = self->take_op(id, raw)) self->deliver(*o, op_result{FRACTA_OK, {}, 0, {}});
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
    const auto nid = self->next_op_id();
    auto posted = std::make_shared<host_op>();
    posted->is_http = true;
    posted->http_done = op->http_done;
    self->ops_[nid] = posted;
    asio::post(self->ctx_.strand, [self, nid, raw = posted.get(), alive = self->alive_] {
      if (!alive->load()) return;
      auto p = self->take_op(nid, raw);
      if (!p) return;
      p->http_done.fn(p->http_done.ctx, FRACTA_E_CANCELLED, nullptr, str("cancelled"));
      self->progressed();
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

// ---- JSON ---------------------------------------------------------------------------------------------

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
