// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the one text sanitiser. Whatever comes in, what goes out has no control
// character, no escape introducer, and is valid UTF-8 within the byte bound (plus "…").
#include <fracta/proto/text.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t limit = size % 97 + 1;
  const std::string out = fracta::text::printable(text, limit);
  if (out.size() > limit + 3) std::abort();
  if (!valid_utf8(out)) std::abort();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c == 0x7F) std::abort();
    // C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xA0) std::abort();
  }
  return 0;
}
