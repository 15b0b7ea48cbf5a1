// SPDX-License-Identifier: Apache-2.0
// The keyring store's deadline: a bus that accepts connections and never answers; and a
// keyring that answers late, whose late write must not overwrite a newer one.
#include "store/keyring_store.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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

namespace {

// A Secret Service that holds the first put of "old" until the test lets it go.
class slow_keyring final : public fracta::store::keyring_backend {
 public:
  std::mutex m;
  std::condition_variable cv;
  bool release_old = false;
  std::map<std::string, std::string> stored;
  std::vector<std::string> performed;

  void perform(fracta::store::keyring_call& c, const std::atomic<bool>&, void*) override {
    using op = fracta::store::keyring_call::op;
    std::unique_lock lk(m);
    if (c.kind == op::put) {
      if (c.value == "old") cv.wait(lk, [&] { return release_old; });
      stored[c.key.item] = c.value;
      performed.push_back(c.value);
      c.found = true;
      cv.notify_all();
    } else if (c.kind == op::get) {
      auto it = stored.find(c.key.item);
      if (it != stored.end()) {
        c.value = it->second;
        c.found = true;
      }
    }
  }
};

}  // namespace

TEST_CASE("a keyring write that timed out never lands after a newer one: writes to an item keep their order") {
  auto backend = std::make_shared<slow_keyring>();
  keyring_store s(keyring_options{keyring_collection::session, std::chrono::milliseconds(500), backend});
  const fracta::store::item_key k{"alpha\nhttps://mcp.example/mcp", "", "tokens"};
  auto late = s.put(k, "old");  // the keyring sits on it past the deadline
  REQUIRE_FALSE(late.ok());
  CHECK(late.err().code == errc::unavailable);
  auto newer = std::async(std::launch::async, [&] { return s.put(k, "new").ok(); });
  {
    // Let the late write go once the newer one has landed, or after a short while if it
    // (correctly) waits for the late one.
    std::unique_lock lk(backend->m);
    backend->cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return !backend->performed.empty(); });
    backend->release_old = true;
    backend->cv.notify_all();
  }
  CHECK(newer.get());
  CHECK(s.get(k).value() == "new");
  std::lock_guard lk(backend->m);
  CHECK(backend->performed == std::vector<std::string>{"old", "new"});
}
