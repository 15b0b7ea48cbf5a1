// SPDX-License-Identifier: Apache-2.0
// The server actor behind mcp_session: its state and operations. session.cpp has the transport
// (credentials, the 401/403 retry) and the public face, session_open.cpp the era probe and the
// stateless (2026-07-28) wire, session_legacy.cpp initialize, sessions and server requests,
// session_auth.cpp the login, logout and status; engine.cpp creates it.
#pragma once
#include "core/internal.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include "auth/credential.hpp"
#include "core/actor.hpp"
#include "core/async.hpp"
#include "core/clock.hpp"
#include "core/file_watch.hpp"
#include "fracta/engine.hpp"
#include "http/client.hpp"
#include "mcp/redact.hpp"
#include "mcp/mrtr.hpp"
#include "mcp/stream.hpp"
#include "plugin/instance.hpp"
#include "store/select.hpp"

namespace fracta {

/// How a session speaks to its server.
enum class wire { unknown, legacy, modern };

/// The era each endpoint was found to speak, for the engine's life, shared by its sessions (a
/// verdict is dropped when it stops holding). Keyed by endpoint URL rather than origin: one
/// origin may host servers of both eras (a gateway). Thread-safe.
class era_cache final {
 public:
  struct verdict {
    wire era = wire::unknown;
    std::string version;
  };
  std::optional<verdict> find(const std::string& endpoint) const;
  void put(const std::string& endpoint, verdict v);
  void forget(const std::string& endpoint);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, verdict> verdicts_;
};

/// What a session shares with the engine that opened it, so that its teardown (posted to its
/// strand when ~mcp_session finds it busy) may run after the engine is gone.
struct session_resources {
  std::shared_ptr<http::client> http;
  std::shared_ptr<const config::server> server;  // a copy; the provider instance borrows it
  std::shared_ptr<plugin::memory_store> memory;  // the instance's memory store
  std::shared_ptr<era_cache> eras;               // the engine's
};

/// Actor-bound: every member runs on `strand`, except those marked otherwise.
/// One request of the raw face (mcp_session::request) while it runs: who hears its stream, how
/// it is cancelled. Actor-bound.
struct raw_request {
  std::function<void(std::string)> on_message;
  std::string capabilities;  // a 2026 request's clientCapabilities; "" = the session's
  std::shared_ptr<asio::cancellation_signal> cancel = std::make_shared<asio::cancellation_signal>();
  std::int64_t upstream_id = 0;  // the id of the attempt in flight (0: none yet)
  std::uint64_t key = 0;         // the caller's cancel key (0: none)
  bool cancelled = false;
};

/// How many pages of tools/list a call walks to find a tool's schema (a server that keeps
/// handing out cursors is not followed forever).
constexpr int max_tool_pages = 100;

struct mcp_session::impl : std::enable_shared_from_this<mcp_session::impl> {
  impl(core::actor_strand s, session_resources res, std::unique_ptr<plugin::provider_instance> inst,
       std::shared_ptr<const core::clock> clk, std::function<void(log_level, std::string_view)> lg);

  core::actor_strand strand;
  session_resources resources;  // declared first: destroyed last, after the credential
  http::client& http;
  const config::server& server;
  const std::string shown_url;  // server.url without userinfo or query, for messages
  std::shared_ptr<const core::clock> clock;
  auth::credential cred;
  std::function<void(log_level, std::string_view)> log;
  std::function<void(const exchange_info&)> on_exchange;  // the engine's (-v); may be unset

  // The conversation (see open()): the era, the version spoken (read by protocol_version() from
  // other threads: under version_mutex), the initialize or server/discover result.
  wire era = wire::unknown;
  std::string protocol_version;
  mutable std::mutex version_mutex;
  std::string session_id;  // legacy only
  server_status status;     // under version_mutex (status() reads it from any thread)
  std::function<void(const server_status&)> status_watcher;
  std::string open_result;
  bool opened = false;
  core::single_flight<result<std::string>> open_flight;
  std::int64_t next_id = 1;
  mcp::secret_list sent;  // every credential sent so far, and the session id
  // tools/list of the stateless wire: the input schemas (for Mcp-Param-* headers) and the
  // result, kept as long as the server's ttlMs allows, for the credential it was listed with.
  std::map<std::string, std::string> tool_schemas;
  struct cached_list {
    tool_list list;
    std::string auth;  // the Authorization (or other credential) header value it was listed with
    std::int64_t until_ms = 0;  // on the clock's monotonic time
  };
  std::optional<cached_list> tools_cache;
  std::string last_credential;  // what the last request carried (see credential_of)
  std::error_code last_transport_error;  // of the last exchange that failed below HTTP
  // The 2025 wire's GET stream, where a server sends requests that belong to no request of
  // ours (elicitation from a tool that asks outside the call's stream). Opened only when
  // fracta can answer them; cancelled on close.
  std::shared_ptr<asio::cancellation_signal> listen_cancel;
  std::shared_ptr<core::async_event> listen_done;  // set when the GET stream's coroutine ended
  // The messages of the streams being handled (answers to the server's requests among them):
  // close waits for them, so that none is left holding the session and its transfers.
  core::task_count stream_tasks;
  // The raw face (session_raw.cpp): the embedder's handler of messages outside any request,
  // the capabilities it declares, and its requests in flight by upstream id and cancel key.
  std::function<void(std::string)> message_handler;
  std::optional<std::string> declared_capabilities;
  std::map<std::int64_t, std::shared_ptr<raw_request>> raw_by_id;
  std::map<std::uint64_t, std::shared_ptr<raw_request>> raw_by_key;
  /// Files `raw` under its cancel key (when it has one) for as long as it lives.
  struct key_registration {
    impl* self;
    std::uint64_t key;
    key_registration(impl* s, const std::shared_ptr<raw_request>& raw) : self(s), key(raw->key) {
      if (key != 0) self->raw_by_key[key] = raw;
    }
    ~key_registration() {
      if (key != 0) self->raw_by_key.erase(key);
    }
    key_registration(const key_registration&) = delete;
    key_registration& operator=(const key_registration&) = delete;
  };

  // Login and stores (set by engine::open).
  asio::any_io_executor blocking;
  store::selector* stores = nullptr;
  const interactive_options* interactive = nullptr;
  core::single_flight<result<login_outcome>> login_flight;
  // A mounted token_file (auth.token_file): a change of its contents refreshes the credential
  // at once (the provider re-reads it). Stopped by close and teardown.
  std::unique_ptr<core::file_watch> token_watch;

  void say(const std::string& line) const;
  /// Moves to `s`, telling the watcher when something changed.
  void set_status(server_state s, std::string detail = {}, std::int64_t retry_at_unix_ms = 0);
  /// The status an operation's outcome implies (cancellations and config errors imply none).
  void note_outcome(const error* e);
  /// The credential's refreshes, as status.
  void on_refresh(const plugin::op_result* r);
  void debug(const std::string& m) const;
  /// "server 'name' (https://host/path)": never userinfo or query values.
  std::string where() const;
  /// `e` with every credential this session sent, and its session id, replaced.
  error scrubbed(error e) const;
  template <class T>
  result<T> finish(result<T> r) const {
    if (!r) return scrubbed(std::move(r).err());
    return r;
  }

  // ---- transport (session.cpp) ----
  /// A request to the endpoint with the configured headers, the protocol version and session
  /// id when there are, and `extra`.
  http::request make_request(std::string method, std::string body, const std::vector<http::header>& extra = {}) const;
  /// Sends with credentials; on 401/403 asks the provider for another credential and retries
  /// once. With `stream`, a fresh answer_stream for request `id` reads each attempt's body as
  /// it arrives, and the exchange ends as soon as the answer is there. With `raw`, the exchange
  /// is registered under `id` for its stream's messages and ends when the request is cancelled.
  asio::awaitable<result<http::response>> send_authorized(http::request proto, std::int64_t id,
                                                          std::shared_ptr<mcp::answer_stream>* stream,
                                                          std::shared_ptr<raw_request> raw = nullptr);
  std::shared_ptr<mcp::answer_stream> make_stream(std::int64_t id);
  /// A message the server sent on a stream besides the answer (on the HTTP client's strand):
  /// handed to stream_message_on_actor (static: a plain coroutine, GCC 12 rule).
  void on_stream_message(std::string message, std::int64_t stream_id);
  /// stream_message_on_actor, counted in stream_tasks (entered by on_stream_message).
  static asio::awaitable<void> stream_task(std::shared_ptr<impl> self, std::string message, std::int64_t stream_id);
  static asio::awaitable<void> stream_message_on_actor(std::shared_ptr<impl> self, std::string message,
                                                       std::int64_t stream_id);
  error transport_error(const error& e) const;
  /// Tells on_exchange (when set) how the exchange of `sent` (the request before credentials)
  /// ended.
  void traced(const http::request& sent, const result<http::response>& r,
              std::chrono::steady_clock::time_point started) const;
  std::string check_hint() const;
  error rejected_again(const http::response& resp) const;
  error rejected(const error& e) const;
  result<void> check_accepted(const http::response& resp, const std::string& method) const;
  /// The client capabilities fracta declares: the embedder's (set_client_capabilities), else
  /// elicitation (form) only when someone can answer.
  std::string client_capabilities() const;
  /// True when fracta answers form elicitation itself (someone at a terminal).
  bool can_elicit() const;
  void set_version(wire w, std::string version);
  /// Opens the conversation once (concurrent callers share it): the era probe, then initialize
  /// for a 2025 server. Returns the initialize or server/discover result.
  asio::awaitable<result<std::string>> do_open();
  asio::awaitable<result<std::string>> open_once();
  /// Forgets the conversation (and, with `verdict`, the cached era) so the next call reopens.
  void forget_session(bool verdict);
  /// A request in the conversation, on whichever wire it speaks: reopens once when the server
  /// forgot the session or stopped speaking the version.
  asio::awaitable<result<std::string>> call(const std::string& method, const std::string& params);
  asio::awaitable<result<tool_list>> do_list_tools(std::string cursor = {});
  /// A 2026-07-28 server: lists pages of tools until `name`'s schema is known (tool_schemas)
  /// or the list ends (at most max_tool_pages). Errors are the listing's.
  asio::awaitable<result<void>> find_tool_schema(std::string name);
  asio::awaitable<result<tool_result>> do_call_tool(std::string name, std::string args);
  asio::awaitable<void> do_close();
  /// Answers a server-to-client request (legacy streams): ping, elicitation when declared,
  /// a JSON-RPC error for anything else.
  asio::awaitable<void> answer_server_request(std::string message);
  asio::awaitable<result<std::string>> elicit(const std::string& params_json);

  // ---- the era probe and the stateless wire (session_open.cpp) ----
  /// server/discover at `version`: the verdict, and the result when modern.
  asio::awaitable<result<std::string>> probe(bool pinned);
  /// One stateless exchange: the answer message. `stale` is set when the server no longer
  /// speaks the version (a -32022, or a 2025-style refusal): the caller reopens.
  asio::awaitable<result<std::string>> modern_exchange(const std::string& method, const std::string& params,
                                                       bool& stale, std::shared_ptr<raw_request> raw = nullptr);
  /// A stateless request with its multi-round-trip retries: the complete result.
  asio::awaitable<result<std::string>> modern_call(const std::string& method, const std::string& params,
                                                   bool& stale);
  asio::awaitable<result<std::vector<std::pair<std::string, std::string>>>> fulfil(
      const std::vector<mcp::input_request>& requests);

  // ---- the 2025 wire (session_legacy.cpp) ----
  asio::awaitable<result<std::string>> initialize(std::string version);
  /// One request in the session: its result; `expired` is set when the server answered 404 to
  /// its id.
  asio::awaitable<result<std::string>> legacy_rpc(const std::string& method, const std::string& params,
                                                  bool& expired);
  /// The same exchange: the answer message (a result or a JSON-RPC error).
  asio::awaitable<result<std::string>> legacy_exchange(const std::string& method, const std::string& params,
                                                       bool& expired, std::shared_ptr<raw_request> raw = nullptr);
  asio::awaitable<result<void>> notify(const std::string& method);
  /// Opens the GET stream (once per session) and waits until the server has answered it, at
  /// most a few seconds; a server without one (405) is fine.
  asio::awaitable<void> ensure_listening();
  static asio::awaitable<void> listen(std::shared_ptr<impl> self, std::shared_ptr<core::async_event> ready,
                                      std::shared_ptr<core::async_event> done);
  /// Cancels the GET stream; close() then waits for its coroutine (it holds the actor).
  void stop_listening();
  /// Reconnects a stream cut before its answer (GET with Last-Event-ID), as the server allows.
  asio::awaitable<result<void>> resume(std::shared_ptr<mcp::answer_stream> stream, const std::string& method);

  // ---- the raw face: any request, any message (session_raw.cpp) ----
  asio::awaitable<result<rpc_answer>> do_request(std::string method, std::string params, request_options opts);
  asio::awaitable<result<rpc_answer>> raw_once(const std::string& method, const std::string& params,
                                               std::shared_ptr<raw_request> raw, bool& again);
  asio::awaitable<result<void>> do_post(std::string message);
  void do_cancel(std::uint64_t key);
  // ---- the pass-through (session_forward.cpp) ----
  asio::awaitable<result<forward_outcome>> do_forward(forward_request request);
  /// A 2025 request's cancellation: notifications/cancelled for its id (a plain coroutine).
  static asio::awaitable<void> send_cancelled(std::shared_ptr<impl> self, std::int64_t upstream_id);

  // ---- login, logout, status (session_auth.cpp) ----
  asio::awaitable<std::string> do_auth_status();
  error no_login() const;
  error op_error(const plugin::op_result& r, const std::string& what) const;
  asio::awaitable<result<login_outcome>> do_login(std::string options);
  asio::awaitable<std::optional<login_outcome>> reuse_other_login();
  asio::awaitable<result<login_outcome>> login_once(const std::string& options);
  asio::awaitable<result<void>> do_logout();
  asio::awaitable<result<exported_credentials>> do_export();
  /// Starts token_watch (engine::open, when the server has a token_file; `blocking` set).
  void watch_token_file();
  static asio::awaitable<void> token_file_changed(std::shared_ptr<impl> self);
};

}  // namespace fracta
