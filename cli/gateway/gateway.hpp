// SPDX-License-Identifier: Apache-2.0
// `fracta gateway`'s request handling: who may call (guard), where a request goes (health,
// readiness, metrics, the pass-through per server, the aggregated endpoint), and the upstream
// sessions it goes to, which a reload replaces without touching the unchanged ones.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "gateway/catalog.hpp"
#include "gateway/guard.hpp"
#include "gateway/http_server.hpp"
#include "gateway/jwks.hpp"
#include "gateway/metrics.hpp"

namespace fracta::gateway {

/// One configured server behind the gateway. Its session is thread-safe; the rest is
/// written under the gateway's mutex.
struct upstream {
  std::string name;
  config::server server;               // as configured (compared on reload)
  std::shared_ptr<engine> owner;       // the engine that opened the session (outlives it)
  std::shared_ptr<mcp_session> session;
  std::string open_result = "{}";      // its initialize or server/discover result (under the gateway's mutex)
  // A 2026-07-28 server's subscriptions/listen, held for its list_changed (aggregate_listen.cpp).
  std::atomic<bool> listening{false};
  std::atomic<std::uint64_t> listen_key{0};  // cancels it
  std::atomic<bool> relisten{false};          // cancelled to listen again at once (new URIs)
  std::set<std::string> resource_uris;        // URIs 2025 clients subscribed to (gateway's mutex)
};

/// A 2026-07-28 client's subscriptions/listen on /mcp. Guarded by the gateway's mutex.
struct modern_listener {
  std::weak_ptr<responder> out;
  std::string id_json;                 // the listen request's id: its subscriptionId
  bool tools = false, prompts = false, resources = false;  // the list_changed kinds it accepted
};

/// A 2025 client's session with the aggregated endpoint. Guarded by the gateway's mutex.
struct downstream_session {
  std::string version;                 // the protocol version agreed at initialize
  std::string capabilities = "{}";     // the client's
  std::int64_t last_used_ms = 0;
  std::vector<std::weak_ptr<responder>> listeners;  // GET streams, for list_changed
  std::set<std::string> subscriptions;  // resource URIs it subscribed to on 2026-07-28 servers
};

/// A 2025 server's question relayed to the client of the call that caused it.
struct relayed_question {
  std::shared_ptr<mcp_session> session;  // where the answer goes
  std::string upstream_id;               // the id the server gave it (as written)
  /// Set instead for a 2026 server's inputRequests put to a 2025 client: the gateway collects
  /// the answer (result or error, as raw JSON) to make the call again.
  std::function<void(std::string result_json, std::string error_json)> local;
};

struct gateway_settings {
  std::string config_path;
  std::string listen_host;  // where the server listens (for the guard's loopback rules)
  std::string resource_url;  // the URL clients reach /mcp at: the metadata's resource
  std::string metadata_url;  // where its metadata is served (named in each 401 and 403)
};

struct parked_call;  // aggregate_detail.hpp

class gateway final : public std::enable_shared_from_this<gateway> {
 public:
  gateway(asio::io_context& io, gateway_settings settings, const config::config& cfg, std::vector<std::string> tokens);
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// The http_server's handler. Any loop thread.
  void handle(http_request req, std::shared_ptr<responder> out);
  /// Swaps to `cfg`'s servers: unchanged servers keep their sessions (and their clients'
  /// conversations), added ones are opened with `fresh`, removed ones closed. Any thread.
  void adopt(const config::config& cfg, std::shared_ptr<engine> fresh, std::vector<std::string> tokens);
  /// Opens every server's conversation once and lists what it offers (start-up and reload).
  /// Returns the lines to log: collisions, servers that failed.
  asio::awaitable<std::vector<std::string>> warm_up();
  /// Closes every upstream session (after the drain).
  asio::awaitable<void> close_all();
  /// Lets go of every upstream (their sessions and engines), once the loop has stopped.
  void release_all();
  metrics& stats() { return metrics_; }
  /// The URL clients reach /mcp at (gateway.resource, or the listen address's /mcp): named in
  /// the protected-resource metadata and in each 401. Before the loop runs.
  void set_resource_url(std::string url);

  // ---- used by the request coroutines (gateway.cpp, passthrough.cpp, aggregate.cpp) ----
  std::shared_ptr<upstream> find(const std::string& name) const;
  std::vector<std::shared_ptr<upstream>> all() const;
  std::uint64_t next_key() { return next_key_.fetch_add(1); }
  asio::io_context& io() { return io_; }

 private:
  static asio::awaitable<void> serve_passthrough(std::shared_ptr<gateway> self, std::shared_ptr<upstream> up,
                                                 http_request req, std::shared_ptr<responder> out);
  static asio::awaitable<void> serve_aggregate(std::shared_ptr<gateway> self, http_request req,
                                               std::shared_ptr<responder> out);
  void send_ready(const std::shared_ptr<responder>& out);
  static asio::awaitable<void> serve_metrics(std::shared_ptr<gateway> self, std::shared_ptr<responder> out);
  enum class admission { admitted, refused, check_jwt };
  admission admit(http_request& req, const std::shared_ptr<responder>& out);
  static asio::awaitable<void> serve_after_jwt(std::shared_ptr<gateway> self, http_request req,
                                               std::shared_ptr<responder> out);
  void serve_admitted(http_request req, std::shared_ptr<responder> out);
  void refuse_token(const std::shared_ptr<responder>& out, bool presented, const std::string& why,
                    bool insufficient_scope = false);
  void adopt_front_end(const config::config& cfg, const std::shared_ptr<engine>& fresh);
  std::shared_ptr<upstream> open_upstream(const config::server& s, const std::shared_ptr<engine>& owner);

  // ---- the aggregated endpoint (aggregate.cpp) ----
  struct call_context;
  asio::awaitable<void> aggregate(http_request req, std::shared_ptr<responder> out);
  asio::awaitable<std::string> dispatch(call_context& c);
  asio::awaitable<std::string> list_merged(call_context& c, std::string_view kind);
  asio::awaitable<std::string> routed(call_context& c);
  asio::awaitable<std::optional<std::string>> ask_client(call_context& c, std::string input_required_json,
                                                         std::shared_ptr<std::vector<std::string>> asked,
                                                         std::string* why);
  /// The client's answer to a routed call, from the server's (metrics recorded).
  std::string call_answer(call_context& c, const upstream& up, const result<rpc_answer>& answer,
                          const std::string& refused, std::chrono::steady_clock::time_point started);
  // A 2025 server's questions to a 2026 client: the call parks (aggregate_parked.cpp).
  std::shared_ptr<parked_call> new_parked_call(call_context& c, const std::shared_ptr<upstream>& up);
  static void park_question(const std::shared_ptr<parked_call>& p, std::string id_json, std::string method,
                            std::string params_json);
  static asio::awaitable<void> run_parked(std::shared_ptr<parked_call> p, std::string method, std::string params,
                                          request_options opts);
  asio::awaitable<std::string> wait_parked(call_context& c, std::shared_ptr<parked_call> p);
  asio::awaitable<std::string> resume_parked(call_context& c, std::shared_ptr<upstream> up);
  static asio::awaitable<void> expire_parked(std::weak_ptr<gateway> weak, std::string token,
                                             std::shared_ptr<parked_call> p);
  asio::awaitable<void> refresh_catalog();
  static asio::awaitable<void> refresh_on_strand(std::shared_ptr<gateway> self);
  std::string discover_result() const;
  std::string capabilities_union() const;
  std::string initialize_result(const std::string& version) const;
  void on_upstream_message(const std::string& server, const std::string& message);
  /// Tells every 2025 GET stream and every matching 2026 listen that `method` (a
  /// notifications/…/list_changed) happened.
  void notify_listeners(const std::string& method);
  std::string open_listen(call_context& c);
  void start_listening(const std::shared_ptr<upstream>& up);
  /// A 2025 client's resources/subscribe or unsubscribe for a 2026-07-28 server's resource:
  /// kept here and made part of that server's listen. Returns the answer.
  std::string subscribe_modern(call_context& c, const std::shared_ptr<upstream>& up, const std::string& uri);
  void notify_resource_updated(const std::string& params_json);
  static asio::awaitable<void> listen_upstream(std::weak_ptr<gateway> weak, std::weak_ptr<upstream> weak_up);
  void stop_listening(const std::shared_ptr<upstream>& up);

  asio::io_context& io_;
  gateway_settings settings_;
  metrics metrics_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<upstream>> upstreams_;  // by name
  std::vector<std::string> order_;                               // config order
  naming naming_;
  guard_policy guard_;
  std::vector<std::string> tokens_;  // front-end bearer tokens (secrets)
  std::shared_ptr<jwks_cache> jwks_;  // the JWT front end's keys, when [gateway.auth.jwt] is set
  jwt_policy jwt_;
  std::shared_ptr<const catalog> catalog_ = std::make_shared<catalog>();
  std::map<std::string, server_entries> listed_;  // each server's last lists, by name
  std::map<std::string, downstream_session> sessions_;
  // The calls in flight, by session id + "\n" + request id: what a notifications/cancelled ends.
  std::map<std::string, std::shared_ptr<std::function<void()>>> cancels_;
  // Questions relayed to 2025 clients, by session id + "\n" + the id the gateway gave them.
  std::map<std::string, relayed_question> questions_;
  // 2026 clients' calls waiting for their answers to a 2025 server's questions, by requestState.
  std::map<std::string, std::shared_ptr<parked_call>> parked_;
  std::vector<modern_listener> listens_;  // 2026 clients' subscriptions/listen streams
  std::atomic<bool> closing_{false};      // close_all() began: upstream listens are not renewed
  std::atomic<std::uint64_t> next_key_{1};
  // The catalog's refreshes: one at a time, on this strand (refreshing_ and the waiters too).
  asio::strand<asio::io_context::executor_type> refresh_strand_;
  bool refreshing_ = false;
  std::vector<std::shared_ptr<asio::steady_timer>> refresh_waiters_;
};

}  // namespace fracta::gateway
