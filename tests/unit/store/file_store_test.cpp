// SPDX-License-Identifier: Apache-2.0
// The encrypted file store: round trips, tamper and truncation detection, locking, concurrency.
#include "store/file_store.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using fracta::store::argon2_limits;
using fracta::store::errc;
using fracta::store::file_key;
using fracta::store::file_store;
using fracta::store::item_key;

namespace {

// Cheap Argon2id limits so passphrase tests stay fast.
constexpr argon2_limits fast_limits{1, 8192};

const std::string raw_key_bytes = "0123456789abcdef0123456789ABCDEF";
const std::string secret_one = "s3cr3t-refresh-token-AAAA";
const std::string secret_two = "s3cr3t-refresh-token-BBBB";
const std::string passphrase_text = "correct horse battery staple";

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "fracta-store-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

file_key raw_key(const std::string& bytes = raw_key_bytes) {
  auto k = file_key::raw(bytes);
  REQUIRE(k.ok());
  return std::move(k).value();
}

file_key pass_key(const std::string& text = passphrase_text) {
  auto k = file_key::passphrase(text, fast_limits);
  REQUIRE(k.ok());
  return std::move(k).value();
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// No message may carry a stored value, the key or the passphrase.
void check_no_secret(const std::string& message) {
  for (const auto& s : {secret_one, secret_two, raw_key_bytes, passphrase_text}) {
    CHECK(message.find(s) == std::string::npos);
  }
}

const item_key alpha{"alpha", "https://issuer.example", "tokens"};
const item_key bravo{"bravo", "https://issuer.example", "tokens"};

}  // namespace

TEST_CASE("file_key accepts exactly 32 bytes, raw or base64") {
  CHECK(file_key::raw(raw_key_bytes).ok());
  const auto short_key = file_key::raw("short");
  REQUIRE_FALSE(short_key.ok());
  CHECK(short_key.err().code == errc::bad_key);
  check_no_secret(short_key.err().message);

  // base64 of raw_key_bytes, standard with padding and URL-safe without.
  CHECK(file_key::base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=").ok());
  CHECK(file_key::base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY").ok());
  CHECK(file_key::base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=\n").ok());
  CHECK(file_key::base64("MDEyMw==").err().code == errc::bad_key);  // too short
  CHECK(file_key::base64("not base64 at all!").err().code == errc::bad_key);
  CHECK(file_key::base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUZH").err().code == errc::bad_key);  // 33 bytes
  CHECK(file_key::passphrase("", fast_limits).err().code == errc::bad_key);
}

TEST_CASE("a base64 key opens what the same raw key wrote") {
  temp_dir d;
  file_store a(d.path / "store.bin", raw_key());
  REQUIRE(a.put(alpha, secret_one).ok());
  auto k = file_key::base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=");
  REQUIRE(k.ok());
  file_store b(d.path / "store.bin", std::move(k).value());
  CHECK(b.get(alpha).value() == secret_one);
}

TEST_CASE("items round-trip across servers, issuers and item names") {
  temp_dir d;
  const auto path = d.path / "sub" / "dir" / "store.bin";
  for (bool passphrase : {false, true}) {
    CAPTURE(passphrase);
    fs::remove(path);
    file_store s(path, passphrase ? pass_key() : raw_key());
    CHECK(s.name() == "file");
    const std::string binary("a\0b\xff\x01z", 6);
    const std::string big(100000, 'x');
    const std::vector<std::pair<item_key, std::string>> items = {
        {alpha, secret_one},
        {bravo, secret_two},
        {{"alpha", "https://other.example", "tokens"}, "other-issuer"},
        {{"alpha", "", "registration"}, "{\"client_id\":\"abc\"}"},
        {{"bravo", "https://issuer.example", "registration"}, binary},
        {{"charlie", "i", "tokens"}, big},
        {{"delta", "i", "tokens"}, ""},
    };
    for (const auto& [k, v] : items) REQUIRE(s.put(k, v).ok());
    for (const auto& [k, v] : items) {
      auto got = s.get(k);
      REQUIRE(got.ok());
      CHECK(*got == v);
    }
    // A second object on the same file sees the same items; replacing keeps the others.
    file_store t(path, passphrase ? pass_key() : raw_key());
    REQUIRE(t.put(alpha, "replaced").ok());
    CHECK(s.get(alpha).value() == "replaced");
    CHECK(s.get(bravo).value() == secret_two);
    // Identity fields are length-prefixed: ("ab", "c") is not ("a", "bc").
    REQUIRE(s.put({"ab", "c", "tokens"}, "one").ok());
    REQUIRE(s.put({"a", "bc", "tokens"}, "two").ok());
    CHECK(s.get({"ab", "c", "tokens"}).value() == "one");
    CHECK(s.get({"a", "bc", "tokens"}).value() == "two");
  }
}

TEST_CASE("absent items are not_found; erase removes and tolerates absence") {
  temp_dir d;
  file_store s(d.path / "store.bin", raw_key());
  auto none = s.get(alpha);
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().code == errc::not_found);  // no file yet
  CHECK_FALSE(fs::exists(d.path / "store.bin"));
  CHECK(s.erase(alpha).ok());

  REQUIRE(s.put(alpha, secret_one).ok());
  REQUIRE(s.put(bravo, secret_two).ok());
  CHECK(s.get({"alpha", "https://issuer.example", "registration"}).err().code == errc::not_found);
  CHECK(s.get({"alpha", "https://elsewhere.example", "tokens"}).err().code == errc::not_found);
  REQUIRE(s.erase(alpha).ok());
  CHECK(s.get(alpha).err().code == errc::not_found);
  CHECK(s.get(bravo).value() == secret_two);
  CHECK(s.erase(alpha).ok());
  check_no_secret(s.get(alpha).err().message);

  CHECK(s.put({"", "i", "tokens"}, "v").err().code == errc::bad_key);
  CHECK(s.get({"srv", "i", ""}).err().code == errc::bad_key);
}

TEST_CASE("the file is mode 0600 in a private directory, and holds no plaintext") {
  temp_dir d;
  const auto path = d.path / "new" / "store.bin";
  file_store s(path, raw_key());
  REQUIRE(s.put(alpha, secret_one).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  const auto data = read_all(path);
  CHECK(data.rfind("FRACTA-STORE", 0) == 0);
  CHECK(data.find(secret_one) == std::string::npos);
  CHECK(data.find(raw_key_bytes) == std::string::npos);
}

TEST_CASE("a wrong key or passphrase is reported as such, and the file is kept") {
  temp_dir d;
  const auto raw_path = d.path / "raw.bin";
  const auto pass_path = d.path / "pass.bin";
  {
    file_store s(raw_path, raw_key());
    REQUIRE(s.put(alpha, secret_one).ok());
    file_store p(pass_path, pass_key());
    REQUIRE(p.put(alpha, secret_two).ok());
    CHECK(read_all(pass_path).find(passphrase_text) == std::string::npos);
  }
  const auto raw_before = read_all(raw_path);
  const auto pass_before = read_all(pass_path);

  file_store wrong_raw(raw_path, raw_key("ffffffffffffffffffffffffffffffff"));
  auto r = wrong_raw.get(alpha);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::corrupt);
  CHECK(r.err().message.find("wrong key") != std::string::npos);
  CHECK(r.err().message.find(raw_path.string()) != std::string::npos);
  CHECK(r.err().message.find("left untouched") != std::string::npos);
  CHECK(r.err().message.find("log in again") != std::string::npos);
  check_no_secret(r.err().message);
  CHECK(wrong_raw.put(bravo, secret_two).err().code == errc::corrupt);
  CHECK(wrong_raw.erase(alpha).err().code == errc::corrupt);
  CHECK(read_all(raw_path) == raw_before);

  file_store wrong_pass(pass_path, pass_key("not the passphrase"));
  auto p = wrong_pass.get(alpha);
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == errc::corrupt);
  CHECK(p.err().message.find("wrong passphrase") != std::string::npos);
  check_no_secret(p.err().message);
  CHECK(wrong_pass.put(bravo, secret_one).err().code == errc::corrupt);
  CHECK(read_all(pass_path) == pass_before);

  // The wrong kind of key names the mismatch.
  file_store pass_on_raw(raw_path, pass_key());
  CHECK(pass_on_raw.get(alpha).err().message.find("raw key") != std::string::npos);
  file_store raw_on_pass(pass_path, raw_key());
  CHECK(raw_on_pass.get(alpha).err().message.find("passphrase") != std::string::npos);
}

TEST_CASE("a flipped bit anywhere makes the file corrupt, and it is never overwritten") {
  for (bool passphrase : {false, true}) {
    CAPTURE(passphrase);
    temp_dir d;
    const auto path = d.path / "store.bin";
    file_store s(path, passphrase ? pass_key() : raw_key());
    REQUIRE(s.put(alpha, secret_one).ok());
    REQUIRE(s.put(bravo, secret_two).ok());
    const auto good = read_all(path);
    // Every byte for the raw key; a spread of offsets for the (slower) passphrase key.
    const std::size_t step = passphrase ? 7 : 1;
    for (std::size_t i = 0; i < good.size(); i += step) {
      CAPTURE(i);
      auto bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      write_all(path, bad);
      auto g = s.get(alpha);
      REQUIRE_FALSE(g.ok());
      CHECK(g.err().code == errc::corrupt);
      check_no_secret(g.err().message);
      auto p = s.put({"charlie", "i", "tokens"}, secret_one);
      REQUIRE_FALSE(p.ok());
      CHECK(p.err().code == errc::corrupt);
      CHECK(s.erase(bravo).err().code == errc::corrupt);
      CHECK(read_all(path) == bad);
    }
    write_all(path, good);
    CHECK(s.get(alpha).value() == secret_one);
  }
}

TEST_CASE("a truncated or extended file is corrupt, and it is never overwritten") {
  temp_dir d;
  const auto path = d.path / "store.bin";
  file_store s(path, raw_key());
  REQUIRE(s.put(alpha, secret_one).ok());
  REQUIRE(s.put(bravo, secret_two).ok());
  const auto good = read_all(path);
  for (std::size_t len = 0; len < good.size(); ++len) {
    CAPTURE(len);
    const auto cut = good.substr(0, len);
    write_all(path, cut);
    auto g = s.get(alpha);
    REQUIRE_FALSE(g.ok());
    CHECK(g.err().code == errc::corrupt);
    CHECK(s.put(alpha, secret_two).err().code == errc::corrupt);
    CHECK(read_all(path) == cut);
  }
  write_all(path, good + "x");
  CHECK(s.get(alpha).err().code == errc::corrupt);
  write_all(path, good);
  CHECK(s.get(bravo).value() == secret_two);
}

TEST_CASE("a sealed item cannot be moved to another server or issuer") {
  // Rename the identities in the file (swapping the ciphertexts between them) and re-seal the
  // whole-file trailer with the key, so that only the per-item binding can catch it.
  REQUIRE(sodium_init() >= 0);
  temp_dir d;
  const auto path = d.path / "store.bin";
  file_store s(path, raw_key());
  const std::string id_a = "https://issuer-a.example";
  const std::string id_b = "https://issuer-b.example";
  REQUIRE(s.put({"alpha", id_a, "tokens"}, secret_one).ok());
  REQUIRE(s.put({"bravo", id_b, "tokens"}, secret_two).ok());
  const auto good = read_all(path);
  constexpr std::size_t trailer = 24 + 16;

  const auto reseal = [&](std::string data) {
    data.resize(data.size() - trailer);
    std::string ad = "trailer" + data;
    unsigned char nonce[24];
    randombytes_buf(nonce, sizeof nonce);
    unsigned char tag[16];
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(tag, &len, nullptr, 0,
        reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce,
        reinterpret_cast<const unsigned char*>(raw_key_bytes.data()));
    data.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
    data.append(reinterpret_cast<const char*>(tag), sizeof tag);
    return data;
  };
  const auto swap_text = [](std::string data, const std::string& x, const std::string& y) {
    const auto px = data.find(x);
    const auto py = data.find(y);
    REQUIRE(px != std::string::npos);
    REQUIRE(py != std::string::npos);
    data.replace(px, x.size(), y);
    data.replace(py, y.size(), x);
    return data;
  };

  // Control: re-sealing the trailer alone keeps the file valid.
  write_all(path, reseal(good));
  REQUIRE(s.get({"alpha", id_a, "tokens"}).value() == secret_one);

  for (const auto& [x, y] : {std::pair{std::string("alpha"), std::string("bravo")}, std::pair{id_a, id_b}}) {
    CAPTURE(x);
    write_all(path, reseal(swap_text(good, x, y)));
    auto g = s.get({"alpha", id_a, "tokens"});
    REQUIRE_FALSE(g.ok());
    CHECK(g.err().code == errc::corrupt);
    CHECK(g.err().message.find("an item failed authentication") != std::string::npos);
    CHECK(s.get({"bravo", id_a, "tokens"}).err().code == errc::corrupt);
    check_no_secret(g.err().message);
  }
  // Without re-sealing, the trailer catches the same edit.
  write_all(path, swap_text(good, "alpha", "bravo"));
  CHECK(s.get({"alpha", id_a, "tokens"}).err().code == errc::corrupt);
}

TEST_CASE("concurrent writers lose nothing") {
  temp_dir d;
  const auto path = d.path / "store.bin";
  constexpr int per_writer = 40;
  const auto writer = [&](file_store& s, const std::string& server) {
    for (int i = 0; i < per_writer; ++i) {
      const auto r = s.put({server, "i", "tokens-" + std::to_string(i)}, server + "-" + std::to_string(i));
      CHECK(r.ok());
    }
  };
  SUBCASE("two store objects on the same path") {
    file_store a(path, raw_key());
    file_store b(path, raw_key());
    std::thread ta([&] { writer(a, "alpha"); });
    std::thread tb([&] { writer(b, "bravo"); });
    ta.join();
    tb.join();
  }
  SUBCASE("one store object used from two threads") {
    file_store a(path, pass_key());
    std::thread ta([&] { writer(a, "alpha"); });
    std::thread tb([&] { writer(a, "bravo"); });
    ta.join();
    tb.join();
  }
  const bool passphrase = read_all(path)[13] == 1;
  file_store check(path, passphrase ? pass_key() : raw_key());
  for (const std::string server : {"alpha", "bravo"}) {
    for (int i = 0; i < per_writer; ++i) {
      auto g = check.get({server, "i", "tokens-" + std::to_string(i)});
      REQUIRE(g.ok());
      CHECK(*g == server + "-" + std::to_string(i));
    }
  }
}

TEST_CASE("a writer that cannot get the lock in time fails with locked") {
  temp_dir d;
  const auto path = d.path / "store.bin";
  file_store s(path, raw_key(), std::chrono::milliseconds(100));
  REQUIRE(s.put(alpha, secret_one).ok());
  const int fd = ::open((path.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  auto r = s.put(bravo, secret_two);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::locked);
  CHECK(r.err().message.find(".lock") != std::string::npos);
  check_no_secret(r.err().message);
  CHECK(s.get(alpha).value() == secret_one);  // readers do not wait for writers
  ::close(fd);
  CHECK(s.put(bravo, secret_two).ok());
}
