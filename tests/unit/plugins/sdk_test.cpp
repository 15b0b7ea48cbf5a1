// SPDX-License-Identifier: Apache-2.0
// Specifies the plugin SDK (plugins/sdk/fracta/plugin_sdk.hpp): tables, the no-throw boundary, completions, host wrappers.
#include <fracta/plugin_sdk.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "fake_host.hpp"

namespace sdk = fracta::sdk;
using namespace fracta::test;

namespace {

// Only the required operations.
class minimal final {
 public:
  static constexpr const char* type = "minimal";
  minimal(sdk::host, std::string_view) {}
  std::int32_t apply(sdk::request& r, const sdk::sink&) { return r.set_header("X-Minimal", "1"); }
};

// Fails in the ways the config's "mode" asks for.
class thrower final {
 public:
  static constexpr const char* type = "thrower";
  thrower(sdk::host host, std::string_view config) : mode_(host.json_get_string(config, "/mode").value) {
    if (mode_ == "create") throw sdk::error(FRACTA_E_CONFIG, "`mode` may not be \"create\"");
    if (mode_ == "create-std") throw std::runtime_error("create exploded");
  }
  std::int32_t apply(sdk::request&, const sdk::sink&) {
    if (mode_ == "std") throw std::runtime_error("boom in apply");
    if (mode_ == "sdk") throw sdk::error(FRACTA_E_TRANSIENT, "try again later");
    if (mode_ == "sdk-positive") throw sdk::error(FRACTA_OK, "not an error status");
    if (mode_ == "int") throw 42;
    if (mode_ == "pending") return FRACTA_PENDING;
    return FRACTA_OK;
  }
  std::string status() {
    if (mode_ == "status") throw std::runtime_error("status exploded");
    return sdk::json_object().add_string("mode", mode_).str();
  }

 private:
  std::string mode_;
};

// Exercises the completion protocol of an async operation in every way a provider can.
class async_provider final {
 public:
  static constexpr const char* type = "async";
  async_provider(sdk::host host, std::string_view config)
      : mode_(host.json_get_string(config, "/mode").value), later_(host) {}
  std::int32_t apply(sdk::request&, const sdk::sink&) { return FRACTA_NEED_REFRESH; }
  std::int32_t refresh(sdk::completion& done) {
    if (mode_ == "final") return FRACTA_E_TRANSIENT;
    if (mode_ == "keep") {
      kept_ = std::move(done);
      return FRACTA_PENDING;
    }
    if (mode_ == "drop") return FRACTA_PENDING;
    if (mode_ == "keep-then-throw") {
      kept_ = std::move(done);
      throw std::runtime_error("failed after keeping the completion");
    }
    if (mode_ == "throw") throw std::runtime_error("refresh exploded");
    if (mode_ == "call-and-return-ok") {
      done(FRACTA_OK);
      return FRACTA_OK;
    }
    later_.complete(std::move(done), FRACTA_OK, {}, 1'700'000'600'000);
    return FRACTA_PENDING;
  }
  std::int32_t login(std::string_view options_json, sdk::completion& done) {
    later_.complete(std::move(done), FRACTA_OK, std::string(options_json));
    return FRACTA_PENDING;
  }
  void cancel() {
    if (kept_.armed()) kept_(FRACTA_E_CANCELLED, "cancelled by the host");
    later_.cancel_all();
  }

 private:
  std::string mode_;
  sdk::completion kept_;
  sdk::deferred later_;
};

}  // namespace

FRACTA_SDK_DEFINE_PLUGIN("sdk-test", "9.9.9", sdk::provider_table<minimal>(),
                         sdk::provider_table<thrower>(), sdk::provider_table<async_provider>())

TEST_CASE("FRACTA_SDK_DEFINE_PLUGIN exports one descriptor listing every table") {
  const fracta_plugin* plugin = fracta_plugin_entry_v1(FRACTA_ABI_MINOR);
  REQUIRE(plugin != nullptr);
  CHECK(plugin == fracta_plugin_entry_v1(FRACTA_ABI_MINOR + 7));  // static, whatever the host minor
  CHECK(plugin->struct_size == sizeof(fracta_plugin));
  CHECK(plugin->abi_major == FRACTA_ABI_MAJOR);
  CHECK(plugin->abi_minor == FRACTA_ABI_MINOR);
  CHECK(std::string_view(plugin->name) == "sdk-test");
  CHECK(std::string_view(plugin->version) == "9.9.9");
  REQUIRE(plugin->provider_count == 3);
  CHECK(plugin->providers[0] == sdk::provider_table<minimal>());
  CHECK(std::string_view(plugin->providers[2]->type) == "async");
}

TEST_CASE("a provider table has NULL for every optional operation the class does not define") {
  const fracta_provider& p = *sdk::provider_table<minimal>();
  CHECK(p.struct_size == sizeof(fracta_provider));
  CHECK(p.struct_size >= FRACTA_PROVIDER_MIN_SIZE);
  CHECK(std::string_view(p.type) == "minimal");
  CHECK(p.flags == 0);
  CHECK(present(p.create));
  CHECK(present(p.destroy));
  CHECK(present(p.apply));
  CHECK_FALSE(present(p.refresh));
  CHECK_FALSE(present(p.on_challenge));
  CHECK_FALSE(present(p.login));
  CHECK_FALSE(present(p.logout));
  CHECK_FALSE(present(p.status));
  CHECK_FALSE(present(p.cancel));
  CHECK_FALSE(present(p.export_credentials));

  const fracta_provider& a = *sdk::provider_table<async_provider>();
  CHECK(present(a.refresh));
  CHECK(present(a.login));
  CHECK(present(a.cancel));
  CHECK_FALSE(present(a.logout));
  CHECK_FALSE(present(a.status));
  CHECK(a.flags == FRACTA_PROVIDER_INTERACTIVE);  // it defines login()
}

TEST_CASE("create and apply through the table") {
  fake_host host;
  instance inst(*sdk::provider_table<minimal>(), host, "{}");
  REQUIRE(inst.status == FRACTA_OK);
  REQUIRE(inst.ptr != nullptr);
  fake_request req("GET", "https://x.example/");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("x-minimal") == "1");
}

TEST_CASE("create turns exceptions into a status and a message, leaving no instance") {
  fake_host host;
  const fracta_provider& p = *sdk::provider_table<thrower>();
  SUBCASE("sdk::error keeps its status") {
    instance inst(p, host, R"({"mode":"create"})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK_FALSE(present(inst.ptr));
    CHECK(inst.error.text == "`mode` may not be \"create\"");
  }
  SUBCASE("std::exception is INTERNAL") {
    instance inst(p, host, R"({"mode":"create-std"})");
    CHECK(inst.status == FRACTA_E_INTERNAL);
    CHECK_FALSE(present(inst.ptr));
    CHECK(inst.error.text == "create exploded");
  }
  SUBCASE("NULL arguments are refused") {
    collecting_sink err;
    CHECK(p.create(host.get(), str("{}"), nullptr, err.get()) == FRACTA_E_INVALID_ARGUMENT);
    void* out = &host;
    CHECK(p.create(nullptr, str("{}"), &out, err.get()) == FRACTA_E_INVALID_ARGUMENT);
  }
}

TEST_CASE("an exception thrown in apply never crosses the boundary") {
  fake_host host;
  const fracta_provider& p = *sdk::provider_table<thrower>();
  fake_request req("GET", "https://x.example/");
  collecting_sink err;
  SUBCASE("std::exception → INTERNAL with what() in the error sink") {
    instance inst(p, host, R"({"mode":"std"})");
    CHECK(inst.apply(req, err) == FRACTA_E_INTERNAL);
    CHECK(err.text == "boom in apply");
  }
  SUBCASE("sdk::error → its own status") {
    instance inst(p, host, R"({"mode":"sdk"})");
    CHECK(inst.apply(req, err) == FRACTA_E_TRANSIENT);
    CHECK(err.text == "try again later");
  }
  SUBCASE("sdk::error with a non-error status → INTERNAL") {
    instance inst(p, host, R"({"mode":"sdk-positive"})");
    CHECK(inst.apply(req, err) == FRACTA_E_INTERNAL);
  }
  SUBCASE("anything else → INTERNAL") {
    instance inst(p, host, R"({"mode":"int"})");
    CHECK(inst.apply(req, err) == FRACTA_E_INTERNAL);
    CHECK(err.text.find("unknown exception") != std::string::npos);
  }
  SUBCASE("apply returning PENDING is a provider bug reported as INTERNAL") {
    instance inst(p, host, R"({"mode":"pending"})");
    CHECK(inst.apply(req, err) == FRACTA_E_INTERNAL);
    CHECK(err.text.find("synchronous") != std::string::npos);
  }
  SUBCASE("a NULL error sink is tolerated") {
    instance inst(p, host, R"({"mode":"std"})");
    CHECK(p.apply(inst.ptr, req.get(), nullptr) == FRACTA_E_INTERNAL);
  }
}

TEST_CASE("status: the JSON goes to the sink; an exception is logged and becomes INTERNAL") {
  fake_host host;
  const fracta_provider& p = *sdk::provider_table<thrower>();
  instance ok(p, host, R"({"mode":"fine"})");
  CHECK(ok.status_json() == R"({"mode":"fine"})");
  instance bad(p, host, R"({"mode":"status"})");
  collecting_sink out;
  CHECK(p.status(bad.ptr, out.get()) == FRACTA_E_INTERNAL);
  CHECK(out.text.empty());
  CHECK(host.log_text() == "thrower provider: status failed: status exploded\n");
}

TEST_CASE("the completion protocol: a final status, or PENDING and exactly one call") {
  fake_host host;
  const fracta_provider& p = *sdk::provider_table<async_provider>();
  completion_probe done;

  SUBCASE("a final status releases the completion uncalled") {
    instance inst(p, host, R"({"mode":"final"})");
    CHECK(inst.refresh(done) == FRACTA_E_TRANSIENT);
    inst.destroy();
    CHECK(done.calls == 0);
  }
  SUBCASE("a kept completion is called once, later") {
    instance inst(p, host, R"({"mode":"keep"})");
    CHECK(inst.refresh(done) == FRACTA_PENDING);
    CHECK(done.calls == 0);
    p.cancel(inst.ptr);
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_E_CANCELLED);
    inst.destroy();
    CHECK(done.calls == 1);
  }
  SUBCASE("a kept completion still pending at destroy completes with CANCELLED") {
    instance inst(p, host, R"({"mode":"keep"})");
    CHECK(inst.refresh(done) == FRACTA_PENDING);
    inst.destroy();
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_E_CANCELLED);
  }
  SUBCASE("PENDING without keeping the completion is reported as INTERNAL, uncalled") {
    instance inst(p, host, R"({"mode":"drop"})");
    CHECK(inst.refresh(done) == FRACTA_E_INTERNAL);
    CHECK(done.calls == 0);
    CHECK(host.log_text().find("without keeping its completion") != std::string::npos);
  }
  SUBCASE("an exception with the completion untouched is INTERNAL, logged, uncalled") {
    instance inst(p, host, R"({"mode":"throw"})");
    CHECK(inst.refresh(done) == FRACTA_E_INTERNAL);
    CHECK(done.calls == 0);
    CHECK(host.log_text() == "async provider: refresh failed: refresh exploded\n");
  }
  SUBCASE("an exception after the completion was kept is PENDING: its owner completes it") {
    instance inst(p, host, R"({"mode":"keep-then-throw"})");
    CHECK(inst.refresh(done) == FRACTA_PENDING);
    CHECK(done.calls == 0);
    inst.destroy();
    CHECK(done.calls == 1);
  }
  SUBCASE("calling the completion and returning a final status still signals only once") {
    instance inst(p, host, R"({"mode":"call-and-return-ok"})");
    CHECK(inst.refresh(done) == FRACTA_PENDING);
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_OK);
  }
  SUBCASE("deferred completion carries the outcome, after the call returned") {
    instance inst(p, host, R"({"mode":"deferred"})");
    CHECK(inst.refresh(done) == FRACTA_PENDING);
    CHECK(done.calls == 0);
    host.run_posted();
    CHECK(done.calls == 1);
    CHECK(done.status == FRACTA_OK);
    CHECK(done.expires_at_unix_ms == 1'700'000'600'000);
  }
  SUBCASE("a NULL completion function is refused") {
    instance inst(p, host, R"({"mode":"keep"})");
    CHECK(p.refresh(inst.ptr, fracta_completion{nullptr, nullptr}) == FRACTA_E_INVALID_ARGUMENT);
  }
}

TEST_CASE("login passes its options through") {
  fake_host host;
  const fracta_provider& p = *sdk::provider_table<async_provider>();
  instance inst(p, host, "{}");
  completion_probe done;
  CHECK(p.login(inst.ptr, str(R"({"scopes":["read"]})"), done.get()) == FRACTA_PENDING);
  host.run_posted();
  CHECK(done.calls == 1);
  CHECK(done.message == R"({"scopes":["read"]})");
}

TEST_CASE("sdk::completion calls exactly once") {
  completion_probe probe;
  SUBCASE("destroying an uncalled completion cancels it") {
    { sdk::completion c(probe.get()); }
    CHECK(probe.calls == 1);
    CHECK(probe.status == FRACTA_E_CANCELLED);
  }
  SUBCASE("a called completion is not called again on destruction") {
    {
      sdk::completion c(probe.get());
      CHECK(c.armed());
      c(FRACTA_E_DENIED, "no", 5);
      CHECK(c.called());
      CHECK_FALSE(c.armed());
    }
    CHECK(probe.calls == 1);
    CHECK(probe.status == FRACTA_E_DENIED);
    CHECK(probe.message == "no");
    CHECK(probe.expires_at_unix_ms == 5);
  }
  SUBCASE("moving transfers the obligation") {
    sdk::completion a(probe.get());
    sdk::completion b(std::move(a));
    CHECK_FALSE(a.armed());
    CHECK(b.armed());
    b(FRACTA_OK);
    CHECK(probe.calls == 1);
  }
  SUBCASE("move-assigning over an armed completion cancels the old one") {
    completion_probe other;
    sdk::completion a(probe.get());
    sdk::completion b(other.get());
    a = std::move(b);
    CHECK(probe.calls == 1);
    CHECK(probe.status == FRACTA_E_CANCELLED);
    CHECK(other.calls == 0);
    a(FRACTA_OK);
    CHECK(other.calls == 1);
  }
  SUBCASE("release gives it up uncalled") {
    {
      sdk::completion c(probe.get());
      c.release();
    }
    CHECK(probe.calls == 0);
  }
  SUBCASE("an empty completion does nothing") {
    { sdk::completion c; }
    { sdk::completion c(fracta_completion{nullptr, nullptr}); }
    CHECK(probe.calls == 0);
  }
}

TEST_CASE("sdk::deferred delivers later, and cancels what is left when destroyed") {
  fake_host host;
  completion_probe first, second;
  {
    sdk::deferred later(sdk::host(host.get()));
    later.complete(sdk::completion(first.get()), FRACTA_E_DENIED, "nothing new");
    later.complete(sdk::completion(second.get()), FRACTA_OK);
    CHECK(later.size() == 2);
    CHECK(first.calls == 0);
    REQUIRE(host.run_next());  // only the first post
    CHECK(first.calls == 1);
    CHECK(first.status == FRACTA_E_DENIED);
    CHECK(first.message == "nothing new");
    CHECK(second.calls == 0);
  }
  CHECK(second.calls == 1);
  CHECK(second.status == FRACTA_E_CANCELLED);
  host.run_posted();  // the left-over post finds nothing to do
  CHECK(second.calls == 1);

  SUBCASE("a post the host cancels (at teardown) cancels the entry") {
    completion_probe third;
    sdk::deferred later(sdk::host(host.get()));
    later.complete(sdk::completion(third.get()), FRACTA_E_DENIED, "nothing new");
    REQUIRE(host.run_next(FRACTA_E_CANCELLED));
    CHECK(third.calls == 1);
    CHECK(third.status == FRACTA_E_CANCELLED);
    CHECK(later.size() == 0);
  }
  SUBCASE("without host post it completes at once") {
    host.table().post = nullptr;
    completion_probe now;
    sdk::deferred later(sdk::host(host.get()));
    later.complete(sdk::completion(now.get()), FRACTA_OK);
    CHECK(now.calls == 1);
    CHECK(later.size() == 0);
  }
}

TEST_CASE("sdk::host checks struct_size and NULL before every service") {
  fake_host host;
  SUBCASE("a host table too small for a field") {
    fracta_host small = *host.get();
    small.struct_size = offsetof(fracta_host, log);  // ends before log
    const sdk::host h(&small);
    h.log_error("dropped");
    CHECK(host.logs.empty());
    CHECK(h.wall_clock_ms() > 1'600'000'000'000);  // the system clock
    std::string error;
    CHECK_FALSE(h.resolve_secret("token", R"({"value":"x"})", error).has_value());
    CHECK(error.find("resolve_secret") != std::string::npos);
    CHECK(h.json_get_string(R"({"a":"b"})", "/a").status == FRACTA_E_UNSUPPORTED);
    CHECK(h.server_name() == "demo");  // covered by struct_size
  }
  SUBCASE("NULL function pointers") {
    host.table().json_get_raw = nullptr;
    host.table().wall_clock_ms = nullptr;
    const sdk::host h(host.get());
    CHECK(h.json_get_raw(R"({"a":1})", "/a").status == FRACTA_E_UNSUPPORTED);
    CHECK_FALSE(h.json_has(R"({"a":1})", "/a"));
    CHECK(h.wall_clock_ms() > 1'600'000'000'000);
  }
  SUBCASE("a null host") {
    const sdk::host h;
    CHECK(h.abi_minor() == 0);
    CHECK(h.server_url().empty());
    CHECK(h.post([](std::int32_t) {}) == FRACTA_E_UNSUPPORTED);
  }
}

TEST_CASE("sdk::host services") {
  fake_host host;
  host.env["TOKEN"] = "tok";
  const sdk::host h(host.get());
  CHECK(h.abi_minor() == FRACTA_ABI_MINOR);
  CHECK(h.server_name() == "demo");
  CHECK(h.server_url() == "https://mcp.example.com/mcp");
  CHECK(h.wall_clock_ms() == host.wall_ms);
  CHECK(h.monotonic_ms() == host.mono_ms);
  CHECK(h.now().time_since_epoch() == std::chrono::milliseconds(host.wall_ms));

  h.log_warn("hello");
  REQUIRE(host.logs.size() == 1);
  CHECK(host.logs[0].first == FRACTA_LOG_WARN);
  CHECK(host.logs[0].second == "hello");

  std::string error;
  CHECK(h.resolve_secret("token", R"({"env":"TOKEN"})", error) == "tok");
  CHECK_FALSE(h.resolve_secret("token", R"({"env":"NOPE"})", error).has_value());
  CHECK(error == "token: environment variable NOPE is not set");

  const std::string cfg = R"({"a":{"b c":[1, 2]},"s":"x\"y","n":3})";
  CHECK(h.json_get_raw(cfg, "/a").value == R"({"b c":[1,2]})");
  CHECK(h.json_get_raw(cfg, "/a/b c/1").value == "2");
  CHECK(h.json_get_string(cfg, "/s").value == "x\"y");
  CHECK(h.json_get_string(cfg, "/n").status == FRACTA_E_INVALID_ARGUMENT);
  CHECK(h.json_get_string(cfg, "/missing").status == FRACTA_E_NOT_FOUND);
  CHECK(h.json_get_string("not json", "/s").status == FRACTA_E_INVALID_ARGUMENT);
  CHECK(h.json_has(cfg, "/n"));

  CHECK(h.describe_secret_source(R"({"env":"X"})") == "env X");
  CHECK(h.describe_secret_source(R"({"file":"/p"})") == "file /p");
  CHECK(h.describe_secret_source(R"({"value":"hunter2"})") == "inline value");
  CHECK(h.describe_secret_source(R"("hunter2")") == "an unrecognised source");
}

TEST_CASE("sdk::host post and timers run C++ callables, freeing them exactly once") {
  fake_host host;
  const sdk::host h(host.get());
  std::vector<std::int32_t> seen;

  CHECK(h.post([&](std::int32_t st) { seen.push_back(st); }) == FRACTA_PENDING);
  fracta_op_id op = 0;
  CHECK(h.timer_start(10, [&](std::int32_t st, const sdk::outcome_view&) { seen.push_back(st + 100); }, &op) ==
        FRACTA_PENDING);
  CHECK(op != 0);
  fracta_op_id cancelled = 0;
  CHECK(h.timer_start(10, [&](std::int32_t st) { seen.push_back(st); }, &cancelled) == FRACTA_PENDING);
  h.cancel(cancelled);
  host.run_posted();
  // The cancelled timer completes later, after what was queued before the cancel.
  CHECK(seen == std::vector<std::int32_t>{FRACTA_OK, FRACTA_OK + 100, FRACTA_E_CANCELLED});

  SUBCASE("a refused timer never calls the callable (and frees it: see ASan)") {
    host.timer_status = FRACTA_E_UNAVAILABLE;
    auto big = std::make_shared<int>(1);
    CHECK(h.timer_start(10, [&seen, big](std::int32_t) { seen.push_back(-1); }) == FRACTA_E_UNAVAILABLE);
    CHECK(big.use_count() == 1);
    host.run_posted();
    CHECK(seen.size() == 3);
  }
  SUBCASE("an exception from a callable is logged, not propagated") {
    CHECK(h.post([](std::int32_t) { throw std::runtime_error("callback exploded"); }) == FRACTA_PENDING);
    host.run_posted();
    CHECK(host.log_text() == "fracta plugin: a host callback threw: callback exploded\n");
  }
}

TEST_CASE("sdk::host::resolve_secret_async calls back exactly once, after returning") {
  fake_host host;
  host.env["TOKEN"] = "tok";
  const sdk::host h(host.get());
  int calls = 0;
  std::int32_t status = 12345;
  std::string value, message;
  auto record = [&](std::int32_t st, const sdk::outcome_view& o) {
    ++calls;
    status = st;
    value.assign(o.value);
    message.assign(o.message);
  };

  SUBCASE("resolved by the host, off the call") {
    CHECK(h.resolve_secret_async("token", R"({"env":"TOKEN"})", record) != 0);
    CHECK(calls == 0);
    host.run_posted();
    CHECK(calls == 1);
    CHECK(status == FRACTA_OK);
    CHECK(value == "tok");
    CHECK(host.resolve_calls == 0);
  }
  SUBCASE("a resolution failure carries the host's message") {
    CHECK(h.resolve_secret_async("token", R"({"env":"NOPE"})", record) != 0);
    host.run_posted();
    CHECK(status == FRACTA_E_CONFIG);
    CHECK(message == "token: environment variable NOPE is not set");
  }
  SUBCASE("a host that refuses to start it: the failure still arrives later") {
    host.table().resolve_secret_async = [](void*, fracta_str, fracta_str, fracta_completion,
                                           fracta_op_id*) -> std::int32_t { return FRACTA_E_UNAVAILABLE; };
    CHECK(h.resolve_secret_async("token", R"({"env":"TOKEN"})", record) == 0);
    CHECK(calls == 0);
    host.run_posted();
    CHECK(calls == 1);
    CHECK(status == FRACTA_E_UNAVAILABLE);
    CHECK(message.find("could not start") != std::string::npos);
  }
  SUBCASE("a host without it: resolve_secret, delivered later") {
    host.table().resolve_secret_async = nullptr;
    CHECK(h.resolve_secret_async("token", R"({"env":"TOKEN"})", record) == 0);
    CHECK(calls == 0);
    CHECK(host.resolve_calls == 1);
    host.run_posted();
    CHECK(calls == 1);
    CHECK(value == "tok");
  }
  SUBCASE("a host without it and without post: delivered at once") {
    host.table().resolve_secret_async = nullptr;
    host.table().post = nullptr;
    CHECK(h.resolve_secret_async("token", R"({"env":"TOKEN"})", record) == 0);
    CHECK(calls == 1);
    CHECK(value == "tok");
  }
  SUBCASE("cancelled by the host") {
    const fracta_op_id op = h.resolve_secret_async("token", R"({"env":"TOKEN"})", record);
    h.cancel(op);
    host.run_posted();
    CHECK(calls == 1);
    CHECK(status == FRACTA_E_CANCELLED);
    CHECK(value.empty());
  }
}

TEST_CASE("sdk::secret_setting reads a SecretValue field and resolves it both ways") {
  fake_host host;
  host.files["/run/k"] = "from-file";
  const sdk::host h(host.get());
  const sdk::secret_setting s(h, R"({"type":"t","key":{"file":"/run/k"}})", "key", "t");
  CHECK(s.key() == "key");
  CHECK(s.source() == "file /run/k");
  std::string error;
  CHECK(s.resolve(error) == "from-file");
  std::string got;
  CHECK(s.resolve_async([&](std::int32_t, const sdk::outcome_view& o) { got.assign(o.value); }) != 0);
  host.run_posted();
  CHECK(got == "from-file");

  CHECK_THROWS_WITH_AS(sdk::secret_setting(h, R"({"type":"t"})", "key", "t"),
                       doctest::Contains("auth type \"t\" needs `key`"), sdk::error);
  CHECK_THROWS_AS(sdk::secret_setting(h, "not json", "key", "t"), sdk::error);
}

TEST_CASE("sdk::request reads fields and headers within struct_size") {
  fake_request req("PUT", "https://x.example/a?b", "body!");
  req.headers["content-type"] = "application/json";
  const sdk::request r(req.get());
  CHECK(r.method() == "PUT");
  CHECK(r.url() == "https://x.example/a?b");
  CHECK(r.body() == "body!");
  CHECK(r.get_header("Content-Type") == "application/json");
  CHECK_FALSE(r.get_header("X-None").has_value());
  CHECK(r.set_header("X-New", "v") == FRACTA_OK);
  CHECK(req.header("x-new") == "v");

  fracta_request truncated = *req.get();
  truncated.struct_size = offsetof(fracta_request, host_ctx);
  const sdk::request t(&truncated);
  CHECK(t.body() == "body!");
  CHECK(t.set_header("X-Other", "v") == FRACTA_E_UNSUPPORTED);
  CHECK_FALSE(t.get_header("Content-Type").has_value());

  truncated.struct_size = offsetof(fracta_request, body) + sizeof(fracta_str) - 1;  // body cut short
  const sdk::request short_body(&truncated);
  CHECK(short_body.url() == "https://x.example/a?b");
  CHECK(short_body.body().empty());
  CHECK(sdk::request(nullptr).method().empty());
}

TEST_CASE("sdk::challenge reads its fields") {
  const fracta_challenge ch{sizeof(fracta_challenge), 403, str(R"(Bearer error="insufficient_scope")"),
                            str("https://r.example/mcp"), str("{}")};
  const sdk::challenge c(&ch);
  CHECK(c.http_status() == 403);
  CHECK(c.www_authenticate() == R"(Bearer error="insufficient_scope")");
  CHECK(c.resource_url() == "https://r.example/mcp");
  CHECK(c.body() == "{}");

  fracta_challenge older = ch;
  older.struct_size = offsetof(fracta_challenge, resource_url);  // a host that stops before it
  const sdk::challenge o(&older);
  CHECK(o.http_status() == 403);
  CHECK(o.www_authenticate() == R"(Bearer error="insufficient_scope")");
  CHECK(o.resource_url().empty());
  CHECK(o.body().empty());
  CHECK(sdk::challenge(nullptr).www_authenticate().empty());
}

TEST_CASE("string helpers") {
  CHECK(sdk::to_str(fracta_str{nullptr, 3}).empty());
  CHECK(sdk::to_str(sdk::from_str("abc")) == "abc");

  // fracta-proto's encoder under the SDK's name (the RFC 4648 vectors are in base64_test).
  CHECK(sdk::base64_encode("foob") == "Zm9vYg==");
  CHECK(sdk::base64_encode("\xff\xfe") == "//4=");

  CHECK(sdk::is_utf8("plain ASCII"));
  CHECK(sdk::is_utf8("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x94\x91"));
  CHECK_FALSE(sdk::is_utf8("\xFC"));              // Latin-1 ü
  CHECK_FALSE(sdk::is_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(sdk::is_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(sdk::is_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(sdk::is_utf8("\xE2\x82"));          // truncated

  CHECK(sdk::is_http_token("X-Api-Key"));
  CHECK_FALSE(sdk::is_http_token(""));
  CHECK_FALSE(sdk::is_http_token("X Api"));
  CHECK_FALSE(sdk::is_http_token("X:Api"));
  CHECK(sdk::has_control_char("a\nb"));
  CHECK_FALSE(sdk::has_control_char("a\tb", /*allow_tab=*/true));
  CHECK(sdk::has_control_char("a\x7F"));

  std::string secret = "a fairly long secret that is not in the small buffer";
  sdk::secure_wipe(secret);
  CHECK(secret.empty());
}

TEST_CASE("json_object escapes everything into valid JSON") {
  const std::string text = sdk::json_object()
                               .add_string("quote\"back\\slash", "line\nbreak\x01\x7F")
                               .add_string("bad utf-8", "a\xFF" "b\xC3")
                               .add_string("good utf-8", "J\xC3\xBCrgen")
                               .add_int("n", -42)
                               .add_bool("yes", true)
                               .str();
  CHECK(text ==
        "{\"quote\\\"back\\\\slash\":\"line\\nbreak\\u0001\\u007f\","
        "\"bad utf-8\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\",\"good utf-8\":\"J\xC3\xBCrgen\","
        "\"n\":-42,\"yes\":true}");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  REQUIRE(parser.parse(text).get(obj) == simdjson::SUCCESS);
  std::string_view v;
  REQUIRE(obj["quote\"back\\slash"].get(v) == simdjson::SUCCESS);
  CHECK(v == "line\nbreak\x01\x7F");
  CHECK(sdk::json_object().str() == "{}");
}
