// SPDX-License-Identifier: Apache-2.0
// `/mcp`'s view of its servers: their lists gathered into the catalog (every server at once, a
// slow one waited for no longer than the deadline), and what the gateway says about itself (the
// union of their capabilities, initialize and server/discover results, list_changed relayed).
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

constexpr std::chrono::seconds list_deadline{5};  // a slow server's lists wait no longer
constexpr int max_list_pages = 100;

// The items of a list result's array member, each as its own JSON text.
std::vector<std::string> items_of(const std::string& result, std::string_view key, std::string* next_cursor) {
  std::vector<std::string> out;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (!json::parse(p, result, e).empty() || !e.is_object()) return out;
  if (auto arr = json::get(e, key); arr && arr->is_array()) {
    const simdjson::dom::array items = arr->get_array().value_unsafe();
    for (simdjson::dom::element item : items) out.push_back(json::to_string(item));
  }
  if (next_cursor != nullptr) *next_cursor = std::string(json::get_string(e, "nextCursor").value_or(""));
  return out;
}

// One server's lists, gathered for a catalog refresh.
struct listing {
  std::shared_ptr<upstream> up;
  std::string capabilities;               // as it declared them; empty: not known, list everything
  std::optional<server_entries> entries;  // nullopt: the server did not answer in time
};

// One refresh's state. Every member is touched on the gateway's refresh strand only.
struct gathering {
  explicit gathering(asio::any_io_executor strand) : strand(strand), wake(strand, asio::steady_timer::time_point::max()) {}
  asio::any_io_executor strand;
  asio::steady_timer wake;
  std::vector<listing> results;
  std::size_t left = 0;
};

asio::awaitable<std::vector<std::string>> list_pages(std::shared_ptr<upstream> up, std::string method,
                                                     std::string key, bool* failed) {
  std::vector<std::string> out;
  std::string cursor;
  for (int page = 0; page < max_list_pages; ++page) {
    std::string params = "{}";
    if (!cursor.empty()) params = edit_object("{}", {{"cursor", proxy::json_string(cursor)}});
    auto req = up->session->request(method, params);
    auto r = co_await std::move(req);
    if (!r || r->is_error) {
      // A server without this capability answers -32601: an empty list, not a failure.
      if (!r) *failed = true;
      break;
    }
    std::string next;
    for (auto& item : items_of(r->json, key, &next)) out.push_back(std::move(item));
    if (next.empty() || next == cursor) break;
    cursor = std::move(next);
  }
  co_return out;
}

asio::awaitable<void> list_one(std::shared_ptr<gathering> g, std::shared_ptr<upstream> up, std::string capabilities,
                               std::size_t index) {
  server_entries e;
  e.server = up->name;
  e.prefix = up->server.gateway.prefix;
  e.allow = up->server.gateway.tools_allow;
  e.deny = up->server.gateway.tools_deny;
  bool failed = false;
  for (const auto& k : kinds) {
    // What the server did not declare is not asked for (its answer would be -32601).
    if (!capabilities.empty() && !member(capabilities, k.capability)) continue;
    auto l = list_pages(up, std::string(k.method), std::string(k.key), &failed);
    auto items = co_await std::move(l);
    if (failed) break;
    if (k.key == "tools") e.tools_json = std::move(items);
    if (k.key == "prompts") e.prompts_json = std::move(items);
    if (k.key == "resources") e.resources_json = std::move(items);
    if (k.key == "resourceTemplates") e.resource_templates_json = std::move(items);
  }
  asio::post(g->strand, [g, index, failed, e = std::move(e)]() mutable {
    if (!failed) g->results[index].entries = std::move(e);
    if (--g->left == 0) g->wake.cancel();
  });
}

}  // namespace

asio::awaitable<void> gateway::refresh_catalog() {
  return asio::co_spawn(refresh_strand_, refresh_on_strand(shared_from_this()), asio::use_awaitable);
}

asio::awaitable<void> gateway::refresh_on_strand(std::shared_ptr<gateway> self) {
  // One refresh at a time: who asks during one waits for it (bounded, should a wake be lost).
  if (self->refreshing_) {
    auto waiter = std::make_shared<asio::steady_timer>(self->refresh_strand_, list_deadline + std::chrono::seconds(1));
    self->refresh_waiters_.push_back(waiter);
    std::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  self->refreshing_ = true;
  auto g = std::make_shared<gathering>(self->refresh_strand_);
  {
    const auto ups = self->all();
    std::shared_lock lk(self->mutex_);
    for (const auto& up : ups) {
      const std::string caps = member(up->open_result, "capabilities").value_or("");
      g->results.push_back(listing{up, caps, std::nullopt});
    }
  }
  g->left = g->results.size();
  for (std::size_t i = 0; i < g->results.size(); ++i) {
    asio::co_spawn(self->io_, list_one(g, g->results[i].up, g->results[i].capabilities, i), asio::detached);
  }
  if (g->left > 0) {
    g->wake.expires_after(list_deadline);
    std::error_code ec;
    co_await g->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  {
    std::unique_lock lk(self->mutex_);
    for (auto& l : g->results) {
      if (l.entries) self->listed_[l.up->name] = std::move(*l.entries);  // else: its last known lists stay
    }
    std::vector<server_entries> in_order;
    for (const auto& name : self->order_) {
      if (auto it = self->listed_.find(name); it != self->listed_.end()) in_order.push_back(it->second);
    }
    self->catalog_ = std::make_shared<catalog>(catalog::build(self->naming_, in_order));
  }
  self->refreshing_ = false;
  auto waiters = std::move(self->refresh_waiters_);
  self->refresh_waiters_.clear();
  for (auto& w : waiters) w->cancel();
}

// ---- what the gateway says about itself ------------------------------------------------------------

std::string gateway::capabilities_union() const {
  bool tools = false, prompts = false, resources = false, subscribe = false, completions = false, logging = false;
  std::shared_lock lk(mutex_);
  for (const auto& [name, up] : upstreams_) {
    const std::string caps = member(up->open_result, "capabilities").value_or("{}");
    tools = tools || member(caps, "tools").has_value();
    prompts = prompts || member(caps, "prompts").has_value();
    const auto res = member(caps, "resources");
    resources = resources || res.has_value();
    // resources/subscribe goes to a 2025 server as it is, and onto a 2026-07-28 one's listen.
    subscribe = subscribe || (res && member(*res, "subscribe").value_or("") == "true");
    completions = completions || member(caps, "completions").has_value();
    logging = logging || member(caps, "logging").has_value();
  }
  // Before any server answered, offer tools: the catalog fills as servers come up.
  if (!prompts && !resources) tools = true;
  json::writer w;
  w.begin_object();
  if (tools) w.key("tools").begin_object().key("listChanged").value(true).end_object();
  if (prompts) w.key("prompts").begin_object().key("listChanged").value(true).end_object();
  if (resources) {
    w.key("resources").begin_object().key("listChanged").value(true);
    if (subscribe) w.key("subscribe").value(true);
    w.end_object();
  }
  if (completions) w.key("completions").begin_object().end_object();
  if (logging) w.key("logging").begin_object().end_object();
  w.end_object();
  return w.take();
}

std::string gateway::initialize_result(const std::string& version) const {
  return edit_object("{}", {{"protocolVersion", proxy::json_string(version)},
                            {"capabilities", capabilities_union()},
                            {"serverInfo", server_info()}});
}

std::string gateway::discover_result() const {
  json::writer versions;
  versions.begin_array().value(modern_version);
  for (auto v : config::legacy_protocol_versions) versions.value(v);
  versions.end_array();
  return edit_object("{}", {{"resultType", "\"complete\""},
                            {"supportedVersions", versions.take()},
                            {"capabilities", capabilities_union()},
                            {"ttlMs", "0"},
                            {"cacheScope", "\"private\""},
                            {"_meta", edit_object("{}", {{"io.modelcontextprotocol/serverInfo", server_info()}})}});
}

void gateway::on_upstream_message(const std::string& server, const std::string& message) {
  std::string why;
  auto msg = proxy::read_message(message, &why);
  if (!msg) return;
  if (msg->is_request()) {
    // A 2025 server's request outside any call (its GET stream): ping is answered, the rest refused.
    auto up = find(server);
    if (up == nullptr) return;
    const std::string answer = msg->method == "ping" ? proxy::response(msg->id_json, "{}")
                                                     : error_response(msg->id_json, -32601, "the gateway does not relay " + msg->method);
    asio::co_spawn(io_, up->session->post(answer), asio::detached);
    return;
  }
  if (msg->method.ends_with("/list_changed")) notify_listeners(msg->method);
}

}  // namespace fracta::gateway
