// SPDX-License-Identifier: Apache-2.0
// The cross-process login and refresh locks: where they live, one holder at a time, released
// when dropped.
#include "login/lock.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

using namespace fracta;
namespace fs = std::filesystem;

namespace {

struct state_home {
  fs::path dir = fs::temp_directory_path() / ("fracta-lock-" + std::to_string(::getpid()));
  state_home() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
  }
  ~state_home() { fs::remove_all(dir); }
};

fracta::config::server server_at(std::string name, std::string url) {
  fracta::config::server s;
  s.name = std::move(name);
  s.url = std::move(url);
  return s;
}

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("the login lock: private directories, one holder at a time, released when dropped") {
  state_home home;
  const auto path = login::lock_path("notion");
  CHECK(path == home.dir / "fracta" / "locks" / "notion.lock");
  auto first = login::try_lock(path);
  REQUIRE_MESSAGE(first.held, first.error);
  CHECK(mode_of(home.dir / "fracta") == 0700);
  CHECK(mode_of(home.dir / "fracta" / "locks") == 0700);
  CHECK(mode_of(path) == 0600);
  auto second = login::try_lock(path);  // flock is per open file: a second open contends
  CHECK_FALSE(second.held);
  CHECK(second.busy);
  CHECK(second.error.empty());
  first.held.reset();
  auto third = login::try_lock(path);
  CHECK(third.held);
}

TEST_CASE("a lock path that cannot be created is an error naming the directory") {
  state_home home;
  std::ofstream(home.dir / "fracta") << "a file where the directory should be";
  auto attempt = login::try_lock(login::lock_path("s"));
  CHECK_FALSE(attempt.held);
  CHECK_FALSE(attempt.busy);
  CHECK(attempt.error.find("cannot create the directory " + (home.dir / "fracta" / "locks").string() + ": ") == 0);
}

TEST_CASE("the refresh lock is per server name and canonical URL, beside the login lock and apart from it") {
  state_home home;
  const auto notion = login::refresh_lock_path(server_at("notion", "https://mcp.notion.com/mcp"));
  CHECK(notion.parent_path() == home.dir / "fracta" / "locks");
  CHECK(notion.filename().string().rfind("notion.refresh-", 0) == 0);
  CHECK(notion.extension() == ".lock");
  CHECK(notion != login::lock_path("notion"));
  // The same identity as the store's keys: the canonical URL, not its spelling.
  CHECK(login::refresh_lock_path(server_at("notion", "HTTPS://MCP.Notion.com:443/mcp#x")) == notion);
  // Another URL under the same name, or another name for the same URL: another lock.
  CHECK(login::refresh_lock_path(server_at("notion", "https://mcp.notion.com/other")) != notion);
  CHECK(login::refresh_lock_path(server_at("notion2", "https://mcp.notion.com/mcp")) != notion);
  // Held for a refresh, the login lock stays free: a login in progress never holds up a refresh.
  auto refresh = login::try_lock(notion);
  REQUIRE_MESSAGE(refresh.held, refresh.error);
  CHECK(login::try_lock(login::lock_path("notion")).held);
  CHECK(login::try_lock(notion).busy);
}
