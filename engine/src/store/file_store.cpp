// SPDX-License-Identifier: Apache-2.0
// The encrypted file token store: format, key derivation, locking and authenticated parsing.
//
// File layout (integers little-endian):
//   header   "FRACTA-STORE" | version u8 (1) | kdf u8 (0 raw key, 1 Argon2id13)
//            | opslimit u64 | memlimit u64 | salt (16 bytes, random per file; also its identity)
//   check    nonce 24 | tag 16            sealed "" with AD = header | "key-check"
//   count    u32
//   records  count × { server, issuer, item: u32 length + bytes; nonce 24; u32 length + sealed value }
//            each sealed with AD = header | canonical(server, issuer, item)
//   trailer  nonce 24 | tag 16            sealed "" with AD = "trailer" | every byte before it
#include "store/file_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <system_error>
#include <thread>

#include "core/files.hpp"
#include "fracta/config.hpp"

namespace fracta::store {

struct file_store::table {
  struct entry {
    item_key key;
    std::string value;
  };
  table() = default;
  table(const table&) = delete;
  table& operator=(const table&) = delete;
  ~table() {
    for (auto& [id, e] : items) sodium_memzero(e.value.data(), e.value.size());
  }

  std::string header;                      // empty when the file does not exist yet
  std::map<std::string, entry> items;      // by canonical identity
};

namespace {

constexpr std::string_view magic = "FRACTA-STORE";
constexpr unsigned char format_version = 1;
constexpr unsigned char kdf_raw = 0;
constexpr unsigned char kdf_argon2id13 = 1;
constexpr std::size_t salt_size = crypto_pwhash_SALTBYTES;
constexpr std::size_t header_size = magic.size() + 2 + 8 + 8 + salt_size;
constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::uint32_t max_items = 1u << 20;
// Bounds on Argon2 limits read from a file, so that a damaged header cannot demand unbounded work.
constexpr unsigned long long max_opslimit = 16;
constexpr std::size_t max_memlimit = std::size_t{1} << 30;

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == file_key::size);
static_assert(salt_size == 16);

bool sodium_ready() noexcept {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = sodium_init() >= 0; });
  return ok;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_bytes(std::string& out, std::string_view b) {
  put_u32(out, static_cast<std::uint32_t>(b.size()));
  out.append(b);
}

std::string canonical(const item_key& k) {
  std::string out("fracta-store-id\0", 16);
  put_bytes(out, k.server);
  put_bytes(out, k.issuer);
  put_bytes(out, k.item);
  return out;
}

// A bounds-checked reader: every short read sets `bad`.
struct reader {
  std::string_view data;
  std::size_t pos = 0;
  bool bad = false;

  std::string_view take(std::size_t n) {
    if (bad || data.size() - pos < n) {
      bad = true;
      return {};
    }
    const auto out = data.substr(pos, n);
    pos += n;
    return out;
  }
  std::uint64_t uint(int bytes) {
    const auto b = take(static_cast<std::size_t>(bytes));
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < b.size(); ++i) v |= std::uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    return v;
  }
  std::string_view sized() { return take(static_cast<std::size_t>(uint(4))); }
};

const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

// Seals `plain` with a fresh nonce: nonce | ciphertext+tag.
std::string seal(std::string_view plain, std::string_view ad, const secure_bytes& key) {
  std::string out = random_bytes(nonce_size);
  out.resize(nonce_size + plain.size() + tag_size);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(out.data() + nonce_size), &len,
      bytes(plain), plain.size(), bytes(ad), ad.size(), nullptr, bytes(out), key.data());
  return out;
}

bool open_sealed(std::string_view nonce, std::string_view sealed, std::string_view ad, const secure_bytes& key,
                 std::string& plain) {
  if (sealed.size() < tag_size) return false;
  plain.assign(sealed.size() - tag_size, '\0');
  unsigned long long len = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &len,
      nullptr, bytes(sealed), sealed.size(), bytes(ad), ad.size(), bytes(nonce), key.data());
  if (rc != 0) {
    sodium_memzero(plain.data(), plain.size());
    plain.clear();
    return false;
  }
  return true;
}

constexpr std::string_view check_label = "key-check";
constexpr std::string_view trailer_label = "trailer";

// Holds flock() on "<path>.lock" until destroyed, waiting up to `timeout` for other writers.
result<std::unique_ptr<core::lock_file>> lock_for_writing(const std::filesystem::path& lock_path,
                                                         std::chrono::milliseconds timeout) {
  std::string why;
  auto lock = core::lock_file::open(lock_path, why);
  if (!lock) return make_error(errc::io, why);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    switch (lock->try_lock(why)) {
      case core::lock_file::attempt::held:
        return lock;
      case core::lock_file::attempt::failed:
        return make_error(errc::io, why);
      case core::lock_file::attempt::busy:
        break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(errc::locked, "another writer has held " + lock_path.string() + " for more than " +
          std::to_string(timeout.count()) + " ms; try again, or remove the lock file if no fracta process is running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

secure_bytes::secure_bytes(std::string_view b) : bytes_(b.begin(), b.end()) {}
secure_bytes::secure_bytes(secure_bytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
secure_bytes& secure_bytes::operator=(secure_bytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}
secure_bytes::~secure_bytes() { wipe(); }
void secure_bytes::wipe() noexcept {
  if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
}
void secure_bytes::resize(std::size_t n) {
  wipe();
  bytes_.clear();
  bytes_.shrink_to_fit();
  bytes_.resize(n);
}

result<file_key> file_key::raw(std::string_view b) {
  if (b.size() != size) {
    return make_error(errc::bad_key, "the file store key must be exactly 32 bytes (got " + std::to_string(b.size()) + ")");
  }
  return file_key(secure_bytes(b), false, {});
}

result<file_key> file_key::base64(std::string_view text) {
  if (!sodium_ready()) return make_error(errc::unavailable, "libsodium could not be initialised");
  secure_bytes out;
  out.resize(size + 1);  // one spare byte: a longer key must fail, not be cut
  for (const int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                            sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), " \t\r\n", &len, &end, variant) == 0 &&
        end == text.data() + text.size()) {
      if (len != size) break;
      return file_key(secure_bytes(std::string_view(reinterpret_cast<const char*>(out.data()), size)), false, {});
    }
  }
  return make_error(errc::bad_key, "the file store key must be the base64 encoding of exactly 32 bytes");
}

result<file_key> file_key::passphrase(std::string_view text, argon2_limits limits) {
  if (text.empty()) return make_error(errc::bad_key, "the file store passphrase is empty");
  if (limits.opslimit < crypto_pwhash_OPSLIMIT_MIN || limits.opslimit > max_opslimit ||
      limits.memlimit < crypto_pwhash_MEMLIMIT_MIN || limits.memlimit > max_memlimit) {
    return make_error(errc::bad_key, "the Argon2id limits for the file store are out of range");
  }
  return file_key(secure_bytes(text), true, limits);
}

file_store::file_store(std::filesystem::path path, file_key key, std::chrono::milliseconds lock_timeout)
    : path_(std::move(path)), key_(std::move(key)), lock_timeout_(lock_timeout) {}

error file_store::corrupt(const std::string& detail) const {
  const std::string p = path_.string();
  return make_error(errc::corrupt, "the credential file " + p + " " + detail +
      "; it was left untouched. To recover, move it aside (mv '" + p + "' '" + p +
      ".broken') and log in again to each server");
}

result<void> file_store::key_for(const std::string& header, secure_bytes& out) {
  if (!key_.passphrase_) {
    out = secure_bytes(std::string_view(reinterpret_cast<const char*>(key_.secret_.data()), key_.secret_.size()));
    return {};
  }
  const std::lock_guard lock(cache_mutex_);
  if (cached_header_ != header) {
    reader r{header};
    r.take(magic.size() + 2);
    const unsigned long long ops = r.uint(8);
    const std::size_t mem = static_cast<std::size_t>(r.uint(8));
    const auto salt = r.take(salt_size);
    secure_bytes derived;
    derived.resize(file_key::size);
    if (crypto_pwhash(derived.data(), derived.size(), reinterpret_cast<const char*>(key_.secret_.data()),
            key_.secret_.size(), bytes(salt), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return make_error(errc::unavailable, "cannot derive the file store key from the passphrase: Argon2id needs " +
                                               std::to_string(mem >> 20) +
                                               " MiB of memory, which could not be allocated (raise this process's "
                                               "memory limit, or use the keyring: token_store = \"keyring\")");
    }
    cached_key_ = std::move(derived);
    cached_header_ = header;
  }
  out = secure_bytes(std::string_view(reinterpret_cast<const char*>(cached_key_.data()), cached_key_.size()));
  return {};
}

result<void> file_store::load(table& out) {
  if (!sodium_ready()) return make_error(errc::unavailable, "libsodium could not be initialised");
  std::string data;
  {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {};  // no file yet: an empty store
      return make_error(errc::io, "cannot open the credential file " + path_.string() + ": " + std::strerror(errno));
    }
    std::array<char, 8192> buf{};
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        ::close(fd);
        return make_error(errc::io, "cannot read the credential file " + path_.string() + ": " + std::strerror(e));
      }
      if (n == 0) break;
      data.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
  }

  reader r{data};
  if (data.size() < magic.size() || data.compare(0, magic.size(), magic) != 0) {
    return corrupt("is not a fracta credential store (bad magic or truncated)");
  }
  const std::string header(r.take(header_size));
  if (r.bad) return corrupt("is truncated");
  const auto version = static_cast<unsigned char>(header[magic.size()]);
  const auto kdf = static_cast<unsigned char>(header[magic.size() + 1]);
  if (version != format_version) {
    return corrupt("has format version " + std::to_string(version) + ", which this fracta does not read");
  }
  {
    reader h{header};
    h.take(magic.size() + 2);
    const auto ops = h.uint(8);
    const auto mem = h.uint(8);
    if (kdf == kdf_raw) {
      if (ops != 0 || mem != 0) return corrupt("has a damaged header");
      if (key_.passphrase_) return corrupt("is protected by a raw key, but a passphrase is configured");
    } else if (kdf == kdf_argon2id13) {
      if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > max_opslimit || mem < crypto_pwhash_MEMLIMIT_MIN || mem > max_memlimit) {
        return corrupt("has a damaged header");
      }
      if (!key_.passphrase_) return corrupt("is protected by a passphrase, but a raw key is configured");
    } else {
      return corrupt("has a damaged header");
    }
  }
  secure_bytes key;
  if (auto ok = key_for(header, key); !ok) return ok;

  // The key check: a wrong key fails here, before anything else is trusted.
  {
    const auto nonce = r.take(nonce_size);
    const auto tag = r.take(tag_size);
    if (r.bad) return corrupt("is truncated");
    std::string empty;
    if (!open_sealed(nonce, tag, header + std::string(check_label), key, empty)) {
      return corrupt("cannot be decrypted with the configured " +
          std::string(key_.passphrase_ ? "passphrase" : "key") + " (wrong " +
          (key_.passphrase_ ? "passphrase" : "key") + ", or the file was modified)");
    }
  }

  struct raw_record {
    item_key key;
    std::string_view nonce;
    std::string_view sealed;
  };
  std::vector<raw_record> records;
  const auto count = static_cast<std::uint32_t>(r.uint(4));
  if (r.bad) return corrupt("is truncated");
  if (count > max_items) return corrupt("was modified or damaged (implausible item count)");
  for (std::uint32_t i = 0; i < count; ++i) {
    raw_record rec;
    rec.key.server = std::string(r.sized());
    rec.key.issuer = std::string(r.sized());
    rec.key.item = std::string(r.sized());
    rec.nonce = r.take(nonce_size);
    rec.sealed = r.sized();
    if (r.bad) return corrupt("is truncated");
    records.push_back(std::move(rec));
  }
  const std::size_t body_end = r.pos;
  {
    const auto nonce = r.take(nonce_size);
    const auto tag = r.take(tag_size);
    if (r.bad) return corrupt("is truncated");
    if (r.pos != data.size()) return corrupt("was modified or damaged (unexpected bytes at the end)");
    std::string empty;
    std::string ad(trailer_label);
    ad.append(data, 0, body_end);
    if (!open_sealed(nonce, tag, ad, key, empty)) return corrupt("was modified, damaged or truncated");
  }

  table t;
  for (auto& rec : records) {
    std::string id = canonical(rec.key);
    std::string plain;
    if (!open_sealed(rec.nonce, rec.sealed, header + id, key, plain)) {
      return corrupt("was modified or damaged (an item failed authentication)");
    }
    auto [it, inserted] = t.items.try_emplace(std::move(id));
    if (!inserted) {
      sodium_memzero(plain.data(), plain.size());
      return corrupt("was modified or damaged (a duplicate item)");
    }
    it->second.key = std::move(rec.key);
    it->second.value = std::move(plain);
  }
  out.header = header;
  out.items.swap(t.items);
  return {};
}

result<void> file_store::save(const table& t) {
  std::string header = t.header;
  if (header.empty()) {
    header.assign(magic);
    header.push_back(static_cast<char>(format_version));
    header.push_back(static_cast<char>(key_.passphrase_ ? kdf_argon2id13 : kdf_raw));
    put_u64(header, key_.passphrase_ ? key_.limits_.opslimit : 0);
    put_u64(header, key_.passphrase_ ? key_.limits_.memlimit : 0);
    header += random_bytes(salt_size);
  }
  secure_bytes key;
  if (auto ok = key_for(header, key); !ok) return ok;

  std::string out = header;
  out += seal({}, header + std::string(check_label), key);
  put_u32(out, static_cast<std::uint32_t>(t.items.size()));
  for (const auto& [id, e] : t.items) {
    put_bytes(out, e.key.server);
    put_bytes(out, e.key.issuer);
    put_bytes(out, e.key.item);
    const std::string sealed = seal(e.value, header + id, key);
    out.append(sealed, 0, nonce_size);
    put_bytes(out, std::string_view(sealed).substr(nonce_size));
  }
  out += seal({}, std::string(trailer_label) + out, key);
  try {
    config::write_file_atomically(path_, out);
  } catch (const std::system_error& e) {
    return make_error(errc::io, e.what());
  }
  return {};
}

result<std::string> file_store::get(const item_key& key) {
  if (auto ok = check_key(key); !ok) return std::move(ok).err();
  table t;
  if (auto ok = load(t); !ok) return std::move(ok).err();
  const auto it = t.items.find(canonical(key));
  if (it == t.items.end()) {
    return make_error(errc::not_found, "no " + key.item + " stored in " + path_.string() + " for server '" + key.server + "'");
  }
  return std::string(it->second.value);
}

result<void> file_store::modify(const item_key& key, const std::string_view* value) {
  if (auto ok = check_key(key); !ok) return ok;
  if (auto why = core::make_private_dirs(path_.parent_path()); !why.empty()) return make_error(errc::io, why);
  auto lock = lock_for_writing(path_.string() + ".lock", lock_timeout_);
  if (!lock) return std::move(lock).err();
  table t;
  if (auto ok = load(t); !ok) return ok;  // a corrupt file is reported, never replaced
  const std::string id = canonical(key);
  if (value == nullptr) {
    const auto it = t.items.find(id);
    if (it == t.items.end()) return {};
    sodium_memzero(it->second.value.data(), it->second.value.size());
    t.items.erase(it);
  } else {
    auto& e = t.items[id];
    sodium_memzero(e.value.data(), e.value.size());
    e.key = key;
    e.value.assign(*value);
  }
  return save(t);
}

result<void> file_store::put(const item_key& key, std::string_view value) { return modify(key, &value); }

result<void> file_store::erase(const item_key& key) { return modify(key, nullptr); }

result<std::size_t> file_store::erase_server(std::string_view name) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return std::size_t{0};
  auto lock = lock_for_writing(path_.string() + ".lock", lock_timeout_);
  if (!lock) return std::move(lock).err();
  table t;
  if (auto ok = load(t); !ok) return std::move(ok).err();  // a corrupt file is reported, never replaced
  std::size_t erased = 0;
  for (auto it = t.items.begin(); it != t.items.end();) {
    if (!belongs_to(it->second.key, name)) {
      ++it;
      continue;
    }
    sodium_memzero(it->second.value.data(), it->second.value.size());
    it = t.items.erase(it);
    ++erased;
  }
  if (erased == 0) return erased;
  if (auto ok = save(t); !ok) return std::move(ok).err();
  return erased;
}

}  // namespace fracta::store
