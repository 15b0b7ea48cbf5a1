// SPDX-License-Identifier: Apache-2.0
// SDK sinks, the error a provider throws, and the exactly-once completion.
#pragma once

#include <fracta/sdk/strings.hpp>

#include <cassert>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace fracta::sdk {

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

}  // namespace fracta::sdk
