// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the SSE decoder. Feeding a stream whole or split at any point yields the same
// events (the decoder is incremental).
#include "http/sse.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace http = fracta::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t cut = data[0] % size;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::sse_decoder whole;
  const std::vector<http::sse_event> a = whole.feed(text);
  http::sse_decoder split;
  std::vector<http::sse_event> b = split.feed(text.substr(0, cut));
  for (auto& e : split.feed(text.substr(std::min(cut, text.size())))) b.push_back(std::move(e));
  if (a.size() != b.size()) std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id) std::abort();
  if (whole.last_event_id() != split.last_event_id()) std::abort();
  return 0;
}
