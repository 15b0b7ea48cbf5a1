// SPDX-License-Identifier: Apache-2.0
// Store selection: keyring or encrypted file per server, the file key's source, and saying which.
#include "store/select.hpp"

#include <sodium.h>

#include <cstdlib>

#include "fracta/errors.hpp"
#include <fracta/proto/url.hpp>
#include "store/file_store.hpp"
#include "store/keyring_store.hpp"

namespace fracta::store {
namespace fs = std::filesystem;
namespace {

constexpr std::int32_t log_info = 20;
constexpr std::int32_t log_warn = 30;

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

// A keyring server's store: the keyring, and the encrypted file for what the keyring refuses.
// At most one of them holds an item: a put that lands in one erases the other's copy.
class keyring_with_file final : public blocking_store {
 public:
  using open_fn = std::function<result<std::shared_ptr<blocking_store>>()>;
  keyring_with_file(std::shared_ptr<blocking_store> keyring, fs::path file_path, open_fn open_file,
                    selector::log_fn log)
      : keyring_(std::move(keyring)), file_path_(std::move(file_path)), open_file_(std::move(open_file)),
        log_(std::move(log)) {}

  std::string_view name() const noexcept override { return "keyring"; }

  result<std::string> get(const item_key& key) override {
    auto r = keyring_->get(key);
    if (r || r.err().code != make_error_code(errc::not_found)) return r;
    if (auto f = existing_file()) {
      if (auto v = f->get(key)) return v;
    }
    return r;
  }

  result<void> put(const item_key& key, std::string_view value) override {
    auto r = keyring_->put(key, value);
    if (r) {
      if (auto f = existing_file()) (void)f->erase(key);  // an older copy there must not come back
      return r;
    }
    const auto code = r.err().code;
    if (code != make_error_code(errc::too_large) && code != make_error_code(errc::refused)) return r;
    auto f = file();
    if (!f) return error{code, r.err().message + "; the encrypted file cannot take it either: " + f.err().message};
    if (auto p = (*f)->put(key, value); !p) {
      return error{code, r.err().message + "; the encrypted file cannot take it either: " + p.err().message};
    }
    (void)keyring_->erase(key);  // an older copy in the keyring must not shadow the file's
    bool first = false;
    {
      const std::lock_guard lk(mutex_);
      first = !said_;
      said_ = true;
    }
    if (first && log_) {
      log_(log_warn, "server '" + std::string(display_server(key.server)) + "': " + r.err().message +
                         "; kept in the encrypted file " + display_path(file_path_) + " instead");
    }
    return {};
  }

  result<void> erase(const item_key& key) override {
    auto r = keyring_->erase(key);
    if (auto f = existing_file()) {
      if (auto e = f->erase(key); !e && r) return e;
    }
    return r;
  }

  result<std::size_t> erase_server(std::string_view server) override {
    auto n = keyring_->erase_server(server);
    if (!n) return n;
    if (auto f = existing_file()) {
      auto m = f->erase_server(server);
      if (!m) return m;
      *n += *m;
    }
    return n;
  }

 private:
  result<std::shared_ptr<blocking_store>> file() {
    const std::lock_guard lk(mutex_);
    if (file_) return file_;
    auto f = open_file_();
    if (f) file_ = *f;
    return f;
  }
  // The file store when its file exists (else nothing can be in it), or null.
  std::shared_ptr<blocking_store> existing_file() {
    std::error_code ec;
    if (!fs::exists(file_path_, ec)) return nullptr;
    auto f = file();
    return f ? *f : nullptr;
  }

  std::shared_ptr<blocking_store> keyring_;
  fs::path file_path_;
  open_fn open_file_;
  selector::log_fn log_;
  std::mutex mutex_;  // guards file_ and said_
  std::shared_ptr<blocking_store> file_;
  bool said_ = false;
};

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
  // Injected tokens (token_file, inline) are refreshed in memory, never stored.
  if (!s.auth.token_file.empty() || s.auth.access_token || s.auth.refresh_token) return false;
  const auto& g = s.auth.grant_type;
  return g.empty() || g == "authorization_code" || g == "device_code";
}

std::string server_key(const config::server& s) {
  auto u = http::url::parse(s.url);
  return s.name + "\n" + (u ? u->redacted() : std::string());
}

selector::selector(options o) : opts_(std::move(o)) {
  if (opts_.file_path.empty()) opts_.file_path = default_file_path();
}

bool selector::keyring_available() {
  if (opts_.keyring_override) return true;
  const std::lock_guard probe(probe_mutex_);  // one probe; everyone needs its answer
  if (!keyring_up_) keyring_up_ = keyring_store::available(opts_.probe_timeout);
  return *keyring_up_;
}

std::shared_ptr<blocking_store> selector::keyring() {
  const std::lock_guard lk(mutex_);
  if (!keyring_) keyring_ = opts_.keyring_override ? opts_.keyring_override : std::make_shared<keyring_store>(keyring_opts());
  return keyring_;
}

std::shared_ptr<blocking_store> selector::with_file_fallback(const config::server& s) {
  auto open_file = [this, server = s]() -> result<std::shared_ptr<blocking_store>> {
    auto c = this->open_file(server, false);
    if (!c) return std::move(c).err();
    return c->store;
  };
  return std::make_shared<keyring_with_file>(keyring(), opts_.file_path, std::move(open_file), opts_.log);
}

result<choice> selector::open(const config::server& s) {
  {
    const std::lock_guard lk(mutex_);
    if (auto it = chosen_.find(s.name); it != chosen_.end()) return it->second;
  }
  auto c = decide(s);  // blocking: no lock held
  if (!c) return c;
  const std::lock_guard lk(mutex_);
  return chosen_.try_emplace(s.name, std::move(c).value()).first->second;  // the first decision wins
}

result<choice> selector::decide(const config::server& s) {
  if (!persists(s)) return choice{nullptr, "memory"};
  if (opts_.store_override) return choice{opts_.store_override, "test store"};
  const std::string& mode = s.auth.token_store.empty() ? std::string("auto") : s.auth.token_store;
  if (mode == "keyring") return choice{with_file_fallback(s), "keyring"};
  if (mode == "file") return open_file(s, false);
  // auto: the keyring when one answers, else the encrypted file, and say which.
  if (keyring_available()) {
    if (opts_.log) opts_.log(log_info, "server '" + s.name + "': tokens go to the OS keyring (Secret Service)");
    return choice{with_file_fallback(s), "keyring"};
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
    auto stored = file_key_from_keyring();
    if (!stored) return stored.err();
    std::string encoded = std::move(stored).value();
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

result<std::string> selector::file_key_from_keyring() {
  // Get-or-create under a lock: two servers deciding at once must not create two keys.
  const std::lock_guard lk(file_key_mutex_);
  auto kr = keyring();
  auto stored = kr->get(file_key_item);
  if (stored) return stored;
  if (stored.err().code != make_error_code(errc::not_found)) return stored.err();
  unsigned char raw[file_key::size];
  randombytes_buf(raw, sizeof raw);
  std::string encoded = to_base64(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  if (auto put = kr->put(file_key_item, encoded); !put) {
    sodium_memzero(encoded.data(), encoded.size());
    return put.err();
  }
  return encoded;
}

}  // namespace fracta::store
