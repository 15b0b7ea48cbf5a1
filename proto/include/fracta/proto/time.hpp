// SPDX-License-Identifier: Apache-2.0
// Calendar arithmetic for expiry times, and durations, written by people and other systems.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fracta::text {

/// Days since 1970-01-01 of a proleptic Gregorian date. Thread-safe.
[[nodiscard]] std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept;

/// An instant as unix seconds ("1767225600", at most 12 digits) or an RFC 3339 date-time
/// with Z or a numeric offset ("2026-01-01T00:00:00Z", fractions ignored); nullopt for
/// anything else. Thread-safe.
[[nodiscard]] std::optional<std::int64_t> parse_instant(std::string_view text) noexcept;

/// The longest duration parse_duration accepts: 30 days.
inline constexpr std::int64_t max_duration_seconds = 30LL * 86400;

/// A duration as people write it, in whole seconds: "90" (seconds), "60s", "5m", "2h",
/// "1m30s", "1h5m"; units s, m, h, d in decreasing order, each at most once. nullopt for
/// anything else, for 0 and for more than max_duration_seconds. Thread-safe.
[[nodiscard]] std::optional<std::int64_t> parse_duration(std::string_view text) noexcept;

}  // namespace fracta::text
