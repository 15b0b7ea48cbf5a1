// SPDX-License-Identifier: Apache-2.0
// The server actor's transport: JSON-RPC over Streamable HTTP (POST, JSON or SSE answers read as
// they arrive), credentials on every request and the one-retry 401/403 policy; the requests the
// public operations make, on either wire; and mcp_session's face.
#include "mcp/session_impl.hpp"

#include <chrono>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include "core/actor.hpp"
#include <fracta/proto/json.hpp>
#include "fracta/json_writer.hpp"
#include <fracta/proto/url.hpp>
#include "mcp/headers.hpp"
#include "mcp/messages.hpp"
#include <fracta/proto/text.hpp>

namespace fracta {
namespace {

// The headers the provider added from `from` on: the auth context of cached results.
std::string credential_of(const http::request& req, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < req.headers.size(); ++i) out += req.headers[i].name + ":" + req.headers[i].value + "\n";
  return out;
}

std::string shown(const std::string& url) {
  auto u = http::url::parse(url);
  return u ? u->redacted() : std::string("an invalid URL");
}

// Runs one exchange with its cancellation bound to `slot` (emitted on `strand`).
asio::awaitable<result<http::response>> send_cancellable(http::client& http, http::request req,
                                                         core::actor_strand strand, asio::cancellation_slot slot) {
  std::optional<result<http::response>> out;
  auto op = http.send(std::move(req));
  auto spawned = asio::co_spawn(strand, core::detail::store_into(std::move(op), out, {}),
                                asio::bind_cancellation_slot(slot, asio::use_awaitable));
  try {
    co_await std::move(spawned);
  } catch (const std::system_error&) {
    // asio's own "operation aborted" after a cancellation: the same outcome.
  }
  if (!out) co_return mcp::make_err(errc::cancelled, "cancelled");
  co_return std::move(*out);
}

}  // namespace

using mcp::make_err;

mcp_session::impl::impl(core::actor_strand s, session_resources res, std::unique_ptr<plugin::provider_instance> inst,
                        std::shared_ptr<const core::clock> clk, std::function<void(log_level, std::string_view)> lg)
    : strand(std::move(s)), resources(std::move(res)), http(*resources.http), server(*resources.server),
      shown_url(shown(server.url)), clock(clk), cred(std::move(inst), std::move(clk), strand), log(std::move(lg)) {}

void mcp_session::impl::say(const std::string& line) const {
  if (interactive != nullptr && interactive->say) interactive->say(line);
}

void mcp_session::impl::set_status(server_state st, std::string detail, std::int64_t retry_at_unix_ms) {
  server_status now{st, sent.scrub(detail), retry_at_unix_ms};
  {
    std::lock_guard lk(version_mutex);
    if (status.state == now.state && status.detail == now.detail && status.retry_at_unix_ms == now.retry_at_unix_ms) return;
    status = now;
  }
  if (status_watcher) status_watcher(now);
}

void mcp_session::impl::note_outcome(const error* e) {
  if (e == nullptr || e->code == make_error_code(errc::remote)) {
    set_status(server_state::ready);  // a JSON-RPC error is an answer too
  } else if (e->code == make_error_code(errc::needs_login)) {
    set_status(server_state::needs_login, e->message);
  } else if (e->code == make_error_code(errc::transport) || e->code == make_error_code(errc::protocol) ||
             e->code == make_error_code(errc::auth_failed) || e->code == make_error_code(errc::plugin)) {
    set_status(server_state::failing, e->message);
  }
}

void mcp_session::impl::on_refresh(const plugin::op_result* r) {
  if (r == nullptr) {
    set_status(server_state::refreshing);
  } else if (r->status == FRACTA_OK) {
    set_status(server_state::ready);
  } else if (r->status == FRACTA_E_NEEDS_LOGIN) {
    set_status(server_state::needs_login, r->message);
  } else {
    set_status(server_state::failing, "refreshing the credential failed: " + r->message, cred.next_refresh_at_ms());
  }
}

void mcp_session::impl::debug(const std::string& m) const {
  if (log) log(log_level::debug, "server '" + server.name + "': " + sent.scrub(m));
}

std::string mcp_session::impl::where() const { return "server '" + server.name + "' (" + shown_url + ")"; }

error mcp_session::impl::scrubbed(error e) const {
  mcp::secret_list all = sent;
  all.add(session_id);
  e.message = all.scrub(e.message);
  return e;
}

std::optional<era_cache::verdict> era_cache::find(const std::string& endpoint) const {
  std::lock_guard lk(mutex_);
  auto it = verdicts_.find(endpoint);
  if (it == verdicts_.end()) return std::nullopt;
  return it->second;
}

void era_cache::put(const std::string& endpoint, verdict v) {
  std::lock_guard lk(mutex_);
  verdicts_[endpoint] = std::move(v);
}

void era_cache::forget(const std::string& endpoint) {
  std::lock_guard lk(mutex_);
  verdicts_.erase(endpoint);
}

http::request mcp_session::impl::make_request(std::string method, std::string body,
                                              const std::vector<http::header>& extra) const {
  http::request r;
  r.method = std::move(method);
  r.url = server.url;
  r.timeout = std::chrono::seconds(server.timeout_seconds);
  for (const auto& [k, v] : server.headers) r.headers.push_back({k, v});
  if (r.method == "POST") {
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Accept", "application/json, text/event-stream"});
    r.body = std::move(body);
  } else if (r.method == "GET") {
    r.headers.push_back({"Accept", "text/event-stream"});
  }
  if (!session_id.empty()) r.headers.push_back({"Mcp-Session-Id", session_id});
  // The stateless wire's headers come in `extra` (with the version they must match).
  if (!protocol_version.empty() && era == wire::legacy) r.headers.push_back({"MCP-Protocol-Version", protocol_version});
  for (const auto& h : extra) r.headers.push_back(h);
  return r;
}

std::shared_ptr<mcp::answer_stream> mcp_session::impl::make_stream(std::int64_t id) {
  std::weak_ptr<impl> weak = weak_from_this();
  return std::make_shared<mcp::answer_stream>(id, [weak, id](std::string message) {
    if (auto self = weak.lock()) self->on_stream_message(std::move(message), id);
  });
}

asio::awaitable<result<http::response>> mcp_session::impl::send_authorized(http::request proto, std::int64_t id,
                                                                           std::shared_ptr<mcp::answer_stream>* stream,
                                                                           std::shared_ptr<raw_request> raw) {
  const std::string method = proto.method;
  for (int attempt = 0;; ++attempt) {
    if (raw && raw->cancelled) co_return make_err(errc::cancelled, where() + ": the request was cancelled");
    http::request req = proto;
    if (stream != nullptr) {
      *stream = make_stream(id);
      req.complete_when = [s = *stream](std::string_view chunk) { return s->feed(chunk); };
    }
    const auto before = req.headers.size();
    auto authorize = cred.authorize(req);
    auto a = co_await std::move(authorize);
    if (!a) co_return error{a.err().code, where() + ": " + a.err().message};
    sent.remember(req);
    const std::string used = credential_of(req, before);
    last_credential = used;
    debug(method + " attempt " + std::to_string(attempt + 1));
    result<http::response> resp = error{};
    const auto started = std::chrono::steady_clock::now();
    if (raw) {
      // Bound to the request's signal: cancel() closes the stream.
      auto op = send_cancellable(http, std::move(req), strand, raw->cancel->slot());
      resp = co_await std::move(op);
      if (!resp && raw->cancelled) co_return make_err(errc::cancelled, where() + ": the request was cancelled");
    } else {
      auto send = http.send(std::move(req));
      resp = co_await std::move(send);
    }
    traced(proto, resp, started);
    if (!resp) {
      last_transport_error = resp.err().code;
      co_return transport_error(resp.err());
    }
    if (resp->status != 401 && resp->status != 403) co_return std::move(resp).value();
    if (attempt == 1) co_return rejected_again(*resp);
    // Requests in flight while a refresh replaced the credential come back refused for the
    // old one: they are retried with the current one, not with yet another.
    http::request probe;
    probe.method = proto.method;
    probe.url = proto.url;
    auto current = cred.authorize(probe);
    auto now = co_await std::move(current);
    if (now && !used.empty() && credential_of(probe, 0) != used) {
      debug("HTTP " + std::to_string(resp->status) + " for a credential replaced meanwhile: retrying with the current one");
      continue;
    }
    debug("HTTP " + std::to_string(resp->status) + ": asking the auth provider for another credential");
    auto recover = cred.recover(*resp);
    auto rec = co_await std::move(recover);
    if (!rec) co_return rejected(rec.err());
  }
}

namespace {

// What a request to the server was for, from its method and JSON-RPC body (see exchange_info).
std::string purpose_of(const http::request& r) {
  if (r.method == "GET") return "stream";
  if (r.method == "DELETE") return "end of session";
  simdjson::dom::parser parser;
  simdjson::dom::element msg;
  if (!json::parse(parser, r.body, msg).empty() || !msg.is_object()) return r.method;
  const auto method = json::get_string(msg, "method");
  if (!method) return "response";
  std::string out = text::printable(*method, 64);
  if (msg["id"].error() != simdjson::SUCCESS) out += " (notification)";
  return out;
}

}  // namespace

void mcp_session::impl::traced(const http::request& sent, const result<http::response>& r,
                               std::chrono::steady_clock::time_point started) const {
  if (!on_exchange) return;
  const std::string purpose = purpose_of(sent);
  std::string version;
  {
    std::lock_guard lk(version_mutex);
    version = protocol_version;
  }
  exchange_info x;
  x.server = server.name;
  x.purpose = purpose;
  x.protocol_version = version;
  x.method = sent.method;
  x.url = shown_url;
  x.status = r ? r->status : 0;
  x.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!r) x.error = r.err().message;
  on_exchange(x);
}

error mcp_session::impl::transport_error(const error& e) const {
  std::string hint;
  const std::string table = "mcp.servers." + server.name + ".remote";
  if (e.code == http::make_error_code(http::errc::timeout)) {
    const std::string advice = interactive != nullptr ? interactive->timeout_advice : std::string();
    hint = " (the deadline is " + table + ".timeout_seconds = " + std::to_string(server.timeout_seconds) +
           "; raise it there" + (advice.empty() ? std::string() : ", or " + advice) + ")";
  } else if (e.code == http::make_error_code(http::errc::tls_failed)) {
    hint = server.ca_bundle.empty()
               ? " (if the server's certificate comes from a private CA, set " + table +
                     ".ca_bundle to that CA's PEM file)"
               : " (checked against " + table + ".ca_bundle = " + server.ca_bundle + ")";
  }
  return make_err(errc::transport, where() + ": " + e.message + hint);
}

std::string mcp_session::impl::check_hint() const {
  std::string hint = ". Check the credential configured in mcp.servers." + server.name + ".remote.auth";
  if (!server.auth.where.file.empty()) hint += " (" + server.auth.where.file + ")";
  return hint;
}

error mcp_session::impl::rejected_again(const http::response& resp) const {
  return make_err(errc::auth_failed, where() + " refused the renewed credential too (" +
                                         auth::describe_rejection(resp) + ")" + check_hint());
}

error mcp_session::impl::rejected(const error& e) const {
  error out{e.code, where() + ": " + e.message};
  if (e.code == errc::auth_failed) out.message += check_hint();
  return out;
}

result<void> mcp_session::impl::check_accepted(const http::response& resp, const std::string& method) const {
  if (resp.status >= 200 && resp.status <= 299) return {};
  return make_err(errc::protocol, where() + " answered " + method + " with HTTP " + std::to_string(resp.status) +
                                      ": " + mcp::server_text(resp.body, sent, 200));
}

bool mcp_session::impl::can_elicit() const {
  return interactive != nullptr && interactive->enabled && interactive->elicit;
}

std::string mcp_session::impl::client_capabilities() const {
  if (declared_capabilities) return *declared_capabilities;
  return can_elicit() ? R"({"elicitation":{"form":{}}})" : "{}";
}

void mcp_session::impl::set_version(wire w, std::string version) {
  era = w;
  std::lock_guard lk(version_mutex);
  protocol_version = std::move(version);
}

asio::awaitable<result<std::string>> mcp_session::impl::do_open() {
  if (opened) co_return open_result;
  auto make = [this] { return open_once(); };
  auto run = open_flight.run(make);
  auto r = co_await std::move(run);
  if (!r) note_outcome(&r.err());
  co_return r;
}

void mcp_session::impl::forget_session(bool verdict) {
  stop_listening();
  session_id.clear();
  opened = false;
  open_result.clear();
  tools_cache.reset();
  set_version(wire::unknown, "");
  if (verdict) resources.eras->forget(server.url);
}

asio::awaitable<result<std::string>> mcp_session::impl::call(const std::string& method, const std::string& params) {
  for (int attempt = 0;; ++attempt) {
    auto open = do_open();
    auto opened_r = co_await std::move(open);
    if (!opened_r) co_return opened_r.err();
    const std::string sent_session = session_id;
    bool again = false;
    result<std::string> r = error{};
    if (era == wire::modern) {
      auto c = modern_call(method, params, again);
      r = co_await std::move(c);
    } else {
      auto c = legacy_rpc(method, params, again);
      r = co_await std::move(c);
    }
    if (r || !again || attempt == 1) {
      note_outcome(r ? nullptr : &r.err());
      co_return r;
    }
    // Another call may have reopened meanwhile; forget only the conversation that failed.
    if (session_id == sent_session) {
      debug(era == wire::modern ? "the server no longer speaks " + protocol_version + "; asking it again"
                                : "the session expired; starting a new one");
      forget_session(era == wire::modern);
    }
  }
}

asio::awaitable<result<tool_list>> mcp_session::impl::do_list_tools(std::string cursor) {
  const std::string method = "tools/list";
  std::string params = "{}";
  if (!cursor.empty()) {
    json::writer w;
    w.begin_object().key("cursor").value(cursor).end_object();
    params = w.take();
  }
  const bool first_page = cursor.empty();
  if (first_page && tools_cache && tools_cache->until_ms > clock->monotonic_ms() && era == wire::modern) {
    // Only for the credential it was listed with: a list may differ per authorization.
    auto probe_req = make_request("POST", "");
    const auto before = probe_req.headers.size();
    auto authorize = cred.authorize(probe_req);
    auto a = co_await std::move(authorize);
    if (a && credential_of(probe_req, before) == tools_cache->auth) {
      debug("tools/list answered from the cache (the server's ttlMs)");
      co_return tools_cache->list;
    }
    tools_cache.reset();
  }
  auto c = call(method, params);
  auto r = co_await std::move(c);
  if (!r) co_return r.err();
  if (era != wire::modern) co_return mcp::parse_tool_list(*r);
  // The stateless wire: tools whose x-mcp-header annotations are invalid cannot be called.
  auto drop = [](std::string_view schema) { return mcp::invalid_x_mcp_header(schema); };
  auto note = [this](const std::string& line) {
    if (log) log(log_level::warn, "server '" + server.name + "': " + line);
  };
  tool_list list = mcp::parse_tool_list(*r, drop, note);
  if (first_page) tool_schemas.clear();
  for (const auto& t : list.tools) tool_schemas[t.name] = t.input_schema_json;
  if (!first_page) co_return list;
  if (auto hint = mcp::read_cache_hint(*r); hint && hint->ttl_ms > 0) {
    tools_cache = cached_list{list, last_credential, clock->monotonic_ms() + hint->ttl_ms};
  }
  co_return list;
}

asio::awaitable<result<void>> mcp_session::impl::find_tool_schema(std::string name) {
  std::string cursor;
  for (int page = 0; page < max_tool_pages; ++page) {
    auto list = do_list_tools(cursor);
    auto l = co_await std::move(list);
    if (!l) co_return l.err();
    if (tool_schemas.count(name) || l->next_cursor.empty() || l->next_cursor == cursor) break;
    cursor = std::move(l->next_cursor);
  }
  co_return result<void>{};
}

asio::awaitable<result<tool_result>> mcp_session::impl::do_call_tool(std::string name, std::string args) {
  // Progress is asked for only when someone hears it.
  const bool wants_progress = interactive != nullptr && interactive->progress;
  const std::string token = wants_progress ? "fracta-" + std::to_string(next_id) : std::string();
  const auto params = mcp::call_params(name, args, token);
  if (!params) co_return params.err();
  auto open = do_open();
  auto opened_r = co_await std::move(open);
  if (!opened_r) co_return opened_r.err();
  if (era == wire::modern && !tool_schemas.count(name)) {
    // Its schema names the Mcp-Param-* headers the call must carry: list first.
    auto find = find_tool_schema(name);
    auto l = co_await std::move(find);
    if (!l) co_return l.err();
    if (!tool_schemas.count(name)) {
      co_return mcp::make_err(errc::remote, where() + " has no tool '" + text::printable(name, 64) +
                                                   "' it can be called with (see: fracta tools " + server.name + ")");
    }
  }
  // A 2025 server may ask its questions on the session's GET stream: have it open first.
  auto listening = ensure_listening();
  co_await std::move(listening);
  const std::string method = "tools/call";
  auto c = call(method, params.value());
  auto r = co_await std::move(c);
  if (!r) co_return r.err();
  co_return mcp::parse_tool_result(*r);
}

asio::awaitable<void> mcp_session::impl::do_close() {
  token_watch.reset();  // nothing of the session's keeps the loop busy once closed
  // A refresh in flight (the proactive one may have started during the call) is stored first.
  auto settled = cred.settle();
  co_await std::move(settled);
  stop_listening();
  if (listen_done) {
    auto ended = listen_done->wait();
    co_await std::move(ended);
    listen_done.reset();
    listen_cancel.reset();
  }
  // A server's request that came on a stream may still be being answered.
  auto answered = stream_tasks.idle();
  co_await std::move(answered);
  if (session_id.empty()) co_return;
  const std::string verb = "DELETE", body;
  auto req = make_request(verb, body);
  auto send = send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) debug("closing the session failed: " + scrubbed(resp.err()).message);
  session_id.clear();
  opened = false;
}

// ---- mcp_session: each public operation hops onto the actor's strand and back ----------------

mcp_session::mcp_session(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

mcp_session::~mcp_session() {
  // The last reference usually goes here: drop it on the actor, so that the credential's timer
  // and the plugin's destroy() run there: at once when the strand is idle, else posted behind
  // what it is doing (the impl keeps what its teardown needs; see session_resources).
  const auto strand = impl_->strand;
  core::run_or_post_on(strand, [p = std::move(impl_)]() mutable {
    p->stop_listening();  // the GET stream holds the actor until it ends
    p->token_watch.reset();
    p.reset();
  });
}

const std::string& mcp_session::server_name() const noexcept { return impl_->server.name; }

std::string_view to_string(server_state s) noexcept {
  switch (s) {
    case server_state::starting: return "starting";
    case server_state::ready: return "ready";
    case server_state::refreshing: return "refreshing";
    case server_state::needs_login: return "needs_login";
    case server_state::failing: return "failing";
  }
  return "starting";
}

server_status mcp_session::status() const {
  std::lock_guard lk(impl_->version_mutex);
  return impl_->status;
}

void mcp_session::watch_status(std::function<void(const server_status&)> watcher) {
  impl_->status_watcher = std::move(watcher);
}

std::string mcp_session::protocol_version() const {
  std::lock_guard lk(impl_->version_mutex);
  return impl_->protocol_version;
}

std::string mcp_session::era() const {
  std::lock_guard lk(impl_->version_mutex);
  if (impl_->protocol_version.empty()) return "";
  return mcp::is_modern_version(impl_->protocol_version) ? "modern" : "legacy";
}

// Plain functions, not coroutines: each builds the run_on awaitable at once, with its own
// reference to the actor, so the mcp_session may be destroyed as soon as the call returned.
// Nothing is created inside a co_await expression (GCC 12 rule).
asio::awaitable<result<std::string>> mcp_session::initialize() {
  return core::run_on(impl_->strand, impl_->do_open(), impl_);
}

asio::awaitable<result<tool_list>> mcp_session::list_tools(std::string cursor) {
  return core::run_on(impl_->strand, impl_->do_list_tools(std::move(cursor)), impl_);
}

asio::awaitable<result<tool_result>> mcp_session::call_tool(std::string name, std::string arguments_json) {
  return core::run_on(impl_->strand, impl_->do_call_tool(std::move(name), std::move(arguments_json)), impl_);
}

asio::awaitable<void> mcp_session::close() { return core::run_on(impl_->strand, impl_->do_close(), impl_); }

asio::awaitable<std::string> mcp_session::auth_status() {
  return core::run_on(impl_->strand, impl_->do_auth_status(), impl_);
}

asio::awaitable<result<login_outcome>> mcp_session::login(std::string options_json) {
  return core::run_on(impl_->strand, impl_->do_login(std::move(options_json)), impl_);
}

asio::awaitable<result<void>> mcp_session::logout() {
  return core::run_on(impl_->strand, impl_->do_logout(), impl_);
}

asio::awaitable<result<exported_credentials>> mcp_session::export_credentials() {
  return core::run_on(impl_->strand, impl_->do_export(), impl_);
}

bool mcp_session::can_login() const noexcept { return impl_->cred.instance().has_login(); }

}  // namespace fracta
