// SPDX-License-Identifier: Apache-2.0
// The JWKS cache (one fetch at a time on a strand, waiters woken by cancelling their timers) and
// the front end's token check on top of it.
#include "gateway/jwks.hpp"

#include <algorithm>
#include <cctype>

#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

namespace fracta::gateway {

std::int64_t cache_max_age(std::string_view cc) {
  std::string lower(cc);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::int64_t age = -1;
  std::size_t i = 0;
  while (i < lower.size()) {
    auto j = std::min(lower.find(',', i), lower.size());
    std::string_view d = std::string_view(lower).substr(i, j - i);
    while (!d.empty() && (d.front() == ' ' || d.front() == '\t')) d.remove_prefix(1);
    while (!d.empty() && (d.back() == ' ' || d.back() == '\t')) d.remove_suffix(1);
    if (d == "no-store" || d == "no-cache") return 0;
    if (d.rfind("max-age=", 0) == 0) {
      auto v = d.substr(8);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!v.empty() && v.size() <= 10 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        age = std::stoll(std::string(v));
      }
    }
    i = j + 1;
  }
  return age;
}

jwks_cache::jwks_cache(asio::any_io_executor ex, std::string url, fetch_fn fetch, std::function<std::int64_t()> now_ms,
                       jwks_timing timing)
    : strand_(asio::make_strand(std::move(ex))),
      url_(std::move(url)),
      fetch_(std::move(fetch)),
      now_ms_(std::move(now_ms)),
      timing_(timing) {}

std::string jwks_cache::last_error() const {
  std::lock_guard lk(mutex_);
  return last_error_;
}

std::uint64_t jwks_cache::fetches() const {
  std::lock_guard lk(mutex_);
  return fetches_;
}

asio::awaitable<std::shared_ptr<const key_set>> jwks_cache::keys(bool after_unknown_kid) {
  return asio::co_spawn(strand_, on_strand(shared_from_this(), after_unknown_kid), asio::use_awaitable);
}

bool jwks_cache::due(bool forced, std::int64_t now) const {
  using std::chrono::milliseconds;
  if (fetched_at_ms_ < 0) return true;
  if (failed_) return now - fetched_at_ms_ >= milliseconds(timing_.failure_floor).count();
  if (forced) return now - fetched_at_ms_ >= milliseconds(timing_.unknown_kid_floor).count();
  return now - good_at_ms_ >= max_age_ms_;
}

asio::awaitable<std::shared_ptr<const key_set>> jwks_cache::on_strand(std::shared_ptr<jwks_cache> self, bool forced) {
  if (!self->due(forced, self->now_ms_())) co_return self->keys_;
  if (self->fetching_) {
    // Someone is fetching: wait for the end of it (the fetcher cancels every waiter's timer).
    auto timer = std::make_shared<asio::steady_timer>(self->strand_, asio::steady_timer::time_point::max());
    self->waiters_.push_back(timer);
    std::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return self->keys_;
  }
  co_await refetch(self);
  co_return self->keys_;
}

asio::awaitable<void> jwks_cache::refetch(std::shared_ptr<jwks_cache> self) {
  self->fetching_ = true;
  {
    std::lock_guard lk(self->mutex_);
    ++self->fetches_;
  }
  std::string why;
  std::shared_ptr<const key_set> got;
  std::int64_t max_age = -1;
  const std::string url = self->url_;
  auto fetch = self->fetch_(url);
  auto r = co_await std::move(fetch);
  if (!r) {
    why = r.err().message;
  } else if (r->status != 200) {
    why = "the JWKS at " + url + " answered HTTP " + std::to_string(r->status);
  } else {
    std::string problem;
    auto parsed = parse_jwks(r->body, &problem);
    if (!parsed) {
      why = "the JWKS at " + url + " is " + problem;
    } else if (parsed->keys.empty()) {
      why = "the JWKS at " + url + " holds no RS256 or ES256 signature key";
    } else {
      got = std::make_shared<const key_set>(std::move(*parsed));
      max_age = cache_max_age(r->cache_control);
    }
  }
  const std::int64_t now = self->now_ms_();
  self->fetched_at_ms_ = now;
  self->failed_ = got == nullptr;
  if (got) {
    using std::chrono::seconds;
    const std::int64_t age = max_age < 0 ? self->timing_.default_max_age.count()
                                         : std::clamp(max_age, static_cast<std::int64_t>(self->timing_.min_max_age.count()),
                                                      static_cast<std::int64_t>(self->timing_.max_max_age.count()));
    self->keys_ = std::move(got);
    self->good_at_ms_ = now;
    self->max_age_ms_ = age * 1000;
  }
  {
    std::lock_guard lk(self->mutex_);
    self->last_error_ = why;
  }
  self->fetching_ = false;
  auto waiters = std::move(self->waiters_);
  self->waiters_.clear();
  for (auto& t : waiters) t->cancel();
}

namespace {

jwt_decision decide(const jwt_check& c) {
  using kind = jwt_decision::kind;
  switch (c.verdict) {
    case jwt_verdict::ok: return {kind::ok, {}, c.subject};
    case jwt_verdict::insufficient_scope: return {kind::insufficient_scope, c.detail, {}};
    default: return {kind::invalid, "the bearer token is not accepted: " + c.detail, {}};
  }
}

jwt_decision unavailable(const jwks_cache& cache) {
  std::string why = cache.last_error();
  if (why.empty()) why = "no keys were read from " + cache.url();
  return {jwt_decision::kind::unavailable, "cannot check the token: the issuer's keys are unavailable (" + why + ")", {}};
}

}  // namespace

asio::awaitable<jwt_decision> check_token(std::shared_ptr<jwks_cache> cache, jwt_policy policy, std::string token,
                                          std::int64_t now) {
  // A token that is not a JWS at all is refused without touching the keys.
  const auto header = peek_header(token);
  if (!header) co_return jwt_decision{jwt_decision::kind::invalid, "the bearer token is not accepted: not a signed JWT", {}};
  auto first = cache->keys(false);
  auto keys = co_await std::move(first);
  if (!keys) co_return unavailable(*cache);
  auto checked = verify_jwt(token, *keys, policy, now);
  if (checked.verdict != jwt_verdict::unknown_key) co_return decide(checked);
  // The issuer may have rotated its keys since they were read.
  auto again = cache->keys(true);
  keys = co_await std::move(again);
  if (!keys) co_return unavailable(*cache);
  co_return decide(verify_jwt(token, *keys, policy, now));
}

}  // namespace fracta::gateway
