// SPDX-License-Identifier: Apache-2.0
// Errors as values: fracta::error and fracta::result<T>, used on every async path.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace fracta {

/// An error travelling as a value: a code for policy, a message for people.
/// The message never contains a secret value. A value type: thread-compatible (const access
/// from many threads is safe; a change needs one owner).
struct error {
  std::error_code code;
  std::string message;

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

/// Either a value or an error. A value type: thread-compatible, like error.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const error& err() const& { return std::get<1>(v_); }
  error&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

/// result<void>: success or an error. Thread-compatible.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return !e_.code; }
  explicit operator bool() const noexcept { return ok(); }
  const error& err() const& { return e_; }
  error&& err() && { return std::move(e_); }

 private:
  error e_;
};

}  // namespace fracta
