// SPDX-License-Identifier: Apache-2.0
// Fuzz target: what an authorization server or a resource server sends during OAuth:
// token responses (JSON, form or HTML, any status), protected-resource metadata and
// authorization-server metadata. Nothing may crash; an accepted token has a token.
#include "discovery.hpp"
#include "tokens.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace oauth = fracta::oauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int status = 200 + (data[0] % 4) * 100;  // 200, 300, 400, 500
  const std::string_view content_type = data[1] % 3 == 0   ? "application/json"
                                        : data[1] % 3 == 1 ? "application/x-www-form-urlencoded"
                                                           : "text/html";
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto t = oauth::parse_token_response(status, content_type, body, 1'700'000'000'000, "read");
  if (t && t->access_token.empty()) std::abort();
  static const auto server = fracta::http::url::parse("https://mcp.example.com/mcp");
  (void)oauth::parse_resource_metadata(body, *server);
  (void)oauth::parse_as_metadata(body, "https://as.example.com", data[1] & 1, data[1] & 2);
  return 0;
}
