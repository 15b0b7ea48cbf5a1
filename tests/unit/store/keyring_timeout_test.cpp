// SPDX-License-Identifier: Apache-2.0
// The keyring store's deadline: a bus that accepts connections and never answers.
#include "store/keyring_store.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

using fracta::store::errc;
using fracta::store::keyring_collection;
using fracta::store::keyring_options;
using fracta::store::keyring_store;

TEST_CASE("a keyring that does not answer fails with unavailable at the deadline") {
  // A listening socket nobody accepts on: the D-Bus handshake never completes.
  std::string dir = "/tmp/fracta-silent-bus-XXXXXX";
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const std::string sock_path = dir + "/bus";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  // Set before the first libsecret call in this process (this executable has one test).
  REQUIRE(::setenv("DBUS_SESSION_BUS_ADDRESS", ("unix:path=" + sock_path).c_str(), 1) == 0);

  keyring_store s(keyring_options{keyring_collection::session, std::chrono::milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  auto g = s.get({"alpha", "https://issuer.example", "tokens"});
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(g.ok());
  CHECK(g.err().code == errc::unavailable);
  CHECK(g.err().message == "the keyring did not answer within 300 ms");
  CHECK(took < std::chrono::seconds(3));

  auto p = s.put({"alpha", "https://issuer.example", "tokens"}, "silent-s3cr3t");
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == errc::unavailable);
  CHECK(p.err().message.find("silent-s3cr3t") == std::string::npos);
  CHECK_FALSE(keyring_store::available(std::chrono::milliseconds(200)));

  ::close(fd);
  ::unlink(sock_path.c_str());
  ::rmdir(dir.c_str());
}
