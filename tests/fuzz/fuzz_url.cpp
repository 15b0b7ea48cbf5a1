// SPDX-License-Identifier: Apache-2.0
// Fuzz target: URL parsing. A parsed URL re-serialises to a string that parses to itself, its
// redacted form carries no userinfo or query, and query parsing survives any input.
#include <fracta/proto/url.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace http = fracta::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)http::parse_query(text);
  (void)http::percent_decode(text, true);
  auto u = http::url::parse(text);
  if (!u) return 0;
  const std::string once = u->str();
  auto again = http::url::parse(once);
  if (!again || again->str() != once) std::abort();  // str() must be a fixed point
  const std::string red = u->redacted();
  auto shown = http::url::parse(red);
  if (!shown || !shown->userinfo.empty() || red.find('?') != std::string::npos) std::abort();
  (void)http::well_known_url(*u, "oauth-authorization-server");
  (void)u->origin();
  return 0;
}
