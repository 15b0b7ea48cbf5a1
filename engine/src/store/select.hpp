// SPDX-License-Identifier: Apache-2.0
// Choosing each server's token store (token_store = auto | keyring | file) and its file key.
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "fracta/config.hpp"
#include "fracta/result.hpp"
#include "store/store.hpp"

namespace fracta::store {

/// $XDG_STATE_HOME/fracta, else ~/.local/state/fracta.
std::filesystem::path state_dir();
/// The encrypted file store: <state_dir>/tokens.enc.
std::filesystem::path default_file_path();
/// A path for people: $HOME replaced by "~".
std::string display_path(const std::filesystem::path& p);

/// True when the server's credentials persist across runs: type "oauth" with grant_type
/// authorization_code or device_code, without injected tokens (token_file, access_token,
/// refresh_token). Everything else keeps an in-memory store.
bool persists(const config::server& s);

/// What the host files the server's items under (item_key::server): its name, a newline and
/// its canonical URL (scheme and host lower-cased, default port dropped, no userinfo, query or
/// fragment, path kept), so that a name re-added with another URL never finds the old items.
std::string server_key(const config::server& s);

/// The chosen store and how to name it: "keyring", "file <path>" or "memory".
struct choice {
  std::shared_ptr<blocking_store> store;  // null for "memory"
  std::string description;
};

/// Per engine: decides and opens each server's persistent store once, and probes the keyring
/// once. Thread-safe; every call may block (D-Bus, Argon2id, disk): run it on the blocking pool.
/// Decisions for different servers run in parallel: no lock is held across a blocking call,
/// except the keyring probe (every caller needs its one answer) and the creation of the file
/// store's random key (two servers must never create two different keys).
///
/// A keyring server's store keeps in the encrypted file what the keyring refuses (too large,
/// or the service said no), says so once in the log, and reads the file when the keyring has
/// no such item.
class selector final {
 public:
  using log_fn = std::function<void(std::int32_t level, std::string_view message)>;
  struct options {
    std::chrono::milliseconds probe_timeout = std::chrono::milliseconds(1500);
    std::filesystem::path file_path;  // empty → default_file_path()
    log_fn log;                        // receives the "tokens go to …" decision (info)
    /// Tests: every persistent server uses this store (described as "test store").
    std::shared_ptr<blocking_store> store_override{};
    /// Tests: the keyring to use instead of the Secret Service (the probe then says yes).
    std::shared_ptr<blocking_store> keyring_override{};
  };
  explicit selector(options o);

  /// The server's store. Errors: errc::config (no usable key; names what to set), or a
  /// store error from reading the file key out of the keyring.
  result<choice> open(const config::server& s);
  /// Whether a Secret Service answered (probed once, then cached).
  bool keyring_available();

 private:
  result<choice> decide(const config::server& s);
  result<choice> open_file(const config::server& s, bool keyring_probed_dead);
  result<std::string> file_key_from_keyring();
  std::shared_ptr<blocking_store> keyring();
  std::shared_ptr<blocking_store> with_file_fallback(const config::server& s);

  options opts_;
  std::mutex mutex_;           // guards keyring_ and chosen_ (never held across a blocking call)
  std::mutex probe_mutex_;     // held by the one keyring probe
  std::mutex file_key_mutex_;  // held while the file store's random key is read or created
  std::optional<bool> keyring_up_;
  std::shared_ptr<blocking_store> keyring_;
  std::map<std::string, choice> chosen_;  // by server name
};

}  // namespace fracta::store
