// SPDX-License-Identifier: Apache-2.0
// file_watch in a real temporary directory: every way of replacing a file gives one callback
// with the new contents, unchanged contents give none, and a vanished directory is watched again.
#include "core/file_watch.hpp"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using fracta::core::file_watch;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// A fresh directory under $TMPDIR (or /tmp), removed afterwards.
fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "fracta-watch-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct watched_dir {
  fs::path dir = make_temp_dir();
  asio::io_context io;
  asio::thread_pool pool{1};
  std::vector<std::string> seen;  // the contents each callback was given
  std::vector<std::string> log;
  std::unique_ptr<file_watch> watch;
  int markers = 0;

  ~watched_dir() {
    watch.reset();
    pool.join();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  /// Runs the loop until `done()` holds or 5 s pass (a deadline, never a fixed sleep).
  template <class F>
  bool run_until(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  void start(const fs::path& path) {
    file_watch::options o;
    o.debounce = std::chrono::milliseconds(30);
    o.retry = std::chrono::milliseconds(20);
    o.log = [this](fracta::log_level, std::string_view m) { log.emplace_back(m); };
    watch = std::make_unique<file_watch>(asio::make_strand(io.get_executor()), pool.get_executor(), path.string(),
                                         [this](std::string_view contents) { seen.emplace_back(contents); }, o);
    REQUIRE(run_until([&] { return watch->checks() >= 1 && watch->idle(); }));  // the first read: no callback
    CHECK(watch->watching());
    CHECK(seen.empty());
  }

  /// dir/token.json holding `contents`, watched.
  void start_with(const std::string& contents) {
    write_file(dir / "token.json", contents);
    start(dir / "token.json");
  }

  /// Waits until every event so far has been checked: an unrelated file is created, and the
  /// check it starts (or joins) has completed.
  void settle() {
    const std::uint64_t before = watch->checks();
    write_file(dir / ("marker-" + std::to_string(++markers)), "x");
    REQUIRE(run_until([&] { return watch->checks() > before && watch->idle(); }));
  }

  /// Waits for a callback, then for the events still queued: exactly `n` callbacks in all.
  void expect_callbacks(std::size_t n) {
    REQUIRE(run_until([&] { return seen.size() >= n; }));
    settle();
    CHECK(seen.size() == n);
  }
};

}  // namespace

TEST_CASE("file_watch: a file rewritten in place gives one callback with the new contents") {
  watched_dir w;
  w.start_with(R"({"access_token":"A"})");
  write_file(w.dir / "token.json", R"({"access_token":"B"})");
  w.expect_callbacks(1);
  CHECK(w.seen.at(0) == R"({"access_token":"B"})");
}

TEST_CASE("file_watch: a file replaced by a rename over it gives one callback with the new contents") {
  watched_dir w;
  w.start_with(R"({"access_token":"A"})");
  write_file(w.dir / ".token.json.tmp", R"({"access_token":"B"})");
  fs::rename(w.dir / ".token.json.tmp", w.dir / "token.json");
  w.expect_callbacks(1);
  CHECK(w.seen.at(0) == R"({"access_token":"B"})");
}

TEST_CASE("file_watch: a Kubernetes Secret update (the ..data symlink swapped) gives one callback with the new contents") {
  watched_dir w;
  // The layout the kubelet keeps: token.json -> ..data/token.json, ..data -> ..<timestamp>.
  const std::string first = "..2026_12_01_18_00_00.123", second = "..2026_12_01_18_05_00.456";
  fs::create_directory(w.dir / first);
  write_file(w.dir / first / "token.json", R"({"access_token":"A"})");
  fs::create_directory_symlink(first, w.dir / "..data");
  fs::create_symlink("..data/token.json", w.dir / "token.json");
  w.start(w.dir / "token.json");
  // An update: a new timestamped directory, a ..data_tmp link to it renamed over ..data, the
  // old directory removed. The watched path itself never changes.
  fs::create_directory(w.dir / second);
  write_file(w.dir / second / "token.json", R"({"access_token":"B"})");
  fs::create_directory_symlink(second, w.dir / "..data_tmp");
  fs::rename(w.dir / "..data_tmp", w.dir / "..data");
  fs::remove_all(w.dir / first);
  w.expect_callbacks(1);
  CHECK(w.seen.at(0) == R"({"access_token":"B"})");
}

TEST_CASE("file_watch: events that leave the contents as they were give no callback") {
  watched_dir w;
  w.start_with(R"({"access_token":"A"})");
  const std::uint64_t before = w.watch->checks();
  write_file(w.dir / "token.json", R"({"access_token":"A"})");  // the same bytes again
  fs::permissions(w.dir / "token.json", fs::perms::owner_read | fs::perms::owner_write);
  write_file(w.dir / "other.json", "unrelated");
  REQUIRE(w.run_until([&] { return w.watch->checks() > before && w.watch->idle(); }));
  w.settle();
  CHECK(w.seen.empty());
}

TEST_CASE("file_watch: a removed file is no change; the file created again with new contents gives one callback") {
  watched_dir w;
  w.start_with(R"({"access_token":"A"})");
  const std::uint64_t before = w.watch->checks();
  fs::remove(w.dir / "token.json");
  REQUIRE(w.run_until([&] { return w.watch->checks() > before && w.watch->idle(); }));
  CHECK(w.seen.empty());
  write_file(w.dir / "token.json", R"({"access_token":"C"})");
  w.expect_callbacks(1);
  CHECK(w.seen.at(0) == R"({"access_token":"C"})");
}

TEST_CASE("file_watch: a directory removed and made again is watched again, and its new file is seen") {
  watched_dir w;
  const fs::path sub = w.dir / "secret";
  fs::create_directory(sub);
  write_file(sub / "token.json", R"({"access_token":"A"})");
  w.start(sub / "token.json");
  fs::remove_all(sub);
  REQUIRE(w.run_until([&] { return !w.watch->watching(); }));
  fs::create_directory(sub);
  write_file(sub / "token.json", R"({"access_token":"D"})");
  REQUIRE(w.run_until([&] { return w.seen.size() == 1; }));
  CHECK(w.seen.at(0) == R"({"access_token":"D"})");
  CHECK(w.watch->watching());
  // Watching the new directory: a later change is seen as well.
  write_file(sub / "token.json", R"({"access_token":"E"})");
  REQUIRE(w.run_until([&] { return w.seen.size() == 2; }));
  CHECK(w.seen.at(1) == R"({"access_token":"E"})");
  for (const auto& line : w.log) CHECK(line.find("access_token") == std::string::npos);  // never the contents
}

TEST_CASE("file_watch: after stop() nothing is called back and the loop runs out of work") {
  watched_dir w;
  w.start_with(R"({"access_token":"A"})");
  write_file(w.dir / "token.json", R"({"access_token":"B"})");
  w.watch->stop();
  CHECK_FALSE(w.watch->watching());
  // io.run() returns once the cancelled operations completed: the watch keeps nothing pending.
  w.io.restart();
  auto ran = std::async(std::launch::async, [&] { w.io.run(); });
  const bool returned = ran.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!returned) w.io.stop();
  ran.wait();
  CHECK(returned);
  CHECK(w.seen.empty());
}
