// SPDX-License-Identifier: Apache-2.0
// The bridge's message rewrites between a host's MCP era and the server's: pure functions on
// JSON texts (no I/O), so each translation is unit-tested on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fracta::proxy {

/// The prefix of the protocol's own _meta keys (protocolVersion, clientCapabilities, …).
inline constexpr std::string_view protocol_meta_prefix = "io.modelcontextprotocol/";
inline constexpr std::string_view subscription_id_key = "io.modelcontextprotocol/subscriptionId";

/// One message from the host, read. `id_json` is the id as written ("" for a notification).
struct message {
  std::string id_json;
  std::string method;       // "" for a response
  std::string params_json;  // "" when absent
  std::string result_json;  // a response's result ("" when absent)
  std::string error_json;   // a response's error ("" when absent)
  bool is_request() const { return !id_json.empty() && !method.empty(); }
  bool is_notification() const { return id_json.empty() && !method.empty(); }
  bool is_response() const { return !id_json.empty() && method.empty(); }
};

/// Reads one JSON-RPC message; nullopt (with `why`) when it is not JSON or not a message.
std::optional<message> read_message(std::string_view text, std::string* why);

/// `object_json` (an object; anything else counts as {}) with each change applied in order:
/// (key, raw JSON) sets the member (replacing it in place, else appending), (key, nullopt)
/// removes it. Other members keep their order and text.
std::string edit_object(std::string_view object_json,
                        const std::vector<std::pair<std::string, std::optional<std::string>>>& changes);

/// A member of an object as raw JSON, or nullopt.
std::optional<std::string> member(std::string_view object_json, std::string_view key);

/// Params for a 2025 server from a 2026 host: _meta without the protocol's own keys (dropped
/// when nothing is left). Empty stays empty.
std::string strip_protocol_meta(std::string_view params_json);

/// Params with _meta[key] = raw JSON value (created when needed).
std::string with_meta_member(std::string_view params_json, std::string_view key, std::string_view raw_value);

/// A result from a 2025 server for a 2026 host: resultType "complete" when absent, and, for
/// the methods whose results carry caching hints, ttlMs 0 and cacheScope "private" when absent.
std::string as_modern_result(std::string_view result_json, std::string_view method);

/// A result from a 2026 server for a 2025 host: without resultType, ttlMs, cacheScope and the
/// protocol's own _meta keys.
std::string as_legacy_result(std::string_view result_json);

/// A 2025 InitializeResult for a host that asked `host_version`, from the server's
/// server/discover result (2026 server).
std::string initialize_result_from_discover(std::string_view discover_json, std::string_view host_version);
/// A DiscoverResult for a 2026 host from a 2025 server's InitializeResult.
std::string discover_result_from_initialize(std::string_view initialize_json, std::string_view version);

/// `s` as a JSON string literal.
std::string json_string(std::string_view s);

/// A JSON-RPC response text.
std::string response(std::string_view id_json, std::string_view result_json);
std::string error_response(std::string_view id_json, int code, std::string_view message,
                           std::string_view data_json = {});
std::string error_response_raw(std::string_view id_json, std::string_view error_json);
/// A JSON-RPC request or notification text (`id_json` empty: a notification).
std::string request(std::string_view id_json, std::string_view method, std::string_view params_json);

}  // namespace fracta::proxy
