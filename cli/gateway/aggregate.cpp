// SPDX-License-Identifier: Apache-2.0
// `/mcp`: the aggregated server, for clients of both eras. A 2026-07-28 client's requests stand
// alone; a 2025 client gets a session (initialize, Mcp-Session-Id, a GET stream for
// list_changed). Lists are merged from every server; calls are routed by the catalog's table.
#include <algorithm>
#include <chrono>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"
#include "gateway/aggregate_detail.hpp"
#include "gateway/gateway.hpp"
#include "proxy/translate.hpp"

namespace fracta::gateway {

using proxy::edit_object;
using proxy::error_response;
using proxy::member;

namespace {

constexpr std::string_view version_key = "io.modelcontextprotocol/protocolVersion";
constexpr std::string_view capabilities_key = "io.modelcontextprotocol/clientCapabilities";
constexpr std::size_t max_sessions = 10000;
constexpr std::int64_t session_idle_ms = 24LL * 3600 * 1000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool is_legacy_version(std::string_view v) {
  return std::find(config::legacy_protocol_versions.begin(), config::legacy_protocol_versions.end(), v) !=
         config::legacy_protocol_versions.end();
}

}  // namespace


// ---- the request's way in ---------------------------------------------------------------------

asio::awaitable<void> gateway::serve_aggregate(std::shared_ptr<gateway> self, http_request req,
                                               std::shared_ptr<responder> out) {
  co_await self->aggregate(std::move(req), std::move(out));
}

asio::awaitable<void> gateway::aggregate(http_request req, std::shared_ptr<responder> out) {
  const header_list json_type{{"Content-Type", "application/json"}};
  const std::string session_id(req.header("Mcp-Session-Id").value_or(""));
  if (req.method == "GET" || req.method == "DELETE") {
    bool known = false;
    {
      std::unique_lock lk(mutex_);
      auto it = sessions_.find(session_id);
      known = it != sessions_.end();
      if (known && req.method == "DELETE") sessions_.erase(it);
      if (known && req.method == "GET") it->second.listeners.push_back(out);
    }
    if (session_id.empty()) {
      out->send(405, {{"Allow", "POST"}}, "");
    } else if (!known) {
      out->send(404, json_type, error_response("null", -32001, "Session not found"));
    } else if (req.method == "DELETE") {
      out->send(200, {}, "");
    } else {
      out->mark_stream();
      out->start(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
    }
    co_return;
  }
  if (req.method != "POST") {
    out->send(405, {{"Allow", "GET, POST, DELETE"}}, "");
    co_return;
  }
  call_context c;
  std::string why;
  const auto first = req.body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && req.body[first] == '[') {
    out->send(400, json_type, error_response("null", -32600, "JSON-RPC batches are not supported"));
    co_return;
  }
  auto msg = proxy::read_message(req.body, &why);
  if (!msg) {
    out->send(400, json_type, error_response("null", -32700, "Parse error: " + why));
    co_return;
  }
  c.msg = std::move(*msg);
  c.accepts_sse = req.header("Accept").value_or("").find("text/event-stream") != std::string_view::npos;
  const std::string params = c.msg.params_json.empty() ? "{}" : c.msg.params_json;
  const std::string meta = member(params, "_meta").value_or("{}");
  const std::string meta_version = unquoted(member(meta, version_key));
  const std::string header_version(req.header("MCP-Protocol-Version").value_or(""));
  if (c.msg.method == "initialize" && meta_version.empty()) {
    c.version = unquoted(member(params, "protocolVersion"));
    if (!is_legacy_version(c.version)) c.version = std::string(config::legacy_protocol_versions.front());
    c.session_id = random_id();
    std::unique_lock lk(mutex_);
    if (sessions_.size() >= max_sessions) {
      const auto cutoff = now_ms() - session_idle_ms;
      std::erase_if(sessions_, [cutoff](const auto& kv) { return kv.second.last_used_ms < cutoff; });
    }
    auto& s = sessions_[c.session_id];
    s.version = c.version;
    s.capabilities = member(params, "capabilities").value_or("{}");
    s.last_used_ms = now_ms();
  } else if (!meta_version.empty() || header_version == modern_version) {
    c.modern = true;
    c.version = meta_version;
    if (c.msg.is_request()) {
      std::optional<std::string> refusal;
      const auto mcp_method = req.header("Mcp-Method");
      const std::string_view name_member = c.msg.method == "tools/call" || c.msg.method == "prompts/get" ? "name"
                                           : c.msg.method == "resources/read"                          ? "uri"
                                                                                                       : "";
      const auto mcp_name = req.header("Mcp-Name");
      const std::string body_name = name_member.empty() ? std::string() : unquoted(member(params, name_member));
      if (meta_version.empty()) {
        refusal = error_response(c.msg.id_json, -32602, "params._meta is missing io.modelcontextprotocol/protocolVersion");
      } else if (!member(meta, capabilities_key)) {
        refusal = error_response(c.msg.id_json, -32602, "params._meta is missing io.modelcontextprotocol/clientCapabilities");
      } else if (!header_version.empty() && header_version != meta_version) {
        // Header against body first: a mismatch is the client's framing, whatever the version.
        refusal = error_response(c.msg.id_json, -32020, "MCP-Protocol-Version does not match params._meta");
      } else if (meta_version != modern_version) {
        json::writer data;
        data.begin_object().key("supported").begin_array().value(modern_version);
        for (auto v : config::legacy_protocol_versions) data.value(v);
        data.end_array().key("requested").value(meta_version).end_object();
        refusal = error_response(c.msg.id_json, -32022, "Unsupported protocol version", data.take());
      } else if (!mcp_method || *mcp_method != c.msg.method) {
        refusal = error_response(c.msg.id_json, -32020, mcp_method ? "Mcp-Method does not match the body's method"
                                                                   : "the Mcp-Method header is missing");
      } else if (!name_member.empty() && !body_name.empty() &&
                 (!mcp_name || (*mcp_name != body_name && !mcp_name->starts_with("=?base64?")))) {
        // SEP-2243: a name in the body must be in Mcp-Name too.
        refusal = error_response(c.msg.id_json, -32020, mcp_name ? "Mcp-Name does not match the body's " + std::string(name_member)
                                                                 : "the Mcp-Name header is missing");
      }
      if (refusal) {
        out->send(400, json_type, *refusal);
        co_return;
      }
    }
    c.capabilities = member(meta, capabilities_key).value_or("{}");
  } else {
    std::unique_lock lk(mutex_);
    auto it = sessions_.find(session_id);
    if (session_id.empty() || it == sessions_.end()) {
      lk.unlock();
      if (session_id.empty()) {
        out->send(400, json_type,
                  error_response(c.msg.id_json.empty() ? "null" : c.msg.id_json, -32600,
                                 "Bad Request: initialize first, or send a 2026-07-28 request (params._meta)"));
      } else {
        out->send(404, json_type, error_response(c.msg.id_json.empty() ? "null" : c.msg.id_json, -32001, "Session not found"));
      }
      co_return;
    }
    it->second.last_used_ms = now_ms();
    c.session_id = session_id;
    c.version = it->second.version;
    c.capabilities = it->second.capabilities;
  }
  if (!c.msg.is_request()) {
    // Notifications and answers: a client's cancellation reaches the call it names (see
    // routed); the rest needs nothing from the gateway.
    if (c.msg.method == "notifications/cancelled") {
      const std::string target = member(params, "requestId").value_or("");
      std::shared_ptr<std::function<void()>> cancel;
      {
        std::unique_lock lk(mutex_);
        auto it = cancels_.find(c.session_id + "\n" + target);
        if (it != cancels_.end()) cancel = it->second;
      }
      if (cancel) (*cancel)();
    }
    if (c.msg.is_response()) {
      // The answer to a server's question the gateway relayed: back to that server, under
      // the id it used.
      std::optional<relayed_question> q;
      {
        std::unique_lock lk(mutex_);
        auto it = questions_.find(c.session_id + "\n" + c.msg.id_json);
        if (it != questions_.end()) {
          q = std::move(it->second);
          questions_.erase(it);
        }
      }
      if (q && q->local) {
        q->local(c.msg.result_json, c.msg.error_json);
      } else if (q) {
        const std::string answer = c.msg.error_json.empty() ? proxy::response(q->upstream_id, c.msg.result_json)
                                                            : proxy::error_response_raw(q->upstream_id, c.msg.error_json);
        auto post = q->session->post(answer);
        auto posted = co_await std::move(post);
        (void)posted;  // a server that went away meanwhile: nothing left to tell
      }
    }
    out->send(202, {}, "");
    co_return;
  }
  c.req = std::move(req);
  c.out = out;
  auto d = dispatch(c);
  std::string answer = co_await std::move(d);
  if (c.holding) co_return;  // a listen stream: open until the client or a drain ends it
  header_list headers{{"Content-Type", "application/json"}};
  if (c.msg.method == "initialize") headers.emplace_back("Mcp-Session-Id", c.session_id);
  if (c.streaming->load()) {
    out->write(sse_event(answer));
    out->end();
  } else {
    out->send(c.status, std::move(headers), std::move(answer));
  }
}

// ---- methods ------------------------------------------------------------------------------------

asio::awaitable<std::string> gateway::dispatch(call_context& c) {
  const std::string& m = c.msg.method;
  const std::string& id = c.msg.id_json;
  if (c.modern && (m == "initialize" || m == "ping" || m == "logging/setLevel" || m == "resources/subscribe" ||
                   m == "resources/unsubscribe")) {
    c.status = 404;  // removed in 2026-07-28
    co_return error_response(id, -32601, "Method not found: " + m + " is not part of MCP 2026-07-28");
  }
  if (m == "initialize") co_return proxy::response(id, initialize_result(c.version));
  if (m == "server/discover") co_return proxy::response(id, discover_result());
  if (m == "subscriptions/listen" && c.modern) co_return open_listen(c);
  if (m == "ping" || m == "logging/setLevel") co_return proxy::response(id, c.modern ? R"({"resultType":"complete"})" : "{}");
  for (const auto& k : kinds) {
    if (m == k.method) {
      auto l = list_merged(c, k.key);
      std::string result = co_await std::move(l);
      if (c.modern) result = proxy::as_modern_result(result, m);
      co_return proxy::response(id, result);
    }
  }
  if (m == "tools/call" || m == "prompts/get" || m == "resources/read" || m == "completion/complete" ||
      m == "resources/subscribe" || m == "resources/unsubscribe") {
    auto r = routed(c);
    co_return co_await std::move(r);
  }
  if (c.modern) c.status = 404;
  co_return error_response(id, -32601, "Method not found: " + m.substr(0, 64));
}

asio::awaitable<std::string> gateway::list_merged(call_context& c, std::string_view kind) {
  (void)c;
  auto refresh = refresh_catalog();
  co_await std::move(refresh);
  std::shared_ptr<const catalog> cat;
  {
    std::shared_lock lk(mutex_);
    cat = catalog_;
  }
  const std::vector<std::string>* items = &cat->tools_json();
  if (kind == "prompts") items = &cat->prompts_json();
  if (kind == "resources") items = &cat->resources_json();
  if (kind == "resourceTemplates") items = &cat->resource_templates_json();
  std::string array = "[";
  for (std::size_t i = 0; i < items->size(); ++i) {
    if (i > 0) array += ',';
    array += (*items)[i];
  }
  array += ']';
  co_return edit_object("{}", {{std::string(kind), array}});
}


// ---- calls, routed --------------------------------------------------------------------------------

asio::awaitable<std::string> gateway::routed(call_context& c) {
  const std::string& m = c.msg.method;
  const std::string& id = c.msg.id_json;
  std::string params = c.msg.params_json.empty() ? "{}" : c.msg.params_json;
  auto lookup = [&](const catalog& cat) -> const route* {
    if (m == "tools/call") return cat.find_tool(unquoted(member(params, "name")));
    if (m == "prompts/get") return cat.find_prompt(unquoted(member(params, "name")));
    if (m == "completion/complete") {
      const std::string ref = member(params, "ref").value_or("{}");
      if (unquoted(member(ref, "type")) == "ref/prompt") return cat.find_prompt(unquoted(member(ref, "name")));
      return cat.find_resource(unquoted(member(ref, "uri")));
    }
    return cat.find_resource(unquoted(member(params, "uri")));
  };
  std::shared_ptr<const catalog> cat;
  {
    std::shared_lock lk(mutex_);
    cat = catalog_;
  }
  const route* r = lookup(*cat);
  if (r == nullptr) {
    auto refresh = refresh_catalog();
    co_await std::move(refresh);
    std::shared_lock lk(mutex_);
    cat = catalog_;
    r = lookup(*cat);
  }
  if (r == nullptr) {
    const bool tool = m == "tools/call";
    if (m == "resources/read") {
      const std::string uri = unquoted(member(params, "uri"));
      co_return error_response(id, c.modern ? -32602 : -32002, "Resource not found",
                               edit_object("{}", {{"uri", proxy::json_string(uri)}}));
    }
    co_return error_response(id, -32602, tool ? "Unknown tool: " + unquoted(member(params, "name")).substr(0, 128)
                                              : "Unknown name or URI for " + m);
  }
  auto up = find(r->server);
  if (up == nullptr) co_return error_response(id, -32602, "the server behind this name was removed");
  // A 2026 client's call to a 2025 server: the server's questions park the call (aggregate_parked.cpp).
  const bool parks = c.modern && up->session->era() != "modern" &&
                     (m == "tools/call" || m == "prompts/get" || m == "resources/read");
  if (parks && member(params, "requestState")) {
    auto resume = resume_parked(c, up);
    co_return co_await std::move(resume);
  }
  std::shared_ptr<parked_call> parked = parks ? new_parked_call(c, up) : nullptr;
  if ((m == "resources/subscribe" || m == "resources/unsubscribe") && up->session->era() == "modern") {
    co_return subscribe_modern(c, up, unquoted(member(params, "uri")));
  }
  // The upstream's own name, and no downstream protocol _meta (the engine writes its own).
  if (m == "tools/call" || m == "prompts/get") {
    params = edit_object(params, {{"name", proxy::json_string(r->name)}});
  } else if (m == "completion/complete") {
    const std::string ref = member(params, "ref").value_or("{}");
    if (unquoted(member(ref, "type")) == "ref/prompt") {
      params = edit_object(params, {{"ref", edit_object(ref, {{"name", proxy::json_string(r->name)}})}});
    }
  }
  params = proxy::strip_protocol_meta(params);

  request_options opts;
  opts.cancel_key = next_key();
  // What this client can answer (a 2025 client's from its initialize: the gateway puts a 2026
  // server's questions to it).
  opts.client_capabilities_json = c.capabilities;
  auto session = up->session;
  const std::uint64_t key = opts.cancel_key;
  auto out = c.out;
  auto streaming = c.streaming;
  const bool sse = c.accepts_sse;
  const std::string sid = c.session_id;
  asio::io_context* io = &io_;
  const std::string caps = c.capabilities;
  const bool modern = c.modern;
  std::weak_ptr<gateway> weak = weak_from_this();
  auto asked = std::make_shared<std::vector<std::string>>();  // this call's relayed questions
  opts.on_message = [session, out, streaming, sse, sid, io, caps, modern, weak, asked, parked](std::string message) {
    std::string why;
    auto msg = proxy::read_message(message, &why);
    if (!msg) return;
    auto start_stream = [&] { open_event_stream(*out, *streaming, sid); };
    if (msg->is_request()) {
      // A 2025 server's question mid-call (elicitation, sampling, roots): put to the 2025
      // client that made the call, on its response stream, when it declared the capability;
      // its answer comes back as a POST (see above). Otherwise refused, so the call goes on.
      const auto capability = capability_for(msg->method);
      const bool declared = !capability.empty() && member(caps, capability);
      auto self = weak.lock();
      if (parked && declared) {
        park_question(parked, msg->id_json, msg->method, msg->params_json);
        return;
      }
      if (self && !modern && sse && declared) {
        const std::string ours = proxy::json_string("gw-" + std::to_string(self->next_key()));
        {
          std::unique_lock lk(self->mutex_);
          self->questions_[sid + "\n" + ours] = relayed_question{session, msg->id_json, {}};
          asked->push_back(sid + "\n" + ours);
        }
        start_stream();
        out->write(sse_event(proxy::request(ours, msg->method, msg->params_json)));
        return;
      }
      auto post = session->post(error_response(msg->id_json, -32601,
                                               "the client behind fracta gateway cannot answer " + msg->method));
      asio::co_spawn(*io, std::move(post), asio::detached);
      return;
    }
    if (!sse || msg->method.empty()) return;
    start_stream();
    out->write(sse_event(message));
  };
  // The client's disconnect or notifications/cancelled ends the upstream call, and only it.
  auto abandoned = c.abandoned;
  auto cancel = std::make_shared<std::function<void()>>([session, key, abandoned] {
    abandoned->store(true);
    session->cancel(key);
  });
  const std::string cancel_id = c.session_id + "\n" + id;
  {
    std::unique_lock lk(mutex_);
    cancels_[cancel_id] = cancel;
  }
  out->on_disconnect([cancel] { (*cancel)(); });
  const auto started = std::chrono::steady_clock::now();
  if (parked) {
    {
      std::unique_lock lk(mutex_);
      cancels_.erase(cancel_id);  // a parked call outlives this request: its wait handles the client leaving
    }
    parked->cancel_key = key;
    parked->started = started;
    asio::co_spawn(parked->strand, run_parked(parked, m, params, std::move(opts)), asio::detached);
    auto wait = wait_parked(c, parked);
    co_return co_await std::move(wait);
  }
  auto send = session->request(m, params, opts);
  auto answer = co_await std::move(send);
  // A 2026 server's questions to a 2025 client: asked on the call's stream as requests of the
  // gateway's own, then the call is made again with the answers (bounded rounds).
  std::string refused;
  for (int round = 0; answer && !answer->is_error && !c.modern &&
                      unquoted(member(answer->json, "resultType")) == "input_required";
       ++round) {
    if (round >= max_input_rounds) {
      refused = "server '" + up->name + "' asked for input too many times in a row";
      break;
    }
    auto ask = ask_client(c, answer->json, asked, &refused);
    auto responses = co_await std::move(ask);
    if (!responses) break;
    params = edit_object(params, {{"inputResponses", *responses}, {"requestState", member(answer->json, "requestState")}});
    auto again = session->request(m, params, opts);
    answer = co_await std::move(again);
  }
  {
    // Questions the client left unanswered die with the call. (on_message ran on the session's
    // actor before the answer came back: `asked` is complete and no longer written.)
    std::unique_lock lk(mutex_);
    cancels_.erase(cancel_id);
    for (const auto& k : *asked) questions_.erase(k);
  }
  co_return call_answer(c, *up, answer, refused, started);
}

std::string gateway::call_answer(call_context& c, const upstream& up, const result<rpc_answer>& answer,
                                 const std::string& refused, std::chrono::steady_clock::time_point started) {
  const std::string& m = c.msg.method;
  const std::string& id = c.msg.id_json;
  metrics_.record_request(up.name, m, std::chrono::steady_clock::now() - started,
                          !answer || answer->is_error || !refused.empty());
  if (!refused.empty()) return error_response(id, -32603, refused);
  if (!answer) {
    const error& e = answer.err();
    const bool login = e.code == make_error_code(errc::needs_login) || e.code == make_error_code(errc::auth_failed);
    return error_response(id, login ? -32001 : -32603, e.message);
  }
  if (answer->is_error) {
    // The spec's HTTP-level refusals keep their status for a 2026-07-28 client.
    const std::string code = member(answer->json, "code").value_or("");
    if (c.modern && (code == "-32020" || code == "-32021" || code == "-32022")) c.status = 400;
    return proxy::error_response_raw(id, answer->json);
  }
  std::string result = answer->json;
  if (c.modern) {
    // The gateway is the server this client speaks to: its identity, not the upstream's.
    result = proxy::with_meta_member(proxy::as_modern_result(result, m), "io.modelcontextprotocol/serverInfo",
                                     server_info());
  } else {
    result = proxy::as_legacy_result(result);
  }
  return proxy::response(id, result);
}

}  // namespace fracta::gateway
