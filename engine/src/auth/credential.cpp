// SPDX-License-Identifier: Apache-2.0
// Credential policy: apply → refresh when asked; on 401/403 consult the provider, retry once;
// refresh proactively before a reported expiry.
#include "auth/credential.hpp"

#include <algorithm>
#include <random>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <simdjson.h>

#include <fracta/proto/fields.hpp>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <fracta/proto/www_authenticate.hpp>
#include "fracta/errors.hpp"

namespace fracta::auth {
namespace {

using text::printable;

error make_error(std::int32_t status, std::string msg) {
  return error{make_error_code(errc_from_plugin_status(status)), std::move(msg)};
}

}  // namespace

std::string describe_rejection(const http::response& resp) {
  const std::string joined = http::joined_values(resp.headers, "WWW-Authenticate");
  std::string error_code, description;
  for (const auto& c : parse_www_authenticate(joined)) {
    if (auto d = c.param("error_description"); d && description.empty()) description = *d;
    if (auto e = c.param("error"); e && error_code.empty()) error_code = *e;
  }
  if (description.empty() && !resp.body.empty()) {
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (json::parse(p, resp.body, doc).empty() && doc.is_object()) {
      if (auto d = json::get_string(doc, "error_description")) description = *d;
      if (auto e = json::get_string(doc, "error"); e && error_code.empty()) error_code = *e;
      if (description.empty()) {
        // JSON-RPC style error objects.
        if (auto eobj = json::get(doc, "error"); eobj && eobj->is_object()) {
          if (auto m = json::get_string(*eobj, "message")) description = *m;
        }
      }
    }
  }
  std::string out = "HTTP " + std::to_string(resp.status);
  if (!error_code.empty()) out += " " + printable(error_code, 64);
  if (!description.empty()) out += ": " + printable(description, 300);
  return out;
}

credential::credential(std::unique_ptr<plugin::provider_instance> instance,
                       std::shared_ptr<const core::clock> clock, asio::strand<asio::any_io_executor> strand)
    : instance_(std::move(instance)), clock_(std::move(clock)), strand_(std::move(strand)) {}

credential::~credential() {
  *alive_ = false;
  if (timer_) timer_->cancel();
}

namespace {

bool transient(std::int32_t status) {
  return status == FRACTA_E_TRANSIENT || status == FRACTA_E_UNAVAILABLE || status == FRACTA_E_TIMEOUT;
}

error refresh_failed(const plugin::op_result& r) {
  std::string detail = r.message.empty() ? plugin::status_words(r.status) : r.message;
  return make_error(r.status, "obtaining a credential failed: " + detail);
}

error refused(errc code, const std::string& rejection, const std::string& detail) {
  std::string msg = "the server refused the credential (" + rejection + ")";
  if (!detail.empty()) msg += "; " + detail;
  return error{make_error_code(code), msg};
}

}  // namespace

asio::awaitable<result<void>> credential::authorize(http::request& req) {
  std::string msg;
  std::int32_t st = instance_->apply(req, msg);
  if (st == FRACTA_NEED_REFRESH) {
    auto first = refresh();
    auto r = co_await std::move(first);
    if (r.status != FRACTA_OK) co_return refresh_failed(r);
    st = instance_->apply(req, msg);
    if (st == FRACTA_NEED_REFRESH) co_return still_no_credential();
  }
  if (st != FRACTA_OK) co_return make_error(st, msg);
  co_return result<void>{};
}

error credential::still_no_credential() const {
  return error{make_error_code(errc::plugin), "auth provider '" + std::string(instance_->type()) +
                                                  "' still has no credential right after a successful refresh"};
}

asio::awaitable<plugin::op_result> credential::refresh() {
  auto make = [this] { return locked_refresh(); };
  if (on_refresh) on_refresh(nullptr);
  auto run = refresh_flight_.run(make);
  auto r = co_await std::move(run);
  if (r.status == FRACTA_OK) background_failures_ = 0;
  if (r.status == FRACTA_OK && r.expires_at_ms > 0) schedule_refresh(r.expires_at_ms);
  if (on_refresh) on_refresh(&r);
  co_return r;
}

asio::awaitable<void> credential::settle() {
  if (!refresh_flight_.in_flight()) co_return;
  auto join = refresh();  // joins the refresh in flight (single-flight): no new one
  co_await std::move(join);
}

asio::awaitable<plugin::op_result> credential::locked_refresh() {
  std::shared_ptr<login::held_lock> held;
  if (lock_) {
    std::string failure;
    auto take = take_refresh_lock(failure);
    held = co_await std::move(take);
    if (!failure.empty()) co_return plugin::op_result{FRACTA_E_TRANSIENT, std::move(failure), 0, {}};
  }
  // The provider re-reads the store and adopts what another holder stored, or redeems and
  // persists: all under the lock.
  auto op = instance_->refresh();
  auto r = co_await std::move(op);
  held.reset();  // on the actor, after the provider persisted what it redeemed
  co_return r;
}

asio::awaitable<std::shared_ptr<login::held_lock>> credential::take_refresh_lock(std::string& failure) {
  const std::filesystem::path* path = &lock_->path;
  const std::int64_t give_up_at = clock_->monotonic_ms() + refresh_lock_wait_ms;
  // flock has no event to wait on across processes: try again after a short, growing pause.
  std::chrono::milliseconds pause{10};
  bool waiting = false;
  for (;;) {
    auto attempt_on_pool = core::run_on(lock_->blocking, login::try_lock_on_pool(path));
    auto attempt = co_await std::move(attempt_on_pool);
    if (attempt.held) co_return std::move(attempt.held);
    if (!attempt.busy) {  // no usable lock file: refresh as before the lock existed
      if (lock_->debug) lock_->debug("refreshing without the cross-process lock: " + attempt.error);
      co_return nullptr;
    }
    if (!waiting && lock_->debug) {
      lock_->debug("another fracta process or session is refreshing these tokens; waiting for the lock " +
                   path->string());
    }
    waiting = true;
    if (clock_->monotonic_ms() >= give_up_at) {
      failure = "another fracta process or session held the refresh lock " + path->string() + " for over " +
                std::to_string(refresh_lock_wait_ms / 1000) + " s; the credential is kept, try again";
      co_return nullptr;
    }
    auto sleep = core::sleep_for(*clock_, strand_, pause);
    co_await std::move(sleep);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

asio::awaitable<result<void>> credential::recover(const http::response& resp) {
  const std::string rejection = describe_rejection(resp);
  if (instance_->has_on_challenge()) {
    const std::string www = http::joined_values(resp.headers, "WWW-Authenticate");
    auto challenge = instance_->on_challenge(static_cast<int>(resp.status), www, resp.body);
    auto r = co_await std::move(challenge);
    if (r.status == FRACTA_OK) co_return result<void>{};
    if (r.status != FRACTA_NEED_REFRESH) {
      co_return refused(r.status == FRACTA_E_NEEDS_LOGIN ? errc::needs_login : errc::auth_failed, rejection,
                        r.message);
    }
  }
  if (!instance_->has_refresh()) co_return no_other_credential(rejection);
  auto again = refresh();
  auto r = co_await std::move(again);
  if (r.status == FRACTA_OK) co_return result<void>{};
  co_return refused(r.status == FRACTA_E_NEEDS_LOGIN ? errc::needs_login
                    : transient(r.status)            ? errc::transport
                                                     : errc::auth_failed,
                    rejection, r.message);
}

error credential::no_other_credential(const std::string& rejection) const {
  return error{make_error_code(errc::auth_failed), "the server refused the credential (" + rejection + "), and the '" +
                                                       std::string(instance_->type()) +
                                                       "' auth provider has no other credential to offer"};
}

void credential::schedule_refresh(std::int64_t expires_at_ms) {
  const std::int64_t now = clock_->wall_ms();
  const std::int64_t lifetime = std::max<std::int64_t>(expires_at_ms - now, 0);
  // Refresh ahead of expiry: a tenth of the lifetime, between 1 s and 60 s, plus a little
  // jitter so replicas sharing a grant do not refresh in lock-step.
  const std::int64_t skew = std::clamp<std::int64_t>(lifetime / 10, 1000, 60'000);
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const std::int64_t jitter = std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(skew / 10, 1))(rng);
  arm(std::max<std::int64_t>(lifetime - skew - jitter, 0));
}

std::int64_t credential::retry_delay_ms(int failures) {
  constexpr std::int64_t base = 20'000, cap = 600'000;
  std::int64_t step = base;
  for (int i = 0; i < failures && step < cap; ++i) step *= 2;
  step = std::min(step, cap);
  static thread_local std::minstd_rand rng{std::random_device{}()};
  return step - std::uniform_int_distribution<std::int64_t>(0, step / 4)(rng);
}

void credential::arm(std::int64_t delay_ms) {
  next_refresh_at_ms_ = clock_->wall_ms() + delay_ms;
  if (!timer_) timer_ = clock_->make_timer(strand_);
  // A new wait replaces the pending one (which completes with fired = false).
  timer_->wait(std::chrono::milliseconds(delay_ms),
               [this, alive = alive_, owner = owner_, has_owner = has_owner_](bool fired) {
                 if (!fired || !*alive) return;
                 std::shared_ptr<void> keep = owner.lock();
                 if (has_owner && !keep) return;  // the session is gone: so is this credential
                 asio::co_spawn(strand_, background_refresh(std::move(keep)), asio::detached);
               });
}

asio::awaitable<void> credential::background_refresh(std::shared_ptr<void> keep) {
  auto run = refresh();
  auto r = co_await std::move(run);
  if (r.status == FRACTA_OK) co_return;
  next_refresh_at_ms_ = 0;
  // Transient failures keep everything and try again later, backing off (requests still
  // refresh reactively meanwhile); permanent ones wait for a request to surface them.
  if (transient(r.status)) {
    arm(retry_delay_ms(background_failures_++));
    if (on_refresh) on_refresh(&r);
  }
  keep.reset();
}

}  // namespace fracta::auth
