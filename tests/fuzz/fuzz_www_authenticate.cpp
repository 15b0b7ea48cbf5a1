// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the WWW-Authenticate parser (RFC 9110 challenges, quoted strings, token68).
#include <fracta/proto/www_authenticate.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto challenges = fracta::auth::parse_www_authenticate(text);
  for (const auto& c : challenges) {
    if (c.scheme.empty()) std::abort();  // a challenge always has a scheme
    for (const auto& [name, value] : c.params)
      for (char ch : name)
        if (ch >= 'A' && ch <= 'Z') std::abort();  // names are lower-cased
  }
  (void)fracta::auth::find_challenge(challenges, "Bearer");
  return 0;
}
