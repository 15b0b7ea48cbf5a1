// SPDX-License-Identifier: Apache-2.0
// Helpers for the config tests: temporary directories and capturing config_error messages.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <string_view>

#include "fracta/config.hpp"

namespace fracta::config::test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir final {
 public:
  temp_dir() {
    static std::atomic<unsigned> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("fracta-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  /// Writes `text` to `name` inside the directory and returns the full path.
  std::filesystem::path write(std::string_view name, std::string_view text) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

/// Makes a FIFO (named pipe) at `p`; nobody writes to it.
inline std::filesystem::path make_fifo(const std::filesystem::path& p) {
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  return p;
}

/// Runs `f` on a thread and returns what it returns. If it is still running after 10 s (it
/// blocked on `fifo`), the test fails and a writer opens and closes the FIFO so that `f`
/// finishes instead of hanging the suite.
template <class F>
auto without_blocking_on(const std::filesystem::path& fifo, F f) {
  auto done = std::async(std::launch::async, std::move(f));
  if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    FAIL_CHECK("blocked on the FIFO " << fifo.string());
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  return done.get();
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The path used for configs parsed from text in these tests.
inline const std::string cfg_path = "/etc/fracta/config.toml";

/// The config_error message parse() throws for `text`; fails the test when nothing is thrown.
inline std::string parse_error(std::string_view text, const std::string& path = cfg_path) {
  try {
    (void)parse(text, path);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("parse() accepted a config it should reject:\n" << text);
  return {};
}

/// A server "gh" with an auth table of `auth_lines`; tests append or vary lines from here.
/// Line numbers: 1 header, 2 url, then `headers` lines, a blank line, the auth header, then
/// auth_lines starting at line 5 + number of header lines.
inline std::string with_auth(std::string_view auth_lines, std::string_view headers = "") {
  std::string s = "[mcp.servers.gh.remote]\nurl = \"https://api.example.com/mcp\"\n";
  s += headers;
  s += "\n[mcp.servers.gh.remote.auth]\n";
  s += auth_lines;
  return s;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace fracta::config::test
