// SPDX-License-Identifier: Apache-2.0
// The embeddable engine: configured servers, their credential providers, and MCP sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "fracta/config.hpp"
#include "fracta/errors.hpp"
#include "fracta/plugins.hpp"
#include "fracta/result.hpp"

namespace fracta {

/// The outcome of tools/call. A value type (thread-compatible: one owner at a time).
struct tool_result {
  std::string result_json;  // the JSON-RPC `result` object, minified
  bool is_error = false;    // the tool said isError
  std::string text;         // every text content item, joined with "\n"
};

/// The outcome of tools/list. A value type (thread-compatible).
struct tool_list {
  struct tool {
    std::string name;
    std::string description;
    std::string input_schema_json = "{}";  // the tool's inputSchema, minified
  };
  std::string result_json;  // the JSON-RPC `result` object, minified
  std::vector<tool> tools;
  std::string next_cursor;  // the page's nextCursor: list_tools(next_cursor) gives the next; empty: the last page
};

/// A JSON-RPC answer exactly as the server gave it. A value type (thread-compatible).
struct rpc_answer {
  bool is_error = false;  // true: `json` is the `error` object; false: the `result`
  std::string json;       // minified
};

/// Options of one mcp_session::request(). A value type, moved into the call; its callback then
/// runs on the session's actor.
struct request_options {
  /// Hears what the server sends on this request's stream besides the answer, as JSON-RPC
  /// message texts: notifications (progress, log messages) and, from a 2025 server, requests
  /// (elicitation, sampling, roots; answer each with mcp_session::post). Called on the
  /// session's actor, in the order the server sent them; must not block. Unset: they go to
  /// the session's message handler.
  std::function<void(std::string message_json)> on_message;
  /// Nonzero: mcp_session::cancel(cancel_key) ends this request. Unique among the requests
  /// in flight on one session.
  std::uint64_t cancel_key = 0;
  /// A 2026-07-28 server: the clientCapabilities this request declares (a JSON object), for
  /// a bridge relaying its host's; empty: the session's (set_client_capabilities).
  std::string client_capabilities_json;
};

/// One HTTP request relayed to the server as a client sent it (a gateway's pass-through).
/// fracta adds the server's configured headers and its credential, and nothing else. A value
/// type, moved into the call; its callbacks run on the engine's HTTP thread, in order, and must
/// not block.
struct forward_request {
  std::string method = "POST";  // POST, GET or DELETE
  /// The client's end-to-end header fields. The caller leaves out what belongs to its own hop:
  /// Host, Authorization, Cookie, Content-Length, Transfer-Encoding and hop-by-hop fields.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// The server's response status and header fields, once, before any of its body. A 401 or
  /// 403 is never relayed: the provider is consulted, the request retried once, and a second
  /// refusal is the call's error (errc::needs_login or auth_failed).
  std::function<void(long status, const std::vector<std::pair<std::string, std::string>>& headers)> on_headers;
  /// The response body as it arrives (fracta keeps none of it).
  std::function<void(std::string_view chunk)> on_body;
  /// Nonzero: mcp_session::cancel(cancel_key) ends it (the client went away). Unique among
  /// the session's requests in flight, as request_options::cancel_key.
  std::uint64_t cancel_key = 0;
};

/// How a relayed request ended. A value type.
struct forward_outcome {
  long status = 0;  // the status relayed through on_headers
};

/// Where a server stands, for those who watch it (a gateway's readiness, an embedder's UI).
enum class server_state {
  starting,     // not yet spoken to
  ready,        // the last exchange worked
  refreshing,   // a credential refresh is running
  needs_login,  // the credential is gone or refused: a login fixes it (detail names the command)
  failing,      // the last exchange or refresh failed; a background refresh retries at retry_at
};
/// "starting", "ready", "refreshing", "needs_login" or "failing". Thread-safe.
std::string_view to_string(server_state s) noexcept;

/// A server's state with its reason. A value type (thread-compatible): status() returns a copy.
struct server_status {
  server_state state = server_state::starting;
  std::string detail;                  // why, for needs_login and failing (never a secret)
  std::int64_t retry_at_unix_ms = 0;   // failing: when the background refresh tries again (0: none)
};

/// The level of an engine_options::log line.
enum class log_level : std::int32_t { debug = 10, info = 20, warn = 30, error = 40 };

/// The outcome of an interactive login. A value type (thread-compatible).
struct login_outcome {
  std::string message;                 // for people, e.g. "logged in to https://as.example.com (scopes: read)"
  std::int64_t expires_at_unix_ms = 0;  // the new token's expiry; 0 = unknown
};

/// The credentials a session's provider holds, handed over for another machine (`fracta
/// config mcp auth export`). Holds secrets: print it only where the user asked for it, and
/// never log it. A value type (thread-compatible).
struct exported_credentials {
  struct item {
    std::string name;  // files: a file name ([a-z0-9._-]); fields: an auth-table key
    std::string text;
  };
  /// What the auth table reads back from files, e.g. token.json (token_file) and
  /// client-registration.json (client_registration_file), in the provider's order.
  std::vector<item> files;
  /// The same credentials as auth-table keys (access_token, refresh_token, expires_at,
  /// client_id, client_secret, issuer), for injection through the environment.
  std::vector<item> fields;
};
/// A user attached to the engine (the CLI), for interactive logins. When `enabled`, the host
/// lends providers the interactive services (open a browser, show a device code, the loopback
/// redirect listener); otherwise those stay NULL (gateways, embedders without a user).
/// Set before the engine is built (it keeps them); each callback says where it is called.
struct interactive_options {
  bool enabled = false;
  /// Never start a browser: print the URL, and accept the redirect URL pasted on stdin too.
  bool no_browser = false;
  /// Writes one line for the user (the CLI: stderr). Called on the engine's threads, one call
  /// at a time (shared with engine_options::log).
  std::function<void(std::string_view)> say;
  /// Answers a server's form elicitation (`elicitation/create` params, JSON) with an
  /// ElicitResult (JSON: {"action":"accept","content":{…}}, or decline, or cancel). Called on
  /// the blocking pool, one call at a time; it may wait for the user. Set it only when someone
  /// can answer (a terminal): without it fracta declares no elicitation capability.
  std::function<std::string(std::string_view params_json)> elicit;
  /// Hears a tool's progress while a call runs (one printable line, e.g. "progress 3/10:
  /// copying"), on the server's actor. When set, tools/call asks the server for progress
  /// (a progressToken); the CLI sets it when standard error is a terminal.
  std::function<void(std::string_view line)> progress;
  /// While a login waits for the browser's redirect: the seconds left, about once a second on
  /// the engine's threads, then -1 when the wait ends (before the login's outcome). The CLI
  /// sets it when standard error is a terminal, for its countdown line. Must not block.
  std::function<void(std::int64_t seconds_left)> countdown;
  /// Another way the user can raise a request's deadline, in the embedder's terms (the CLI:
  /// "per command with --request-timeout"); a timeout's message names it after the server's
  /// timeout_seconds. Empty: only the config is named.
  std::string timeout_advice;
};

/// One MCP session with one remote server, over Streamable HTTP. Owns the server's actor:
/// every operation runs on the session's strand, so calls from any thread are safe, and the
/// loop may be run by any number of threads; several operations may be in flight at once
/// (they interleave on the strand and share one initialize). Credentials are applied to every
/// request; a 401/403 consults the provider and retries once. Error messages never contain a
/// credential the session sent, its session id, or the URL's userinfo or query. Each operation
/// holds the session's actor from the moment it is called: the mcp_session object may be
/// destroyed while operations are in flight.
/// Thread-safe.
class mcp_session final {
 public:
  /// Releases the session on its actor: the provider's teardown (its destroy()) runs there,
  /// right away when the actor is idle, else once the handler it is running has returned
  /// (this waits for that; the loop must keep running meanwhile). Operations still in flight
  /// keep the session alive until they finish; so does a 2025 session's GET stream (open when
  /// `interactive_options::elicit` can answer), which this cancels: run the loop until it has
  /// ended, or close() first, which waits for it. Any thread, once no other call on this
  /// object is running (one owner destroys it, as with any C++ object).
  ~mcp_session();
  mcp_session(const mcp_session&) = delete;
  mcp_session& operator=(const mcp_session&) = delete;

  /// The configured name. Thread-safe (immutable).
  const std::string& server_name() const noexcept;

  /// Opens the conversation: asks the server which era it speaks (server/discover, unless
  /// remote.protocol pins a version or an earlier session learnt it), then for a 2025 server
  /// initialize + notifications/initialized. Returns the DiscoverResult or the initialize
  /// result (JSON; "{}" when the era was already known to be stateless). Called implicitly by
  /// list_tools/call_tool when needed. Thread-safe (runs on the session's actor; the caller
  /// resumes on its own executor), like every awaitable operation below.
  asio::awaitable<result<std::string>> initialize();
  /// tools/list: the page at `cursor` (a next_cursor the server gave; empty: the first page).
  /// Thread-safe.
  asio::awaitable<result<tool_list>> list_tools(std::string cursor = {});
  /// tools/call with arguments given as a JSON object text (validated here). Thread-safe.
  asio::awaitable<result<tool_result>> call_tool(std::string name, std::string arguments_json);
  /// Ends the session (HTTP DELETE with the session id, best effort) and its GET stream.
  /// Thread-safe.
  asio::awaitable<void> close();

  // ---- The raw face, for bridges and embedders: any request, any message. ----

  /// Sends any JSON-RPC request in the conversation (opened first when needed), on whichever
  /// era the server speaks, and returns its answer as the server gave it: a JSON-RPC error is
  /// an rpc_answer, not an error. `params_json` is a JSON object text or empty. To a
  /// 2026-07-28 server, params._meta gains the protocol version, client capabilities and
  /// clientInfo (other _meta members such as progressToken are kept) and the Mcp-* headers
  /// are derived; an input_required result is returned as it is (retry with a new request
  /// carrying inputResponses and requestState); a tools/list result leaves out the tools whose
  /// x-mcp-header annotations make them uncallable. To a 2025 server, params go as given.
  /// Errors: errc::needs_login (the message names the command that fixes it), auth_failed,
  /// transport (timeouts too), protocol, cancelled (cancel() was called). Thread-safe.
  asio::awaitable<result<rpc_answer>> request(std::string method, std::string params_json,
                                              request_options options = {});
  /// Relays one HTTP request to the server's URL with credentials (see forward_request), for
  /// a pass-through that leaves the conversation to its client: fracta opens no session and
  /// probes nothing. A GET (a stream) has no exchange deadline; POST and DELETE have the
  /// server's timeout_seconds. Errors: errc::needs_login (naming the command that fixes it),
  /// auth_failed, transport, cancelled (cancel() was called); once on_headers was called, an
  /// error means the body was cut. Thread-safe.
  asio::awaitable<result<forward_outcome>> forward(forward_request request);
  /// Sends a JSON-RPC notification or a response to a server request (`message_json`, a whole
  /// message). A 2025 server receives it in the session; a 2026-07-28 server has neither
  /// client notifications nor server requests, so it is dropped (cancel a request with
  /// cancel()). Thread-safe.
  asio::awaitable<result<void>> post(std::string message_json);
  /// Ends the request started with request_options::cancel_key `key`: its stream is closed (a
  /// 2026-07-28 server reads that as the cancellation), and a 2025 server also receives
  /// notifications/cancelled for it. The request completes with errc::cancelled. Unknown or
  /// finished keys are ignored. Thread-safe; returns at once.
  void cancel(std::uint64_t key);
  /// Hears the messages that belong to no request of ours (a 2025 session's GET stream:
  /// notifications such as list_changed, and server requests, answered with post()), on the
  /// session's actor; must not block. With a handler, a 2025 session always opens its GET
  /// stream, and server requests are left to the embedder instead of answered by fracta. Call
  /// before the first operation (not thread-safe: it is not synchronised with the actor).
  void set_message_handler(std::function<void(std::string message_json)> handler);
  /// The client capabilities the session declares (a JSON object text, e.g. a bridge's host's),
  /// instead of fracta's own. Call before the first operation (not thread-safe).
  void set_client_capabilities(std::string capabilities_json);

  /// The provider's status document (a JSON object, never a secret) plus "server" and
  /// "store" ("keyring", "file <path>" or "memory"; "unavailable" with "store_error" when no
  /// store can be used). Never contacts the MCP server. Thread-safe.
  asio::awaitable<std::string> auth_status();

  /// Interactive login through the provider (`options_json`: {"scopes":[…],"timeout_ms":…,
  /// "device":…}, every field optional). Never contacts the MCP server itself. Concurrent
  /// logins for one server share one run; another process logging in to the same server is
  /// waited for, and its result reused when it left a usable credential. Afterwards the
  /// session's credential is usable at once. Errors: errc::unsupported when the auth type has
  /// no login; needs_login, auth_failed, transport (timeouts too), config, cancelled.
  /// Thread-safe.
  asio::awaitable<result<login_outcome>> login(std::string options_json);
  /// Forgets the server's stored credentials (provider logout). errc::unsupported when the
  /// auth type stores nothing. Thread-safe.
  asio::awaitable<result<void>> logout();
  /// The credentials the provider holds (its store, or the token_file it read), to move
  /// them to another machine. Never contacts a server. Errors: errc::unsupported when the
  /// auth type has nothing to export (its secrets are in the config); needs_login when
  /// nothing is held (the message names the login command); protocol for a provider's
  /// malformed answer. Thread-safe.
  asio::awaitable<result<exported_credentials>> export_credentials();
  /// True when the server's provider offers an interactive login. Thread-safe (immutable).
  bool can_login() const noexcept;

  /// Where the server stands now. Thread-safe.
  server_status status() const;
  /// Hears every change of status (not the initial `starting`: read status() for it), on the
  /// session's actor; must not block. Call before the first operation (not thread-safe).
  void watch_status(std::function<void(const server_status&)> watcher);

  /// The negotiated protocol version ("" before the conversation is open). Thread-safe.
  std::string protocol_version() const;
  /// "modern" (the stateless 2026-07-28 wire), "legacy" (initialize and a session), or "".
  /// Thread-safe.
  std::string era() const;

 private:
  struct impl;
  friend class engine;
  explicit mcp_session(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

/// How the engine talks back to its embedder. Set before the engine is built (it keeps a copy).
/// One HTTP exchange made for a server, once it ended: what `fracta -v` prints. Never holds a
/// secret: no header value, no body, the URL without userinfo or query. The views are valid
/// during the call only.
struct exchange_info {
  std::string_view server;   // the configured server's name
  /// The JSON-RPC method ("tools/call"), with " (notification)" when no answer is awaited;
  /// "response" (an answer to the server's request), "stream" (a GET stream), "end of session"
  /// (DELETE); for the provider's own requests its type ("oauth").
  std::string_view purpose;
  std::string_view protocol_version;  // the MCP version the request spoke; empty for a provider's
  std::string_view method;            // "POST"
  std::string_view url;               // without userinfo or query
  long status = 0;                    // 0: no response (error says why)
  std::int64_t elapsed_ms = 0;        // from sending to the end of the response (or the failure)
  std::string_view error;
};

struct engine_options {
  /// Receives engine and plugin log lines, on the engine's threads (loop and blocking pool), one
  /// call at a time. Never receives secret values.
  std::function<void(log_level, std::string_view)> log;
  /// Hears every HTTP exchange made for a server (the session's and its provider's) as it
  /// ends, on the loop's threads, one call at a time (shared with log). Must not block.
  std::function<void(const exchange_info&)> on_exchange;
  /// The user, for interactive logins (the CLI); disabled by default.
  interactive_options interactive;
};

/// What engine::forget_credentials() erased. A value type (thread-compatible).
struct forgotten_credentials {
  std::string store;      // where the server's items were: "keyring", "file <path>" or "memory"
  std::size_t items = 0;  // how many items were erased (0: nothing was stored)
};

/// A document engine::fetch() read. A value type (thread-compatible).
struct fetched_document {
  long status = 0;             // the HTTP status (any status is a document)
  std::string content_type;    // the Content-Type field, empty when absent
  std::string cache_control;   // the Cache-Control field, empty when absent
  std::string body;
};

/// Loads plugins once and opens sessions to configured servers. Thread-safe after construction;
/// the executor may be run by any number of threads.
class engine final {
 public:
  /// Loads every plugin on the search path for `cfg`. Does not contact any server. Blocking
  /// (dlopen, disk): build it before the loop runs, or off the loop's threads.
  engine(asio::any_io_executor ex, config::config cfg, engine_options opts = {});
  /// Joins the blocking pool. Destroyed by one owner, after every session it opened.
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// The configuration it was built with. Thread-safe (immutable).
  const config::config& configuration() const noexcept;
  /// The loaded plugins. Thread-safe (immutable).
  const plugin_registry& plugins() const noexcept;

  /// Creates the server's actor and its provider instance (which validates its auth table and
  /// resolves its secrets). Errors: errc::config naming the file, server and key.
  /// A session must not outlive the engine that opened it. Thread-safe.
  result<std::unique_ptr<mcp_session>> open(std::string_view server_name);

  /// Erases every credential item stored for the server `server_name` (under any URL it had
  /// when they were stored) from the store that server uses: its keyring or encrypted file
  /// items, on the blocking pool, or its in-memory items. Does not contact any server and
  /// does not touch open sessions. Errors: errc::config for an unknown server or a store that
  /// cannot be opened (no key: the message says what to set); errc::transport when the store
  /// does not answer. Thread-safe.
  asio::awaitable<result<forgotten_credentials>> forget_credentials(std::string server_name);

  /// GETs `url` for the embedder (a JWKS, a metadata document) with the engine's HTTP client and
  /// no credential: https, or http to a loopback address; at most 1 MiB within 10 s; link-local
  /// addresses (cloud metadata) refused. Errors: errc::transport naming the URL and why.
  /// Thread-safe.
  asio::awaitable<result<fetched_document>> fetch(std::string url);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fracta
