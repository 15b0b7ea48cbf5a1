// SPDX-License-Identifier: Apache-2.0
// The keyring store against a real gnome-keyring in a private D-Bus session (see with-keyring.sh).
#include "store/keyring_store.hpp"

#include <doctest/doctest.h>

#include <string>

using fracta::store::errc;
using fracta::store::item_key;
using fracta::store::keyring_collection;
using fracta::store::keyring_options;
using fracta::store::keyring_store;

namespace {

keyring_store session_store() {
  return keyring_store(keyring_options{keyring_collection::session, std::chrono::seconds(5)});
}

const std::string secret = "kr-s3cr3t-value";

}  // namespace

TEST_CASE("a Secret Service answers in the private session") {
  CHECK(keyring_store::available(std::chrono::seconds(5)));
}

TEST_CASE("put, get and erase round-trip through the session collection") {
  auto s = session_store();
  CHECK(s.name() == "keyring");
  const item_key k{"alpha", "https://issuer.example", "tokens"};
  const item_key other_issuer{"alpha", "https://other.example", "tokens"};
  const item_key other_item{"alpha", "https://issuer.example", "registration"};

  auto none = s.get(k);
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().code == errc::not_found);

  REQUIRE(s.put(k, secret).ok());
  CHECK(s.get(k).value() == secret);
  CHECK(s.get(other_issuer).err().code == errc::not_found);
  CHECK(s.get(other_item).err().code == errc::not_found);

  REQUIRE(s.put(other_issuer, "second").ok());
  REQUIRE(s.put(k, "replaced").ok());
  CHECK(s.get(k).value() == "replaced");
  CHECK(s.get(other_issuer).value() == "second");

  const std::string binary("a\0b\xff", 4);
  REQUIRE(s.put(other_item, binary).ok());
  CHECK(s.get(other_item).value() == binary);

  REQUIRE(s.erase(k).ok());
  CHECK(s.get(k).err().code == errc::not_found);
  CHECK(s.get(other_issuer).value() == "second");
  CHECK(s.erase(k).ok());  // absent is not an error
  REQUIRE(s.erase(other_issuer).ok());
  REQUIRE(s.erase(other_item).ok());
}

TEST_CASE("an Entra-sized token record fits in the keyring; only values over 64 KiB are refused") {
  auto s = session_store();
  const item_key k{"big", "", "tokens"};
  const std::string entra(4 * 1024, 'v');  // JWT access token + refresh token + metadata
  REQUIRE(s.put(k, entra).ok());
  CHECK(s.get(k).value() == entra);
  CHECK(s.put(k, std::string(keyring_store::max_value_size, 'w')).ok());
  auto r = s.put(k, std::string(keyring_store::max_value_size + 1, 'v'));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::too_large);
  CHECK(r.err().message.find("64 KiB") != std::string::npos);
  CHECK(r.err().message.find("vvvv") == std::string::npos);
  CHECK(s.get(k).value() == std::string(keyring_store::max_value_size, 'w'));
  CHECK(s.erase(k).ok());
}

TEST_CASE("empty server or item names are refused") {
  auto s = session_store();
  CHECK(s.put({"", "i", "tokens"}, "v").err().code == errc::bad_key);
  CHECK(s.get({"srv", "i", ""}).err().code == errc::bad_key);
}
