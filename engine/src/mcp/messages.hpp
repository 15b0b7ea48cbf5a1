// SPDX-License-Identifier: Apache-2.0
// MCP messages as plain functions: JSON-RPC bodies, the initialize parameters, tool results and
// lists, and finding the answer to a request in a JSON or SSE body.
#pragma once
#include "core/internal.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "fracta/result.hpp"
#include "http/client.hpp"
#include "mcp/redact.hpp"
#include "mcp/stream.hpp"

namespace fracta::mcp {

inline constexpr auto& legacy_versions = config::legacy_protocol_versions;
inline constexpr auto& modern_versions = config::modern_protocol_versions;
bool is_modern_version(std::string_view v);

error make_err(errc c, std::string msg);

std::string request_body(std::int64_t id, const std::string& method, const std::string& params_json);
std::string notification_body(const std::string& method);
/// initialize params at `version`, declaring `capabilities_json`.
std::string initialize_params(std::string_view version, std::string_view capabilities_json);
/// A JSON-RPC response to a server request: `result_json` when set, else error `code`/`message`.
std::string response_body(std::string_view id_json, const std::optional<std::string>& result_json, int code,
                          std::string_view message);
/// {"name":…,"arguments":…[,"_meta":{"progressToken":…}]}; errc::config when the arguments are
/// not a JSON object.
result<std::string> call_params(const std::string& name, const std::string& args,
                                const std::string& progress_token = {});
tool_result parse_tool_result(const std::string& result_json);
/// The tools of a tools/list result. With `drop`, tools for which it returns a reason are left
/// out (of `tools` and of `result_json`) and `note` hears about each.
tool_list parse_tool_list(const std::string& result_json,
                          const std::function<std::optional<std::string>(std::string_view schema)>& drop = {},
                          const std::function<void(const std::string&)>& note = {});

/// The answer message of an exchange: the one `stream` caught, else the message answering the
/// stream's request in a JSON body; nullopt when the body holds none. Errors: a Content-Type
/// that is neither JSON nor an event stream, a JSON body that is not JSON.
result<std::optional<std::string>> answer_message(const http::response& resp, answer_stream& stream,
                                                  std::string_view method, const std::string& where,
                                                  const secret_list& sent);
/// The `result` of an answer message (minified), or its `error` as errc::remote (server text
/// through server_text()); for resources/read, -32602 and -32002 both read as "not found".
result<std::string> answer_result(const std::string& message, std::string_view method, const std::string& where,
                                  const secret_list& sent);
/// The JSON-RPC error code of an answer message, if it is an error.
std::optional<std::int64_t> error_code(const std::string& message);

/// The protocol version an initialize result names, when fracta speaks it.
result<std::string> negotiated_version(const std::string& initialize_result_json, const std::string& where,
                                       const secret_list& sent);

}  // namespace fracta::mcp
