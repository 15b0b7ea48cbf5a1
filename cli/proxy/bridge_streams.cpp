// SPDX-License-Identifier: Apache-2.0
// The stdio bridge, what the server sends besides answers: notifications, its requests (put to
// a 2025 host as requests, to a 2026 host as input_required), and subscriptions both ways.
#include <cstdio>
#include <random>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"
#include "proxy/bridge.hpp"

namespace fracta::proxy {
namespace {

std::string random_token() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}

bool capability(std::string_view capabilities_json, std::string_view area, std::string_view flag) {
  auto a = member(capabilities_json, area);
  if (!a) return false;
  auto f = member(*a, flag);
  return f && *f == "true";
}

// Fire and forget: the server's answer to our message is of no interest.
asio::awaitable<void> post_quietly(mcp_session& s, std::string text) {
  auto p = s.post(std::move(text));
  co_await std::move(p);
}

asio::awaitable<void> request_quietly(mcp_session& s, std::string method, std::string params) {
  auto r = s.request(std::move(method), std::move(params));
  co_await std::move(r);
}

}  // namespace

void bridge::on_call_message(const std::shared_ptr<call>& c, std::string text) {
  auto m = read_message(text, nullptr);
  if (!m) return;
  if (m->is_request()) {
    server_request_to_host(*m, c);
    return;
  }
  if (!m->is_notification() || server_cancelled(*m)) return;
  if (c->is_listen) {
    // A 2026 server's listen stream: the host knows the subscription by its own id.
    write(request("", m->method, with_meta_member(m->params_json, subscription_id_key, c->host_id)));
    return;
  }
  if (host_ == era::legacy && upstream_modern()) {
    write(request("", m->method, strip_protocol_meta(m->params_json)));
    return;
  }
  write(std::move(text));
}

bool bridge::server_cancelled(const message& m) {
  if (m.method != "notifications/cancelled") return false;
  // The server gave up a request it put to the host: the host knows it by the bridge's id.
  const auto upstream_id = member(m.params_json, "requestId");
  auto it = upstream_id ? forwarded_.find(*upstream_id) : forwarded_.end();
  if (it == forwarded_.end()) return true;  // nothing the host was asked: nothing to tell it
  const std::string ours = it->second;
  forwarded_.erase(it);
  asked_.erase(ours);
  write(request("", m.method, edit_object(m.params_json, {{"requestId", ours}})));
  return true;
}

void bridge::on_session_message(std::string text) {
  auto m = read_message(text, nullptr);
  if (!m) return;
  if (server_cancelled(*m)) return;
  if (m->is_request()) {
    server_request_to_host(*m, nullptr);
    return;
  }
  if (!m->is_notification()) return;
  if (host_ == era::modern) {
    notify_listeners(*m);  // a 2026 host hears only what it listens for
    return;
  }
  write(std::move(text));
}

void bridge::server_request_to_host(const message& m, const std::shared_ptr<call>& c) {
  if (m.method == "ping") {
    asio::co_spawn(io_, post_quietly(session_, response(m.id_json, "{}")), asio::detached);
    return;
  }
  const std::string area = m.method.substr(0, m.method.find('/'));
  if (!member(host_capabilities_, area)) {
    // Never put to the host what it did not declare.
    std::string refusal = error_response(m.id_json, -32601, "the client did not declare " + area);
    asio::co_spawn(io_, post_quietly(session_, std::move(refusal)), asio::detached);
    return;
  }
  if (host_ == era::legacy) {
    // Put to the host as a request of the bridge's own id; its answer goes back to the server.
    const std::string id = new_host_facing_id();
    forwarded_[m.id_json] = id;
    asked_[id] = [this, upstream_id = m.id_json](const message& answer) {
      forwarded_.erase(upstream_id);
      std::string text = answer.error_json.empty() ? response(upstream_id, answer.result_json)
                                                   : error_response_raw(upstream_id, answer.error_json);
      asio::co_spawn(io_, post_quietly(session_, std::move(text)), asio::detached);
    };
    write(request(id, m.method, m.params_json));
    return;
  }
  if (!c) {
    // A 2026 host takes requests only as input_required within a call of its own.
    std::string refusal = error_response(m.id_json, -32601, "the host speaks MCP 2026-07-28 and takes no requests "
                                                            "outside its own calls");
    asio::co_spawn(io_, post_quietly(session_, std::move(refusal)), asio::detached);
    return;
  }
  c->queued.push_back({"fracta-" + std::to_string(next_out_id_++), m.id_json, m.method,
                       m.params_json.empty() ? std::string("{}") : m.params_json});
  if (!c->awaiting_retry) shim_ask(c);
}

void bridge::shim_ask(const std::shared_ptr<call>& c) {
  std::vector<std::pair<std::string, std::optional<std::string>>> requests;
  while (!c->queued.empty()) {
    call::input in = std::move(c->queued.front());
    c->queued.pop_front();
    json::writer r;
    r.begin_object().key("method").value(in.method).key("params").raw(in.params).end_object();
    requests.emplace_back(in.key, r.take());
    const std::string key = in.key;
    c->asked[key] = std::move(in);
  }
  if (!c->state_token.empty()) shims_.erase(c->state_token);
  c->state_token = random_token();
  shims_[c->state_token] = c;
  c->awaiting_retry = true;
  std::vector<std::pair<std::string, std::optional<std::string>>> result{{"resultType", "\"input_required\""}};
  result.emplace_back("inputRequests", edit_object("{}", requests));
  result.emplace_back("requestState", json_string(c->state_token));
  write(response(c->host_id, edit_object("{}", result)));
}

bool bridge::shim_retry(const message& m) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, m.params_json, doc).empty()) return false;
  auto token = json::get_string(doc, "requestState");
  if (!token) return false;
  auto it = shims_.find(std::string(*token));
  if (it == shims_.end()) return false;
  auto c = it->second;
  shims_.erase(it);
  // The host's answers go to the server's requests; the call goes on under the retry's id.
  const std::string responses = member(m.params_json, "inputResponses").value_or("{}");
  for (auto& [key, in] : c->asked) {
    auto value = member(responses, key);
    std::string text = value ? response(in.upstream_id, *value)
                             : error_response(in.upstream_id, -32602, "the host gave no answer");
    asio::co_spawn(io_, post_quietly(session_, std::move(text)), asio::detached);
  }
  c->asked.clear();
  if (auto old = calls_.find(c->host_id); old != calls_.end() && old->second == c) calls_.erase(old);
  c->host_id = m.id_json;
  c->awaiting_retry = false;
  if (!c->queued.empty()) {
    calls_[c->host_id] = c;
    shim_ask(c);
  } else if (c->final_reply) {
    std::string text = std::move(*c->final_reply);
    c->final_reply.reset();
    reply(c, std::move(text));
  } else {
    calls_[c->host_id] = c;  // still running upstream: cancellable under the new id
  }
  return true;
}

asio::awaitable<void> bridge::listen_locally(const message& m) {
  // A 2026 host listening on a 2025 server: the session's GET stream and resources/subscribe.
  const std::string caps = member(open_result_, "capabilities").value_or("{}");
  const std::string wanted = member(m.params_json, "notifications").value_or("{}");
  listen_filter f;
  f.tools = member(wanted, "toolsListChanged") == std::optional<std::string>("true") &&
            capability(caps, "tools", "listChanged");
  f.prompts = member(wanted, "promptsListChanged") == std::optional<std::string>("true") &&
              capability(caps, "prompts", "listChanged");
  f.resources = member(wanted, "resourcesListChanged") == std::optional<std::string>("true") &&
                capability(caps, "resources", "listChanged");
  simdjson::dom::parser parser;
  simdjson::dom::element uris;
  const std::string asked = member(wanted, "resourceSubscriptions").value_or("[]");
  if (capability(caps, "resources", "subscribe") && json::parse(parser, asked, uris).empty() && uris.is_array()) {
    const simdjson::dom::array list = uris.get_array().value_unsafe();
    for (auto u : list) {
      if (!u.is_string()) continue;
      const std::string uri(u.get_string().value_unsafe());
      json::writer p;
      p.begin_object().key("uri").value(uri).end_object();
      auto r = session_.request("resources/subscribe", p.take());
      auto done = co_await std::move(r);
      if (done && !done->is_error) f.uris.insert(uri);
    }
  } else {
    // Any request opens the session's GET stream, where list changes come.
    auto r = session_.request("ping", "{}");
    co_await std::move(r);
  }
  json::writer ack;
  ack.begin_object();
  if (f.tools) ack.key("toolsListChanged").value(true);
  if (f.prompts) ack.key("promptsListChanged").value(true);
  if (f.resources) ack.key("resourcesListChanged").value(true);
  if (!f.uris.empty()) {
    ack.key("resourceSubscriptions").begin_array();
    for (const auto& u : f.uris) ack.value(u);
    ack.end_array();
  }
  ack.end_object();
  listens_[m.id_json] = std::move(f);
  std::vector<std::pair<std::string, std::optional<std::string>>> params{
      {"_meta", edit_object("{}", {{std::string(subscription_id_key), m.id_json}})}, {"notifications", ack.take()}};
  write(request("", "notifications/subscriptions/acknowledged", edit_object("{}", params)));
}

void bridge::end_local_listen(const std::string& host_id) {
  auto it = listens_.find(host_id);
  if (it == listens_.end()) return;
  for (const auto& uri : it->second.uris) {
    json::writer p;
    p.begin_object().key("uri").value(uri).end_object();
    asio::co_spawn(io_, request_quietly(session_, "resources/unsubscribe", p.take()), asio::detached);
  }
  listens_.erase(it);
}

void bridge::notify_listeners(const message& m) {
  std::string uri;
  if (m.method == "notifications/resources/updated") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (json::parse(parser, m.params_json, doc).empty()) uri = std::string(json::get_string(doc, "uri").value_or(""));
  }
  for (const auto& [id, f] : listens_) {
    const bool match = (m.method == "notifications/tools/list_changed" && f.tools) ||
                       (m.method == "notifications/prompts/list_changed" && f.prompts) ||
                       (m.method == "notifications/resources/list_changed" && f.resources) ||
                       (!uri.empty() && f.uris.count(uri) > 0);
    if (match) write(request("", m.method, with_meta_member(m.params_json, subscription_id_key, id)));
  }
}

void bridge::restart_upstream_listen() {
  if (eof_) return;
  if (upstream_listen_key_ != 0) session_.cancel(upstream_listen_key_);
  json::writer n;
  n.begin_object().key("toolsListChanged").value(true).key("promptsListChanged").value(true);
  n.key("resourcesListChanged").value(true);
  if (!subscribed_.empty()) {
    n.key("resourceSubscriptions").begin_array();
    for (const auto& u : subscribed_) n.raw(u);
    n.end_array();
  }
  n.end_object();
  const std::string params = edit_object("{}", {{"notifications", n.take()}});
  upstream_listen_key_ = next_key_++;
  ++running_;
  asio::co_spawn(io_, upstream_listen(this, upstream_listen_key_, params), asio::detached);
}

asio::awaitable<void> bridge::upstream_listen(bridge* self, std::uint64_t key, std::string params) {
  request_options o;
  o.cancel_key = key;
  o.on_message = [self](std::string text) {  // on the loop's one thread, in order
    auto m = read_message(text, nullptr);
    if (!m || !m->is_notification() || m->method == "notifications/subscriptions/acknowledged") return;
    self->write(request("", m->method, strip_protocol_meta(m->params_json)));
  };
  auto r = self->session_.request("subscriptions/listen", std::move(params), std::move(o));
  auto ended = co_await std::move(r);
  if (!ended && ended.err().code != make_error_code(errc::cancelled) && self->opts_.say) {
    self->opts_.say("the server's subscription stream ended: " + ended.err().message);
  }
  self->finished_one();
}

}  // namespace fracta::proxy
