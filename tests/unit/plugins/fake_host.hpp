// SPDX-License-Identifier: Apache-2.0
// An in-memory fracta_host, request and sinks for driving provider plugins through the C ABI in unit tests.
#pragma once

#include <fracta/auth_plugin.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <simdjson.h>

// Defined by the plugin compiled into the test executable.
extern "C" const fracta_plugin* fracta_plugin_entry_v1(std::uint32_t host_abi_minor);

namespace fracta::test {

inline std::string_view view(fracta_str s) {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}
inline fracta_str str(std::string_view s) { return fracta_str{s.data(), s.size()}; }

/// A fracta_sink collecting into a string. Not movable: the table points at it.
class collecting_sink final {
 public:
  collecting_sink() : sink_{sizeof(fracta_sink), this, &collecting_sink::on_write} {}
  collecting_sink(const collecting_sink&) = delete;
  collecting_sink& operator=(const collecting_sink&) = delete;
  const fracta_sink* get() const { return &sink_; }
  std::string text;

 private:
  static void on_write(void* ctx, fracta_str s) { static_cast<collecting_sink*>(ctx)->text += view(s); }
  fracta_sink sink_;
};

/// Records the calls a completion receives.
class completion_probe final {
 public:
  completion_probe() = default;
  completion_probe(const completion_probe&) = delete;
  completion_probe& operator=(const completion_probe&) = delete;
  fracta_completion get() { return fracta_completion{&completion_probe::on_done, this}; }
  int calls = 0;
  std::int32_t status = 12345;
  std::string message;
  std::int64_t expires_at_unix_ms = -1;

 private:
  static void on_done(void* ctx, std::int32_t status, const fracta_outcome* o) {
    auto* self = static_cast<completion_probe*>(ctx);
    ++self->calls;
    self->status = status;
    if (o != nullptr) {
      self->message = view(o->message);
      self->expires_at_unix_ms = o->expires_at_unix_ms;
    }
  }
};

/// The host services a plugin sees: secrets from maps, JSON through simdjson, a settable
/// clock, a captured log, and a queue of posts, timers and async secret resolutions that the
/// test runs by hand (so nothing completes before the call that started it returned).
class fake_host final {
 public:
  fake_host() {
    table_.struct_size = sizeof(fracta_host);
    table_.abi_major = FRACTA_ABI_MAJOR;
    table_.abi_minor = FRACTA_ABI_MINOR;
    table_.host_ctx = this;
    table_.server_name = str("demo");
    table_.server_url = str("https://mcp.example.com/mcp");
    table_.log = &on_log;
    table_.wall_clock_ms = [](void* ctx) { return self(ctx).wall_ms; };
    table_.monotonic_ms = [](void* ctx) { return self(ctx).mono_ms; };
    table_.resolve_secret = &on_resolve_secret;
    table_.timer_start = &on_timer_start;
    table_.cancel = &on_cancel;
    table_.post = [](void* ctx, fracta_completion done) {
      self(ctx).queue.push_back({0, [done](std::int32_t st) { done.fn(done.ctx, st, nullptr); }});
    };
    table_.resolve_secret_async = &on_resolve_secret_async;
    table_.json_get_raw = &on_json_get_raw;
    table_.json_get_string = &on_json_get_string;
  }
  fake_host(const fake_host&) = delete;
  fake_host& operator=(const fake_host&) = delete;

  const fracta_host* get() const { return &table_; }
  fracta_host& table() { return table_; }

  /// Runs the oldest queued operation with `status` (a host tearing down passes
  /// FRACTA_E_CANCELLED). False when the queue is empty.
  bool run_next(std::int32_t status = FRACTA_OK) {
    if (queue.empty()) return false;
    auto task = std::move(queue.front().second);
    queue.pop_front();
    task(status);
    return true;
  }
  /// Runs queued operations, in order, until none is left.
  void run_posted() {
    while (run_next()) {
    }
  }

  /// Every logged message, one a line.
  std::string log_text() const {
    std::string out;
    for (const auto& [level, message] : logs) out += message + '\n';
    return out;
  }

  std::map<std::string, std::string> env;    // {"env": NAME}
  std::map<std::string, std::string> files;  // {"file": PATH}
  std::int64_t wall_ms = 1'700'000'000'000;
  std::int64_t mono_ms = 1'000;
  std::vector<std::pair<std::int32_t, std::string>> logs;
  std::deque<std::pair<fracta_op_id, std::function<void(std::int32_t)>>> queue;  // id 0 = post
  int resolve_calls = 0;        // synchronous resolve_secret
  int async_resolve_calls = 0;  // resolve_secret_async
  std::int32_t timer_status = FRACTA_PENDING;  // what timer_start answers

 private:
  static fake_host& self(void* ctx) { return *static_cast<fake_host*>(ctx); }

  static void on_log(void* ctx, std::int32_t level, fracta_str message) {
    self(ctx).logs.emplace_back(level, std::string(view(message)));
  }

  static void write(const fracta_sink* sink, std::string_view s) {
    REQUIRE(sink != nullptr);
    sink->write(sink->ctx, str(s));
  }

  static std::int32_t on_resolve_secret(void* ctx, fracta_str key, fracta_str secret_json,
                                        const fracta_sink* out, const fracta_sink* error) {
    fake_host& h = self(ctx);
    ++h.resolve_calls;
    return h.resolve(view(key), view(secret_json), out, error);
  }

  // Resolves when the queue runs, as a host reading files on another thread would.
  static std::int32_t on_resolve_secret_async(void* ctx, fracta_str key, fracta_str secret_json,
                                              fracta_completion done, fracta_op_id* op) {
    fake_host& h = self(ctx);
    ++h.async_resolve_calls;
    *op = ++h.next_op_;
    h.queue.push_back({*op, [&h, k = std::string(view(key)), json = std::string(view(secret_json)),
                             done](std::int32_t st) {
                         collecting_sink value, message;
                         if (st == FRACTA_OK) st = h.resolve(k, json, value.get(), message.get());
                         const fracta_outcome o{sizeof(fracta_outcome), str(message.text), 0, str(value.text)};
                         done.fn(done.ctx, st, &o);
                       }});
    return FRACTA_PENDING;
  }

  std::int32_t resolve(std::string_view key, std::string_view secret_json, const fracta_sink* out,
                       const fracta_sink* error) {
    fake_host& h = *this;
    const std::string k(key);
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(secret_json.data(), secret_json.size()).get(obj) != simdjson::SUCCESS ||
        obj.size() != 1) {
      write(error, k + ": give exactly one of value, env or file");
      return FRACTA_E_CONFIG;
    }
    const auto field = *obj.begin();
    std::string_view arg;
    if (field.value.get(arg) != simdjson::SUCCESS) {
      write(error, k + ": the source must be a string");
      return FRACTA_E_CONFIG;
    }
    const std::map<std::string, std::string>* from = nullptr;
    if (field.key == "value") {
      write(out, arg);
      return FRACTA_OK;
    }
    if (field.key == "env") from = &h.env;
    if (field.key == "file") from = &h.files;
    if (from == nullptr) {
      write(error, k + ": unknown source " + std::string(field.key));
      return FRACTA_E_CONFIG;
    }
    const auto it = from->find(std::string(arg));
    if (it == from->end()) {
      write(error, k + ": " + (from == &h.env ? "environment variable " : "file ") + std::string(arg) +
                       (from == &h.env ? " is not set" : " cannot be read"));
      return FRACTA_E_CONFIG;
    }
    write(out, it->second);
    return FRACTA_OK;
  }

  static std::int32_t lookup(fracta_str json, fracta_str pointer, simdjson::dom::parser& parser,
                             simdjson::dom::element& out) {
    simdjson::dom::element doc;
    if (parser.parse(view(json).data(), view(json).size()).get(doc) != simdjson::SUCCESS)
      return FRACTA_E_INVALID_ARGUMENT;
    const auto err = doc.at_pointer(view(pointer)).get(out);
    if (err == simdjson::INVALID_JSON_POINTER) return FRACTA_E_INVALID_ARGUMENT;
    return err == simdjson::SUCCESS ? FRACTA_OK : FRACTA_E_NOT_FOUND;
  }
  static std::int32_t on_json_get_raw(void*, fracta_str json, fracta_str pointer, const fracta_sink* out) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    const std::int32_t st = lookup(json, pointer, parser, e);
    if (st == FRACTA_OK) write(out, simdjson::minify(e));
    return st;
  }
  static std::int32_t on_json_get_string(void*, fracta_str json, fracta_str pointer,
                                         const fracta_sink* out) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    const std::int32_t st = lookup(json, pointer, parser, e);
    if (st != FRACTA_OK) return st;
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS) return FRACTA_E_INVALID_ARGUMENT;
    write(out, s);
    return FRACTA_OK;
  }

  static std::int32_t on_timer_start(void* ctx, std::int64_t, fracta_completion done, fracta_op_id* op) {
    fake_host& h = self(ctx);
    if (h.timer_status != FRACTA_PENDING) return h.timer_status;
    *op = ++h.next_op_;
    h.queue.push_back({*op, [done](std::int32_t st) { done.fn(done.ctx, st, nullptr); }});
    return FRACTA_PENDING;
  }
  // Like fracta's host: the completion runs with CANCELLED later, never inside cancel().
  static void on_cancel(void* ctx, fracta_op_id op) {
    fake_host& h = self(ctx);
    const auto it = std::find_if(h.queue.begin(), h.queue.end(),
                                 [op](const auto& p) { return op != 0 && p.first == op; });
    if (it == h.queue.end()) return;
    auto task = std::move(it->second);
    h.queue.erase(it);
    h.queue.push_back({0, [task = std::move(task)](std::int32_t) { task(FRACTA_E_CANCELLED); }});
  }

  fracta_host table_{};
  fracta_op_id next_op_ = 0;
};

/// An outgoing request whose headers live in a map (names compared case-insensitively).
class fake_request final {
 public:
  fake_request(std::string method, std::string url, std::string body = {})
      : method_(std::move(method)), url_(std::move(url)), body_(std::move(body)) {
    table_.struct_size = sizeof(fracta_request);
    table_.method = str(method_);
    table_.url = str(url_);
    table_.body = str(body_);
    table_.host_ctx = this;
    table_.get_header = [](void* ctx, fracta_str name, fracta_str* value) -> std::int32_t {
      auto& self = *static_cast<fake_request*>(ctx);
      const auto it = self.headers.find(lower(view(name)));
      if (it == self.headers.end()) return FRACTA_E_NOT_FOUND;
      *value = str(it->second);
      return FRACTA_OK;
    };
    table_.set_header = [](void* ctx, fracta_str name, fracta_str value) -> std::int32_t {
      static_cast<fake_request*>(ctx)->headers[lower(view(name))] = std::string(view(value));
      return FRACTA_OK;
    };
  }
  fake_request(const fake_request&) = delete;
  fake_request& operator=(const fake_request&) = delete;

  fracta_request* get() { return &table_; }
  std::optional<std::string> header(std::string_view name) const {
    const auto it = headers.find(lower(name));
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, std::string> headers;  // lower-case name → value

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  }
  std::string method_, url_, body_;
  fracta_request table_{};
};

/// True when an optional function pointer is set (doctest cannot print function pointers).
template <class F>
bool present(F* fn) {
  return fn != nullptr;
}

/// The provider of `type` in the plugin compiled into this test executable.
inline const fracta_provider& provider(std::string_view type) {
  const fracta_plugin* plugin = fracta_plugin_entry_v1(FRACTA_ABI_MINOR);
  REQUIRE(plugin != nullptr);
  const fracta_provider* found = nullptr;
  for (std::size_t i = 0; i < plugin->provider_count; ++i)
    if (std::string_view(plugin->providers[i]->type) == type) found = plugin->providers[i];
  REQUIRE_MESSAGE(found != nullptr, "no provider of type " << type);
  return *found;
}

/// A provider instance created through the C table, destroyed with it.
class instance final {
 public:
  instance(const fracta_provider& p, const fake_host& host, std::string_view config) : p_(p) {
    status = p_.create(host.get(), str(config), &ptr, error.get());
  }
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;
  ~instance() { destroy(); }

  void destroy() {
    if (ptr != nullptr) p_.destroy(ptr);
    ptr = nullptr;
  }
  std::int32_t apply(fake_request& r, collecting_sink& err) { return p_.apply(ptr, r.get(), err.get()); }
  std::int32_t refresh(completion_probe& done) { return p_.refresh(ptr, done.get()); }
  std::string status_json() {
    collecting_sink out;
    REQUIRE(present(p_.status));
    CHECK(p_.status(ptr, out.get()) == FRACTA_OK);
    return out.text;
  }

  std::int32_t status = 12345;
  void* ptr = nullptr;
  collecting_sink error;

 private:
  const fracta_provider& p_;
};

}  // namespace fracta::test
