// SPDX-License-Identifier: Apache-2.0
// Store selection: keyring or encrypted file per server, the file key's source, and saying which.
#include "store/select.hpp"

#include <sodium.h>

#include <cstdlib>

#include "fracta/errors.hpp"
#include "store/file_store.hpp"
#include "store/keyring_store.hpp"

namespace fracta::store {
namespace fs = std::filesystem;
namespace {

constexpr std::int32_t log_info = 20;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

error config_error(std::string message) {
  return error{fracta::make_error_code(fracta::errc::config), std::move(message)};
}

keyring_options keyring_opts() {
  keyring_options o;
  if (env_or_empty("FRACTA_KEYRING_COLLECTION") == "session") o.collection = keyring_collection::session;
  return o;
}

// The keyring item holding the random file-store key.
const item_key file_key_item{"*", "", "file-store-key"};

std::string to_base64(const unsigned char* data, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace

fs::path state_dir() {
  const std::string xdg = env_or_empty("XDG_STATE_HOME");
  if (!xdg.empty() && fs::path(xdg).is_absolute()) return fs::path(xdg) / "fracta";
  const std::string home = env_or_empty("HOME");
  return fs::path(home.empty() ? "." : home) / ".local" / "state" / "fracta";
}

fs::path default_file_path() { return state_dir() / "tokens.enc"; }

std::string display_path(const fs::path& p) {
  const std::string home = env_or_empty("HOME");
  const std::string s = p.string();
  if (!home.empty() && home != "/" && s.size() > home.size() && s.compare(0, home.size(), home) == 0 &&
      s[home.size()] == '/') {
    return "~" + s.substr(home.size());
  }
  return s;
}

bool persists(const config::server& s) {
  if (s.auth.type != "oauth") return false;
  const auto& g = s.auth.grant_type;
  return g.empty() || g == "authorization_code" || g == "device_code";
}

selector::selector(options o) : opts_(std::move(o)) {
  if (opts_.file_path.empty()) opts_.file_path = default_file_path();
}

bool selector::keyring_available() {
  if (!keyring_up_) keyring_up_ = keyring_store::available(opts_.probe_timeout);
  return *keyring_up_;
}

std::shared_ptr<blocking_store> selector::keyring() {
  if (!keyring_) keyring_ = std::make_shared<keyring_store>(keyring_opts());
  return keyring_;
}

std::string selector::described(const std::string& server) const {
  std::lock_guard lk(mutex_);
  auto it = chosen_.find(server);
  return it == chosen_.end() ? std::string() : it->second.description;
}

result<choice> selector::open(const config::server& s) {
  std::lock_guard lk(mutex_);
  if (auto it = chosen_.find(s.name); it != chosen_.end()) return it->second;
  auto c = decide(s);
  if (c) chosen_[s.name] = *c;
  return c;
}

result<choice> selector::decide(const config::server& s) {
  if (!persists(s)) return choice{nullptr, "memory"};
  const std::string& mode = s.auth.token_store.empty() ? std::string("auto") : s.auth.token_store;
  if (mode == "keyring") return choice{keyring(), "keyring"};
  if (mode == "file") return open_file(s, false);
  // auto: the keyring when one answers, else the encrypted file, and say which.
  if (keyring_available()) {
    if (opts_.log) opts_.log(log_info, "server '" + s.name + "': tokens go to the OS keyring (Secret Service)");
    return choice{keyring(), "keyring"};
  }
  auto c = open_file(s, true);
  if (c && opts_.log) {
    opts_.log(log_info, "server '" + s.name + "': no Secret Service answered on the session bus; tokens go to "
                        "the encrypted file " + display_path(opts_.file_path));
  }
  return c;
}

result<choice> selector::open_file(const config::server& s, bool keyring_probed_dead) {
  const std::string description = "file " + display_path(opts_.file_path);
  // 1. the passphrase configured for this server
  if (s.auth.passphrase) {
    auto p = config::resolve(*s.auth.passphrase);
    if (!p) return config_error(p.err().message);
    auto k = file_key::passphrase(*p);
    sodium_memzero(p->data(), p->size());
    if (!k) return config_error("server '" + s.name + "': passphrase: " + k.err().message);
    return choice{std::make_shared<file_store>(opts_.file_path, std::move(k).value()), description};
  }
  // 2. FRACTA_STORE_PASSPHRASE
  if (std::string env = env_or_empty("FRACTA_STORE_PASSPHRASE"); !env.empty()) {
    auto k = file_key::passphrase(env);
    sodium_memzero(env.data(), env.size());
    if (!k) return config_error("FRACTA_STORE_PASSPHRASE: " + k.err().message);
    return choice{std::make_shared<file_store>(opts_.file_path, std::move(k).value()), description};
  }
  // 3. a random key kept in the keyring, when one answers
  if (!keyring_probed_dead && keyring_available()) {
    auto kr = keyring();
    auto stored = kr->get(file_key_item);
    if (!stored && stored.err().code != make_error_code(errc::not_found)) return stored.err();
    std::string encoded;
    if (stored) {
      encoded = std::move(stored).value();
    } else {
      unsigned char raw[file_key::size];
      randombytes_buf(raw, sizeof raw);
      encoded = to_base64(raw, sizeof raw);
      sodium_memzero(raw, sizeof raw);
      if (auto put = kr->put(file_key_item, encoded); !put) return put.err();
    }
    auto k = file_key::base64(encoded);
    sodium_memzero(encoded.data(), encoded.size());
    if (!k) {
      return config_error("the file store key kept in the keyring (server \"*\", item \"file-store-key\") is "
                          "unusable: " + k.err().message);
    }
    return choice{std::make_shared<file_store>(opts_.file_path, std::move(k).value()), description};
  }
  // 4. nothing: never plaintext
  const std::string table = "[mcp.servers." + s.name + ".remote.auth]";
  return config_error("server '" + s.name + "': tokens go to the encrypted file " + display_path(opts_.file_path) +
                      (keyring_probed_dead ? " (no Secret Service answered on the session bus)" : "") +
                      ", which needs a key: add passphrase = { env = \"NAME\" } (or { file = \"/path\" }) to " +
                      table + ", or set FRACTA_STORE_PASSPHRASE" +
                      (s.auth.where.file.empty() ? std::string() : " (" + s.auth.where.file + ")"));
}

}  // namespace fracta::store
