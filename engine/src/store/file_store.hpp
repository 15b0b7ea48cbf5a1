// SPDX-License-Identifier: Apache-2.0
// The encrypted file token store: one XChaCha20-Poly1305 file for headless machines.
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <vector>

#include "store/store.hpp"

namespace fracta::store {

/// Argon2id cost for passphrase keys. The defaults are libsodium's INTERACTIVE limits
/// (2 passes, 64 MiB); a file records the limits it was created with, and those are used to read it.
struct argon2_limits {
  unsigned long long opslimit = 2;
  std::size_t memlimit = std::size_t{64} << 20;
};

/// Bytes wiped with sodium_memzero when destroyed or moved from. Not copyable.
class secure_bytes final {
 public:
  secure_bytes() = default;
  explicit secure_bytes(std::string_view bytes);
  secure_bytes(secure_bytes&& other) noexcept;
  secure_bytes& operator=(secure_bytes&& other) noexcept;
  secure_bytes(const secure_bytes&) = delete;
  secure_bytes& operator=(const secure_bytes&) = delete;
  ~secure_bytes();

  [[nodiscard]] const unsigned char* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] unsigned char* data() noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  void resize(std::size_t n);  // wipes first; contents are unspecified afterwards

 private:
  void wipe() noexcept;
  std::vector<unsigned char> bytes_;
};

/// Where the file store's encryption key comes from: a 32-byte key, or a passphrase
/// stretched with Argon2id. Thread-compatible value (move-only).
class file_key final {
 public:
  static constexpr std::size_t size = 32;

  /// Exactly 32 bytes (e.g. a resolved SecretValue); errc::bad_key otherwise.
  [[nodiscard]] static result<file_key> raw(std::string_view bytes);
  /// Base64 (standard or URL-safe, padding optional) of exactly 32 bytes; errc::bad_key otherwise.
  [[nodiscard]] static result<file_key> base64(std::string_view text);
  /// A non-empty passphrase; errc::bad_key when empty.
  [[nodiscard]] static result<file_key> passphrase(std::string_view text, argon2_limits limits = {});

  [[nodiscard]] bool is_passphrase() const noexcept { return passphrase_; }

 private:
  friend class file_store;
  file_key(secure_bytes secret, bool passphrase, argon2_limits limits)
      : secret_(std::move(secret)), passphrase_(passphrase), limits_(limits) {}

  secure_bytes secret_;
  bool passphrase_ = false;
  argon2_limits limits_;
};

/// All items in one encrypted file (mode 0600, atomic replace). Each item is sealed on its
/// own with its (server, issuer, item) identity as associated data, so ciphertexts cannot be
/// moved between identities; a key-check record tells a wrong key apart, and a trailer
/// authenticates the whole file. Writers serialise on flock("<path>.lock"). A file that fails
/// authentication is never overwritten. Thread-safe; every call blocks on disk.
class file_store final : public blocking_store {
 public:
  file_store(std::filesystem::path path, file_key key,
             std::chrono::milliseconds lock_timeout = std::chrono::seconds(10));

  [[nodiscard]] std::string_view name() const noexcept override { return "file"; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] result<std::string> get(const item_key& key) override;
  [[nodiscard]] result<void> put(const item_key& key, std::string_view value) override;
  [[nodiscard]] result<void> erase(const item_key& key) override;
  [[nodiscard]] result<std::size_t> erase_server(std::string_view name) override;

  struct table;  // the decrypted items (defined in file_store.cpp); public for its helpers

 private:
  [[nodiscard]] result<void> load(table& out);
  [[nodiscard]] result<void> save(const table& t);
  [[nodiscard]] result<void> modify(const item_key& key, const std::string_view* value);
  [[nodiscard]] result<void> key_for(const std::string& header, secure_bytes& out);
  [[nodiscard]] error corrupt(const std::string& detail) const;

  std::filesystem::path path_;
  file_key key_;
  std::chrono::milliseconds lock_timeout_;
  std::mutex cache_mutex_;          // guards the derived-key cache below
  std::string cached_header_;       // header whose salt and limits derived cached_key_
  secure_bytes cached_key_;
};

}  // namespace fracta::store
