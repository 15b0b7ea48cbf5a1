// SPDX-License-Identifier: Apache-2.0
// SDK host services: logging, clocks, secrets, JSON lookups, posts, timers, deferred completion.
#pragma once

#include <fracta/sdk/completion.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace fracta::sdk {

// ---- host services --------------------------------------------------------------------------

/// The status and text of a host JSON lookup.
struct json_lookup final {
  std::int32_t status = FRACTA_E_UNSUPPORTED;
  std::string value;
  [[nodiscard]] bool ok() const noexcept { return status == FRACTA_OK; }
};

/// A borrowed `const fracta_host*` with typed, checked access: every service is looked up
/// with FRACTA_HAS_FIELD and a NULL check, and reports FRACTA_E_UNSUPPORTED when absent.
/// Cheap to copy. Actor-bound: call it only from inside a host call or host completion.
class host final {
 public:
  host() noexcept = default;
  explicit host(const fracta_host* h) noexcept : host_(h) {}

  [[nodiscard]] const fracta_host* get() const noexcept { return host_; }
  [[nodiscard]] std::uint32_t abi_minor() const noexcept {
    return FRACTA_SDK_FIELD_OR(host_, fracta_host, abi_minor, 0u);
  }
  [[nodiscard]] std::string_view server_name() const noexcept {
    return to_str(FRACTA_SDK_FIELD_OR(host_, fracta_host, server_name, fracta_str{}));
  }
  [[nodiscard]] std::string_view server_url() const noexcept {
    return to_str(FRACTA_SDK_FIELD_OR(host_, fracta_host, server_url, fracta_str{}));
  }

  /// Logs a message (never a secret). Dropped when the host has no log.
  void log(std::int32_t level, std::string_view message) const noexcept {
    if (const auto fn = FRACTA_SDK_FIELD_OR(host_, fracta_host, log, nullptr))
      fn(host_->host_ctx, level, from_str(message));
  }
  void log_debug(std::string_view m) const noexcept { log(FRACTA_LOG_DEBUG, m); }
  void log_info(std::string_view m) const noexcept { log(FRACTA_LOG_INFO, m); }
  void log_warn(std::string_view m) const noexcept { log(FRACTA_LOG_WARN, m); }
  void log_error(std::string_view m) const noexcept { log(FRACTA_LOG_ERROR, m); }

  /// Unix time in milliseconds from the host's (possibly fake) clock; the system clock when
  /// the host has none.
  [[nodiscard]] std::int64_t wall_clock_ms() const noexcept {
    return clock_ms<std::chrono::system_clock>(
        FRACTA_SDK_FIELD_OR(host_, fracta_host, wall_clock_ms, nullptr));
  }
  /// The host's monotonic clock in milliseconds; steady_clock when the host has none.
  [[nodiscard]] std::int64_t monotonic_ms() const noexcept {
    return clock_ms<std::chrono::steady_clock>(
        FRACTA_SDK_FIELD_OR(host_, fracta_host, monotonic_ms, nullptr));
  }
  /// wall_clock_ms() as a time point.
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
    return std::chrono::system_clock::time_point{std::chrono::milliseconds{wall_clock_ms()}};
  }

  /// Resolves a SecretValue (its JSON as found in the configuration). On failure returns
  /// nullopt and sets `error` to a message for people (it names `key` and the source).
  /// Synchronous: the host may read a file, so use it in the constructor (create) only, and
  /// resolve_secret_async afterwards.
  [[nodiscard]] std::optional<std::string> resolve_secret(std::string_view key,
                                                          std::string_view secret_json,
                                                          std::string& error) const {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, resolve_secret) || host_->resolve_secret == nullptr) {
      error = "this fracta host cannot resolve secrets (resolve_secret is missing)";
      return std::nullopt;
    }
    string_sink out;
    string_sink err;
    const std::int32_t st = host_->resolve_secret(host_->host_ctx, from_str(key),
                                                  from_str(secret_json), out.get(), err.get());
    if (st == FRACTA_OK && out.ok()) return out.take();
    error = err.str().empty() ? std::string(key) + ": the secret could not be resolved"
                              : err.str();
    return std::nullopt;
  }

  /// Describes where a SecretValue comes from, for messages and status: "env NAME",
  /// "file PATH" or "inline value". Never reads the value itself.
  [[nodiscard]] std::string describe_secret_source(std::string_view secret_json) const {
    if (auto env = json_get_string(secret_json, "/env"); env.ok()) return "env " + env.value;
    if (auto file = json_get_string(secret_json, "/file"); file.ok()) return "file " + file.value;
    if (json_has(secret_json, "/value")) return "inline value";
    return "an unrecognised source";
  }

  /// The unescaped string at RFC 6901 `pointer` in `json`. Status FRACTA_E_NOT_FOUND when
  /// absent, FRACTA_E_INVALID_ARGUMENT when not JSON or not a string.
  [[nodiscard]] json_lookup json_get_string(std::string_view json, std::string_view pointer) const {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, json_get_string) || host_->json_get_string == nullptr)
      return {};
    return lookup(host_->json_get_string, json, pointer);
  }
  /// The element at RFC 6901 `pointer` in `json`, as minified JSON.
  [[nodiscard]] json_lookup json_get_raw(std::string_view json, std::string_view pointer) const {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, json_get_raw) || host_->json_get_raw == nullptr)
      return {};
    return lookup(host_->json_get_raw, json, pointer);
  }
  /// True when `pointer` names an element of `json`; its text is discarded unread.
  [[nodiscard]] bool json_has(std::string_view json, std::string_view pointer) const noexcept {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, json_get_raw) || host_->json_get_raw == nullptr)
      return false;
    const fracta_sink discard{sizeof(fracta_sink), nullptr, [](void*, fracta_str) noexcept {}};
    return host_->json_get_raw(host_->host_ctx, from_str(json), from_str(pointer), &discard) ==
           FRACTA_OK;
  }

  /// Runs `f(status)` or `f(status, outcome_view)` later on the instance's actor. Returns
  /// FRACTA_PENDING, or FRACTA_E_UNSUPPORTED (f not called) when the host cannot post.
  template <class F>
  [[nodiscard]] std::int32_t post(F&& f) const {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, post) || host_->post == nullptr)
      return FRACTA_E_UNSUPPORTED;
    host_->post(host_->host_ctx, make_callback(std::forward<F>(f)));
    return FRACTA_PENDING;
  }

  /// Runs `f(status)` or `f(status, outcome_view)` after `delay_ms`. Returns FRACTA_PENDING
  /// and sets `*op` (when given), or an error with f never called.
  template <class F>
  [[nodiscard]] std::int32_t timer_start(std::int64_t delay_ms, F&& f,
                                         fracta_op_id* op = nullptr) const {
    if (!FRACTA_HAS_FIELD(host_, fracta_host, timer_start) || host_->timer_start == nullptr)
      return FRACTA_E_UNSUPPORTED;
    fracta_op_id ignored = 0;
    const fracta_completion c = make_callback(std::forward<F>(f));
    const std::int32_t st =
        host_->timer_start(host_->host_ctx, delay_ms, c, op != nullptr ? op : &ignored);
    if (st != FRACTA_PENDING) destroy_callback<std::decay_t<F>>(c);
    return st;
  }

  /// Cancels a pending host operation; unknown ids are ignored.
  void cancel(fracta_op_id op) const noexcept {
    if (FRACTA_HAS_FIELD(host_, fracta_host, cancel) && host_->cancel != nullptr)
      host_->cancel(host_->host_ctx, op);
  }

  /// Resolves a SecretValue without blocking. Calls `f(status, outcome_view)` exactly once,
  /// later, on the actor: FRACTA_OK with the secret in outcome.value (borrowed for the call:
  /// copy it, and wipe the copy when done), or an error (FRACTA_E_CONFIG, FRACTA_E_CANCELLED…)
  /// with a message. Returns the operation's id for cancel(), or 0 when there is none. On a
  /// host without resolve_secret_async it falls back to resolve_secret (which may block).
  template <class F>
  fracta_op_id resolve_secret_async(std::string_view key, std::string_view secret_json, F&& f) const {
    using fn_t = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn_t&, std::int32_t, const outcome_view&>,
                  "the callback takes (int32_t status, const outcome_view&)");
    if (!FRACTA_HAS_FIELD(host_, fracta_host, resolve_secret_async) ||
        host_->resolve_secret_async == nullptr) {
      std::string error;
      std::optional<std::string> value = resolve_secret(key, secret_json, error);
      deliver_later(std::forward<F>(f), value ? FRACTA_OK : FRACTA_E_CONFIG, std::move(error),
                    value ? std::move(*value) : std::string{});
      return 0;
    }
    fracta_op_id op = 0;
    const fracta_completion c = make_callback(std::forward<F>(f));
    const std::int32_t st = host_->resolve_secret_async(host_->host_ctx, from_str(key),
                                                        from_str(secret_json), c, &op);
    if (st == FRACTA_PENDING) return op;
    // Not started: the host will never call c. Take the callable back and deliver the failure.
    std::unique_ptr<callback<fn_t>> cb(static_cast<callback<fn_t>*>(c.ctx));
    deliver_later(std::move(cb->fn), st < 0 ? st : FRACTA_E_INTERNAL,
                  std::string(key) + ": the host could not start resolving the secret (status " +
                      std::to_string(st) + ")",
                  std::string{});
    return 0;
  }

 private:
  // Reads the host's clock `fn`, or `Clock` (in milliseconds since its epoch) when it is NULL.
  template <class Clock>
  [[nodiscard]] std::int64_t clock_ms(std::int64_t (*fn)(void*)) const noexcept {
    if (fn != nullptr) return fn(host_->host_ctx);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
  }

  // Calls f(status, outcome) later through post (at once when the host cannot post). A post
  // the host completes with an error (teardown) passes that error on instead.
  template <class F>
  void deliver_later(F&& f, std::int32_t status, std::string message, std::string value) const {
    auto call = [fn = std::forward<F>(f), status, message = std::move(message),
                 value = std::move(value)](std::int32_t posted) mutable {
      const outcome_view o{message, 0, value};
      if (posted == FRACTA_OK)
        fn(status, o);
      else
        fn(posted < 0 ? posted : FRACTA_E_CANCELLED, outcome_view{"cancelled", 0, {}});
      secure_wipe(value);
    };
    if (post(std::move(call)) != FRACTA_PENDING) call(FRACTA_OK);  // post moved nothing then
  }

  using json_fn = std::int32_t (*)(void*, fracta_str, fracta_str, const fracta_sink*);

  [[nodiscard]] json_lookup lookup(json_fn fn, std::string_view json, std::string_view pointer) const {
    string_sink out;
    json_lookup r;
    r.status = fn(host_->host_ctx, from_str(json), from_str(pointer), out.get());
    if (r.status == FRACTA_OK && !out.ok()) r.status = FRACTA_E_INTERNAL;
    if (r.status == FRACTA_OK) r.value = out.take();
    return r;
  }

  // Wraps a callable as a fracta_completion; it deletes itself when called. An exception
  // from the callable is logged and swallowed: nothing unwinds into the host.
  template <class F>
  struct callback final {
    const fracta_host* owner;  // the host is complete only after this class
    F fn;
  };
  template <class F>
  [[nodiscard]] fracta_completion make_callback(F&& f) const {
    using fn_t = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn_t&, std::int32_t> ||
                      std::is_invocable_v<fn_t&, std::int32_t, const outcome_view&>,
                  "a host callback takes (int32_t status) or (int32_t status, const outcome_view&)");
    auto* cb = new callback<fn_t>{host_, std::forward<F>(f)};
    return fracta_completion{&host::invoke_callback<fn_t>, cb};
  }
  template <class F>
  static void invoke_callback(void* ctx, std::int32_t status, const fracta_outcome* o) noexcept {
    std::unique_ptr<callback<F>> cb(static_cast<callback<F>*>(ctx));
    try {
      if constexpr (std::is_invocable_v<F&, std::int32_t, const outcome_view&>)
        cb->fn(status, outcome_view::from(o));
      else
        cb->fn(status);
    } catch (const std::exception& e) {
      host(cb->owner).log_error(std::string("fracta plugin: a host callback threw: ") + e.what());
    } catch (...) {
      host(cb->owner).log_error("fracta plugin: a host callback threw a non-standard exception");
    }
  }
  template <class F>
  static void destroy_callback(fracta_completion c) noexcept {
    delete static_cast<callback<F>*>(c.ctx);
  }

  const fracta_host* host_ = nullptr;
};

/// Delivers completions later, on the instance's actor (through host post), so that a
/// provider never calls a completion before the call that handed it over has returned.
/// Destroying it completes whatever is still queued with FRACTA_E_CANCELLED, which is what
/// destroy() owes the host. Falls back to completing at once when the host cannot post.
/// Keep one as a member of the provider. Actor-bound; neither copyable nor movable.
class deferred final {
 public:
  explicit deferred(host h) : host_(h), queue_(std::make_shared<queue>()) {}
  deferred(const deferred&) = delete;
  deferred& operator=(const deferred&) = delete;
  // Posted callbacks that run later find the queue empty: each entry completes here.
  ~deferred() { cancel_all(); }

  /// Completes `done` with the given status and outcome, later. The strings are copied.
  void complete(completion done, std::int32_t status, std::string message = {},
                std::int64_t expires_at_unix_ms = 0, std::string value = {}) {
    const std::uint64_t id = ++queue_->next_id;
    queue_->entries.emplace(
        id, entry{std::move(done), status, std::move(message), expires_at_unix_ms, std::move(value)});
    std::int32_t st = FRACTA_E_INTERNAL;
    try {
      st = host_.post([q = queue_, id](std::int32_t posted) { run(*q, id, posted); });
    } catch (...) {  // out of memory: complete now rather than never
    }
    if (st != FRACTA_PENDING) run(*queue_, id, FRACTA_OK);
  }

  /// Completes everything still queued with FRACTA_E_CANCELLED, now.
  void cancel_all() noexcept {
    auto entries = std::exchange(queue_->entries, {});
    for (auto& [id, e] : entries) e.done(FRACTA_E_CANCELLED, "cancelled");
  }

  /// Number of completions still waiting to be delivered.
  [[nodiscard]] std::size_t size() const noexcept { return queue_->entries.size(); }

 private:
  struct entry final {
    completion done;
    std::int32_t status;
    std::string message;
    std::int64_t expires_at_unix_ms;
    std::string value;
  };
  struct queue final {
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, entry> entries;
  };
  // `posted` is the status the host gave the post: anything but OK (the host tearing the
  // instance down) cancels the entry instead of delivering it.
  static void run(queue& q, std::uint64_t id, std::int32_t posted) noexcept {
    const auto it = q.entries.find(id);
    if (it == q.entries.end()) return;
    entry e = std::move(it->second);
    q.entries.erase(it);
    if (posted != FRACTA_OK)
      e.done(posted < 0 ? posted : FRACTA_E_CANCELLED, "cancelled");
    else
      e.done(e.status, e.message, e.expires_at_unix_ms, e.value);
  }
  host host_;
  std::shared_ptr<queue> queue_;
};

/// One SecretValue field of a provider's configuration ({"value"|"env"|"file": …}): where it
/// comes from, and how to resolve it again (a mounted file or an env may be rotated).
/// Holds no secret itself. Actor-bound.
class secret_setting final {
 public:
  /// Reads the top-level `key` of the auth table. Throws sdk::error(FRACTA_E_CONFIG) with a
  /// message naming `type` and `key` when it is absent or the table is not JSON.
  secret_setting(host h, std::string_view config_json, std::string_view key, std::string_view type)
      : host_(h), key_(key) {
    json_lookup raw = host_.json_get_raw(config_json, "/" + key_);
    if (raw.status == FRACTA_E_NOT_FOUND)
      throw error(FRACTA_E_CONFIG, "auth type \"" + std::string(type) + "\" needs `" + key_ +
                                       "`, a secret given as { env = \"NAME\" }, { file = \"PATH\" } "
                                       "or { value = \"...\" }");
    if (raw.status == FRACTA_E_INVALID_ARGUMENT)
      throw error(FRACTA_E_CONFIG, "the auth table given to the \"" + std::string(type) +
                                       "\" provider is not JSON");
    if (!raw.ok())
      throw error(FRACTA_E_CONFIG, "this fracta host cannot read plugin configuration (json_get_raw)");
    json_ = std::move(raw.value);
    source_ = host_.describe_secret_source(json_);
  }

  /// The configuration key, e.g. "token".
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  /// Where the value comes from: "env NAME", "file PATH" or "inline value".
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// Resolves the current value through the host; nullopt and `error` (the host's message,
  /// naming the key and source) on failure.
  /// Synchronous: use it in the constructor (create) only.
  [[nodiscard]] std::optional<std::string> resolve(std::string& error) const {
    return host_.resolve_secret(key_, json_, error);
  }
  /// Resolves without blocking, for refresh() and anything after create(): see
  /// host::resolve_secret_async. Returns the operation id for host::cancel, or 0.
  template <class F>
  fracta_op_id resolve_async(F&& f) const {
    return host_.resolve_secret_async(key_, json_, std::forward<F>(f));
  }

 private:
  host host_;
  std::string key_;
  std::string json_;
  std::string source_;
};

}  // namespace fracta::sdk
