// SPDX-License-Identifier: Apache-2.0
// The keyring store with no reachable bus: "unavailable", never "not found" (run with a bogus bus address).
#include "store/keyring_store.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

using fracta::store::errc;
using fracta::store::keyring_collection;
using fracta::store::keyring_options;
using fracta::store::keyring_store;

TEST_CASE("an unreachable bus is unavailable, not not_found") {
  const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  REQUIRE(bus != nullptr);
  REQUIRE(std::string(bus).find("/nonexistent") != std::string::npos);

  CHECK_FALSE(keyring_store::available(std::chrono::seconds(5)));
  keyring_store s(keyring_options{keyring_collection::session, std::chrono::seconds(5)});
  const fracta::store::item_key k{"alpha", "https://issuer.example", "tokens"};
  auto g = s.get(k);
  REQUIRE_FALSE(g.ok());
  CHECK(g.err().code == errc::unavailable);
  CHECK(g.err().message.find("keyring is unavailable") != std::string::npos);

  auto p = s.put(k, "unreachable-s3cr3t");
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == errc::unavailable);
  CHECK(p.err().message.find("unreachable-s3cr3t") == std::string::npos);
  CHECK(s.erase(k).err().code == errc::unavailable);
}
