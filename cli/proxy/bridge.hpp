// SPDX-License-Identifier: Apache-2.0
// The stdio bridge: a host's JSON-RPC messages to one remote server and back, translated
// between the host's MCP era (its first message decides) and the server's (the engine's
// probe): requests and ids, server requests ↔ input_required, subscriptions, cancellation.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>

#include "fracta/engine.hpp"
#include "proxy/stdio.hpp"
#include "proxy/translate.hpp"

namespace fracta::proxy {

struct bridge_options {
  std::string server;      // the server's name, for messages
  std::string login_hint;  // the command that logs in, named in the error a host receives
  bool may_login = true;   // open a browser when the server needs a login (--no-login: never)
  std::string login_json;  // mcp_session::login options
  std::function<void(std::string_view)> say;  // one line for the person (stderr)
};

/// Loop-bound: every member runs on the io_context's one thread (the proxy runs its loop with
/// one thread; the session's callbacks are posted back to it).
class bridge final {
 public:
  bridge(asio::io_context& io, mcp_session& session, line_writer& out, bridge_options options);
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// One line from the host.
  void on_line(std::string line);
  /// A line over the size limit was dropped.
  void on_oversize(std::size_t bytes);
  /// The host closed stdin: in-flight requests are cancelled, the session closed, then `done`.
  void on_eof(std::function<void()> done);

 private:
  enum class era { unknown, legacy, modern };

  // A 2025 host asked a 2026 server's input requests: woken when every answer is in, or when
  // the call is cancelled or the host went away (abandoned).
  struct host_questions {
    explicit host_questions(asio::io_context& io) : wake(io, std::chrono::steady_clock::time_point::max()) {}
    asio::steady_timer wake;
    std::vector<std::pair<std::string, std::string>> answers;  // key, result
    std::vector<std::string> ids;                              // ours, as asked
    std::size_t outstanding = 0;
    bool failed = false, abandoned = false;
  };  // A host request while the server works on it. `host_id` moves to the retry when a 2026 host
  // answers an input_required the bridge made of a 2025 server's requests.
  struct call {
    std::string host_id, method, params;
    std::uint64_t key = 0;
    // The shim (2026 host, 2025 server): the server's requests not yet put to the host, and
    // those put (by key) awaiting the host's retry.
    struct input {
      std::string key, upstream_id, method, params;
    };
    std::deque<input> queued;
    std::map<std::string, input> asked;
    std::string state_token;  // the requestState the host must echo
    bool awaiting_retry = false;
    std::optional<std::string> final_reply;  // the answer, held while awaiting_retry
    // A listen forwarded to a 2026 server: notifications carry the host's id.
    bool is_listen = false;
    std::shared_ptr<host_questions> asking;
    bool cancelled = false;      // by the host
    std::string refused_input;   // a server's input request the host declared no capability for  // while a 2025 host answers a 2026 server's questions
  };
  // Questions put to the host (a 2025 host): the answer's handler by our id.
  using answer_handler = std::function<void(const message&)>;


  // ---- bridge.cpp ----
  void decide_era(const message& m);
  void on_notification(const message& m);
  void on_host_answer(const message& m);
  static asio::awaitable<void> handle(bridge* self, message m);
  /// A 2026 host's request the bridge refuses (no version, or one it does not speak).
  std::optional<std::string> refusal(const message& m) const;
  asio::awaitable<bool> ensure_open(const message& m);
  asio::awaitable<void> local_or_forward(const message& m);
  asio::awaitable<void> forward(std::shared_ptr<call> c);
  asio::awaitable<std::optional<std::string>> ask_host(std::shared_ptr<call> c, const std::string& input_required_json);
  /// Ends a call the host cancelled (or left): its upstream request, and questions put to the host.
  void abandon(const std::shared_ptr<call>& c);
  void reply(const std::shared_ptr<call>& c, std::string text);
  void reply_error(const std::string& id, const error& e);
  void start_login();
  static asio::awaitable<void> login_task(bridge* self);
  void write(std::string text) { out_.write(std::move(text)); }
  bool upstream_modern() const { return session_.era() == "modern"; }
  std::string new_host_facing_id();
  void finished_one();

  // ---- bridge_streams.cpp: what the server sends besides answers ----
  void on_call_message(const std::shared_ptr<call>& c, std::string text);
  void on_session_message(std::string text);
  void server_request_to_host(const message& m, const std::shared_ptr<call>& c);
  /// A server's notifications/cancelled, for a request it put to the host (true: handled).
  bool server_cancelled(const message& m);
  void shim_ask(const std::shared_ptr<call>& c);
  bool shim_retry(const message& m);
  asio::awaitable<void> listen_locally(const message& m);
  void end_local_listen(const std::string& host_id);
  void notify_listeners(const message& m);
  void restart_upstream_listen();
  static asio::awaitable<void> upstream_listen(bridge* self, std::uint64_t key, std::string params);

  asio::io_context& io_;
  mcp_session& session_;
  line_writer& out_;
  bridge_options opts_;

  era host_ = era::unknown;
  std::string host_version_;     // a 2025 host: the version it asked for
  std::string host_capabilities_ = "{}";
  bool capabilities_set_ = false;
  std::string open_result_;      // the server's initialize or server/discover result
  std::optional<std::string> log_level_;  // logging/setLevel, for a 2026 server (as _meta)
  std::uint64_t next_key_ = 1;
  std::int64_t next_out_id_ = 1;
  std::map<std::string, std::shared_ptr<call>> calls_;  // by host id
  std::map<std::string, std::shared_ptr<call>> shims_;  // by requestState token
  std::map<std::string, answer_handler> asked_;         // by our id
  std::map<std::string, std::string> forwarded_;        // a server's request id → ours (2025 host)
  // A 2026 host listening on a 2025 server: its filters, by the listen request's id.
  struct listen_filter {
    bool tools = false, prompts = false, resources = false;
    std::set<std::string> uris;
  };
  std::map<std::string, listen_filter> listens_;
  // A 2025 host on a 2026 server: the bridge's own listen, and the URIs subscribed.
  std::set<std::string> subscribed_;
  std::uint64_t upstream_listen_key_ = 0;
  int running_ = 0;
  bool eof_ = false, login_running_ = false;
  std::function<void()> done_;
};

}  // namespace fracta::proxy
