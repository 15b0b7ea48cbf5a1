// SPDX-License-Identifier: Apache-2.0
// Calendar arithmetic for expiry times written by people and other systems.
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

}  // namespace fracta::text
