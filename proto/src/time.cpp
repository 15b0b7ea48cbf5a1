// SPDX-License-Identifier: Apache-2.0
// Calendar arithmetic for expiry times, and durations, written by people and other systems.
#include <fracta/proto/time.hpp>

namespace fracta::text {

// H. Hinnant's days-from-civil algorithm.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> parse_instant(std::string_view text) noexcept {
  const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<unsigned> {
    if (at + n > text.size()) return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return v;
  };
  if (!text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t v = 0;
    for (char c : text) v = v * 10 + (c - '0');
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
             se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  std::int64_t offset_s = 0;
  if (at + 1 == text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    offset_s = 0;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    const auto oh = digits(at + 1, 2), om = digits(at + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = static_cast<std::int64_t>(*oh * 3600 + *om * 60) * (text[at] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return days_from_civil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *se - offset_s;
}

std::optional<std::int64_t> parse_duration(std::string_view text) noexcept {
  const bool bare = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  std::int64_t total = 0;
  std::size_t at = 0;
  int last_unit = 5;  // units come in decreasing order: d(4) h(3) m(2) s(1)
  while (at < text.size()) {
    std::int64_t n = 0;
    const std::size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      n = n * 10 + (text[at] - '0');
      if (n > max_duration_seconds) return std::nullopt;
      ++at;
    }
    if (at == start) return std::nullopt;
    int unit = 1;
    std::int64_t scale = 1;
    if (at < text.size()) {
      switch (text[at]) {
        case 'd': unit = 4; scale = 86400; break;
        case 'h': unit = 3; scale = 3600; break;
        case 'm': unit = 2; scale = 60; break;
        case 's': unit = 1; scale = 1; break;
        default: return std::nullopt;
      }
      ++at;
    } else if (!bare) {
      return std::nullopt;  // "1m30": a number without its unit after another one
    }
    if (unit >= last_unit) return std::nullopt;
    last_unit = unit;
    total += n * scale;
    if (total > max_duration_seconds) return std::nullopt;
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace fracta::text
