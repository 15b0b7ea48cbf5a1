// SPDX-License-Identifier: Apache-2.0
// An error category whose messages come from a table: how each fracta area defines its own.
#pragma once

#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace fracta {

/// A std::error_category called `name`: the message of a code is its entry in `messages`, or
/// `unknown` for a code the table lacks. Made once, as a function-local static; thread-safe.
template <class Errc>
class table_category final : public std::error_category {
 public:
  using entry = std::pair<Errc, const char*>;

  /// Borrows all three for its lifetime: give it string literals and a static table.
  table_category(const char* name, std::span<const entry> messages, const char* unknown) noexcept
      : name_(name), messages_(messages), unknown_(unknown) {}

  const char* name() const noexcept override { return name_; }

  std::string message(int value) const override {
    for (const auto& [code, text] : messages_) {
      if (static_cast<int>(code) == value) return text;
    }
    return unknown_;
  }

 private:
  const char* name_;
  std::span<const entry> messages_;
  const char* unknown_;
};

}  // namespace fracta
