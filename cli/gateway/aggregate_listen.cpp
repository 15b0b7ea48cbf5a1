// SPDX-License-Identifier: Apache-2.0
// `/mcp`'s list_changed: each 2026-07-28 server's subscriptions/listen held open (and opened
// again when it ends), each 2025 server's GET stream (gateway.cpp), and what becomes of them:
// a notification on every 2025 client's GET stream and on every 2026 client's listen stream
// that asked for that kind, tagged with its subscriptionId.
#include <algorithm>
#include <chrono>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"
#include "gateway/aggregate_detail.hpp"

namespace fracta::gateway {

namespace {

using proxy::edit_object;
using proxy::member;

constexpr std::chrono::seconds max_backoff{30};
constexpr std::chrono::seconds lasting{30};  // a listen that lasted this long resets the backoff

std::string tagged(const std::string& method, const std::string& subscription_id) {
  return proxy::request("", method,
                        edit_object("{}", {{"_meta", edit_object("{}", {{std::string(proxy::subscription_id_key),
                                                                        subscription_id}})}}));
}

bool wants(const modern_listener& l, std::string_view method) {
  if (method == "notifications/tools/list_changed") return l.tools;
  if (method == "notifications/prompts/list_changed") return l.prompts;
  if (method == "notifications/resources/list_changed") return l.resources;
  return false;
}

}  // namespace

std::string gateway::open_listen(call_context& c) {
  const std::string& id = c.msg.id_json;
  const std::string params = c.msg.params_json.empty() ? "{}" : c.msg.params_json;
  const std::string asked = member(params, "notifications").value_or("{}");
  if (!c.accepts_sse) {
    c.status = 400;
    return proxy::error_response(id, -32600, "subscriptions/listen answers with an event stream: send Accept: text/event-stream");
  }
  modern_listener l;
  l.out = c.out;
  l.id_json = id;
  l.tools = member(asked, "toolsListChanged") == std::optional<std::string>("true");
  l.prompts = member(asked, "promptsListChanged") == std::optional<std::string>("true");
  l.resources = member(asked, "resourcesListChanged") == std::optional<std::string>("true");
  // What is accepted: the list changes asked for. Resource subscriptions are not mapped onto
  // the servers yet, so none is acknowledged (the client sees which it did not get).
  json::writer accepted;
  accepted.begin_object();
  if (l.tools) accepted.key("toolsListChanged").value(true);
  if (l.prompts) accepted.key("promptsListChanged").value(true);
  if (l.resources) accepted.key("resourcesListChanged").value(true);
  accepted.end_object();
  const std::string ack = proxy::request(
      "", "notifications/subscriptions/acknowledged",
      edit_object("{}", {{"_meta", edit_object("{}", {{std::string(proxy::subscription_id_key), id}})},
                         {"notifications", accepted.take()}}));
  c.out->mark_stream();
  open_event_stream(*c.out, *c.streaming, "");
  c.out->write(sse_event(ack));
  {
    std::unique_lock lk(mutex_);
    std::erase_if(listens_, [](const modern_listener& x) {
      auto r = x.out.lock();
      return !r || r->disconnected();
    });
    listens_.push_back(std::move(l));
  }
  c.holding = true;
  return {};
}

void gateway::notify_listeners(const std::string& method) {
  std::vector<std::shared_ptr<responder>> legacy;
  std::vector<std::pair<std::shared_ptr<responder>, std::string>> modern;
  {
    std::unique_lock lk(mutex_);
    for (auto& [id, s] : sessions_) {
      std::erase_if(s.listeners, [&legacy](const std::weak_ptr<responder>& w) {
        auto r = w.lock();
        if (!r || r->disconnected()) return true;
        legacy.push_back(std::move(r));
        return false;
      });
    }
    std::erase_if(listens_, [&](const modern_listener& l) {
      auto r = l.out.lock();
      if (!r || r->disconnected()) return true;
      if (wants(l, method)) modern.emplace_back(std::move(r), l.id_json);
      return false;
    });
  }
  const std::string plain = sse_event(proxy::request("", method, ""));
  for (auto& r : legacy) r->write(plain);
  for (auto& [r, id] : modern) r->write(sse_event(tagged(method, id)));
}

std::string gateway::subscribe_modern(call_context& c, const std::shared_ptr<upstream>& up, const std::string& uri) {
  const bool subscribe = c.msg.method == "resources/subscribe";
  bool changed = false;
  {
    std::unique_lock lk(mutex_);
    auto it = sessions_.find(c.session_id);
    if (it == sessions_.end()) return proxy::error_response(c.msg.id_json, -32001, "Session not found");
    if (subscribe) {
      it->second.subscriptions.insert(uri);
      changed = up->resource_uris.insert(uri).second;
    } else {
      it->second.subscriptions.erase(uri);
      const bool still = std::any_of(sessions_.begin(), sessions_.end(),
                                     [&](const auto& s) { return s.second.subscriptions.count(uri) > 0; });
      changed = !still && up->resource_uris.erase(uri) > 0;
    }
  }
  if (changed && up->listening.load()) {
    up->relisten.store(true);
    stop_listening(up);  // the listen loop opens it again at once, with the new set
  }
  return proxy::response(c.msg.id_json, "{}");
}

void gateway::notify_resource_updated(const std::string& params_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, params_json, doc).empty() || !doc.is_object()) return;
  const std::string uri(json::get_string(doc, "uri").value_or(""));
  std::vector<std::shared_ptr<responder>> to;
  {
    std::unique_lock lk(mutex_);
    for (auto& [id, s] : sessions_) {
      if (s.subscriptions.count(uri) == 0) continue;
      for (const auto& w : s.listeners) {
        if (auto r = w.lock(); r && !r->disconnected()) to.push_back(std::move(r));
      }
    }
  }
  const std::string n = sse_event(proxy::request("", "notifications/resources/updated", proxy::strip_protocol_meta(params_json)));
  for (auto& r : to) r->write(n);
}

void gateway::start_listening(const std::shared_ptr<upstream>& up) {
  if (up->session->era() != "modern" || up->listening.exchange(true)) return;
  up->listen_key.store(next_key());
  asio::co_spawn(io_, listen_upstream(weak_from_this(), up), asio::detached);
}

void gateway::stop_listening(const std::shared_ptr<upstream>& up) {
  if (const auto key = up->listen_key.load(); key != 0) up->session->cancel(key);
}

asio::awaitable<void> gateway::listen_upstream(std::weak_ptr<gateway> weak, std::weak_ptr<upstream> weak_up) {
  const std::string method = "subscriptions/listen";
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::chrono::seconds backoff{1};
  for (;;) {
    std::chrono::steady_clock::time_point began;
    {
      // Held only while the stream is open: a pause holds neither the gateway nor the server.
      auto self = weak.lock();
      auto up = weak_up.lock();
      if (!self || !up || self->closing_.load() || self->find(up->name) != up) break;
      json::writer n;
      n.begin_object().key("toolsListChanged").value(true).key("promptsListChanged").value(true);
      n.key("resourcesListChanged").value(true);
      {
        std::shared_lock lk(self->mutex_);
        if (!up->resource_uris.empty()) {
          n.key("resourceSubscriptions").begin_array();
          for (const auto& u : up->resource_uris) n.value(u);
          n.end_array();
        }
      }
      n.end_object();
      const std::string params = edit_object("{}", {{"notifications", n.take()}});
      up->relisten.store(false);
      request_options o;
      o.cancel_key = up->listen_key.load();
      o.on_message = [weak](std::string text) {
        auto m = proxy::read_message(text, nullptr);
        if (!m || !m->is_notification()) return;
        auto g = weak.lock();
        if (!g) return;
        if (m->method.ends_with("/list_changed")) g->notify_listeners(m->method);
        if (m->method == "notifications/resources/updated") g->notify_resource_updated(m->params_json);
      };
      began = std::chrono::steady_clock::now();
      auto listen = up->session->request(method, params, std::move(o));
      auto ended = co_await std::move(listen);
      (void)ended;  // ended or failed alike: open it again (after a pause that grows while it fails)
      if (self->closing_.load() || self->find(up->name) != up) break;
      if (up->relisten.load()) continue;  // cancelled for a new set of URIs: at once
    }
    backoff = std::chrono::steady_clock::now() - began >= lasting ? std::chrono::seconds(1)
                                                                   : std::min(backoff * 2, max_backoff);
    pause.expires_after(backoff);
    std::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (auto up = weak_up.lock()) up->listening.store(false);
}

}  // namespace fracta::gateway
