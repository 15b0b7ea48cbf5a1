// SPDX-License-Identifier: Apache-2.0
// The OS keyring token store: the freedesktop Secret Service through libsecret.
#pragma once
#include "core/internal.hpp"

#include <chrono>

#include "store/store.hpp"

namespace fracta::store {

/// Which Secret Service collection new items go to.
enum class keyring_collection {
  default_collection,  // the user's default (login) keyring
  session,             // the in-memory session collection (tests; gone at logout)
};

struct keyring_options {
  keyring_collection collection = keyring_collection::default_collection;
  /// Bound on every call; a call that does not answer in time fails with errc::unavailable.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
};

/// Items under the schema "dev.fracta.Credential" with attributes server, issuer and item.
/// Each call runs on its own thread and is waited for with a deadline; a late answer is
/// discarded (the thread owns its inputs and outputs). Thread-safe.
class keyring_store final : public blocking_store {
 public:
  /// Values above this size are refused (macOS and Windows keyrings cap near 2.5–3 KB).
  static constexpr std::size_t max_value_size = 2048;

  explicit keyring_store(keyring_options options = {});

  [[nodiscard]] std::string_view name() const noexcept override { return "keyring"; }
  [[nodiscard]] result<std::string> get(const item_key& key) override;
  [[nodiscard]] result<void> put(const item_key& key, std::string_view value) override;
  [[nodiscard]] result<void> erase(const item_key& key) override;

  /// True when a Secret Service answers on the session bus within `timeout`. Blocking.
  [[nodiscard]] static bool available(std::chrono::milliseconds timeout);

 private:
  keyring_options options_;
};

}  // namespace fracta::store
