// SPDX-License-Identifier: Apache-2.0
// The request headers of the modern Streamable HTTP wire (SEP-2243): standard headers, the
// base64 sentinel encoding, and the Mcp-Param-* headers that tools declare with x-mcp-header.
#pragma once
#include <fracta/proto/fields.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/internal.hpp"

namespace fracta::mcp {

/// Value for Mcp-Name / Mcp-Param-*: the text itself when it is safe, else
/// "=?base64?<standard base64 of the UTF-8>?=". Unsafe: any non-ASCII byte, any control
/// character (CR, LF and TAB included, DEL too), a leading or trailing space or tab, or text
/// that itself looks like the sentinel (starts with "=?base64?" and ends with "?=", compared
/// case-insensitively). The empty text is safe. Thread-safe.
[[nodiscard]] std::string header_value(std::string_view text);

/// MCP-Protocol-Version and Mcp-Method, and Mcp-Name = params.name for tools/call and
/// prompts/get, = params.uri for resources/read (through header_value; left out when that
/// member is not a string). `params_json` is the params object text ("{}" or empty for none).
/// Thread-safe.
[[nodiscard]] std::vector<http::header> standard_headers(std::string_view version,
                                                         std::string_view method,
                                                         std::string_view params_json);

/// Why a tool's inputSchema (JSON text) has an invalid x-mcp-header, or nullopt when every
/// one is valid or there are none. Invalid: a value that is not a non-empty RFC 9110 token;
/// two values equal ignoring case; one on a property whose "type" is not "string", "integer"
/// or "boolean"; one not reached from the root through `properties` alone (under items,
/// oneOf/anyOf/allOf/not, if/then/else, $defs, additionalProperties… or on the root itself).
/// A schema that is not a JSON object is invalid too. The reason is short, printable, and
/// names the property path. Thread-safe.
[[nodiscard]] std::optional<std::string> invalid_x_mcp_header(std::string_view input_schema_json);

/// The Mcp-Param-<X> headers of a tools/call: one per x-mcp-header property whose value is
/// present in `arguments_json` at the same path of properties. Absent, null, object or array
/// values give no header; a string goes through header_value, an integer is written in
/// decimal, a boolean as true/false (a non-integral number as its JSON text). Headers come in
/// the schema's document order. Call only for schemas invalid_x_mcp_header accepted.
/// Thread-safe.
[[nodiscard]] std::vector<http::header> param_headers(std::string_view input_schema_json,
                                                      std::string_view arguments_json);

}  // namespace fracta::mcp
