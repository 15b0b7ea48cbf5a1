// SPDX-License-Identifier: Apache-2.0
// The server actor behind mcp_session: its state and operations. session.cpp has the MCP
// exchanges, session_auth.cpp the login, logout and status; engine.cpp creates it.
#pragma once
#include "core/internal.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "auth/credential.hpp"
#include "core/actor.hpp"
#include "core/async.hpp"
#include "core/clock.hpp"
#include "fracta/engine.hpp"
#include "http/client.hpp"
#include "mcp/redact.hpp"
#include "plugin/instance.hpp"
#include "store/select.hpp"

namespace fracta {

/// What a session shares with the engine that opened it, so that its teardown (posted to its
/// strand when ~mcp_session finds it busy) may run after the engine is gone.
struct session_resources {
  std::shared_ptr<http::client> http;
  std::shared_ptr<const config::server> server;  // a copy; the provider instance borrows it
  std::shared_ptr<plugin::memory_store> memory;  // the instance's memory store
};

/// Actor-bound: every member runs on `strand`, except those marked otherwise.
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

  std::string session_id;
  std::string protocol_version;
  std::string initialize_result;
  bool initialized = false;
  core::single_flight<result<std::string>> init_flight;
  std::int64_t next_id = 1;
  mutable std::mutex version_mutex;  // protocol_version() may be read from other threads
  mcp::secret_list sent;             // every credential sent so far, and the session id

  // Login and stores (set by engine::open).
  asio::any_io_executor blocking;
  store::selector* stores = nullptr;
  const interactive_options* interactive = nullptr;
  core::single_flight<result<login_outcome>> login_flight;

  void say(const std::string& line) const;
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

  // ---- MCP exchanges (session.cpp) ----
  http::request make_request(std::string method, std::string body) const;
  asio::awaitable<result<http::response>> send_authorized(const std::string& method, const std::string& body);
  error transport_error(const error& e) const;
  std::string check_hint() const;
  error rejected_again(const http::response& resp) const;
  error rejected(const error& e) const;
  result<void> check_accepted(const http::response& resp, const std::string& method) const;
  result<std::string> answer_for(const http::response& resp, std::int64_t id, const std::string& method,
                                 const std::string& sent_session);
  asio::awaitable<result<std::string>> rpc(const std::string& method, const std::string& params_json,
                                           bool& expired);
  asio::awaitable<result<void>> notify(const std::string& method);
  asio::awaitable<result<std::string>> do_initialize();
  asio::awaitable<result<std::string>> initialize_once();
  asio::awaitable<result<std::string>> rpc_in_session(const std::string& method, const std::string& params);
  void forget_session();
  asio::awaitable<result<tool_list>> do_list_tools();
  asio::awaitable<result<tool_result>> do_call_tool(std::string name, std::string args);
  asio::awaitable<void> do_close();

  // ---- login, logout, status (session_auth.cpp) ----
  asio::awaitable<std::string> do_auth_status();
  error no_login() const;
  error op_error(const plugin::op_result& r, const std::string& what) const;
  asio::awaitable<result<login_outcome>> do_login(std::string options);
  asio::awaitable<std::optional<login_outcome>> reuse_other_login();
  asio::awaitable<result<login_outcome>> login_once(const std::string& options);
  asio::awaitable<result<void>> do_logout();
};

}  // namespace fracta
