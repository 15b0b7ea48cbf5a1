// SPDX-License-Identifier: Apache-2.0
// C++20 coroutines over the host services: write a provider's multi-step async work as straight code.
#pragma once

/*
 * A provider operation that needs several host round trips (discovery, then registration,
 * then a token request, each an HTTP exchange) reads best as one coroutine:
 *
 *   sdk::task<std::string> fetch(sdk::host h, std::string url) {
 *     sdk::http_result r = co_await sdk::http(h, {.method = "GET", .url = url});
 *     if (!r.ok()) throw sdk::error(FRACTA_E_TRANSIENT, r.message);
 *     co_return r.body;
 *   }
 *
 *   std::int32_t refresh(sdk::completion& done) {
 *     sdk::start(fetch(host_, url_), [this, d = std::move(done)](sdk::outcome<std::string> o) mutable {
 *       …
 *     });
 *     return FRACTA_PENDING;
 *   }
 *
 * Rules that keep this correct:
 *  - A task is lazy: nothing runs until it is awaited or given to start(). start() runs it at
 *    once, up to its first suspension, on the calling (actor) thread.
 *  - Every suspension is one host operation. The host resumes the coroutine from that
 *    operation's completion, on the instance's actor, so coroutine code may call host services.
 *  - A host operation completed with FRACTA_E_CANCELLED (cancel, or instance teardown) throws
 *    sdk::error(FRACTA_E_CANCELLED) out of co_await: cancellation unwinds the whole chain, and
 *    the teardown guarantee (every host operation completes before destroy()) means no frame
 *    outlives the instance.
 *  - Exceptions travel up through co_await; start() hands the last one to its callback.
 *  - GCC 12: keep class temporaries (std::string, ?: expressions) out of co_await
 *    expressions; bind them to named locals first.
 */

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fracta/plugin_sdk.hpp>
#include <fracta/proto/fields.hpp>

namespace fracta::sdk {

template <class T = void>
class task;

namespace coro_detail {

struct promise_base {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      const std::coroutine_handle<> next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };

  std::suspend_always initial_suspend() noexcept { return {}; }
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct promise final : promise_base {
  std::optional<T> value;
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct promise<void> final : promise_base {
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace coro_detail

/// A lazily started coroutine producing T (or throwing). Move-only; awaiting it runs it to
/// completion and yields its value. Destroying an unstarted or finished task frees its frame.
/// Actor-bound.
template <class T>
class [[nodiscard]] task final {
 public:
  using promise_type = coro_detail::promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() {
    promise_type& p = h_.promise();
    if (p.error) std::rethrow_exception(p.error);
    if constexpr (!std::is_void_v<T>) return std::move(*p.value);
  }

 private:
  void reset() noexcept {
    if (h_) h_.destroy();
    h_ = {};
  }
  handle_type h_;
};

namespace coro_detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}

// An eagerly started, self-destroying coroutine: the root that start() creates.
struct detached final {
  struct promise_type {
    detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // run_root catches everything
  };
};
}  // namespace coro_detail

/// What a started task ended with: its value, or the exception it threw.
template <class T>
struct outcome final {
  std::variant<std::monostate, std::conditional_t<std::is_void_v<T>, std::monostate, T>,
               std::exception_ptr>
      v;
  [[nodiscard]] bool ok() const noexcept { return v.index() == 1; }
  [[nodiscard]] std::exception_ptr error() const noexcept {
    return v.index() == 2 ? std::get<2>(v) : nullptr;
  }
  [[nodiscard]] auto& value() { return std::get<1>(v); }

  /// The status and message of a failed outcome: an sdk::error's own, else FRACTA_E_INTERNAL.
  [[nodiscard]] std::pair<std::int32_t, std::string> failure() const {
    try {
      std::rethrow_exception(error());
    } catch (const sdk::error& e) {
      return {e.status(), e.what()};
    } catch (const std::exception& e) {
      return {FRACTA_E_INTERNAL, std::string("internal error: ") + e.what()};
    } catch (...) {
      return {FRACTA_E_INTERNAL, "internal error"};
    }
  }
};

namespace coro_detail {
template <class T, class F>
detached run_root(task<T> t, F on_done) {
  outcome<T> o;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await t;
      o.v.template emplace<1>();
    } else {
      o.v.template emplace<1>(co_await t);
    }
  } catch (...) {
    o.v.template emplace<2>(std::current_exception());
  }
  try {
    on_done(std::move(o));
  } catch (...) {  // nothing may unwind into the host
  }
}
}  // namespace coro_detail

/// Runs `t` now, up to its first suspension, and calls `on_done(outcome<T>)` when it ends
/// (possibly before start() returns). `on_done` must not throw (exceptions are swallowed).
template <class T, class F>
void start(task<T> t, F on_done) {
  coro_detail::run_root(std::move(t), std::move(on_done));
}

// ---- awaitable host services ----------------------------------------------------------------

/// The result of a host operation: its final status, message, value and expiry.
struct host_result final {
  std::int32_t status = FRACTA_E_INTERNAL;
  std::string message;
  std::string value;
  std::int64_t expires_at_unix_ms = 0;
  [[nodiscard]] bool ok() const noexcept { return status == FRACTA_OK; }
};

namespace coro_detail {
[[noreturn]] inline void throw_cancelled(std::string_view message) {
  throw sdk::error(FRACTA_E_CANCELLED, message.empty() ? std::string("cancelled") : std::string(message));
}

// Awaits one host call that takes a fracta_completion. `Start` is called with the completion
// and returns the host's status: FRACTA_PENDING means it will call back later.
template <class Start>
class completion_awaiter final {
 public:
  explicit completion_awaiter(Start s) : start_(std::move(s)) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    h_ = h;
    const std::int32_t st = start_(fracta_completion{&completion_awaiter::done, this});
    if (st == FRACTA_PENDING) return true;
    result_.status = st < 0 ? st : FRACTA_E_INTERNAL;
    if (st == FRACTA_OK) result_.status = FRACTA_OK;
    return false;
  }
  host_result await_resume() {
    if (result_.status == FRACTA_E_CANCELLED) throw_cancelled(result_.message);
    return std::move(result_);
  }

 private:
  static void done(void* ctx, std::int32_t status, const fracta_outcome* o) noexcept {
    auto* self = static_cast<completion_awaiter*>(ctx);
    const outcome_view v = outcome_view::from(o);
    try {
      self->result_.status = status;
      self->result_.message.assign(v.message);
      self->result_.value.assign(v.value);
      self->result_.expires_at_unix_ms = v.expires_at_unix_ms;
    } catch (...) {
      self->result_.status = FRACTA_E_INTERNAL;
    }
    self->h_.resume();
  }
  Start start_;
  std::coroutine_handle<> h_;
  host_result result_;
};
}  // namespace coro_detail

namespace coro_detail {
template <class Start>
completion_awaiter<Start> await_completion(Start s) {
  return completion_awaiter<Start>(std::move(s));
}

// The host calls shaped (ctx, key, completion) and (ctx, milliseconds, completion, op id),
// awaited; `fn` is NULL when the host lacks the service.
using key_call = std::int32_t (*)(void*, fracta_str, fracta_completion);
using timed_call = std::int32_t (*)(void*, std::int64_t, fracta_completion, fracta_op_id*);

inline auto await_key_call(host h, key_call fn, std::string key) {
  return await_completion([h, fn, key = std::move(key)](fracta_completion c) -> std::int32_t {
    return fn != nullptr ? fn(h.get()->host_ctx, from_str(key), c) : FRACTA_E_UNSUPPORTED;
  });
}
inline auto await_timed_call(host h, timed_call fn, std::int64_t ms, fracta_op_id* op) {
  return await_completion([h, fn, ms, op](fracta_completion c) -> std::int32_t {
    if (fn == nullptr) return FRACTA_E_UNSUPPORTED;
    fracta_op_id ignored = 0;
    return fn(h.get()->host_ctx, ms, c, op != nullptr ? op : &ignored);
  });
}
}  // namespace coro_detail

/// Waits `delay_ms` on the host's timer. Throws sdk::error(FRACTA_E_CANCELLED) when cancelled.
inline auto sleep_for(host h, std::int64_t delay_ms, fracta_op_id* op = nullptr) {
  const coro_detail::timed_call fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, timer_start, nullptr);
  return coro_detail::await_timed_call(h, fn, delay_ms, op);
}

/// Reads a credential-store item: FRACTA_OK with the value, FRACTA_E_NOT_FOUND, or an error
/// (FRACTA_E_UNSUPPORTED when the host keeps no store for this server).
inline auto store_get(host h, std::string key) {
  const coro_detail::key_call fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, store_get, nullptr);
  return coro_detail::await_key_call(h, fn, std::move(key));
}

/// Writes a credential-store item. The value is copied by the host during the call.
inline auto store_put(host h, std::string key, std::string value) {
  const auto fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, store_put, nullptr);
  return coro_detail::await_completion(
      [h, fn, key = std::move(key), value = std::move(value)](fracta_completion c) mutable -> std::int32_t {
        if (fn == nullptr) return FRACTA_E_UNSUPPORTED;
        const std::int32_t st = fn(h.get()->host_ctx, from_str(key), from_str(value), c);
        secure_wipe(value);
        return st;
      });
}

/// Removes a credential-store item (absent is not an error).
inline auto store_erase(host h, std::string key) {
  const coro_detail::key_call fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, store_erase, nullptr);
  return coro_detail::await_key_call(h, fn, std::move(key));
}

/// Waits for the loopback redirect (or a pasted one): FRACTA_OK with the URL in value,
/// FRACTA_E_TIMEOUT, or FRACTA_E_UNSUPPORTED on a host without interactive services.
inline auto redirect_await(host h, std::int64_t timeout_ms, fracta_op_id* op = nullptr) {
  const coro_detail::timed_call fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, redirect_await, nullptr);
  return coro_detail::await_timed_call(h, fn, timeout_ms, op);
}

/// Resolves a SecretValue off the event loop: FRACTA_OK with the secret in value (wipe it
/// when done), or FRACTA_E_CONFIG with a message.
inline auto resolve_secret(host h, std::string key, std::string secret_json) {
  const auto fn = FRACTA_SDK_FIELD_OR(h.get(), fracta_host, resolve_secret_async, nullptr);
  return coro_detail::await_completion(
      [h, fn, key = std::move(key), json = std::move(secret_json)](fracta_completion c) -> std::int32_t {
        if (fn == nullptr) return FRACTA_E_UNSUPPORTED;
        fracta_op_id ignored = 0;
        return fn(h.get()->host_ctx, from_str(key), from_str(json), c, &ignored);
      });
}

/// An HTTP request for sdk::http(). Every field is copied into the awaiter.
struct http_request final {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::uint32_t timeout_ms = 0;
};

/// An HTTP exchange's result: `status` FRACTA_OK with an HTTP response (any code), or an
/// error (FRACTA_E_TIMEOUT, FRACTA_E_UNAVAILABLE…) with `message`.
struct http_result final {
  std::int32_t status = FRACTA_E_INTERNAL;
  int http_status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return status == FRACTA_OK; }
  /// The first header of that name (case-insensitive), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept {
    for (const auto& [n, v] : headers) {
      if (http::iequals(n, name)) return v;
    }
    return {};
  }
};

namespace coro_detail {
class http_awaiter final {
 public:
  http_awaiter(host h, http_request r) : h_(h), req_(std::move(r)) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> c) {
    co_ = c;
    const fracta_host* f = h_.get();
    if (!FRACTA_HAS_FIELD(f, fracta_host, http_send) || f->http_send == nullptr) {
      result_.status = FRACTA_E_UNSUPPORTED;
      result_.message = "the host offers no HTTP client";
      return false;
    }
    std::vector<fracta_http_header> hs;
    hs.reserve(req_.headers.size());
    for (const auto& [n, v] : req_.headers) hs.push_back({from_str(n), from_str(v)});
    const fracta_http_request r{sizeof(fracta_http_request), from_str(req_.method), from_str(req_.url),
                                hs.data(), hs.size(), from_str(req_.body), req_.timeout_ms};
    fracta_op_id op = 0;
    const std::int32_t st = f->http_send(f->host_ctx, &r, fracta_http_completion{&http_awaiter::done, this}, &op);
    if (st == FRACTA_PENDING) return true;
    result_.status = st < 0 ? st : FRACTA_E_INTERNAL;
    result_.message = "the host refused the HTTP request (status " + std::to_string(st) + ")";
    return false;
  }
  http_result await_resume() {
    secure_wipe(req_.body);
    for (auto& [n, v] : req_.headers) secure_wipe(v);
    if (result_.status == FRACTA_E_CANCELLED) throw_cancelled(result_.message);
    return std::move(result_);
  }

 private:
  static void done(void* ctx, std::int32_t status, const fracta_http_response* resp,
                   fracta_str message) noexcept {
    auto* self = static_cast<http_awaiter*>(ctx);
    try {
      self->result_.status = status;
      self->result_.message.assign(to_str(message));
      if (status == FRACTA_OK && resp != nullptr) {
        if (FRACTA_HAS_FIELD(resp, fracta_http_response, status)) self->result_.http_status = resp->status;
        if (FRACTA_HAS_FIELD(resp, fracta_http_response, header_count)) {
          for (std::size_t i = 0; i < resp->header_count; ++i)
            self->result_.headers.emplace_back(to_str(resp->headers[i].name), to_str(resp->headers[i].value));
        }
        if (FRACTA_HAS_FIELD(resp, fracta_http_response, body)) self->result_.body.assign(to_str(resp->body));
      } else if (status == FRACTA_OK) {
        self->result_.status = FRACTA_E_INTERNAL;
        self->result_.message = "the host completed an HTTP request without a response";
      }
    } catch (...) {
      self->result_.status = FRACTA_E_INTERNAL;
      self->result_.message = "out of memory reading an HTTP response";
    }
    self->co_.resume();
  }
  host h_;
  http_request req_;
  std::coroutine_handle<> co_;
  http_result result_;
};
}  // namespace coro_detail

/// Sends an HTTP request through the host's client and waits for the answer.
inline coro_detail::http_awaiter http(host h, http_request r) {
  return coro_detail::http_awaiter(h, std::move(r));
}

}  // namespace fracta::sdk
