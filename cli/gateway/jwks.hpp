// SPDX-License-Identifier: Apache-2.0
// The issuer's keys for the gateway's JWT front end: a JWKS fetched once for all callers at a
// time, kept for its Cache-Control max-age, fetched again early when a token names a key it
// lacks (key rotation), and never fetched more often than the floors below.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "fracta/engine.hpp"
#include "gateway/jwt.hpp"

namespace fracta::gateway {

/// How a JWKS is read: engine::fetch in the gateway, a fixture in tests.
using fetch_fn = std::function<asio::awaitable<result<fetched_document>>(std::string url)>;

struct jwks_timing {
  std::chrono::seconds default_max_age{3600};  // when the response has no max-age
  std::chrono::seconds min_max_age{60};        // max-age is clamped to [min, max]
  std::chrono::seconds max_max_age{86400};
  std::chrono::seconds unknown_kid_floor{30};  // an unknown kid refetches at most this often
  std::chrono::seconds failure_floor{5};       // after a failed fetch, callers get the failure until then
};

/// Thread-safe: keys() may be awaited from any thread; the state lives on a strand.
class jwks_cache final : public std::enable_shared_from_this<jwks_cache> {
 public:
  /// `now_ms`: a monotonic clock in milliseconds (steady_clock in the gateway).
  jwks_cache(asio::any_io_executor ex, std::string url, fetch_fn fetch, std::function<std::int64_t()> now_ms,
             jwks_timing timing = {});

  /// The keys held, fetched first when there are none or they are older than their max-age,
  /// or, with `after_unknown_kid`, when the last fetch is older than the unknown-kid floor.
  /// Callers arriving during a fetch wait for it. Null when no keys could ever be read;
  /// last_error() says why. A failed refetch keeps the keys held.
  asio::awaitable<std::shared_ptr<const key_set>> keys(bool after_unknown_kid);

  /// Why the last fetch failed (names the URL); empty after a good one.
  std::string last_error() const;
  /// How many fetches were made (for the tests and the log).
  std::uint64_t fetches() const;
  const std::string& url() const noexcept { return url_; }

 private:
  static asio::awaitable<std::shared_ptr<const key_set>> on_strand(std::shared_ptr<jwks_cache> self, bool forced);
  static asio::awaitable<void> refetch(std::shared_ptr<jwks_cache> self);
  bool due(bool forced, std::int64_t now) const;

  asio::strand<asio::any_io_executor> strand_;
  std::string url_;
  fetch_fn fetch_;
  std::function<std::int64_t()> now_ms_;
  jwks_timing timing_;
  // On the strand:
  std::shared_ptr<const key_set> keys_;
  std::int64_t fetched_at_ms_ = -1;   // the last fetch that ended (good or not)
  std::int64_t good_at_ms_ = -1;      // the last good one
  std::int64_t max_age_ms_ = 0;
  bool failed_ = false;               // the last fetch failed
  bool fetching_ = false;
  std::vector<std::shared_ptr<asio::steady_timer>> waiters_;
  // Read from any thread:
  mutable std::mutex mutex_;
  std::string last_error_;
  std::uint64_t fetches_ = 0;
};

/// The seconds of a Cache-Control max-age directive, or -1 when there is none; "no-store" and
/// "no-cache" count as 0. Thread-safe.
[[nodiscard]] std::int64_t cache_max_age(std::string_view cache_control);

/// The front end's answer for one JWT.
struct jwt_decision {
  enum class kind { ok, invalid, insufficient_scope, unavailable } verdict = kind::invalid;
  std::string detail;  // for the response body; never quotes the token
  std::string subject;  // the token's `sub`, when ok
};

/// Checks `token` with the cache's keys against `policy` at `now_unix_s`; a token naming a key
/// the set lacks refetches the set once (within the cache's floor) before it is refused.
/// `unavailable` when no keys could be read (the body then names the JWKS URL).
asio::awaitable<jwt_decision> check_token(std::shared_ptr<jwks_cache> cache, jwt_policy policy, std::string token,
                                          std::int64_t now_unix_s);

}  // namespace fracta::gateway
