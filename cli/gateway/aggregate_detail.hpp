// SPDX-License-Identifier: Apache-2.0
// What aggregate.cpp and aggregate_lists.cpp share: the modern version, the list kinds, the
// gateway's serverInfo and the SSE framing of one message.
#pragma once

#include <string>
#include <string_view>

#include "fracta/json_writer.hpp"

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

}  // namespace fracta::gateway
