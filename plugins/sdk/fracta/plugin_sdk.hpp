// SPDX-License-Identifier: Apache-2.0
// Header-only C++20 helpers that turn a plain C++ class into a fracta auth provider over the C ABI.
#pragma once

#include <fracta/auth_plugin.h>

#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

/*
 * Writing a provider (docs/plugin-abi.md has the full story):
 *
 *   class my_provider final {
 *    public:
 *     static constexpr const char* type = "my-type";
 *     my_provider(fracta::sdk::host host, std::string_view config_json);   // throws sdk::error
 *     std::int32_t apply(fracta::sdk::request& request, const fracta::sdk::sink& error);
 *     // optional, detected by signature:
 *     std::int32_t refresh(fracta::sdk::completion& done);
 *     std::int32_t on_challenge(const fracta::sdk::challenge& c, fracta::sdk::completion& done);
 *     std::int32_t login(std::string_view options_json, fracta::sdk::completion& done);
 *     std::int32_t logout(fracta::sdk::completion& done);
 *     std::string status();
 *     void cancel();
 *   };
 *   FRACTA_SDK_DEFINE_PLUGIN("my-plugin", "1.0.0", fracta::sdk::provider_table<my_provider>())
 *
 * Every C entry point the SDK generates is noexcept and catches everything: an exception
 * becomes a status (sdk::error carries its own; anything else is FRACTA_E_INTERNAL) and its
 * what() goes to the call's error sink, or to the host log when the call has no sink.
 */

namespace fracta::sdk {

// ---- strings --------------------------------------------------------------------------------

/// A view of a borrowed C string view; NULL data reads as empty. Thread-safe.
[[nodiscard]] constexpr std::string_view to_str(fracta_str s) noexcept {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}

/// A C view of `s`, borrowed from it. Thread-safe.
[[nodiscard]] constexpr fracta_str from_str(std::string_view s) noexcept {
  return fracta_str{s.data(), s.size()};
}

/// Overwrites the whole buffer of `s` (capacity, not only size), then empties it. Used for
/// secrets a provider no longer needs. Thread-compatible.
inline void secure_wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // within capacity: never reallocates
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values past
/// U+10FFFF). Thread-safe.
[[nodiscard]] constexpr bool is_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

/// True when `s` contains a control character (C0 or DEL). `allow_tab` permits HTAB, which
/// an HTTP field value may contain. Thread-safe.
[[nodiscard]] constexpr bool has_control_char(std::string_view s, bool allow_tab = false) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7F) return true;
  }
  return false;
}

/// True when `s` is an HTTP field name (RFC 9110 token). Thread-safe.
[[nodiscard]] constexpr bool is_http_token(std::string_view s) noexcept {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  if (s.empty()) return false;
  for (const char c : s) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

/// Standard base64 (RFC 4648 §4, padded). Thread-safe.
[[nodiscard]] inline std::string base64_encode(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(in[i + 2])};
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (rest == 2) n |= std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// ---- JSON output ----------------------------------------------------------------------------

/// Appends `s` to `out` as a JSON string literal, quotes included. Control characters are
/// escaped; bytes that are not UTF-8 become U+FFFD, so the result is always valid JSON.
/// Thread-compatible.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Find the longest well-formed sequence starting here (1..4 bytes).
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (len <= s.size() - i && is_utf8(s.substr(i, len))) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

/// Builds one flat JSON object (what status() returns) with correct escaping; never by
/// concatenating JSON text by hand. Thread-compatible.
class json_object final {
 public:
  json_object& add_string(std::string_view key, std::string_view value) {
    add_key(key);
    append_json_string(out_, value);
    return *this;
  }
  json_object& add_int(std::string_view key, std::int64_t value) {
    add_key(key);
    out_ += std::to_string(value);
    return *this;
  }
  json_object& add_bool(std::string_view key, bool value) {
    add_key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  /// The finished object text.
  [[nodiscard]] std::string str() const { return out_ + '}'; }

 private:
  void add_key(std::string_view key) {
    if (out_.size() > 1) out_ += ',';
    append_json_string(out_, key);
    out_ += ':';
  }
  std::string out_ = "{";
};

// ---- sinks ----------------------------------------------------------------------------------

/// A borrowed host sink: writes are copied by the receiver. Thread: the sink owner's.
class sink final {
 public:
  explicit sink(const fracta_sink* s) noexcept : sink_(s) {}
  /// True when the sink can be written to.
  [[nodiscard]] explicit operator bool() const noexcept {
    return FRACTA_HAS_FIELD(sink_, fracta_sink, write) && sink_->write != nullptr;
  }
  /// Writes `s` (a no-op on an unusable sink).
  void write(std::string_view s) const noexcept {
    if (*this) sink_->write(sink_->ctx, from_str(s));
  }
  [[nodiscard]] const fracta_sink* get() const noexcept { return sink_; }

 private:
  const fracta_sink* sink_;
};

/// A fracta_sink the plugin lends to the host, collecting what is written into a string.
/// Wipes its buffer when destroyed (it may hold a secret). Neither copyable nor movable:
/// the C table points at it. Actor-bound.
class string_sink final {
 public:
  string_sink() noexcept : sink_{sizeof(fracta_sink), this, &string_sink::on_write} {}
  string_sink(const string_sink&) = delete;
  string_sink& operator=(const string_sink&) = delete;
  ~string_sink() { secure_wipe(out_); }

  [[nodiscard]] const fracta_sink* get() const noexcept { return &sink_; }
  /// False if a write failed to allocate (the content is then incomplete).
  [[nodiscard]] bool ok() const noexcept { return !failed_; }
  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  /// Moves the content out.
  [[nodiscard]] std::string take() noexcept { return std::exchange(out_, std::string{}); }

 private:
  static void on_write(void* ctx, fracta_str s) noexcept {
    auto* self = static_cast<string_sink*>(ctx);
    try {
      self->out_.append(to_str(s));
    } catch (...) {
      self->failed_ = true;
    }
  }
  std::string out_;
  bool failed_ = false;
  fracta_sink sink_;
};

// ---- errors ---------------------------------------------------------------------------------

/// Thrown by provider code to fail with a given (negative) status and a message for people.
/// The message must never contain a secret. The trampolines turn it into the status and an
/// error-sink write; a non-negative status is reported as FRACTA_E_INTERNAL.
class error final : public std::exception {
 public:
  error(std::int32_t status, std::string message) : status_(status), message_(std::move(message)) {}
  [[nodiscard]] std::int32_t status() const noexcept { return status_; }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::int32_t status_;
  std::string message_;
};

// ---- completions ----------------------------------------------------------------------------

/// An owned fracta_completion: move-only, called at most once. Destroying one that was never
/// called completes it with FRACTA_E_CANCELLED, so "exactly once" holds by construction.
/// Calling it twice (or calling a moved-from one) is a bug: it asserts, and is ignored when
/// assertions are off. Actor-bound.
class completion final {
 public:
  completion() noexcept = default;
  explicit completion(fracta_completion c) noexcept
      : c_(c), state_(c.fn != nullptr ? state::armed : state::empty) {}
  completion(completion&& other) noexcept
      : c_(other.c_), state_(std::exchange(other.state_, state::empty)) {}
  completion& operator=(completion&& other) noexcept {
    if (this != &other) {
      cancel_if_armed();
      c_ = other.c_;
      state_ = std::exchange(other.state_, state::empty);
    }
    return *this;
  }
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;
  ~completion() { cancel_if_armed(); }

  /// Completes with a final status (never FRACTA_PENDING) and an optional outcome; the strings
  /// are borrowed for the duration of the call.
  void operator()(std::int32_t status, std::string_view message = {},
                  std::int64_t expires_at_unix_ms = 0, std::string_view value = {}) noexcept {
    assert(state_ == state::armed && "completion called twice, or after being moved from");
    assert(status != FRACTA_PENDING && "a completion takes a final status");
    if (state_ != state::armed) return;
    state_ = state::called;
    if (status == FRACTA_PENDING) status = FRACTA_E_INTERNAL;
    const fracta_outcome outcome{sizeof(fracta_outcome), from_str(message), expires_at_unix_ms,
                                 from_str(value)};
    c_.fn(c_.ctx, status, &outcome);
  }

  /// True while this object holds a completion that still has to be called.
  [[nodiscard]] bool armed() const noexcept { return state_ == state::armed; }
  /// True once this object's completion has been called.
  [[nodiscard]] bool called() const noexcept { return state_ == state::called; }

  /// Gives up the completion without calling it. Only for the case the ABI allows: the
  /// operation that received it returns a final status instead of FRACTA_PENDING.
  void release() noexcept { state_ = state::empty; }

 private:
  enum class state : std::uint8_t { empty, armed, called };
  void cancel_if_armed() noexcept {
    if (state_ == state::armed) (*this)(FRACTA_E_CANCELLED, "cancelled");
  }
  fracta_completion c_{nullptr, nullptr};
  state state_ = state::empty;
};

/// What a host service reported to a completion, with every field checked against
/// struct_size. Borrowed for the duration of the completion call.
struct outcome_view final {
  std::string_view message;
  std::int64_t expires_at_unix_ms = 0;
  std::string_view value;

  [[nodiscard]] static outcome_view from(const fracta_outcome* o) noexcept {
    outcome_view v;
    if (FRACTA_HAS_FIELD(o, fracta_outcome, message)) v.message = to_str(o->message);
    if (FRACTA_HAS_FIELD(o, fracta_outcome, expires_at_unix_ms))
      v.expires_at_unix_ms = o->expires_at_unix_ms;
    if (FRACTA_HAS_FIELD(o, fracta_outcome, value)) v.value = to_str(o->value);
    return v;
  }
};

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
    return FRACTA_HAS_FIELD(host_, fracta_host, abi_minor) ? host_->abi_minor : 0;
  }
  [[nodiscard]] std::string_view server_name() const noexcept {
    return FRACTA_HAS_FIELD(host_, fracta_host, server_name) ? to_str(host_->server_name)
                                                              : std::string_view{};
  }
  [[nodiscard]] std::string_view server_url() const noexcept {
    return FRACTA_HAS_FIELD(host_, fracta_host, server_url) ? to_str(host_->server_url)
                                                             : std::string_view{};
  }

  /// Logs a message (never a secret). Dropped when the host has no log.
  void log(std::int32_t level, std::string_view message) const noexcept {
    if (FRACTA_HAS_FIELD(host_, fracta_host, log) && host_->log != nullptr)
      host_->log(host_->host_ctx, level, from_str(message));
  }
  void log_debug(std::string_view m) const noexcept { log(FRACTA_LOG_DEBUG, m); }
  void log_info(std::string_view m) const noexcept { log(FRACTA_LOG_INFO, m); }
  void log_warn(std::string_view m) const noexcept { log(FRACTA_LOG_WARN, m); }
  void log_error(std::string_view m) const noexcept { log(FRACTA_LOG_ERROR, m); }

  /// Unix time in milliseconds from the host's (possibly fake) clock; the system clock when
  /// the host has none.
  [[nodiscard]] std::int64_t wall_clock_ms() const noexcept {
    if (FRACTA_HAS_FIELD(host_, fracta_host, wall_clock_ms) && host_->wall_clock_ms != nullptr)
      return host_->wall_clock_ms(host_->host_ctx);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  /// The host's monotonic clock in milliseconds; steady_clock when the host has none.
  [[nodiscard]] std::int64_t monotonic_ms() const noexcept {
    if (FRACTA_HAS_FIELD(host_, fracta_host, monotonic_ms) && host_->monotonic_ms != nullptr)
      return host_->monotonic_ms(host_->host_ctx);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
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

// ---- what the host lends to provider operations -------------------------------------------

/// A borrowed fracta_request, valid for the duration of apply(). Actor-bound.
class request final {
 public:
  explicit request(fracta_request* r) noexcept : r_(r) {}

  [[nodiscard]] std::string_view method() const noexcept {
    return FRACTA_HAS_FIELD(r_, fracta_request, method) ? to_str(r_->method) : std::string_view{};
  }
  [[nodiscard]] std::string_view url() const noexcept {
    return FRACTA_HAS_FIELD(r_, fracta_request, url) ? to_str(r_->url) : std::string_view{};
  }
  [[nodiscard]] std::string_view body() const noexcept {
    return FRACTA_HAS_FIELD(r_, fracta_request, body) ? to_str(r_->body) : std::string_view{};
  }
  /// Sets a header, replacing any of the same name; the host copies both views.
  [[nodiscard]] std::int32_t set_header(std::string_view name, std::string_view value) const noexcept {
    if (!FRACTA_HAS_FIELD(r_, fracta_request, set_header) || r_->set_header == nullptr)
      return FRACTA_E_UNSUPPORTED;
    return r_->set_header(r_->host_ctx, from_str(name), from_str(value));
  }
  /// A header's value (case-insensitive name), borrowed until the next call on this request.
  [[nodiscard]] std::optional<std::string_view> get_header(std::string_view name) const noexcept {
    if (!FRACTA_HAS_FIELD(r_, fracta_request, get_header) || r_->get_header == nullptr)
      return std::nullopt;
    fracta_str value{nullptr, 0};
    if (r_->get_header(r_->host_ctx, from_str(name), &value) != FRACTA_OK) return std::nullopt;
    return to_str(value);
  }
  [[nodiscard]] fracta_request* get() const noexcept { return r_; }

 private:
  fracta_request* r_;
};

/// A borrowed fracta_challenge (a 401/403 answer), valid for the duration of on_challenge().
class challenge final {
 public:
  explicit challenge(const fracta_challenge* c) noexcept : c_(c) {}
  [[nodiscard]] std::int32_t http_status() const noexcept {
    return FRACTA_HAS_FIELD(c_, fracta_challenge, http_status) ? c_->http_status : 0;
  }
  [[nodiscard]] std::string_view www_authenticate() const noexcept {
    return FRACTA_HAS_FIELD(c_, fracta_challenge, www_authenticate) ? to_str(c_->www_authenticate)
                                                                    : std::string_view{};
  }
  [[nodiscard]] std::string_view resource_url() const noexcept {
    return FRACTA_HAS_FIELD(c_, fracta_challenge, resource_url) ? to_str(c_->resource_url)
                                                                : std::string_view{};
  }
  [[nodiscard]] std::string_view body() const noexcept {
    return FRACTA_HAS_FIELD(c_, fracta_challenge, body) ? to_str(c_->body) : std::string_view{};
  }
  [[nodiscard]] const fracta_challenge* get() const noexcept { return c_; }

 private:
  const fracta_challenge* c_;
};

// ---- the provider table ---------------------------------------------------------------------

namespace detail {

// Detection of the optional operations. A member that exists under the right name but with
// another signature is a mistake worth a compile error, not a silently NULL entry.
template <class I>
concept has_refresh = requires(I& i, completion& c) {
  { i.refresh(c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_on_challenge = requires(I& i, const challenge& ch, completion& c) {
  { i.on_challenge(ch, c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_login = requires(I& i, std::string_view options, completion& c) {
  { i.login(options, c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_logout = requires(I& i, completion& c) {
  { i.logout(c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_status = requires(I& i) {
  { i.status() } -> std::convertible_to<std::string>;
};
template <class I>
concept has_cancel = requires(I& i) { i.cancel(); };

template <class I>
concept named_refresh = requires { &I::refresh; };
template <class I>
concept named_on_challenge = requires { &I::on_challenge; };
template <class I>
concept named_login = requires { &I::login; };
template <class I>
concept named_logout = requires { &I::logout; };
template <class I>
concept named_status = requires { &I::status; };
template <class I>
concept named_cancel = requires { &I::cancel; };

// What an instance pointer points at: the provider plus the host it was created with, so
// that operations without an error sink can still report an exception through the log.
template <class Impl>
struct holder final {
  holder(const fracta_host* h, std::string_view config) : host_(h), impl_(host_, config) {}
  host host_;
  Impl impl_;
};

inline std::int32_t error_status(std::int32_t status) noexcept {
  return status < 0 ? status : FRACTA_E_INTERNAL;
}

// Runs f() → status, turning exceptions into a status and reporting their text through
// report(std::string_view).
template <class F, class R>
std::int32_t guarded(F&& f, R&& report) noexcept {
  try {
    return f();
  } catch (const error& e) {
    report(e.what());
    return error_status(e.status());
  } catch (const std::exception& e) {
    report(e.what());
    return FRACTA_E_INTERNAL;
  } catch (...) {
    report("unknown exception (not derived from std::exception)");
    return FRACTA_E_INTERNAL;
  }
}

template <class Impl>
struct trampolines final {
  using box = holder<Impl>;

  static void log_failure(const host& h, const char* op, std::string_view what) noexcept {
    try {
      h.log_error(std::string(Impl::type) + " provider: " + op + " failed: " + std::string(what));
    } catch (...) {
      h.log_error("a provider operation failed, and reporting it ran out of memory");
    }
  }

  static std::int32_t create(const fracta_host* h, fracta_str config, void** instance,
                             const fracta_sink* error_sink) noexcept {
    const sink err(error_sink);
    if (instance == nullptr || h == nullptr) {
      err.write("create: host and instance must not be NULL");
      return FRACTA_E_INVALID_ARGUMENT;
    }
    *instance = nullptr;
    return guarded(
        [&] {
          *instance = new box(h, to_str(config));
          return FRACTA_OK;
        },
        [&](std::string_view what) { err.write(what); });
  }

  static void destroy(void* instance) noexcept { delete static_cast<box*>(instance); }

  static std::int32_t apply(void* instance, fracta_request* r, const fracta_sink* error_sink) noexcept {
    const sink err(error_sink);
    if (instance == nullptr || r == nullptr) {
      err.write("apply: instance and request must not be NULL");
      return FRACTA_E_INVALID_ARGUMENT;
    }
    box& b = *static_cast<box*>(instance);
    return guarded(
        [&]() -> std::int32_t {
          request req(r);
          const std::int32_t st = b.impl_.apply(req, err);
          if (st == FRACTA_OK || st == FRACTA_NEED_REFRESH || st < 0) return st;
          err.write("apply() is synchronous: it returns FRACTA_OK, FRACTA_NEED_REFRESH or an error");
          return FRACTA_E_INTERNAL;
        },
        [&](std::string_view what) { err.write(what); });
  }

  // The completion protocol for an async operation, applied after Impl returns `st`:
  //  - Impl still holds `done` untouched: `st` is the final status and `done` is released
  //    (PENDING without a kept completion would never complete: reported as INTERNAL).
  //  - Impl moved `done` away or called it: whoever holds it will complete it exactly once,
  //    so the host is told FRACTA_PENDING whatever Impl returned.
  template <class F>
  static std::int32_t run_async(void* instance, const char* op, fracta_completion c, F&& f) noexcept {
    if (instance == nullptr || c.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    box& b = *static_cast<box*>(instance);
    completion done(c);
    const std::int32_t st = guarded([&] { return f(b.impl_, done); },
                                    [&](std::string_view what) { log_failure(b.host_, op, what); });
    if (!done.armed()) return FRACTA_PENDING;
    done.release();
    if (st == FRACTA_PENDING) {
      log_failure(b.host_, op, "returned FRACTA_PENDING without keeping its completion");
      return FRACTA_E_INTERNAL;
    }
    return st;
  }

  static std::int32_t refresh(void* instance, fracta_completion c) noexcept {
    return run_async(instance, "refresh", c, [](Impl& i, completion& d) { return i.refresh(d); });
  }
  static std::int32_t on_challenge(void* instance, const fracta_challenge* ch,
                                   fracta_completion c) noexcept {
    if (ch == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    return run_async(instance, "on_challenge", c,
                     [ch](Impl& i, completion& d) { return i.on_challenge(challenge(ch), d); });
  }
  static std::int32_t login(void* instance, fracta_str options, fracta_completion c) noexcept {
    return run_async(instance, "login", c,
                     [options](Impl& i, completion& d) { return i.login(to_str(options), d); });
  }
  static std::int32_t logout(void* instance, fracta_completion c) noexcept {
    return run_async(instance, "logout", c, [](Impl& i, completion& d) { return i.logout(d); });
  }
  static std::int32_t status(void* instance, const fracta_sink* json_out) noexcept {
    if (instance == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    box& b = *static_cast<box*>(instance);
    return guarded(
        [&] {
          const std::string json = b.impl_.status();
          sink(json_out).write(json);
          return FRACTA_OK;
        },
        [&](std::string_view what) { log_failure(b.host_, "status", what); });
  }
  static void cancel(void* instance) noexcept {
    if (instance == nullptr) return;
    box& b = *static_cast<box*>(instance);
    (void)guarded(
        [&] {
          b.impl_.cancel();
          return FRACTA_OK;
        },
        [&](std::string_view what) { log_failure(b.host_, "cancel", what); });
  }
};

template <class Impl>
constexpr fracta_provider make_table() noexcept {
  static_assert(std::is_convertible_v<decltype(Impl::type), const char*>,
                "a provider declares `static constexpr const char* type = \"...\";`");
  static_assert(std::is_constructible_v<Impl, host, std::string_view>,
                "a provider is constructible from (fracta::sdk::host, std::string_view config_json)");
  static_assert(requires(Impl& i, request& r, const sink& e) {
    { i.apply(r, e) } -> std::same_as<std::int32_t>;
  }, "a provider has `std::int32_t apply(sdk::request&, const sdk::sink& error)`");
  static_assert(has_refresh<Impl> || !named_refresh<Impl>,
                "refresh must be `std::int32_t refresh(sdk::completion&)`");
  static_assert(has_on_challenge<Impl> || !named_on_challenge<Impl>,
                "on_challenge must be `std::int32_t on_challenge(const sdk::challenge&, sdk::completion&)`");
  static_assert(has_login<Impl> || !named_login<Impl>,
                "login must be `std::int32_t login(std::string_view, sdk::completion&)`");
  static_assert(has_logout<Impl> || !named_logout<Impl>,
                "logout must be `std::int32_t logout(sdk::completion&)`");
  static_assert(has_status<Impl> || !named_status<Impl>, "status must be `std::string status()`");
  static_assert(has_cancel<Impl> || !named_cancel<Impl>, "cancel must be `void cancel()`");

  using t = trampolines<Impl>;
  std::uint32_t flags = 0;
  if constexpr (requires { Impl::flags; })
    flags = Impl::flags;
  else if constexpr (has_login<Impl>)
    flags = FRACTA_PROVIDER_INTERACTIVE;

  fracta_provider p{};
  p.struct_size = sizeof(fracta_provider);
  p.type = Impl::type;
  p.flags = flags;
  p.create = &t::create;
  p.destroy = &t::destroy;
  p.apply = &t::apply;
  if constexpr (has_refresh<Impl>) p.refresh = &t::refresh;
  if constexpr (has_on_challenge<Impl>) p.on_challenge = &t::on_challenge;
  if constexpr (has_login<Impl>) p.login = &t::login;
  if constexpr (has_logout<Impl>) p.logout = &t::logout;
  if constexpr (has_status<Impl>) p.status = &t::status;
  if constexpr (has_cancel<Impl>) p.cancel = &t::cancel;
  return p;
}

template <class Impl>
inline constexpr fracta_provider provider_table_v = make_table<Impl>();

}  // namespace detail

/// The static provider table for `Impl`: C entry points that call Impl, optional ones NULL
/// unless Impl defines them. Thread-safe.
template <class Impl>
[[nodiscard]] constexpr const fracta_provider* provider_table() noexcept {
  return &detail::provider_table_v<Impl>;
}

}  // namespace fracta::sdk

/// Defines the plugin's one exported symbol, fracta_plugin_entry_v1, returning a static
/// descriptor with the given name, version (string literals) and provider tables.
#define FRACTA_SDK_DEFINE_PLUGIN(plugin_name, plugin_version, ...)                               \
  extern "C" FRACTA_PLUGIN_EXPORT const fracta_plugin* FRACTA_PLUGIN_ENTRY_V1(std::uint32_t) { \
    static const fracta_provider* const providers[] = {__VA_ARGS__};                            \
    static const fracta_plugin plugin = {sizeof(fracta_plugin),                                  \
                                         FRACTA_ABI_MAJOR,                                       \
                                         FRACTA_ABI_MINOR,                                       \
                                         plugin_name,                                            \
                                         plugin_version,                                         \
                                         sizeof(providers) / sizeof(providers[0]),               \
                                         providers};                                             \
    return &plugin;                                                                              \
  }
