// SPDX-License-Identifier: Apache-2.0
// The server actor: JSON-RPC over Streamable HTTP (POST, JSON or SSE answers, Mcp-Session-Id,
// MCP-Protocol-Version), with credentials on every request and the one-retry 401/403 policy.
#include "mcp/session_impl.hpp"

#include <utility>

#include "core/actor.hpp"
#include <fracta/proto/url.hpp>
#include "mcp/messages.hpp"

namespace fracta {
namespace {

std::string shown(const std::string& url) {
  auto u = http::url::parse(url);
  return u ? u->redacted() : std::string("an invalid URL");
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

http::request mcp_session::impl::make_request(std::string method, std::string body) const {
  http::request r;
  r.method = std::move(method);
  r.url = server.url;
  r.timeout = std::chrono::seconds(server.timeout_seconds);
  for (const auto& [k, v] : server.headers) r.headers.push_back({k, v});
  if (!r.method.empty() && r.method == "POST") {
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Accept", "application/json, text/event-stream"});
    r.body = std::move(body);
  }
  if (!session_id.empty()) r.headers.push_back({"Mcp-Session-Id", session_id});
  if (!protocol_version.empty()) r.headers.push_back({"MCP-Protocol-Version", protocol_version});
  return r;
}

// Sends with credentials; on 401/403 asks the provider for another credential and retries
// exactly once. Every credential sent is remembered, so that no error repeats it.
asio::awaitable<result<http::response>> mcp_session::impl::send_authorized(const std::string& method,
                                                                           const std::string& body) {
  for (int attempt = 0;; ++attempt) {
    auto req = make_request(method, body);
    auto authorize = cred.authorize(req);
    auto a = co_await std::move(authorize);
    if (!a) co_return error{a.err().code, where() + ": " + a.err().message};
    sent.remember(req);
    debug(method + " attempt " + std::to_string(attempt + 1));
    auto send = http.send(std::move(req));
    auto resp = co_await std::move(send);
    if (!resp) co_return transport_error(resp.err());
    if (resp->status != 401 && resp->status != 403) co_return std::move(resp).value();
    if (attempt == 1) co_return rejected_again(*resp);
    debug("HTTP " + std::to_string(resp->status) + ": asking the auth provider for another credential");
    auto recover = cred.recover(*resp);
    auto rec = co_await std::move(recover);
    if (!rec) co_return rejected(rec.err());
  }
}

error mcp_session::impl::transport_error(const error& e) const {
  return make_err(errc::transport, where() + ": " + e.message);
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

result<std::string> mcp_session::impl::answer_for(const http::response& resp, std::int64_t id,
                                                  const std::string& method, const std::string& sent_session) {
  if (resp.status == 404 && !sent_session.empty() && method != "initialize") {
    return make_err(errc::protocol, where() + " no longer knows the session it gave out (HTTP 404)");
  }
  if (auto ok = check_accepted(resp, method); !ok) return ok.err();
  if (method == "initialize") {
    if (auto sid = resp.header("mcp-session-id")) {
      session_id = std::string(*sid);
      sent.add(session_id);  // a capability: never in an error or a log line
    }
  }
  auto note = [this](const std::string& line) { debug(line); };
  return mcp::read_answer(resp, id, method, where(), sent, note);
}

// `expired` is set when the server answered 404 to the session id this request carried.
asio::awaitable<result<std::string>> mcp_session::impl::rpc(const std::string& method, const std::string& params_json,
                                                           bool& expired) {
  const std::int64_t id = next_id++;
  const std::string verb = "POST", body = mcp::request_body(id, method, params_json);
  const std::string sent_session = session_id;
  auto send = send_authorized(verb, body);
  auto resp = co_await std::move(send);
  if (!resp) co_return scrubbed(resp.err());
  expired = resp->status == 404 && !sent_session.empty() && method != "initialize";
  co_return finish(answer_for(*resp, id, method, sent_session));
}

asio::awaitable<result<void>> mcp_session::impl::notify(const std::string& method) {
  const std::string verb = "POST", body = mcp::notification_body(method);
  auto send = send_authorized(verb, body);
  auto resp = co_await std::move(send);
  if (!resp) co_return scrubbed(resp.err());
  co_return finish(check_accepted(*resp, method));
}

// Concurrent callers share one initialize (single-flight).
asio::awaitable<result<std::string>> mcp_session::impl::do_initialize() {
  if (initialized) co_return initialize_result;
  auto make = [this] { return initialize_once(); };
  auto run = init_flight.run(make);
  co_return co_await std::move(run);
}

asio::awaitable<result<std::string>> mcp_session::impl::initialize_once() {
  const std::string method = "initialize", params = mcp::initialize_params();
  bool expired = false;
  auto call = rpc(method, params, expired);
  auto r = co_await std::move(call);
  if (!r) co_return r.err();
  auto version = mcp::negotiated_version(*r, where(), sent);
  if (!version) co_return scrubbed(version.err());
  {
    std::lock_guard lk(version_mutex);
    protocol_version = std::move(version).value();
  }
  const std::string note = "notifications/initialized";
  auto notification = notify(note);
  auto n = co_await std::move(notification);
  if (!n) co_return n.err();
  initialized = true;
  initialize_result = *r;
  co_return initialize_result;
}

// A request inside a session: initializes first when needed; when the server has forgotten
// the session (HTTP 404 to a request carrying its id), starts a new one once and resends.
asio::awaitable<result<std::string>> mcp_session::impl::rpc_in_session(const std::string& method,
                                                                      const std::string& params) {
  for (int attempt = 0;; ++attempt) {
    auto initialize = do_initialize();
    auto init = co_await std::move(initialize);
    if (!init) co_return init.err();
    const std::string sent_session = session_id;
    bool expired = false;
    auto call = rpc(method, params, expired);
    auto r = co_await std::move(call);
    if (r || !expired || attempt == 1) co_return r;
    // Another call may have replaced the session meanwhile; forget only the one that expired.
    if (session_id == sent_session) {
      debug("the session expired; starting a new one");
      forget_session();
    }
  }
}

void mcp_session::impl::forget_session() {
  session_id.clear();
  initialized = false;
  initialize_result.clear();
  std::lock_guard lk(version_mutex);
  protocol_version.clear();
}

asio::awaitable<result<tool_list>> mcp_session::impl::do_list_tools() {
  const std::string method = "tools/list", params = "{}";
  auto call = rpc_in_session(method, params);
  auto r = co_await std::move(call);
  if (!r) co_return r.err();
  co_return mcp::parse_tool_list(*r);
}

asio::awaitable<result<tool_result>> mcp_session::impl::do_call_tool(std::string name, std::string args) {
  const auto params = mcp::call_params(name, args);
  if (!params) co_return params.err();
  const std::string method = "tools/call";
  auto call = rpc_in_session(method, params.value());
  auto r = co_await std::move(call);
  if (!r) co_return r.err();
  co_return mcp::parse_tool_result(*r);
}

asio::awaitable<void> mcp_session::impl::do_close() {
  if (session_id.empty()) co_return;
  const std::string verb = "DELETE", body;
  auto send = send_authorized(verb, body);
  auto resp = co_await std::move(send);
  if (!resp) debug("closing the session failed: " + scrubbed(resp.err()).message);
  session_id.clear();
  initialized = false;
}

// ---- mcp_session: each public operation hops onto the actor's strand and back ----------------

mcp_session::mcp_session(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

mcp_session::~mcp_session() {
  // The last reference usually goes here: drop it on the actor, so that the credential's timer
  // and the plugin's destroy() run there: at once when the strand is idle, else posted behind
  // what it is doing (the impl keeps what its teardown needs; see session_resources).
  const auto strand = impl_->strand;
  core::run_or_post_on(strand, [p = std::move(impl_)]() mutable { p.reset(); });
}

const std::string& mcp_session::server_name() const noexcept { return impl_->server.name; }

std::string mcp_session::protocol_version() const {
  std::lock_guard lk(impl_->version_mutex);
  return impl_->protocol_version;
}

// Plain functions, not coroutines: each builds the run_on awaitable at once, with its own
// reference to the actor, so the mcp_session may be destroyed as soon as the call returned.
// Nothing is created inside a co_await expression (GCC 12 rule).
asio::awaitable<result<std::string>> mcp_session::initialize() {
  return core::run_on(impl_->strand, impl_->do_initialize(), impl_);
}

asio::awaitable<result<tool_list>> mcp_session::list_tools() {
  return core::run_on(impl_->strand, impl_->do_list_tools(), impl_);
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

bool mcp_session::can_login() const noexcept { return impl_->cred.instance().has_login(); }

}  // namespace fracta
