// SPDX-License-Identifier: Apache-2.0
// Modern request and result shapes: the per-request _meta, resultType, multi-round-trip
// requests (input_required and the retry's params), and the caching hints of a result.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/internal.hpp"

namespace fracta::mcp {

/// `params_json` (an object; empty means {}) with params._meta carrying
/// "io.modelcontextprotocol/protocolVersion": version, ".../clientCapabilities":
/// client_capabilities_json (empty or not an object means {}), and ".../clientInfo":
/// {"name":"fracta","version":FRACTA_VERSION}. Other _meta keys are kept, these three are
/// replaced; other params members keep their order. Params text that is not a JSON object
/// gives params holding only _meta. Thread-safe.
[[nodiscard]] std::string with_meta(std::string_view params_json, std::string_view version,
                                    std::string_view client_capabilities_json);

/// One entry of an InputRequiredResult's inputRequests. Value type.
struct input_request {
  std::string key;          ///< the server's key, echoed in inputResponses
  std::string method;       ///< elicitation/create, sampling/createMessage, roots/list, …
  std::string params_json;  ///< the request's params (minified); "{}" when it had none
};

/// What a result's resultType says. Value type.
struct result_kind {
  enum class kind { complete, input_required, invalid } what = kind::invalid;
  std::vector<input_request> requests;  ///< input_required: inputRequests, in document order
  std::optional<std::string>
      request_state;   ///< input_required: requestState (decoded) when present
  std::string reason;  ///< invalid: why (printable)
};

/// Reads a result object's resultType: absent or "complete" → complete; "input_required" →
/// the requests and state (at least one of inputRequests and requestState present;
/// inputRequests an object of objects each with a string method and, when present, object
/// params; requestState a string); anything else, or a result that is no object → invalid.
/// Thread-safe.
[[nodiscard]] result_kind classify_result(std::string_view result_json);

/// The params of a multi-round-trip retry: `original_params_json` without any inputResponses
/// or requestState it had, plus "inputResponses": {key: response, …} (left out when
/// `responses` is empty) and "requestState": exactly `request_state` (left out when nullopt).
/// `responses` pairs a key with the JSON text of the response (text that is not JSON becomes
/// null). Thread-safe.
[[nodiscard]] std::string retry_params(
    std::string_view original_params_json,
    const std::vector<std::pair<std::string, std::string>>& responses,
    const std::optional<std::string>& request_state);

/// Caching hints of a complete list or read result. Value type.
struct cache_hint {
  std::int64_t ttl_ms = 0;
  bool is_public = false;
};

/// ttlMs (an integer >= 0) and cacheScope ("public" or "private") of `result_json`; nullopt
/// when either is absent or malformed, which means: do not cache. Thread-safe.
[[nodiscard]] std::optional<cache_hint> read_cache_hint(std::string_view result_json);

}  // namespace fracta::mcp
