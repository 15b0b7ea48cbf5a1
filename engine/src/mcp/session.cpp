// SPDX-License-Identifier: Apache-2.0
// The server actor: JSON-RPC over Streamable HTTP (POST, JSON or SSE answers, Mcp-Session-Id,
// MCP-Protocol-Version), with credentials on every request and the one-retry 401/403 policy.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <array>
#include <map>
#include <mutex>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <simdjson.h>

#include "auth/credential.hpp"
#include "core/async.hpp"
#include "core/clock.hpp"
#include <fracta/proto/json.hpp>
#include "fracta/engine.hpp"
#include "http/client.hpp"
#include <fracta/proto/fields.hpp>
#include "http/sse.hpp"
#include "login/lock.hpp"
#include "plugin/instance.hpp"
#include "store/select.hpp"

namespace fracta {
namespace {

constexpr std::array<std::string_view, 3> supported_versions = {"2025-11-25", "2025-06-18", "2025-03-26"};

error make_err(errc c, std::string msg) { return error{make_error_code(c), std::move(msg)}; }

std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (body.size() > 200) out += "…";
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// A JSON-RPC answer: the `result` (minified) or the error.
struct rpc_answer {
  std::string result_json;
};

// Blocking work, run on the engine's pool by core::run_on (plain coroutine functions).
// Pointers, not values: no class temporaries inside the co_await expression (GCC 12).
asio::awaitable<login::lock_attempt> try_lock_on_pool(const std::filesystem::path* path) {
  co_return login::try_lock(*path);
}

asio::awaitable<result<store::choice>> open_store_on_pool(store::selector* stores, const config::server* srv) {
  co_return stores->open(*srv);
}

std::int64_t login_timeout_ms(const std::string& options_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (json::parse(parser, options_json, doc).empty() && doc.is_object()) {
    if (auto t = json::get_int(doc, "timeout_ms"); t && *t > 0) return *t;
  }
  return 300'000;
}

// The provider's status document with "server" and "store" first (provider keys of the same
// name are dropped).
std::string merged_status(const std::string& doc_text, const std::string& server, const std::string& store,
                          const std::string& store_error) {
  json::writer w;
  w.begin_object().key("server").value(server).key("store").value(store);
  if (!store_error.empty()) w.key("store_error").value(store_error);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (json::parse(parser, doc_text, doc).empty() && doc.is_object()) {
    const simdjson::dom::object fields = doc.get_object().value_unsafe();
    for (auto [k, v] : fields) {
      if (k == "server" || k == "store" || k == "store_error") continue;
      w.key(k).raw(json::to_string(v));
    }
  }
  w.end_object();
  return w.take();
}

bool status_logged_in(const std::string& doc_text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, doc_text, doc).empty()) return false;
  return json::get_bool(doc, "logged_in").value_or(false);
}

}  // namespace

struct mcp_session::impl : std::enable_shared_from_this<mcp_session::impl> {
  impl(asio::strand<asio::any_io_executor> s, http::client& c, const config::server& srv,
       std::unique_ptr<plugin::provider_instance> inst, std::shared_ptr<const core::clock> clk,
       std::function<void(log_level, std::string_view)> lg)
      : strand(std::move(s)), http(c), server(srv),
        cred(std::move(inst), std::move(clk), strand), log(std::move(lg)) {}

  asio::strand<asio::any_io_executor> strand;
  http::client& http;
  config::server server;  // a copy: the session outlives nothing it borrows
  auth::credential cred;
  std::function<void(log_level, std::string_view)> log;

  std::string session_id;
  std::string protocol_version;
  std::string initialize_result;
  bool initialized = false;
  core::single_flight<result<std::string>> init_flight;
  std::int64_t next_id = 1;
  mutable std::mutex version_mutex;  // protocol_version() may be read from other threads

  // Login and stores (set by engine::open).
  asio::any_io_executor blocking;
  store::selector* stores = nullptr;
  const interactive_options* interactive = nullptr;
  core::single_flight<result<login_outcome>> login_flight;

  void say(const std::string& line) const {
    if (interactive != nullptr && interactive->say) interactive->say(line);
  }

  void debug(const std::string& m) const {
    if (log) log(log_level::debug, "server '" + server.name + "': " + m);
  }

  std::string where() const { return "server '" + server.name + "' (" + server.url + ")"; }

  http::request make_request(std::string method, std::string body) const {
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
  // exactly once.
  asio::awaitable<result<http::response>> send_authorized(const std::string& method, const std::string& body) {
    std::vector<std::string> sent;  // credential values sent so far: never echoed in errors
    for (int attempt = 0;; ++attempt) {
      auto req = make_request(method, body);
      auto a = co_await cred.authorize(req);
      if (!a) co_return prefixed(a.err());
      remember_credentials(req, sent);
      debug(method + " attempt " + std::to_string(attempt + 1));
      auto resp = co_await http.send(req);
      if (!resp) co_return transport_error(resp.err());
      if (resp->status != 401 && resp->status != 403) co_return std::move(resp).value();
      if (attempt == 1) co_return redacted(rejected_again(*resp), sent);
      debug("HTTP " + std::to_string(resp->status) + ": asking the auth provider for another credential");
      auto rec = co_await cred.recover(*resp);
      if (!rec) co_return redacted(rejected(rec.err()), sent);
    }
  }

  // Every header value a request carried except the protocol's own: the provider's credential
  // and any remote.headers (which may hold keys too), plus the token after an auth scheme.
  static void remember_credentials(const http::request& req, std::vector<std::string>& out) {
    static constexpr std::array<std::string_view, 4> protocol = {"content-type", "accept", "mcp-session-id",
                                                                 "mcp-protocol-version"};
    for (const auto& h : req.headers) {
      if (std::any_of(protocol.begin(), protocol.end(), [&](std::string_view p) { return http::iequals(h.name, p); })) {
        continue;
      }
      if (h.value.size() >= 4) out.push_back(h.value);
      const auto space = h.value.find(' ');
      if (space != std::string::npos && h.value.size() - space - 1 >= 4) out.push_back(h.value.substr(space + 1));
    }
  }

  // A server may echo what it was sent in its error_description: never repeat it.
  static error redacted(error e, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
      for (auto pos = e.message.find(secret); pos != std::string::npos; pos = e.message.find(secret, pos)) {
        e.message.replace(pos, secret.size(), "[redacted]");
      }
    }
    return e;
  }

  error prefixed(const error& e) const { return error{e.code, where() + ": " + e.message}; }
  error transport_error(const error& e) const { return make_err(errc::transport, where() + ": " + e.message); }
  std::string check_hint() const {
    std::string hint = ". Check the credential configured in mcp.servers." + server.name + ".remote.auth";
    if (!server.auth.where.file.empty()) hint += " (" + server.auth.where.file + ")";
    return hint;
  }
  error rejected_again(const http::response& resp) const {
    return make_err(errc::auth_failed, where() + " refused the renewed credential too (" +
                                           auth::describe_rejection(resp) + ")" + check_hint());
  }
  error rejected(const error& e) const {
    error out = prefixed(e);
    if (e.code == errc::auth_failed) out.message += check_hint();
    return out;
  }

  // Finds the answer with `id` in a JSON or SSE body.
  result<rpc_answer> read_answer(const http::response& resp, std::int64_t id, std::string_view method) {
    const auto ctype = resp.header("content-type").value_or("");
    std::vector<std::string> messages;
    if (starts_with_ci(ctype, "text/event-stream")) {
      http::sse_decoder dec;
      auto events = dec.feed(resp.body);
      auto tail = dec.feed("\n\n");  // a stream cut without its final blank line
      events.insert(events.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
      for (auto& e : events) {
        if (e.type == "message") messages.push_back(std::move(e.data));
      }
    } else if (starts_with_ci(ctype, "application/json")) {
      messages.push_back(resp.body);
    } else {
      return make_err(errc::protocol, where() + " answered " + std::string(method) +
                                          " with an unexpected Content-Type '" + snippet(ctype) + "'");
    }
    simdjson::dom::parser parser;
    for (const auto& m : messages) {
      simdjson::dom::element doc;
      if (auto e = json::parse(parser, m, doc); !e.empty()) {
        return make_err(errc::protocol, where() + " sent a message that is not JSON (" + e + ")");
      }
      std::vector<simdjson::dom::element> items;
      if (doc.is_array()) {
        const simdjson::dom::array arr = doc.get_array().value_unsafe();
        for (auto x : arr) items.push_back(x);
      } else {
        items.push_back(doc);
      }
      for (auto msg : items) {
        auto mid = json::get_int(msg, "id");
        if (!mid || *mid != id) {
          if (auto mm = json::get_string(msg, "method")) debug("ignoring server message " + std::string(*mm));
          continue;
        }
        if (auto err = json::get(msg, "error")) {
          std::string text(json::get_string(*err, "message").value_or("no message"));
          auto code = json::get_int(*err, "code");
          return make_err(errc::remote, where() + ": " + std::string(method) + " failed: " + std::string(text) +
                                            (code ? " (JSON-RPC error " + std::to_string(*code) + ")" : ""));
        }
        auto res = json::get(msg, "result");
        if (!res) return make_err(errc::protocol, where() + " answered without result or error");
        return rpc_answer{json::to_string(*res)};
      }
    }
    return make_err(errc::protocol, where() + " did not answer " + std::string(method) + " (request id " +
                                        std::to_string(id) + ")");
  }

  // `expired` is set when the server answered 404 to the session id this request carried.
  asio::awaitable<result<rpc_answer>> rpc(const std::string& method, const std::string& params_json,
                                          bool& expired) {
    const std::int64_t id = next_id++;
    const std::string verb = "POST", body = request_body(id, method, params_json);
    const std::string sent_session = session_id;
    auto resp = co_await send_authorized(verb, body);
    if (!resp) co_return resp.err();
    expired = resp->status == 404 && !sent_session.empty() && method != "initialize";
    co_return answer_for(*resp, id, method, sent_session);
  }

  asio::awaitable<result<void>> notify(const std::string& method) {
    const std::string verb = "POST", body = notification_body(method);
    auto resp = co_await send_authorized(verb, body);
    if (!resp) co_return resp.err();
    co_return check_accepted(*resp, method);
  }

  // ---- plain (non-coroutine) helpers: message building stays out of coroutine frames ----

  static std::string request_body(std::int64_t id, const std::string& method, const std::string& params_json) {
    json::writer w;
    w.begin_object().key("jsonrpc").value("2.0").key("id").value(id).key("method").value(method);
    if (!params_json.empty()) w.key("params").raw(params_json);
    w.end_object();
    return w.take();
  }

  static std::string notification_body(const std::string& method) {
    json::writer w;
    w.begin_object().key("jsonrpc").value("2.0").key("method").value(method).end_object();
    return w.take();
  }

  static std::string initialize_params() {
    json::writer p;
    p.begin_object()
        .key("protocolVersion").value(supported_versions[0])
        .key("capabilities").begin_object().end_object()
        .key("clientInfo").begin_object().key("name").value("fracta").key("version").value(FRACTA_VERSION).end_object()
        .end_object();
    return p.take();
  }

  result<void> check_accepted(const http::response& resp, const std::string& method) const {
    if (resp.status >= 200 && resp.status <= 299) return {};
    return make_err(errc::protocol, where() + " answered " + method + " with HTTP " + std::to_string(resp.status) +
                                        ": " + snippet(resp.body));
  }

  result<rpc_answer> answer_for(const http::response& resp, std::int64_t id, const std::string& method,
                                const std::string& sent_session) {
    if (resp.status == 404 && !sent_session.empty() && method != "initialize") {
      return make_err(errc::protocol, where() + " no longer knows session " + sent_session + " (HTTP 404)");
    }
    if (auto ok = check_accepted(resp, method); !ok) return ok.err();
    if (method == "initialize") {
      if (auto sid = resp.header("mcp-session-id")) session_id = std::string(*sid);
    }
    return read_answer(resp, id, method);
  }

  static result<std::string> call_params(const std::string& name, const std::string& args) {
    simdjson::dom::parser parser;
    simdjson::dom::element adoc;
    const std::string text = args.empty() ? std::string("{}") : args;
    const std::string e = json::parse(parser, text, adoc);
    if (!e.empty() || !adoc.is_object()) {
      std::string msg = "tool arguments must be a JSON object, e.g. '{\"text\":\"hi\"}'";
      if (!e.empty()) msg += " (" + e + ")";
      return make_err(errc::config, msg);
    }
    json::writer p;
    p.begin_object().key("name").value(name).key("arguments").raw(json::to_string(adoc)).end_object();
    return p.take();
  }

  static tool_result parse_tool_result(const std::string& result_json) {
    tool_result out;
    out.result_json = result_json;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!json::parse(parser, out.result_json, doc).empty()) return out;
    out.is_error = json::get_bool(doc, "isError").value_or(false);
    auto content = json::get(doc, "content");
    if (!content || !content->is_array()) return out;
    const simdjson::dom::array arr = content->get_array().value_unsafe();
    for (auto item : arr) {
      if (json::get_string(item, "type").value_or("") != "text") continue;
      if (!out.text.empty()) out.text += "\n";
      out.text += std::string(json::get_string(item, "text").value_or(""));
    }
    return out;
  }

  static tool_list parse_tool_list(const std::string& result_json) {
    tool_list out;
    out.result_json = result_json;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!json::parse(parser, out.result_json, doc).empty()) return out;
    auto tools = json::get(doc, "tools");
    if (!tools || !tools->is_array()) return out;
    const simdjson::dom::array arr = tools->get_array().value_unsafe();
    for (auto t : arr) {
      out.tools.push_back({std::string(json::get_string(t, "name").value_or("")),
                           std::string(json::get_string(t, "description").value_or(""))});
    }
    return out;
  }

  // Concurrent callers share one initialize (single-flight).
  asio::awaitable<result<std::string>> do_initialize() {
    if (initialized) co_return initialize_result;
    co_return co_await init_flight.run([this] { return initialize_once(); });
  }

  asio::awaitable<result<std::string>> initialize_once() {
    const std::string method = "initialize", params = initialize_params();
    bool expired = false;
    auto r = co_await rpc(method, params, expired);
    if (!r) co_return r.err();
    auto version = negotiated_version(r->result_json);
    if (!version) co_return version.err();
    {
      std::lock_guard lk(version_mutex);
      protocol_version = std::move(version).value();
    }
    const std::string note = "notifications/initialized";
    auto n = co_await notify(note);
    if (!n) co_return n.err();
    initialized = true;
    initialize_result = r->result_json;
    co_return initialize_result;
  }

  result<std::string> negotiated_version(const std::string& initialize_result_json) const {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!json::parse(parser, initialize_result_json, doc).empty()) {
      return make_err(errc::protocol, where() + ": the initialize result is not JSON");
    }
    const auto v = json::get_string(doc, "protocolVersion");
    if (!v || std::find(supported_versions.begin(), supported_versions.end(), *v) == supported_versions.end()) {
      return make_err(errc::protocol, where() + " speaks MCP protocol version '" + std::string(v.value_or("?")) +
                                          "', which fracta does not support (supported: 2025-11-25, 2025-06-18, "
                                          "2025-03-26)");
    }
    return std::string(*v);
  }

  asio::awaitable<result<tool_list>> do_list_tools() {
    const std::string method = "tools/list", params = "{}";
    auto r = co_await rpc_in_session(method, params);
    if (!r) co_return r.err();
    co_return parse_tool_list(r->result_json);
  }

  // A request inside a session: initializes first when needed; when the server has forgotten
  // the session (HTTP 404 to a request carrying its id), starts a new one once and resends.
  asio::awaitable<result<rpc_answer>> rpc_in_session(const std::string& method, const std::string& params) {
    for (int attempt = 0;; ++attempt) {
      auto init = co_await do_initialize();
      if (!init) co_return init.err();
      const std::string sent_session = session_id;
      bool expired = false;
      auto r = co_await rpc(method, params, expired);
      if (r || !expired || attempt == 1) co_return r;
      // Another call may have replaced the session meanwhile; forget only the one that expired.
      if (session_id == sent_session) {
        debug("session " + sent_session + " expired; starting a new one");
        forget_session();
      }
    }
  }

  void forget_session() {
    session_id.clear();
    initialized = false;
    initialize_result.clear();
    std::lock_guard lk(version_mutex);
    protocol_version.clear();
  }

  asio::awaitable<result<tool_result>> do_call_tool(const std::string& name, const std::string& args) {
    const auto params = call_params(name, args);
    if (!params) co_return params.err();
    const std::string method = "tools/call";
    auto r = co_await rpc_in_session(method, params.value());
    if (!r) co_return r.err();
    co_return parse_tool_result(r->result_json);
  }

  asio::awaitable<std::string> do_auth_status() {
    // The store first: a provider's own pending store reads complete before we ask it.
    std::string where_stored = "memory", store_error;
    if (stores != nullptr && store::persists(server)) {
      auto chosen = co_await core::run_on(blocking, open_store_on_pool(stores, &server));
      if (chosen) {
        where_stored = chosen->description;
      } else {
        where_stored = "unavailable";
        store_error = chosen.err().message;
      }
    }
    // A provider still reading its store says {"loading":true}: ask again shortly (bounded).
    std::string doc = cred.instance().status_json().value_or("{}");
    auto ex = strand;
    for (int i = 0; i < 400 && doc.find("\"loading\":true") != std::string::npos; ++i) {
      asio::steady_timer pause(ex);
      pause.expires_after(std::chrono::milliseconds(25));
      co_await pause.async_wait(asio::use_awaitable);
      doc = cred.instance().status_json().value_or("{}");
    }
    co_return merged_status(doc, server.name, where_stored, store_error);
  }

  // ---- login / logout ----

  error no_login() const {
    std::string msg = where() + " uses auth type '" + server.auth.type + "'";
    if (server.auth.type == "oauth" && server.auth.grant_type == "client_credentials") {
      msg += " with grant_type = \"client_credentials\", which fetches its tokens itself and needs no login";
    } else {
      msg += ", which has no interactive login";
    }
    msg += ". Logins are for type = \"oauth\" with grant_type = \"authorization_code\" (the default) or "
           "\"device_code\"";
    return make_err(errc::unsupported, msg);
  }

  error op_error(const plugin::op_result& r, const std::string& what) const {
    if (r.status == FRACTA_E_UNSUPPORTED && what == "login") return no_login();
    std::string msg = where() + ": " + what + " failed";
    if (!r.message.empty()) msg += ": " + r.message;
    return make_err(errc_from_plugin_status(r.status), msg);
  }

  asio::awaitable<result<login_outcome>> do_login(std::string options) {
    // The lambda captures only pointers: no std::string inside the co_await expression (GCC 12).
    const std::string* opts = &options;
    auto make = [this, opts] { return login_once(*opts); };
    auto r = co_await login_flight.run(make);
    co_return r;
  }

  // Another process held the login lock: if it left a usable credential, use that.
  asio::awaitable<std::optional<login_outcome>> reuse_other_login() {
    const std::string doc = cred.instance().status_json().value_or("{}");
    if (status_logged_in(doc)) {
      co_return login_outcome{"another fracta process logged in to " + server.name + " meanwhile", 0};
    }
    if (cred.instance().has_refresh()) {
      auto r = co_await cred.refresh();
      if (r.status == FRACTA_OK) {
        co_return login_outcome{"another fracta process logged in to " + server.name + " meanwhile",
                                r.expires_at_ms};
      }
    }
    co_return std::nullopt;
  }

  asio::awaitable<result<login_outcome>> login_once(std::string options) {
    if (!cred.instance().has_login()) co_return no_login();
    const std::int64_t timeout_ms = login_timeout_ms(options);
    const auto started = std::chrono::steady_clock::now();
    const auto path = login::lock_path(server.name);
    auto ex = strand;
    std::shared_ptr<login::held_lock> held;
    bool waited = false;
    for (;;) {
      auto attempt = co_await core::run_on(blocking, try_lock_on_pool(&path));
      if (!attempt.error.empty()) {
        debug("logging in without the cross-process lock: " + attempt.error);
        break;
      }
      if (attempt.held) {
        held = std::move(attempt.held);
        break;
      }
      if (!waited) {
        say("another fracta is logging in to " + server.name + "; waiting…");
        waited = true;
      }
      if (std::chrono::steady_clock::now() - started > std::chrono::milliseconds(timeout_ms)) {
        co_return make_err(errc::transport, where() + ": another fracta process is still logging in (lock " +
                                                path.string() + "); try again when it has finished");
      }
      asio::steady_timer pause(ex);
      pause.expires_after(std::chrono::milliseconds(250));
      co_await pause.async_wait(asio::use_awaitable);
    }
    if (waited) {
      auto reused = co_await reuse_other_login();
      if (reused) co_return std::move(*reused);
    }
    auto r = co_await cred.instance().login(options);
    held.reset();
    if (r.status != FRACTA_OK) co_return op_error(r, "login");
    cred.logged_in(r.expires_at_ms);
    std::string message = r.message.empty() ? std::string("logged in") : r.message;
    co_return login_outcome{std::move(message), r.expires_at_ms};
  }

  asio::awaitable<result<void>> do_logout() {
    auto r = co_await cred.instance().logout();
    if (r.status == FRACTA_OK) co_return result<void>{};
    if (r.status == FRACTA_E_UNSUPPORTED) {
      co_return make_err(errc::unsupported, where() + " uses auth type '" + server.auth.type +
                                                "', which stores no credentials to log out from");
    }
    co_return op_error(r, "logout");
  }

  asio::awaitable<void> do_close() {
    if (session_id.empty()) co_return;
    const std::string verb = "DELETE", body;
    auto resp = co_await send_authorized(verb, body);
    if (!resp) debug("closing the session failed: " + resp.err().message);
    session_id.clear();
    initialized = false;
  }
};

mcp_session::mcp_session(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
mcp_session::~mcp_session() = default;

const std::string& mcp_session::server_name() const noexcept { return impl_->server.name; }

std::string mcp_session::protocol_version() const {
  std::lock_guard lk(impl_->version_mutex);
  return impl_->protocol_version;
}

// Each public operation hops onto the actor's strand and back.
asio::awaitable<result<std::string>> mcp_session::initialize() {
  co_return co_await core::run_on(impl_->strand, impl_->do_initialize(), impl_);
}

asio::awaitable<result<tool_list>> mcp_session::list_tools() {
  co_return co_await core::run_on(impl_->strand, impl_->do_list_tools(), impl_);
}

asio::awaitable<result<tool_result>> mcp_session::call_tool(std::string name, std::string arguments_json) {
  co_return co_await core::run_on(impl_->strand, impl_->do_call_tool(name, arguments_json), impl_);
}

asio::awaitable<void> mcp_session::close() { co_await core::run_on(impl_->strand, impl_->do_close(), impl_); }

asio::awaitable<std::string> mcp_session::auth_status() {
  co_return co_await core::run_on(impl_->strand, impl_->do_auth_status(), impl_);
}

asio::awaitable<result<login_outcome>> mcp_session::login(std::string options_json) {
  co_return co_await core::run_on(impl_->strand, impl_->do_login(std::move(options_json)), impl_);
}

asio::awaitable<result<void>> mcp_session::logout() {
  co_return co_await core::run_on(impl_->strand, impl_->do_logout(), impl_);
}

bool mcp_session::can_login() const noexcept { return impl_->cred.instance().has_login(); }

// ---- engine ------------------------------------------------------------------------------------

struct engine::impl {
  asio::any_io_executor ex;
  config::config cfg;
  engine_options opts;
  plugin_registry registry;
  std::shared_ptr<const core::clock> clock = core::system_clock();
  std::mutex clients_mutex;
  std::map<std::string, std::unique_ptr<http::client>> clients;  // by CA bundle
  // Per-server stores, kept for the engine's lifetime so sessions reopened see them.
  std::mutex stores_mutex;
  std::map<std::string, std::unique_ptr<plugin::memory_store>> stores;
  // Persistent token stores (keyring / encrypted file), decided once per server.
  std::unique_ptr<store::selector> selector;
  // Blocking work (secret files) off the event loop. Last member: joined first on destruction.
  asio::thread_pool blocking{1};

  plugin::memory_store& store_for(const std::string& server) {
    std::lock_guard lk(stores_mutex);
    auto& s = stores[server];
    if (!s) s = std::make_unique<plugin::memory_store>();
    return *s;
  }

  http::client& client_for(const std::string& ca_bundle) {
    std::lock_guard lk(clients_mutex);
    auto& c = clients[ca_bundle];
    if (!c) {
      http::client_options o;
      o.ca_bundle = ca_bundle;
      c = std::make_unique<http::client>(ex, o);
    }
    return *c;
  }
};

engine::engine(asio::any_io_executor ex, config::config cfg, engine_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->ex = std::move(ex);
  impl_->cfg = std::move(cfg);
  impl_->opts = std::move(opts);
  impl_->registry = plugin_registry::load(plugin_search_path(&impl_->cfg));
  store::selector::options so;
  if (impl_->opts.log) {
    so.log = [log = impl_->opts.log](std::int32_t level, std::string_view m) { log(static_cast<log_level>(level), m); };
  }
  impl_->selector = std::make_unique<store::selector>(std::move(so));
}

engine::~engine() = default;

const config::config& engine::configuration() const noexcept { return impl_->cfg; }
const plugin_registry& engine::plugins() const noexcept { return impl_->registry; }

result<std::unique_ptr<mcp_session>> engine::open(std::string_view server_name) {
  const config::server* srv = impl_->cfg.find(server_name);
  if (srv == nullptr) {
    std::string known;
    for (const auto& s : impl_->cfg.servers) known += (known.empty() ? "" : ", ") + s.name;
    return error{make_error_code(errc::config),
                 "no server named '" + std::string(server_name) + "' in " + impl_->cfg.path +
                     (known.empty() ? ". Add one with `fracta config mcp add`"
                                    : ". Configured servers: " + known)};
  }
  const std::string type = provider_type_for(srv->auth);
  const fracta_provider* prov = impl_->registry.find(type);
  if (prov == nullptr) return error{make_error_code(errc::config), missing_provider_message(*srv, impl_->registry)};
  // The strand is new and nothing has been posted to it yet, so running create() here, on the
  // caller's thread, is equivalent to running it on the actor.
  auto strand = asio::make_strand(impl_->ex);
  plugin::instance_context ctx{strand, &impl_->client_for(srv->ca_bundle), impl_->clock, srv,
                               &impl_->store_for(srv->name), {}, impl_->blocking.get_executor(),
                               impl_->selector.get(), &impl_->opts.interactive};
  if (impl_->opts.log) {
    ctx.log = [log = impl_->opts.log, name = srv->name, type](std::int32_t level, std::string_view m) {
      log(static_cast<log_level>(level), "server '" + name + "': " + type + ": " + std::string(m));
    };
  }
  auto inst = plugin::provider_instance::create(*prov, std::move(ctx));
  if (!inst) return std::move(inst).err();
  // The provider instance borrows `srv` from the engine's config: sessions must not outlive
  // the engine that opened them.
  auto p = std::make_shared<mcp_session::impl>(strand, impl_->client_for(srv->ca_bundle), *srv,
                                               std::move(inst).value(), impl_->clock, impl_->opts.log);
  p->cred.set_owner(p);
  p->blocking = impl_->blocking.get_executor();
  p->stores = impl_->selector.get();
  p->interactive = &impl_->opts.interactive;
  return std::unique_ptr<mcp_session>(new mcp_session(std::move(p)));
}

}  // namespace fracta
