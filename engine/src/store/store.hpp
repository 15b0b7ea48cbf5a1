// SPDX-License-Identifier: Apache-2.0
// Token stores: the blocking interface shared by the OS keyring and the encrypted file store.
#pragma once
#include "core/internal.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "fracta/result.hpp"

namespace fracta::store {

/// What a stored item is filed under. Credentials are keyed by server and issuer, never by
/// tool version. The host files a server's items under server = "<name>\n<canonical URL>"
/// (see select.hpp's server_key). `item` names the kind of value: "tokens", "registration", …
struct item_key {
  std::string server;
  std::string issuer;
  std::string item;

  friend bool operator==(const item_key&, const item_key&) = default;
};

enum class errc {
  not_found = 1,  // no such item (get only; erase treats absence as success)
  unavailable,    // the backend cannot be reached or did not answer in time
  corrupt,        // the stored data failed authentication or is malformed; left untouched
  locked,         // another writer held the store's lock past the timeout
  io,             // a file system error (names the path)
  bad_key,        // an unusable key: empty field, bad encryption key, bad passphrase
  too_large,      // the value exceeds what the backend can keep
  refused,        // the backend answered, but would not keep the value
};

/// The category of store::errc. Thread-safe.
const std::error_category& category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// A synchronous token store. Thread-compatible; every call may block (disk, D-Bus), so
/// callers run it on the blocking-work pool, never on the event loop. Error messages never
/// contain a stored value.
class blocking_store {
 public:
  blocking_store() = default;
  blocking_store(const blocking_store&) = delete;
  blocking_store& operator=(const blocking_store&) = delete;
  virtual ~blocking_store() = default;

  /// "keyring" or "file".
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// The stored value; errc::not_found when absent.
  [[nodiscard]] virtual result<std::string> get(const item_key& key) = 0;
  /// Stores or replaces the value.
  [[nodiscard]] virtual result<void> put(const item_key& key, std::string_view value) = 0;
  /// Removes the item; an absent item is not an error.
  [[nodiscard]] virtual result<void> erase(const item_key& key) = 0;
  /// Removes every item that belongs_to() the server `name` (whatever its URL, issuer or
  /// item), and returns how many there were.
  [[nodiscard]] virtual result<std::size_t> erase_server(std::string_view name) = 0;
};

/// True when `key` is filed for the server called `name`: its server field is `name`, or
/// starts with `name` and a newline (the canonical URL follows). Thread-safe.
[[nodiscard]] bool belongs_to(const item_key& key, std::string_view name) noexcept;

/// The server's name in a key's server field (the part before the newline), for messages.
[[nodiscard]] std::string_view display_server(std::string_view key_server) noexcept;

/// errc::bad_key naming the empty field when server or item is empty; issuer may be empty.
[[nodiscard]] result<void> check_key(const item_key& key);

/// An error value with the store category.
[[nodiscard]] error make_error(errc e, std::string message);

}  // namespace fracta::store

template <>
struct std::is_error_code_enum<fracta::store::errc> : std::true_type {};
