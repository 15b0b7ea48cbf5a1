// SPDX-License-Identifier: Apache-2.0
// Provider instances and host services: the C completion ↔ coroutine bridge, timers, HTTP,
// secrets, JSON access, teardown completing every pending host operation, store keys by name
// and URL, the egress policy of plugin requests, and host progress.
#include "plugin/instance.hpp"

#include <cstdlib>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <vector>
#include <fstream>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <doctest/doctest.h>
#include <httplib.h>

#include "core/async.hpp"
#include "fracta/errors.hpp"
#include "store/select.hpp"

using fracta::plugin::op_result;
using fracta::plugin::provider_instance;

namespace {

std::string_view view(fracta_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
fracta_str str(std::string_view s) { return {s.data(), s.size()}; }

struct collect {
  std::string text;
  fracta_sink sink{sizeof(fracta_sink), this,
                   [](void* c, fracta_str s) { static_cast<collect*>(c)->text.append(view(s)); }};
};

// A provider written the way a plugin would be, exercising each host service.
struct test_provider {
  const fracta_host* host = nullptr;
  std::string token;
  int refreshes = 0;
  fracta_completion pending_logout{};

  static int32_t create(const fracta_host* h, fracta_str cfg, void** inst, const fracta_sink* err) {
    auto* self = new test_provider;
    self->host = h;
    collect raw;
    if (h->json_get_raw(h->host_ctx, cfg, str("/token"), &raw.sink) == FRACTA_OK) {
      collect secret, why;
      if (h->resolve_secret(h->host_ctx, str("token"), str(raw.text), &secret.sink, &why.sink) != FRACTA_OK) {
        err->write(err->ctx, str(why.text));
        delete self;
        return FRACTA_E_CONFIG;
      }
      self->token = secret.text;
    }
    *inst = self;
    return FRACTA_OK;
  }
  static void destroy(void* inst) { delete static_cast<test_provider*>(inst); }
  static int32_t apply(void* inst, fracta_request* r, const fracta_sink*) {
    auto* self = static_cast<test_provider*>(inst);
    if (self->token.empty()) return FRACTA_NEED_REFRESH;
    const std::string v = "Bearer " + self->token;
    return r->set_header(r->host_ctx, str("Authorization"), str(v));
  }
  // Async via a host timer.
  struct refresh_ctx {
    test_provider* self;
    fracta_completion done;
  };
  static int32_t refresh(void* inst, fracta_completion done) {
    auto* self = static_cast<test_provider*>(inst);
    auto* rc = new refresh_ctx{self, done};
    fracta_op_id op = 0;
    return self->host->timer_start(self->host->host_ctx, 5, fracta_completion{[](void* c, int32_t st, const fracta_outcome*) {
      auto* rc = static_cast<refresh_ctx*>(c);
      auto* self = rc->self;
      if (st == FRACTA_OK) {
        self->token = "refreshed-" + std::to_string(++self->refreshes);
        const std::int64_t exp = self->host->wall_clock_ms(self->host->host_ctx) + 3'600'000;
        fracta_outcome o{sizeof(fracta_outcome), str("ok"), exp, {nullptr, 0}};
        rc->done.fn(rc->done.ctx, FRACTA_OK, &o);
      } else {
        rc->done.fn(rc->done.ctx, st, nullptr);
      }
      delete rc;
    }, rc}, &op);
  }
  // login: GET the URL in options through the host's HTTP client; value = "<status> <body>".
  static int32_t login(void* inst, fracta_str options, fracta_completion done) {
    auto* self = static_cast<test_provider*>(inst);
    auto* d = new fracta_completion(done);
    fracta_http_request req{sizeof(fracta_http_request), str("GET"), options, nullptr, 0, {nullptr, 0}, 2000};
    fracta_op_id op = 0;
    return self->host->http_send(self->host->host_ctx, &req, fracta_http_completion{[](void* c, int32_t st, const fracta_http_response* resp, fracta_str msg) {
      auto* d = static_cast<fracta_completion*>(c);
      std::string v = resp ? std::to_string(resp->status) + " " + std::string(view(resp->body)) : std::string(view(msg));
      fracta_outcome o{sizeof(fracta_outcome), {nullptr, 0}, 0, str(v)};
      d->fn(d->ctx, st, &o);
      delete d;
    }, d}, &op);
  }
  // logout: waits on an hour-long timer; only teardown ends it.
  static int32_t logout(void* inst, fracta_completion done) {
    auto* self = static_cast<test_provider*>(inst);
    self->pending_logout = done;
    fracta_op_id op = 0;
    return self->host->timer_start(self->host->host_ctx, 3'600'000, fracta_completion{[](void* c, int32_t st, const fracta_outcome*) {
      auto* self = static_cast<test_provider*>(c);
      self->pending_logout.fn(self->pending_logout.ctx, st, nullptr);
    }, self}, &op);
  }
  static int32_t status(void* inst, const fracta_sink* out) {
    auto* self = static_cast<test_provider*>(inst);
    const std::string doc = "{\"refreshes\":" + std::to_string(self->refreshes) + "}";
    out->write(out->ctx, str(doc));
    return FRACTA_OK;
  }
};

const fracta_provider test_table = {sizeof(fracta_provider), "test", 0, &test_provider::create,
                                    &test_provider::destroy, &test_provider::apply, &test_provider::refresh,
                                    nullptr, &test_provider::login, &test_provider::logout,
                                    &test_provider::status, nullptr, nullptr};

// A plain coroutine, not a capturing lambda (GCC 12 rule).
asio::awaitable<void> logout_into(provider_instance* p, std::optional<op_result>* out) {
  out->emplace(co_await p->logout());
}

struct fixture {
  asio::io_context io;
  fracta::http::client http{io.get_executor()};
  fracta::config::server server;
  fracta::plugin::memory_store store;
  asio::thread_pool pool{1};

  fracta::plugin::instance_context ctx() {
    return {asio::make_strand(io.get_executor()), &http, fracta::core::system_clock(), &server, &store, {},
            pool.get_executor()};
  }
};

}  // namespace

TEST_CASE("create resolves the provider's secret through the host") {
  ::setenv("FRACTA_TEST_TOKEN", "s3cret", 1);
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  f.server.auth.json = R"({"type":"test","token":{"env":"FRACTA_TEST_TOKEN"}})";
  auto inst = provider_instance::create(test_table, f.ctx());
  REQUIRE(inst.ok());
  fracta::http::request req;
  std::string msg;
  CHECK((*inst)->apply(req, msg) == FRACTA_OK);
  CHECK(fracta::http::find_header(req.headers, "authorization") == std::optional<std::string_view>("Bearer s3cret"));
}

TEST_CASE("an unresolvable secret fails create with the host's message, naming key and variable") {
  ::unsetenv("FRACTA_TEST_MISSING");
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  f.server.auth.json = R"({"type":"test","token":{"env":"FRACTA_TEST_MISSING"}})";
  auto inst = provider_instance::create(test_table, f.ctx());
  REQUIRE_FALSE(inst.ok());
  CHECK(inst.err().code == fracta::errc::config);
  CHECK(inst.err().message.find("FRACTA_TEST_MISSING") != std::string::npos);
  CHECK(inst.err().message.find("mcp.servers.t.remote.auth.token") != std::string::npos);
}

TEST_CASE("a PENDING operation resumes the coroutine when the plugin completes it") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  auto inst = provider_instance::create(test_table, f.ctx());
  REQUIRE(inst.ok());
  auto& p = **inst;
  fracta::http::request req;
  std::string msg;
  CHECK(p.apply(req, msg) == FRACTA_NEED_REFRESH);
  auto r = fracta::core::run_async(f.io, p.refresh());
  CHECK(r.status == FRACTA_OK);
  CHECK(r.message == "ok");
  CHECK(r.expires_at_ms > fracta::core::system_clock()->wall_ms());
  CHECK(p.apply(req, msg) == FRACTA_OK);
  CHECK(fracta::http::find_header(req.headers, "Authorization") == std::optional<std::string_view>("Bearer refreshed-1"));
  CHECK(p.status_json() == std::optional<std::string>(R"({"refreshes":1})"));
}

TEST_CASE("absent optional operations report unsupported") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  auto inst = provider_instance::create(test_table, f.ctx());
  REQUIRE(inst.ok());
  CHECK_FALSE((*inst)->has_on_challenge());
  auto r = fracta::core::run_async(f.io, (*inst)->on_challenge(401, "Bearer", ""));
  CHECK(r.status == FRACTA_E_UNSUPPORTED);
}

TEST_CASE("the host's HTTP service reaches a loopback server and returns status and body") {
  httplib::Server srv;
  srv.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("world", "text/plain"); });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    fixture f;
    f.server.name = "t";
    f.server.url = "http://127.0.0.1:1/mcp";
    auto inst = provider_instance::create(test_table, f.ctx());
    REQUIRE(inst.ok());
    auto r = fracta::core::run_async(f.io, (*inst)->login("http://127.0.0.1:" + std::to_string(port) + "/hello"));
    CHECK(r.status == FRACTA_OK);
    CHECK(r.value == "200 world");
  }
  srv.stop();
  t.join();
}

TEST_CASE("destroying an instance completes its pending host operations with CANCELLED first") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  auto inst = provider_instance::create(test_table, f.ctx());
  REQUIRE(inst.ok());
  std::optional<op_result> logout_result;
  auto holder = std::move(inst).value();
  asio::co_spawn(f.io, logout_into(holder.get(), &logout_result), asio::detached);
  f.io.poll();  // logout is now waiting on its hour-long host timer
  CHECK_FALSE(logout_result.has_value());
  holder.reset();  // teardown: the timer completes with CANCELLED, then destroy() runs
  f.io.poll();
  REQUIRE(logout_result.has_value());
  CHECK(logout_result->status == FRACTA_E_CANCELLED);
}

TEST_CASE("json access services follow RFC 6901 and tell absent from wrong type") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  // A provider whose create() keeps the host table, to call the services directly.
  static const fracta_host* captured = nullptr;
  static const fracta_provider capture = {sizeof(fracta_provider), "capture", 0,
      [](const fracta_host* h, fracta_str, void** inst, const fracta_sink*) -> int32_t { captured = h; *inst = &captured; return FRACTA_OK; },
      [](void*) {}, [](void*, fracta_request*, const fracta_sink*) -> int32_t { return FRACTA_OK; },
      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  auto inst = provider_instance::create(capture, f.ctx());
  REQUIRE(inst.ok());
  const std::string doc = R"({"a":{"b~c":"x","n":1},"arr":["p","q"]})";
  collect out;
  CHECK(captured->json_get_string(captured->host_ctx, str(doc), str("/a/b~0c"), &out.sink) == FRACTA_OK);
  CHECK(out.text == "x");
  collect arr;
  CHECK(captured->json_get_string(captured->host_ctx, str(doc), str("/arr/1"), &arr.sink) == FRACTA_OK);
  CHECK(arr.text == "q");
  collect raw;
  CHECK(captured->json_get_raw(captured->host_ctx, str(doc), str("/a"), &raw.sink) == FRACTA_OK);
  CHECK(raw.text == R"({"b~c":"x","n":1})");
  collect none;
  CHECK(captured->json_get_string(captured->host_ctx, str(doc), str("/missing"), &none.sink) == FRACTA_E_NOT_FOUND);
  CHECK(captured->json_get_string(captured->host_ctx, str(doc), str("/a/n"), &none.sink) == FRACTA_E_INVALID_ARGUMENT);
  CHECK(captured->json_get_string(captured->host_ctx, str("{nope"), str("/a"), &none.sink) == FRACTA_E_INVALID_ARGUMENT);
}

namespace {
// Captures the host table of a throwaway instance, to call host services directly.
const fracta_host* captured_host = nullptr;
const fracta_provider capturing = {
    sizeof(fracta_provider), "capture", 0,
    [](const fracta_host* h, fracta_str, void** inst, const fracta_sink*) -> int32_t {
      captured_host = h;
      *inst = &captured_host;
      return FRACTA_OK;
    },
    [](void*) {}, [](void*, fracta_request*, const fracta_sink*) -> int32_t { return FRACTA_OK; },
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

struct async_result {
  bool called = false;
  int32_t status = 0;
  std::string value, message;
};
void record(void* ctx, int32_t status, const fracta_outcome* o) {
  auto* r = static_cast<async_result*>(ctx);
  r->called = true;
  r->status = status;
  if (o) {
    r->value = std::string(view(o->value));
    r->message = std::string(view(o->message));
  }
}
}  // namespace

TEST_CASE("resolve_secret_async reads a file off the loop and completes on the actor") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  const auto path = std::filesystem::temp_directory_path() / ("fracta-secret-" + std::to_string(::getpid()));
  std::ofstream(path) << "rotated-value\n";
  auto inst = provider_instance::create(capturing, f.ctx());
  REQUIRE(inst.ok());
  const std::string ref = "{\"file\":\"" + path.string() + "\"}";
  async_result r;
  fracta_op_id op = 0;
  CHECK(captured_host->resolve_secret_async(captured_host->host_ctx, str("token"), str(ref),
                                            fracta_completion{&record, &r}, &op) == FRACTA_PENDING);
  CHECK(op != 0);
  CHECK_FALSE(r.called);  // never completes inline
  auto guard = asio::make_work_guard(f.io);  // the answer comes from the pool thread
  while (!r.called) f.io.run_one();
  CHECK(r.status == FRACTA_OK);
  CHECK(r.value == "rotated-value");
  std::filesystem::remove(path);

  async_result missing;
  const std::string bad = "{\"file\":\"" + path.string() + "\"}";
  CHECK(captured_host->resolve_secret_async(captured_host->host_ctx, str("token"), str(bad),
                                            fracta_completion{&record, &missing}, &op) == FRACTA_PENDING);
  while (!missing.called) f.io.run_one();
  CHECK(missing.status == FRACTA_E_CONFIG);
  CHECK(missing.message.find(path.string()) != std::string::npos);
  CHECK(missing.message.find("mcp.servers.t.remote.auth.token") != std::string::npos);
}

TEST_CASE("a pending resolve_secret_async is completed with CANCELLED at teardown") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  ::setenv("FRACTA_TEST_ASYNC", "v", 1);
  auto inst = provider_instance::create(capturing, f.ctx());
  REQUIRE(inst.ok());
  async_result r;
  fracta_op_id op = 0;
  CHECK(captured_host->resolve_secret_async(captured_host->host_ctx, str("token"), str(R"({"env":"FRACTA_TEST_ASYNC"})"),
                                            fracta_completion{&record, &r}, &op) == FRACTA_PENDING);
  auto holder = std::move(inst).value();
  holder.reset();
  CHECK(r.called);
  CHECK(r.status == FRACTA_E_CANCELLED);
  f.pool.join();
  f.io.poll();  // the pool's late answer is dropped, not delivered
  CHECK(r.status == FRACTA_E_CANCELLED);
}

// ---- store keys -----------------------------------------------------------------------------------

namespace {

// A persistent store in memory, shared by instances (as a keyring is by processes).
class fake_persistent_store final : public fracta::store::blocking_store {
 public:
  std::string_view name() const noexcept override { return "fake"; }
  fracta::result<std::string> get(const fracta::store::item_key& k) override {
    std::lock_guard lk(m_);
    auto it = items_.find(id(k));
    if (it == items_.end()) return fracta::store::make_error(fracta::store::errc::not_found, "not stored");
    return it->second;
  }
  fracta::result<void> put(const fracta::store::item_key& k, std::string_view v) override {
    std::lock_guard lk(m_);
    items_[id(k)] = std::string(v);
    return {};
  }
  fracta::result<void> erase(const fracta::store::item_key& k) override {
    std::lock_guard lk(m_);
    items_.erase(id(k));
    return {};
  }
  fracta::result<std::size_t> erase_server(std::string_view) override { return std::size_t{0}; }
  std::vector<std::string> keys() {
    std::lock_guard lk(m_);
    std::vector<std::string> out;
    for (const auto& [k, v] : items_) out.push_back(k);
    return out;
  }

 private:
  static std::string id(const fracta::store::item_key& k) { return k.server + "|" + k.issuer + "|" + k.item; }
  std::mutex m_;
  std::map<std::string, std::string> items_;
};

// One store call through the host of a fresh instance for (name, url); the loop is driven here.
async_result store_call(fracta::store::selector& stores, const std::string& name, const std::string& url,
                        const char* op, const std::string& value = {}) {
  fixture f;
  f.server.name = name;
  f.server.url = url;
  f.server.auth.type = "oauth";
  auto c = f.ctx();
  c.stores = &stores;
  auto inst = provider_instance::create(capturing, c);
  REQUIRE(inst.ok());
  async_result r;
  const fracta_completion done{&record, &r};
  const std::string o(op);
  if (o == "put") captured_host->store_put(captured_host->host_ctx, str("tokens"), str(value), done);
  else captured_host->store_get(captured_host->host_ctx, str("tokens"), done);
  auto guard = asio::make_work_guard(f.io);
  while (!r.called) f.io.run_one();
  return r;
}

}  // namespace

TEST_CASE("store items are filed under the server's name and canonical URL: a name re-added with another URL finds nothing") {
  auto persistent = std::make_shared<fake_persistent_store>();
  fracta::store::selector::options o;
  o.store_override = persistent;
  fracta::store::selector stores(std::move(o));
  REQUIRE(store_call(stores, "notion", "https://mcp.notion.com/mcp", "put", "{\"access_token\":\"old\"}").status ==
          FRACTA_OK);
  // Removed, then re-added under the same name with another URL: the old token is not there.
  const auto elsewhere = store_call(stores, "notion", "https://elsewhere.example/mcp", "get");
  CHECK(elsewhere.status == FRACTA_E_NOT_FOUND);
  // The same server, written differently (case, default port, userinfo, query), finds it.
  const auto same = store_call(stores, "notion", "HTTPS://user:pw@MCP.Notion.com:443/mcp?x=1#f", "get");
  CHECK(same.status == FRACTA_OK);
  CHECK(same.value == "{\"access_token\":\"old\"}");
  const auto keys = persistent->keys();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0] == "notion\nhttps://mcp.notion.com/mcp||tokens");
}

TEST_CASE("one instance's store calls land in the order it made them, even on a four-thread pool") {
  // The first put takes its time; the second must not overtake it.
  class slow_first final : public fracta::store::blocking_store {
   public:
    std::string_view name() const noexcept override { return "slow"; }
    fracta::result<std::string> get(const fracta::store::item_key&) override {
      std::lock_guard lk(m_);
      return value_;
    }
    fracta::result<void> put(const fracta::store::item_key&, std::string_view v) override {
      if (v == "first") {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
      }
      std::lock_guard lk(m_);
      value_ = std::string(v);
      return {};
    }
    fracta::result<void> erase(const fracta::store::item_key&) override { return {}; }
    fracta::result<std::size_t> erase_server(std::string_view) override { return std::size_t{0}; }

   private:
    std::mutex m_;
    std::string value_;
  };
  fracta::store::selector::options o;
  o.store_override = std::make_shared<slow_first>();
  fracta::store::selector stores(std::move(o));
  fixture f;
  asio::thread_pool four(4);
  f.server.name = "t";
  f.server.url = "https://mcp.example.com/mcp";
  f.server.auth.type = "oauth";
  auto c = f.ctx();
  c.stores = &stores;
  c.blocking = four.get_executor();
  auto inst = provider_instance::create(capturing, c);
  REQUIRE(inst.ok());
  async_result first, second, got;
  captured_host->store_put(captured_host->host_ctx, str("tokens"), str("first"), fracta_completion{&record, &first});
  captured_host->store_put(captured_host->host_ctx, str("tokens"), str("second"), fracta_completion{&record, &second});
  captured_host->store_get(captured_host->host_ctx, str("tokens"), fracta_completion{&record, &got});
  auto guard = asio::make_work_guard(f.io);
  while (!(first.called && second.called && got.called)) f.io.run_one();
  CHECK(got.value == "second");
  async_result later;  // once everything has landed
  captured_host->store_get(captured_host->host_ctx, str("tokens"), fracta_completion{&record, &later});
  while (!later.called) f.io.run_one();
  CHECK(later.value == "second");
  inst.value().reset();
  four.join();
}

// ---- egress policy ----------------------------------------------------------------------------------

TEST_CASE("plugin requests may reach loopback only for a loopback server, private addresses only when allowed, link-local never") {
  auto policy = [](const std::string& url, bool allow_private = false) {
    fracta::config::server s;
    s.name = "t";
    s.url = url;
    s.allow_private_network = allow_private;
    return fracta::plugin::egress_policy_for(s);
  };
  const auto loopback = policy("http://127.0.0.1:8080/mcp");
  CHECK(loopback.allow_loopback);
  CHECK_FALSE(loopback.allow_private);
  CHECK_FALSE(loopback.allow_link_local);
  CHECK(policy("http://localhost/mcp").allow_loopback);
  CHECK(policy("http://[::1]:9/mcp").allow_loopback);
  const auto public_host = policy("https://mcp.example.com/mcp");
  CHECK_FALSE(public_host.allow_loopback);
  CHECK_FALSE(public_host.allow_private);
  CHECK_FALSE(public_host.allow_link_local);
  CHECK(policy("https://10.1.2.3/mcp").allow_private);
  CHECK(policy("https://172.20.0.1/mcp").allow_private);
  CHECK_FALSE(policy("https://172.32.0.1/mcp").allow_private);
  CHECK(policy("https://192.168.1.10/mcp").allow_private);
  CHECK(policy("https://[fd12::1]/mcp").allow_private);
  CHECK_FALSE(policy("https://10.1.2.3/mcp").allow_loopback);
  const auto allowed = policy("https://mcp.corp.example/mcp", true);
  CHECK(allowed.allow_private);
  CHECK_FALSE(allowed.allow_link_local);
  CHECK_FALSE(policy("http://169.254.169.254/mcp", true).allow_link_local);
}

// ---- progress of host operations ------------------------------------------------------------------

namespace {
asio::awaitable<void> await_progress(provider_instance* p, bool* woke) {
  co_await p->host_progress();
  *woke = true;
}
}  // namespace

TEST_CASE("host_progress resumes when a pending host operation has been delivered to the plugin") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  auto inst = provider_instance::create(capturing, f.ctx());
  REQUIRE(inst.ok());
  auto& p = **inst;
  CHECK_FALSE(p.host_work_pending());
  bool woke = false;
  asio::co_spawn(f.io, await_progress(&p, &woke), asio::detached);
  f.io.poll();  // now waiting
  CHECK_FALSE(woke);
  async_result r;
  CHECK(captured_host->store_get(captured_host->host_ctx, str("tokens"), fracta_completion{&record, &r}) ==
        FRACTA_PENDING);
  CHECK(p.host_work_pending());
  f.io.restart();
  while (!woke && f.io.run_one() > 0) {
  }
  CHECK(r.called);
  CHECK(woke);
  CHECK_FALSE(p.host_work_pending());
}

TEST_CASE("a provider that fails without words gets a message that says what its status means") {
  fixture f;
  f.server.name = "t";
  f.server.url = "http://127.0.0.1:1/mcp";
  fracta_provider mute = test_table;
  mute.apply = [](void*, fracta_request*, const fracta_sink*) -> int32_t { return FRACTA_E_INVALID_ARGUMENT; };
  auto inst = provider_instance::create(mute, f.ctx());
  REQUIRE(inst.ok());
  fracta::http::request req;
  std::string msg;
  CHECK((*inst)->apply(req, msg) == FRACTA_E_INVALID_ARGUMENT);
  CHECK(msg == "could not attach the credential: it reported an argument it could not use "
               "(FRACTA_E_INVALID_ARGUMENT) without saying more (with -vv its log may)");
  CHECK(fracta::plugin::status_words(-99).find("an internal failure") != std::string::npos);
}
