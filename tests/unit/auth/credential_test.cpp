// SPDX-License-Identifier: Apache-2.0
// Credential policy: refresh when the provider asks, coalesced; the 401/403 recovery decision;
// proactive refresh before a reported expiry and backoff after transient failures, both on the
// fake clock (no sleeping); the cross-process refresh lock held around the provider's refresh,
// waited for and given up on, on the fake clock too; rejection descriptions without secrets or
// terminal escapes.
#include "auth/credential.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <doctest/doctest.h>

#include "fracta/errors.hpp"
#include "login/lock.hpp"

using fracta::auth::credential;
using fracta::auth::describe_rejection;

namespace {

fracta_str str(std::string_view s) { return {s.data(), s.size()}; }

// Behaviour knobs shared with the provider through a global (one test at a time).
struct knobs {
  int refreshes = 0;
  int32_t refresh_status = FRACTA_OK;
  std::int64_t lifetime_ms = 0;  // 0 = report no expiry
  std::string token;
  std::filesystem::path lock_path;  // checked while the provider refreshes
  int lock_busy_during_refresh = 0;
} g;

struct prov {
  const fracta_host* host;
  static int32_t create(const fracta_host* h, fracta_str, void** inst, const fracta_sink*) {
    *inst = new prov{h};
    return FRACTA_OK;
  }
  static void destroy(void* inst) { delete static_cast<prov*>(inst); }
  static int32_t apply(void*, fracta_request* r, const fracta_sink*) {
    if (g.token.empty()) return FRACTA_NEED_REFRESH;
    const std::string v = "Bearer " + g.token;
    return r->set_header(r->host_ctx, str("Authorization"), str(v));
  }
  struct rctx {
    prov* self;
    fracta_completion done;
  };
  // Completes later, through the host's post (the host's timers follow the fake clock).
  static int32_t refresh(void* inst, fracta_completion done) {
    auto* self = static_cast<prov*>(inst);
    self->host->post(self->host->host_ctx, fracta_completion{[](void* c, int32_t, const fracta_outcome*) {
      auto* rc = static_cast<rctx*>(c);
      ++g.refreshes;
      if (!g.lock_path.empty() && fracta::login::try_lock(g.lock_path).busy) ++g.lock_busy_during_refresh;
      std::string msg;
      std::int64_t exp = 0;
      if (g.refresh_status == FRACTA_OK) {
        g.token = "t" + std::to_string(g.refreshes);
        if (g.lifetime_ms) exp = rc->self->host->wall_clock_ms(rc->self->host->host_ctx) + g.lifetime_ms;
      } else {
        msg = "nothing newer to offer";
      }
      fracta_outcome o{sizeof(fracta_outcome), str(msg), exp, {nullptr, 0}};
      rc->done.fn(rc->done.ctx, g.refresh_status, &o);
      delete rc;
    }, new rctx{self, done}});
    return FRACTA_PENDING;
  }
};

const fracta_provider with_refresh = {sizeof(fracta_provider), "t", 0, &prov::create, &prov::destroy, &prov::apply,
                                      &prov::refresh, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
const fracta_provider without_refresh = {sizeof(fracta_provider), "static", 0, &prov::create, &prov::destroy,
                                         &prov::apply, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

struct fixture {
  asio::io_context io;
  fracta::http::client http{io.get_executor()};
  fracta::config::server server;
  fracta::plugin::memory_store store;
  std::shared_ptr<fracta::core::fake_clock> clock = std::make_shared<fracta::core::fake_clock>();

  explicit fixture(const fracta_provider& p) : table(p) {
    g = knobs{};
    server.name = "s";
    server.url = "http://127.0.0.1:1/mcp";
  }
  std::unique_ptr<credential> make() {
    auto strand = asio::make_strand(io.get_executor());
    auto inst = fracta::plugin::provider_instance::create(table, {strand, &http, clock, &server, &store, {}, {}});
    REQUIRE(inst.ok());
    return std::make_unique<credential>(std::move(inst).value(), clock, strand);
  }
  const fracta_provider& table;
};

// One request through authorize(); a plain coroutine, not a capturing lambda (GCC 12 rule).
asio::awaitable<void> authorize_one(credential* c, fracta::http::request* req, int* done) {
  auto r = co_await c->authorize(*req);
  CHECK(r.ok());
  ++*done;
}

// Moves the fake clock to the next proactive refresh and runs what it starts.
void run_due_refresh(fixture& f, credential& c) {
  const auto due = c.next_refresh_at_ms() - f.clock->wall_ms();
  f.clock->advance(std::chrono::milliseconds(due));
  f.io.restart();
  f.io.run();
}

fracta::http::response rejection(std::string www, std::string body = {}) {
  fracta::http::response r;
  r.status = 401;
  if (!www.empty()) r.headers.push_back({"WWW-Authenticate", std::move(www)});
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("authorize refreshes first when the provider has no credential, then applies") {
  fixture f(with_refresh);
  auto c = f.make();
  fracta::http::request req;
  auto r = fracta::core::run_async(f.io, c->authorize(req));
  REQUIRE(r.ok());
  CHECK(g.refreshes == 1);
  CHECK(fracta::http::find_header(req.headers, "authorization") == std::optional<std::string_view>("Bearer t1"));
}

TEST_CASE("concurrent requests needing a refresh share one refresh (single-flight)") {
  fixture f(with_refresh);
  auto c = f.make();
  fracta::http::request a, b, d;
  int done = 0;
  for (auto* req : {&a, &b, &d}) asio::co_spawn(f.io, authorize_one(c.get(), req, &done), asio::detached);
  f.io.run();
  CHECK(done == 3);
  CHECK(g.refreshes == 1);
  for (auto* req : {&a, &b, &d}) {
    CHECK(fracta::http::find_header(req->headers, "authorization") == std::optional<std::string_view>("Bearer t1"));
  }
}

TEST_CASE("a failed refresh during authorize is an error carrying the provider's message") {
  fixture f(with_refresh);
  g.refresh_status = FRACTA_E_NEEDS_LOGIN;
  auto c = f.make();
  fracta::http::request req;
  auto r = fracta::core::run_async(f.io, c->authorize(req));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == fracta::errc::needs_login);
  CHECK(r.err().message.find("nothing newer to offer") != std::string::npos);
}

TEST_CASE("after a 401 a provider that can refresh gets one chance: success means retry") {
  fixture f(with_refresh);
  g.token = "old";
  auto c = f.make();
  auto r = fracta::core::run_async(f.io, c->recover(rejection(R"(Bearer error="invalid_token")")));
  CHECK(r.ok());
  CHECK(g.refreshes == 1);
}

TEST_CASE("after a 401 a refresh with nothing new ends with auth_failed and the server's words") {
  fixture f(with_refresh);
  g.token = "old";
  g.refresh_status = FRACTA_E_DENIED;
  auto c = f.make();
  auto r = fracta::core::run_async(
      f.io, c->recover(rejection(R"(Bearer error="invalid_token", error_description="token revoked by admin")")));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == fracta::errc::auth_failed);
  CHECK(r.err().message.find("HTTP 401 invalid_token: token revoked by admin") != std::string::npos);
  CHECK(r.err().message.find("nothing newer to offer") != std::string::npos);
}

TEST_CASE("a provider that cannot refresh ends a 401 at once") {
  fixture f(without_refresh);
  g.token = "static";
  auto c = f.make();
  auto r = fracta::core::run_async(f.io, c->recover(rejection("", R"({"error":"invalid_token","error_description":"bad key"})")));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == fracta::errc::auth_failed);
  CHECK(r.err().message.find("bad key") != std::string::npos);
  CHECK(r.err().message.find("'static' auth provider has no other credential") != std::string::npos);
}

TEST_CASE("a reported expiry schedules a proactive refresh ahead of it, driven by the injected clock") {
  fixture f(with_refresh);
  g.lifetime_ms = 1500;  // refresh due ~1 s before expiry (skew ≥ 1 s), i.e. after ≤ 0.5 s
  auto c = f.make();
  fracta::http::request req;
  REQUIRE(fracta::core::run_async(f.io, c->authorize(req)).ok());
  CHECK(g.refreshes == 1);
  const auto now = f.clock->wall_ms();
  CHECK(c->next_refresh_at_ms() > now - 1);
  CHECK(c->next_refresh_at_ms() <= now + 500);
  // Nothing happens while the fake clock stands still, however long the loop runs.
  f.io.restart();
  f.io.run();
  CHECK(g.refreshes == 1);
  run_due_refresh(f, *c);
  CHECK(g.refreshes == 2);
  CHECK(g.token == "t2");
  CHECK(c->next_refresh_at_ms() > f.clock->wall_ms());  // and the next one is scheduled
}

TEST_CASE("transient background refresh failures back off exponentially, with jitter, up to 10 minutes") {
  fixture f(with_refresh);
  g.lifetime_ms = 3'600'000;
  auto c = f.make();
  fracta::http::request req;
  REQUIRE(fracta::core::run_async(f.io, c->authorize(req)).ok());
  g.refresh_status = FRACTA_E_UNAVAILABLE;
  std::int64_t step = 20'000;
  for (int failure = 0; failure < 8; ++failure) {
    run_due_refresh(f, *c);
    CHECK(g.refreshes == failure + 2);
    const auto wait = c->next_refresh_at_ms() - f.clock->wall_ms();
    CAPTURE(failure);
    CHECK(wait <= step);
    CHECK(wait >= step - step / 4);
    step = std::min<std::int64_t>(step * 2, 600'000);
  }
  // A success resets the backoff: the next failure waits the first step again.
  g.refresh_status = FRACTA_OK;
  run_due_refresh(f, *c);
  g.refresh_status = FRACTA_E_UNAVAILABLE;
  run_due_refresh(f, *c);
  const auto wait = c->next_refresh_at_ms() - f.clock->wall_ms();
  CHECK(wait <= 20'000);
  CHECK(wait >= 15'000);
}

TEST_CASE("retry_delay_ms doubles from 20 s, is capped at 10 min and jitters downwards by at most a quarter") {
  for (int n = 0; n < 40; ++n) {
    const std::int64_t step = std::min<std::int64_t>(std::int64_t{20'000} << std::min(n, 10), 600'000);
    const auto d = credential::retry_delay_ms(n);
    CAPTURE(n);
    CHECK(d <= step);
    CHECK(d >= step - step / 4);
  }
}

TEST_CASE("describe_rejection prefers the header's description and never echoes credentials") {
  fracta::http::response r = rejection(R"(Bearer error="invalid_token", error_description="expired")",
                                       R"({"error_description":"from body"})");
  CHECK(describe_rejection(r) == "HTTP 401 invalid_token: expired");
  fracta::http::response b = rejection("", R"({"error":"invalid_client","error_description":"unknown client"})");
  CHECK(describe_rejection(b) == "HTTP 401 invalid_client: unknown client");
  fracta::http::response plain = rejection("");
  CHECK(describe_rejection(plain) == "HTTP 401");
}

TEST_CASE("describe_rejection prints the server's words without terminal escapes or control characters") {
  fracta::http::response r =
      rejection("", "{\"error\":\"invalid_token\",\"error_description\":\"bad\\u001b[2J\\u001b]0;owned\\u0007 key\\nnow\"}");
  CHECK(describe_rejection(r) == "HTTP 401 invalid_token: bad key now");
}

TEST_CASE("proactive refresh holds for hours: one refresh per token lifetime, each ahead of expiry") {
  fixture f(with_refresh);
  g.lifetime_ms = 300'000;  // 5-minute tokens
  auto c = f.make();
  fracta::http::request req;
  REQUIRE(fracta::core::run_async(f.io, c->authorize(req)).ok());
  const auto start = f.clock->wall_ms();
  std::int64_t expires = start + g.lifetime_ms;
  while (f.clock->wall_ms() - start < 8 * 3'600'000) {
    const int before = g.refreshes;
    run_due_refresh(f, *c);
    REQUIRE(g.refreshes == before + 1);            // single-flight: exactly one per due time
    CHECK(f.clock->wall_ms() < expires);           // ahead of the expiry it replaces
    CHECK(expires - f.clock->wall_ms() <= 60'000);  // but not much earlier than needed
    expires = f.clock->wall_ms() + g.lifetime_ms;
  }
  // 8 hours of 5-minute tokens refreshed ~30 s early: about 8 * 60 / 4.5 refreshes.
  CHECK(g.refreshes >= 96);
  CHECK(g.refreshes <= 112);
}

TEST_CASE("a dead grant in the background stops the proactive refreshes (no loop)") {
  fixture f(with_refresh);
  g.lifetime_ms = 300'000;
  auto c = f.make();
  fracta::http::request req;
  REQUIRE(fracta::core::run_async(f.io, c->authorize(req)).ok());
  g.refresh_status = FRACTA_E_NEEDS_LOGIN;
  run_due_refresh(f, *c);
  CHECK(g.refreshes == 2);
  CHECK(c->next_refresh_at_ms() == 0);  // nothing scheduled: the next request surfaces it
  f.clock->advance(std::chrono::hours(24));
  f.io.restart();
  f.io.run();
  CHECK(g.refreshes == 2);
}

namespace {

// A credential whose refreshes take a lock file in a private temp dir, on a one-thread pool.
struct locked_fixture : fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fracta-credential-lock-" + std::to_string(::getpid()));
  asio::thread_pool pool{1};
  std::vector<std::string> heard;  // the credential's debug lines (on the loop: this thread)
  std::optional<fracta::plugin::op_result> outcome;

  locked_fixture() : fixture(with_refresh) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    g.lock_path = dir / "locks" / "s.refresh.lock";
  }
  ~locked_fixture() {
    pool.join();
    std::filesystem::remove_all(dir);
  }
  std::unique_ptr<credential> make_locked(std::filesystem::path path) {
    auto c = make();
    c->set_refresh_lock({std::move(path), pool.get_executor(), [this](const std::string& m) { heard.push_back(m); }});
    return c;
  }
  bool heard_of(std::string_view needle) const {
    for (const auto& l : heard) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  /// Runs the loop until `until()`: ready handlers first; when only fake-clock timers are left,
  /// moves the clock on by `step`; else waits for the pool's answer (the refresh coroutine keeps
  /// the loop's work count up, so run() would block).
  template <class Until>
  void drive(std::chrono::milliseconds step, Until until) {
    for (int i = 0; i < 100'000 && !until(); ++i) {
      io.restart();
      if (io.poll() > 0) continue;
      if (clock->pending_timers() > 0) {
        clock->advance(step);
      } else {
        io.run_one_for(std::chrono::milliseconds(100));
      }
    }
    REQUIRE(until());
  }
};

asio::awaitable<void> refresh_into(credential* c, std::optional<fracta::plugin::op_result>* out) {
  auto r = co_await c->refresh();
  out->emplace(std::move(r));
}

}  // namespace

TEST_CASE("a refresh holds the server's refresh lock around the provider's refresh, and waits while another holds it") {
  locked_fixture f;
  auto c = f.make_locked(g.lock_path);
  auto other = fracta::login::try_lock(g.lock_path);  // another process
  REQUIRE(other.held);
  asio::co_spawn(f.io, refresh_into(c.get(), &f.outcome), asio::detached);
  f.drive(std::chrono::milliseconds(50), [&] { return f.heard_of("waiting for the lock " + g.lock_path.string()); });
  const auto waited_from = f.clock->monotonic_ms();
  f.drive(std::chrono::milliseconds(50), [&] { return f.clock->monotonic_ms() >= waited_from + 2'000; });
  CHECK(g.refreshes == 0);  // the provider is not asked while the lock is held elsewhere
  CHECK_FALSE(f.outcome);
  other.held.reset();
  f.drive(std::chrono::milliseconds(50), [&] { return f.outcome.has_value(); });
  CHECK(f.outcome->status == FRACTA_OK);
  CHECK(g.refreshes == 1);
  CHECK(g.lock_busy_during_refresh == 1);  // held while the provider refreshed
  CHECK(fracta::login::try_lock(g.lock_path).held);  // and released after
}

TEST_CASE("a refresh lock held elsewhere for over 30 s fails the refresh as transient, naming the file, and keeps the credential") {
  locked_fixture f;
  auto c = f.make_locked(g.lock_path);
  auto other = fracta::login::try_lock(g.lock_path);
  REQUIRE(other.held);
  const auto started = f.clock->monotonic_ms();
  asio::co_spawn(f.io, refresh_into(c.get(), &f.outcome), asio::detached);
  f.drive(std::chrono::milliseconds(500), [&] { return f.outcome.has_value(); });
  CHECK(f.clock->monotonic_ms() - started >= credential::refresh_lock_wait_ms);
  CHECK(f.outcome->status == FRACTA_E_TRANSIENT);
  CHECK(f.outcome->message.find(g.lock_path.string()) != std::string::npos);
  CHECK(g.refreshes == 0);
  // Nothing was dropped: once the lock is free the same credential refreshes.
  other.held.reset();
  f.outcome.reset();
  asio::co_spawn(f.io, refresh_into(c.get(), &f.outcome), asio::detached);
  f.drive(std::chrono::milliseconds(50), [&] { return f.outcome.has_value(); });
  CHECK(f.outcome->status == FRACTA_OK);
  CHECK(g.refreshes == 1);
}

TEST_CASE("a refresh lock file that cannot be created is logged, and the refresh runs without it") {
  locked_fixture f;
  std::ofstream(f.dir / "not-a-dir") << "a file where the locks directory should be";
  auto c = f.make_locked(f.dir / "not-a-dir" / "s.refresh.lock");
  asio::co_spawn(f.io, refresh_into(c.get(), &f.outcome), asio::detached);
  f.drive(std::chrono::milliseconds(50), [&] { return f.outcome.has_value(); });
  CHECK(f.outcome->status == FRACTA_OK);
  CHECK(g.refreshes == 1);
  CHECK(f.heard_of("refreshing without the cross-process lock"));
}

namespace {

asio::awaitable<void> settle_then_look(credential* c, const std::optional<fracta::plugin::op_result>* refresh,
                                       bool* refresh_done_first) {
  co_await c->settle();
  *refresh_done_first = refresh->has_value();
}

}  // namespace

TEST_CASE("settle waits for a refresh in flight and starts none itself") {
  fixture f(with_refresh);
  auto c = f.make();
  bool first = false;
  std::optional<fracta::plugin::op_result> outcome;
  asio::co_spawn(f.io, settle_then_look(c.get(), &outcome, &first), asio::detached);
  f.io.run();
  CHECK(g.refreshes == 0);  // nothing in flight: nothing started
  f.io.restart();
  asio::co_spawn(f.io, refresh_into(c.get(), &outcome), asio::detached);
  asio::co_spawn(f.io, settle_then_look(c.get(), &outcome, &first), asio::detached);
  f.io.run();
  CHECK(first);  // settle returned only after the refresh had finished
  CHECK(g.refreshes == 1);
}
