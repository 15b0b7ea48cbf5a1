// SPDX-License-Identifier: Apache-2.0
// What the aggregated endpoint's files share: the modern version, the list kinds, the gateway's
// serverInfo, a call's context and the SSE framing of its messages.
#pragma once

#include <openssl/rand.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"
#include "gateway/gateway.hpp"
#include "proxy/translate.hpp"

namespace fracta::gateway {

inline constexpr std::string_view modern_version = "2026-07-28";
inline constexpr int max_input_rounds = 8;  // a server that keeps asking is cut off

/// The string a JSON text (a member's raw value) holds, or "" when it is not a string.
inline std::string unquoted(const std::optional<std::string>& raw) {
  if (!raw || raw->size() < 2 || raw->front() != '"') return {};
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (!json::parse(p, *raw, e).empty() || !e.is_string()) return {};
  return std::string(e.get_string().value_unsafe());
}

/// The capability a client must have declared to be asked `method` (a server's question), or ""
/// for one never put to a client.
inline std::string_view capability_for(std::string_view method) {
  if (method == "elicitation/create") return "elicitation";
  if (method == "sampling/createMessage") return "sampling";
  if (method == "roots/list") return "roots";
  return "";
}

/// 128 random bits in hex: a session id, a requestState handle. Throws when there is no randomness.
inline std::string random_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for an id");
  char hex[2 * sizeof bytes + 1];
  return sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
}

struct kind_info {
  std::string_view method;      // the list method
  std::string_view key;         // the result's array
  std::string_view capability;  // the server capability that offers it
};
inline constexpr kind_info kinds[] = {{"tools/list", "tools", "tools"},
                                      {"prompts/list", "prompts", "prompts"},
                                      {"resources/list", "resources", "resources"},
                                      {"resources/templates/list", "resourceTemplates", "resources"}};

inline std::string server_info() {
  json::writer w;
  w.begin_object().key("name").value("fracta-gateway").key("version").value(FRACTA_VERSION).end_object();
  return w.take();
}

inline std::string sse_event(std::string_view message) {
  std::string out = "event: message\ndata: ";
  out += message;
  out += "\n\n";
  return out;
}

/// One request to /mcp on its way through (aggregate.cpp, aggregate_input.cpp).
struct gateway::call_context {
  http_request req;
  std::shared_ptr<responder> out;
  proxy::message msg;
  bool modern = false;
  std::string version;
  std::string session_id;
  std::string capabilities = "{}";
  int status = 200;  // for an error the gateway answers itself
  std::shared_ptr<std::atomic<bool>> streaming = std::make_shared<std::atomic<bool>>(false);
  bool accepts_sse = false;
  // Set when the client cancelled the call or went away (a wait for its answers ends).
  std::shared_ptr<std::atomic<bool>> abandoned = std::make_shared<std::atomic<bool>>(false);
  bool holding = false;  // the response stays open past the handler (a subscriptions/listen stream)
};

/// A 2026-07-28 client's call to a 2025 server that asked the client something
/// (aggregate_parked.cpp): the upstream call goes on while the client answers.
struct parked_call {
  explicit parked_call(asio::io_context& io)
      : strand(asio::make_strand(io)),
        wake(strand, asio::steady_timer::time_point::max()),
        expiry(strand, asio::steady_timer::time_point::max()) {}
  asio::strand<asio::io_context::executor_type> strand;  // the members up to `generation` are touched on it
  asio::steady_timer wake;    // cancelled when a question or the answer arrives
  asio::steady_timer expiry;  // the client's time to come back with the answers
  struct question {
    std::string upstream_id;  // as the server wrote it
    std::string method;
    std::string params;
  };
  std::vector<question> queued;              // asked by the server, not yet put to the client
  std::map<std::string, std::string> asked;  // inputRequests key → the server's request id
  std::optional<result<rpc_answer>> answer;  // the server's answer to the call
  std::uint64_t next_key = 1;                // of inputRequests
  std::uint64_t generation = 0;              // bumped by each retry: an older expiry does nothing
  int rounds = 0;                            // retries so far (under the gateway's mutex)
  // Set before the call starts, then only read:
  std::shared_ptr<upstream> up;
  std::uint64_t cancel_key = 0;
  std::string principal, method, name;  // what its requestState is bound to
  std::chrono::steady_clock::time_point started;
};

/// Starts the SSE response of a call, once (later calls do nothing).
inline void open_event_stream(responder& out, std::atomic<bool>& streaming, const std::string& session_id) {
  if (streaming.exchange(true)) return;
  header_list h{{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  if (!session_id.empty()) h.emplace_back("Mcp-Session-Id", session_id);
  out.start(200, std::move(h));
}

}  // namespace fracta::gateway
