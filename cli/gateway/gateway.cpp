// SPDX-License-Identifier: Apache-2.0
// `fracta gateway`'s front door: the guard, the routes (health, readiness, metrics, metadata,
// pass-through, aggregated), and the upstream sessions, replaced on reload.
#include "gateway/gateway.hpp"

#include <chrono>
#include <set>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/url.hpp>

#include "fracta/json_writer.hpp"

namespace fracta::gateway {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string error_json(std::string_view message) {
  json::writer w;
  w.begin_object().key("error").value(message).end_object();
  return w.take();
}

bool same_server(const config::server& a, const config::server& b) {
  // The parts that decide where requests go and with which credential; a change reopens.
  return a.url == b.url && a.headers == b.headers && a.auth.json == b.auth.json && a.auth.type == b.auth.type &&
         a.timeout_seconds == b.timeout_seconds && a.protocol == b.protocol && a.ca_bundle == b.ca_bundle &&
         a.allow_insecure_http == b.allow_insecure_http && a.allow_private_network == b.allow_private_network;
}

prefix_mode mode_of(const std::string& s) {
  if (s == "on_collision") return prefix_mode::on_collision;
  if (s == "never") return prefix_mode::never;
  return prefix_mode::always;
}

}  // namespace

gateway::gateway(asio::io_context& io, gateway_settings settings, const config::config& cfg,
                 std::vector<std::string> tokens)
    : io_(io), settings_(std::move(settings)), tokens_(std::move(tokens)), refresh_strand_(asio::make_strand(io)) {
  naming_.mode = mode_of(cfg.gateway.tool_prefix);
  naming_.separator = cfg.gateway.separator;
  guard_.loopback = is_loopback_host(settings_.listen_host);
}

void gateway::adopt_front_end(const config::config& cfg, const std::shared_ptr<engine>& fresh) {
  // Under the unique lock. The keys are kept across a reload that keeps the issuer's JWKS URL.
  guard_.allowed_origins = cfg.gateway.allowed_origins;
  guard_.allowed_hosts = served_hosts(settings_.listen_host, cfg.gateway.resource, cfg.gateway.allowed_hosts);
  jwt_.issuer = cfg.gateway.jwt_issuer;
  jwt_.audiences = cfg.gateway.jwt_audiences;
  jwt_.scopes = cfg.gateway.jwt_scopes;
  if (cfg.gateway.jwt_issuer.empty()) {
    jwks_.reset();
  } else if (!jwks_ || jwks_->url() != cfg.gateway.jwt_jwks_url) {
    fetch_fn fetch = [fresh](std::string url) { return fresh->fetch(std::move(url)); };
    auto now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    jwks_ = std::make_shared<jwks_cache>(io_.get_executor(), cfg.gateway.jwt_jwks_url, std::move(fetch), now_ms);
  }
}

std::shared_ptr<upstream> gateway::open_upstream(const config::server& s, const std::shared_ptr<engine>& owner) {
  auto opened = owner->open(s.name);
  if (!opened) throw std::runtime_error(opened.err().message);
  auto up = std::make_shared<upstream>();
  up->name = s.name;
  up->server = s;
  up->owner = owner;
  up->session = std::shared_ptr<mcp_session>(std::move(opened).value());
  // Notifications outside any request (a 2025 server's GET stream): list_changed becomes ours.
  std::weak_ptr<gateway> weak = weak_from_this();
  const std::string name = s.name;
  up->session->set_message_handler([weak, name](std::string message) {
    if (auto self = weak.lock()) self->on_upstream_message(name, message);
  });
  metrics* m = &metrics_;
  // Called on the session's actor, one change at a time: a refresh is a move to refreshing,
  // a failed one a move from refreshing to failing or needs_login.
  auto previous = std::make_shared<fracta::server_state>(fracta::server_state::starting);
  up->session->watch_status([m, name, previous](const server_status& st) {
    m->set_server_state(name, st.state);
    if (*previous == fracta::server_state::refreshing) {
      m->record_refresh(name, st.state == fracta::server_state::ready);
    }
    *previous = st.state;
  });
  metrics_.set_server_state(name, up->session->status().state);
  return up;
}

void gateway::adopt(const config::config& cfg, std::shared_ptr<engine> fresh, std::vector<std::string> tokens) {
  std::map<std::string, std::shared_ptr<upstream>> next;
  std::vector<std::string> order;
  std::vector<std::shared_ptr<upstream>> closing;
  {
    std::shared_lock lk(mutex_);
    for (const auto& s : cfg.servers) {
      order.push_back(s.name);
      auto it = upstreams_.find(s.name);
      if (it != upstreams_.end() && same_server(it->second->server, s)) {
        next[s.name] = it->second;
        next[s.name]->server.gateway = s.gateway;  // names and filters apply at the next listing
      }
    }
    for (const auto& [name, up] : upstreams_) {
      if (!next.count(name)) closing.push_back(up);
    }
  }
  for (const auto& s : cfg.servers) {
    if (!next.count(s.name)) next[s.name] = open_upstream(s, fresh);
  }
  {
    std::unique_lock lk(mutex_);
    upstreams_ = std::move(next);
    order_ = std::move(order);
    for (auto it = listed_.begin(); it != listed_.end();) {
      it = upstreams_.count(it->first) ? std::next(it) : listed_.erase(it);
    }
    naming_.mode = mode_of(cfg.gateway.tool_prefix);
    naming_.separator = cfg.gateway.separator;
    adopt_front_end(cfg, fresh);
    tokens_ = std::move(tokens);
  }
  for (const auto& up : closing) metrics_.forget_server(up->name);
  // Removed servers: their sessions end once the requests in flight on them have.
  for (auto& up : closing) {
    stop_listening(up);
    auto session = up->session;
    asio::co_spawn(io_, session->close(), asio::detached);
  }
}

std::shared_ptr<upstream> gateway::find(const std::string& name) const {
  std::shared_lock lk(mutex_);
  auto it = upstreams_.find(name);
  return it == upstreams_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<upstream>> gateway::all() const {
  std::shared_lock lk(mutex_);
  std::vector<std::shared_ptr<upstream>> out;
  for (const auto& n : order_) {
    if (auto it = upstreams_.find(n); it != upstreams_.end()) out.push_back(it->second);
  }
  return out;
}

void gateway::set_resource_url(std::string url) {
  auto u = http::url::parse(url);
  settings_.metadata_url = u ? u->origin() + metadata_path(u->path) : metadata_path("/mcp");
  settings_.resource_url = std::move(url);
}

void gateway::refuse_token(const std::shared_ptr<responder>& out, bool presented, const std::string& why,
                           bool insufficient_scope) {
  std::vector<std::string> scopes;
  {
    std::shared_lock lk(mutex_);
    scopes = jwt_.scopes;
  }
  out->send(insufficient_scope ? 403 : 401,
            {{"Content-Type", "application/json"},
             {"WWW-Authenticate", www_authenticate(settings_.metadata_url, presented, scopes, insufficient_scope)}},
            error_json(why));
}

gateway::admission gateway::admit(http_request& req, const std::shared_ptr<responder>& out) {
  guard_policy policy;
  std::vector<std::string> tokens;
  bool jwt = false;
  {
    std::shared_lock lk(mutex_);
    policy = guard_;
    tokens = tokens_;
    jwt = jwks_ != nullptr;
  }
  const auto host = req.header("Host");
  if (!host || !host_allowed(*host, policy)) {
    out->send(403, {{"Content-Type", "application/json"}},
              error_json("the Host header names no host this gateway serves (add it to gateway.allowed_hosts)"));
    return admission::refused;
  }
  if (!origin_allowed(req.header("Origin"), policy)) {
    out->send(403, {{"Content-Type", "application/json"}},
              error_json("requests from this Origin are refused (add it to gateway.allowed_origins)"));
    return admission::refused;
  }
  if (tokens.empty() && !jwt) return admission::admitted;
  const auto authorization = req.header("Authorization");
  if (!tokens.empty() && bearer_allowed(authorization, tokens)) {
    req.principal = token_principal(*bearer_token(authorization));
    return admission::admitted;
  }
  if (jwt && bearer_token(authorization)) return admission::check_jwt;
  refuse_token(out, authorization.has_value(),
               authorization ? "the bearer token is not one this gateway accepts"
                             : "this gateway needs a bearer token (Authorization: Bearer …)");
  return admission::refused;
}

asio::awaitable<void> gateway::serve_after_jwt(std::shared_ptr<gateway> self, http_request req,
                                               std::shared_ptr<responder> out) {
  std::shared_ptr<jwks_cache> cache;
  jwt_policy policy;
  {
    std::shared_lock lk(self->mutex_);
    cache = self->jwks_;
    policy = self->jwt_;
  }
  const std::string token(bearer_token(req.header("Authorization")).value_or(""));
  if (!cache) {  // a reload turned JWTs off since the request arrived
    self->refuse_token(out, true, "the bearer token is not one this gateway accepts");
    co_return;
  }
  const std::int64_t now_s = now_ms() / 1000;
  auto checking = check_token(cache, policy, token, now_s);
  const jwt_decision d = co_await std::move(checking);
  switch (d.verdict) {
    case jwt_decision::kind::ok:
      // Bound to the subject, not to the token: the client's next token is the same caller.
      req.principal = "jwt:" + policy.issuer + " " + d.subject;
      self->serve_admitted(std::move(req), std::move(out));
      break;
    case jwt_decision::kind::insufficient_scope:
      self->refuse_token(out, true, d.detail, true);
      break;
    case jwt_decision::kind::unavailable:
      out->send(503, {{"Content-Type", "application/json"}, {"Retry-After", "5"}}, error_json(d.detail));
      break;
    case jwt_decision::kind::invalid:
      self->refuse_token(out, true, d.detail);
      break;
  }
}

void gateway::handle(http_request req, std::shared_ptr<responder> out) {
  const std::string& path = req.path;
  if (path == "/healthz") {
    out->send(200, {{"Content-Type", "text/plain"}}, "ok\n");
    return;
  }
  if (path == "/readyz") {
    send_ready(out);
    return;
  }
  if (path == "/metrics") {
    asio::co_spawn(asio::make_strand(io_), serve_metrics(shared_from_this(), std::move(out)), asio::detached);
    return;
  }
  if (path.rfind("/.well-known/oauth-protected-resource", 0) == 0) {
    std::vector<std::string> servers;
    std::vector<std::string> scopes;
    {
      std::shared_lock lk(mutex_);
      if (jwks_) servers.push_back(jwt_.issuer);
      scopes = jwt_.scopes;
    }
    out->send(200, {{"Content-Type", "application/json"}},
              protected_resource_metadata(settings_.resource_url, servers, scopes));
    return;
  }
  if (path != "/mcp" && path.rfind("/mcp/", 0) != 0) {
    out->send(404, {{"Content-Type", "application/json"}},
              error_json("no such endpoint: the gateway serves /mcp, /mcp/<server>, /healthz, /readyz and /metrics"));
    return;
  }
  switch (admit(req, out)) {
    case admission::admitted: serve_admitted(std::move(req), std::move(out)); return;
    case admission::refused: return;
    case admission::check_jwt: break;
  }
  asio::co_spawn(asio::make_strand(io_), serve_after_jwt(shared_from_this(), std::move(req), std::move(out)),
                 asio::detached);
}

void gateway::serve_admitted(http_request req, std::shared_ptr<responder> out) {
  const std::string& path = req.path;
  auto self = shared_from_this();
  auto strand = asio::make_strand(io_);
  if (path == "/mcp") {
    asio::co_spawn(strand, serve_aggregate(self, std::move(req), std::move(out)), asio::detached);
    return;
  }
  const std::string name = path.substr(5);
  auto up = find(name);
  if (up == nullptr) {
    out->send(404, {{"Content-Type", "application/json"}}, error_json("no server named '" + name.substr(0, 64) + "' behind this gateway"));
    return;
  }
  asio::co_spawn(strand, serve_passthrough(self, std::move(up), std::move(req), std::move(out)), asio::detached);
}

void gateway::send_ready(const std::shared_ptr<responder>& out) {
  json::writer w;
  w.begin_object();
  bool usable = false;
  w.key("servers").begin_object();
  for (const auto& up : all()) {
    const auto st = up->session->status();
    if (st.state == fracta::server_state::ready || st.state == fracta::server_state::starting ||
        st.state == fracta::server_state::refreshing) {
      usable = true;
    }
    w.key(up->name).begin_object().key("state").value(to_string(st.state));
    if (!st.detail.empty()) w.key("detail").value(st.detail);
    if (st.retry_at_unix_ms != 0) w.key("retry_at_unix_ms").value(st.retry_at_unix_ms);
    const std::string era = up->session->era();
    if (!era.empty()) w.key("era").value(era).key("protocol_version").value(up->session->protocol_version());
    w.end_object();
  }
  w.end_object();
  std::shared_ptr<const catalog> cat;
  {
    std::shared_lock lk(mutex_);
    cat = catalog_;
  }
  w.key("collisions").begin_array();
  for (const auto& c : cat->collisions()) {
    w.begin_object().key("kind").value(c.kind).key("name").value(c.name).key("servers").begin_array();
    for (const auto& s : c.servers) w.value(s);
    w.end_array().key("outcome").value(c.outcome).end_object();
  }
  w.end_array();
  const bool ready = usable || all().empty();
  w.key("ready").value(ready);
  w.end_object();
  out->send(ready ? 200 : 503, {{"Content-Type", "application/json"}}, w.take());
}

asio::awaitable<void> gateway::serve_metrics(std::shared_ptr<gateway> self, std::shared_ptr<responder> out) {
  // Each provider's status document says when its token expires (it never contacts a server).
  for (const auto& up : self->all()) {
    auto status = up->session->auth_status();
    const std::string doc = co_await std::move(status);
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    std::int64_t at_ms = 0;
    if (json::parse(parser, doc, e).empty()) at_ms = json::get_int(e, "expires_at").value_or(0) * 1000;
    self->metrics_.set_token_expiry(up->name, at_ms);
  }
  out->send(200, {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}, self->metrics_.render(now_ms()));
}

asio::awaitable<std::vector<std::string>> gateway::warm_up() {
  std::vector<std::string> lines;
  for (const auto& up : all()) {
    auto open = up->session->initialize();
    auto r = co_await std::move(open);
    if (!r) {
      lines.push_back("server '" + up->name + "': " + r.err().message);
      continue;
    }
    std::unique_lock lk(mutex_);
    up->open_result = *r;
  }
  std::shared_ptr<jwks_cache> keys_cache;
  {
    std::shared_lock lk(mutex_);
    keys_cache = jwks_;
  }
  if (keys_cache) {
    auto reading = keys_cache->keys(false);
    auto keys = co_await std::move(reading);
    if (!keys) lines.push_back("JWT front end: " + keys_cache->last_error() + " (requests get 503 until it answers)");
  }
  co_await refresh_catalog();
  std::shared_ptr<const catalog> cat;
  {
    std::shared_lock lk(mutex_);
    cat = catalog_;
  }
  for (const auto& c : cat->collisions()) lines.push_back(c.kind + " '" + c.name + "': " + c.outcome);
  for (const auto& up : all()) start_listening(up);
  co_return lines;
}

void gateway::release_all() {
  std::unique_lock lk(mutex_);
  upstreams_.clear();
  questions_.clear();
  parked_.clear();
  cancels_.clear();
  sessions_.clear();
  listens_.clear();
  jwks_.reset();
}

asio::awaitable<void> gateway::close_all() {
  closing_.store(true);
  for (const auto& up : all()) {
    stop_listening(up);
    auto close = up->session->close();
    co_await std::move(close);
  }
}

}  // namespace fracta::gateway
