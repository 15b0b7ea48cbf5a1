// SPDX-License-Identifier: Apache-2.0
// The OS keyring token store: the freedesktop Secret Service through libsecret.
#pragma once
#include "core/internal.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace fracta::store {

/// Which Secret Service collection new items go to.
enum class keyring_collection {
  default_collection,  // the user's default (login) keyring
  session,             // the in-memory session collection (tests; gone at logout)
};

/// One keyring call. The store fills in the request; a backend fills in the answer, on the
/// call's own thread.
struct keyring_call {
  enum class op { get, put, erase, erase_server };
  op kind = op::get;
  item_key key;            // erase_server: key.server is the server's name
  const char* collection;  // a libsecret collection alias (static storage)
  std::string label;       // put: the item's label
  std::string value;       // put: the input; get: the output
  bool found = false;      // get: the item exists; put: it was stored
  std::size_t erased = 0;  // erase_server: items removed
  bool failed = false;     // the call failed
  bool unreachable = false;  // … because the service could not be reached (D-Bus, I/O)
  std::string failure;     // the message: D-Bus and keyring wording, never the value
};

/// Performs keyring calls; the default talks to the Secret Service through libsecret. Tests
/// script a slow or refusing keyring with their own. Thread-safe.
class keyring_backend {
 public:
  virtual ~keyring_backend() = default;
  /// Runs `call` (blocking). `cancelled` turns true when the caller gave up waiting;
  /// `g_cancellable` is libsecret's GCancellable for the same.
  virtual void perform(keyring_call& call, const std::atomic<bool>& cancelled, void* g_cancellable) = 0;
};

struct keyring_options {
  keyring_collection collection = keyring_collection::default_collection;
  /// Bound on every call; a call that does not answer in time fails with errc::unavailable.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
  /// Empty → libsecret.
  std::shared_ptr<keyring_backend> backend{};
};

/// Items under the schema "dev.fracta.Credential" with attributes server, issuer and item.
/// Each call runs on its own thread and is waited for with a deadline; a late answer is
/// discarded (the thread owns its inputs and outputs). Calls on one item run in the order
/// they were made: a call starts only after the previous one on that item finished, and a
/// call whose caller gave up before it started is dropped, so a write that timed out can
/// never land after a newer one. Thread-safe.
class keyring_store final : public blocking_store {
 public:
  /// Values above this size are refused. The Secret Service has no limit of its own; this
  /// only keeps a runaway value out of the user's keyring.
  static constexpr std::size_t max_value_size = 64 * 1024;

  explicit keyring_store(keyring_options options = {});

  [[nodiscard]] std::string_view name() const noexcept override { return "keyring"; }
  [[nodiscard]] result<std::string> get(const item_key& key) override;
  [[nodiscard]] result<void> put(const item_key& key, std::string_view value) override;
  [[nodiscard]] result<void> erase(const item_key& key) override;
  [[nodiscard]] result<std::size_t> erase_server(std::string_view name) override;

  /// True when a Secret Service answers on the session bus within `timeout`. Blocking.
  [[nodiscard]] static bool available(std::chrono::milliseconds timeout);

  struct sequencer;  // per-item call order (defined in keyring_store.cpp)

 private:
  keyring_options options_;
  std::shared_ptr<keyring_backend> backend_;
  std::shared_ptr<sequencer> order_;
};

}  // namespace fracta::store
