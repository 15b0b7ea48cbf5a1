// SPDX-License-Identifier: Apache-2.0
// What the aggregated endpoint's files share: the modern version, the list kinds, the gateway's
// serverInfo, a call's context and the SSE framing of its messages.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "fracta/json_writer.hpp"
#include "gateway/gateway.hpp"
#include "proxy/translate.hpp"

namespace fracta::gateway {

inline constexpr std::string_view modern_version = "2026-07-28";

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

/// Starts the SSE response of a call, once (later calls do nothing).
inline void open_event_stream(responder& out, std::atomic<bool>& streaming, const std::string& session_id) {
  if (streaming.exchange(true)) return;
  header_list h{{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  if (!session_id.empty()) h.emplace_back("Mcp-Session-Id", session_id);
  out.start(200, std::move(h));
}

}  // namespace fracta::gateway
