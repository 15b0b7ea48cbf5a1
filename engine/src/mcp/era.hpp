// SPDX-License-Identifier: Apache-2.0
// The era probe's verdict: what one server/discover answer says about the server's MCP era.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/internal.hpp"

namespace fracta::mcp {

/// What a server/discover probe established. Value type.
struct probe_verdict {
  enum class kind { modern, renegotiate, legacy, auth, failure } what = kind::failure;
  std::string version;  ///< modern: the version to speak; renegotiate: the version to retry with
  std::vector<std::string>
      supported;  ///< the server's list (DiscoverResult.supportedVersions or -32022 data.supported)
  std::string reason;  ///< for -v and errors: short; server text went through text::printable
};

/// Classifies the answer to a server/discover probe, following the TS SDK v2 strict rule:
///  - HTTP 401 or 403 → auth (whatever the body);
///  - a -32022 error whose data.supported is an array of strings (any status) → renegotiate to
///    the first of `ours` in it other than `asked`; when there is none → failure (never legacy);
///  - HTTP 5xx → failure;
///  - 2xx with a DiscoverResult (an object whose supportedVersions is an array of strings) →
///    modern when `asked` is in it, else renegotiate to the first of `ours` in it, else failure;
///  - anything else (400/404/405 and other statuses, other JSON-RPC errors, a result that is no
///    DiscoverResult, a body that is no JSON-RPC message, no message) → legacy.
/// `ours`: the modern versions fracta speaks, most preferred first; `asked`: the version the
/// probe carried; `message_json`: the JSON-RPC response object the body held (JSON body or
/// the SSE answer), nullopt when it held none. Thread-safe.
[[nodiscard]] probe_verdict classify_probe(long http_status,
                                           const std::optional<std::string>& message_json,
                                           std::string_view asked,
                                           const std::vector<std::string>& ours);

}  // namespace fracta::mcp
