// SPDX-License-Identifier: Apache-2.0
// MCP messages as plain functions: JSON-RPC bodies, the initialize parameters, tool results and
// lists, and finding the answer to a request in a JSON or SSE body.
#pragma once
#include "core/internal.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "fracta/engine.hpp"
#include "fracta/result.hpp"
#include "http/client.hpp"
#include "mcp/redact.hpp"

namespace fracta::mcp {

inline constexpr std::array<std::string_view, 3> supported_versions = {"2025-11-25", "2025-06-18", "2025-03-26"};

error make_err(errc c, std::string msg);

std::string request_body(std::int64_t id, const std::string& method, const std::string& params_json);
std::string notification_body(const std::string& method);
std::string initialize_params();
/// {"name":…,"arguments":…}; errc::config when the arguments are not a JSON object.
result<std::string> call_params(const std::string& name, const std::string& args);
tool_result parse_tool_result(const std::string& result_json);
tool_list parse_tool_list(const std::string& result_json);

/// The JSON-RPC `result` of the answer with `id` (minified), found in a JSON body or in the SSE
/// `message` events. `where` prefixes errors; server text in them goes through server_text().
/// `note` hears about other server messages (debug lines).
result<std::string> read_answer(const http::response& resp, std::int64_t id, std::string_view method,
                                const std::string& where, const secret_list& sent,
                                const std::function<void(const std::string&)>& note);

/// The protocol version an initialize result names, when fracta speaks it.
result<std::string> negotiated_version(const std::string& initialize_result_json, const std::string& where,
                                       const secret_list& sent);

}  // namespace fracta::mcp
