// SPDX-License-Identifier: Apache-2.0
// Expiry instants as people and other systems write them: unix seconds and RFC 3339.
#include <doctest/doctest.h>

#include <fracta/proto/time.hpp>

using fracta::text::days_from_civil;
using fracta::text::parse_instant;
using fracta::text::parse_duration;

TEST_CASE("days_from_civil counts from 1970-01-01, leap years included") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(1969, 12, 31) == -1);
}

TEST_CASE("parse_instant reads unix seconds and RFC 3339 date-times with an offset") {
  CHECK(parse_instant("1767225600") == 1767225600);
  CHECK(parse_instant("2026-01-01T00:00:00Z") == 1767225600);
  CHECK(parse_instant("2026-01-01T01:30:00+01:30") == 1767225600);
  CHECK(parse_instant("2025-12-31T23:00:00.123-01:00") == 1767225600);
  CHECK(parse_instant("2024-02-29T12:00:00z") == 1709208000);
}

TEST_CASE("parse_instant refuses what is not an instant") {
  for (const char* bad : {"", "-5", "1e9", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+1:00", "2026-01-01T00:00:00Zjunk",
                          "1234567890123"}) {
    INFO(bad);
    CHECK_FALSE(parse_instant(bad).has_value());
  }
}

TEST_CASE("parse_duration reads seconds, and units in decreasing order") {
  CHECK(parse_duration("90") == 90);
  CHECK(parse_duration("60s") == 60);
  CHECK(parse_duration("5m") == 300);
  CHECK(parse_duration("2h") == 7200);
  CHECK(parse_duration("1m30s") == 90);
  CHECK(parse_duration("1d1h1m1s") == 90061);
  CHECK(parse_duration("30d") == fracta::text::max_duration_seconds);
}

TEST_CASE("parse_duration refuses what is not a duration") {
  for (const char* bad : {"", "0", "0s", "-5", "5 m", "5M", "m", "1.5s", "30s1m", "1m1m", "1m30", "5ms", "31d",
                          "99999999999999999999", "1e3"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}
