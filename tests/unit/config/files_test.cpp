// SPDX-License-Identifier: Apache-2.0
// Specification of config files on disk: bounded, non-blocking reads; atomic writes that keep
// modes, follow symlinks and refuse anything but a regular file; the literal-secret warning.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool still_a_fifo(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

std::string load_error(const fs::path& p) {
  try {
    (void)load(p);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("load() accepted " << p.string());
  return {};
}

std::string write_error(const fs::path& p) {
  try {
    write_file_atomically(p, "x = 1\n");
  } catch (const std::system_error& e) {
    return e.what();
  }
  FAIL("write_file_atomically() accepted " << p.string());
  return {};
}

new_server with_secret(secret_value::source from) {
  new_server s;
  s.name = "x";
  s.url = "https://x.example/mcp";
  s.auth_type = "oauth";
  secret_value v;
  v.from = from;
  v.ref = "SeCr3t-VaLuE";
  s.auth_secrets = {{"client_secret", v}};
  return s;
}

}  // namespace

// ---- read_text / load --------------------------------------------------------------------------

TEST_CASE("read_text: the file's text, or nullopt when nothing is there") {
  temp_dir dir;
  CHECK(read_text(dir.write("a.toml", "x = 1\n")) == std::optional<std::string>("x = 1\n"));
  CHECK_FALSE(read_text(dir / "missing.toml").has_value());
  CHECK_FALSE(read_text(dir / "no/such/dir.toml").has_value());
}

TEST_CASE("read_text follows a symlink to the file") {
  temp_dir dir;
  const auto target = dir.write("real.toml", "x = 2\n");
  fs::create_symlink("real.toml", dir / "config.toml");
  CHECK(read_text(dir / "config.toml") == std::optional<std::string>("x = 2\n"));
}

TEST_CASE("load refuses a FIFO at once instead of blocking on it") {
  temp_dir dir;
  const auto fifo = make_fifo(dir / "config.toml");
  const std::string msg = without_blocking_on(fifo, [&] { return load_error(fifo); });
  CHECK(starts_with(msg, fifo.string() + ": is a FIFO (named pipe), not a regular file. "));
  CHECK(contains(msg, "Point --config or $FRACTA_CONFIG at a TOML file."));
  CHECK(still_a_fifo(fifo));
}

TEST_CASE("load refuses a device such as /dev/null instead of reading it as an empty config") {
  const std::string msg = load_error("/dev/null");
  CHECK(starts_with(msg, "/dev/null: is a character device, not a regular file. "));
}

TEST_CASE("load refuses a config file over 1 MiB") {
  temp_dir dir;
  const auto p = dir.write("big.toml", "");
  fs::resize_file(p, max_config_bytes + 1);
  CHECK(starts_with(load_error(p), p.string() + ": is larger than 1024 KiB"));
  fs::resize_file(p, max_config_bytes);  // a file of exactly the cap is read
  CHECK_NOTHROW(read_text(p));
}

TEST_CASE("load: a directory is refused") {
  temp_dir dir;
  CHECK(starts_with(load_error(dir.path()),
                    dir.path().string() + ": is a directory, not a configuration file. "));
}

// ---- write_file_atomically ---------------------------------------------------------------------

TEST_CASE("write_file_atomically creates parent directories 0700 and a new file 0600") {
  temp_dir dir;
  const auto p = dir / "a/b/config.toml";
  write_file_atomically(p, "x = 1\n");
  CHECK(read_file(p) == "x = 1\n");
  CHECK(mode_of(p) == 0600);
  CHECK(mode_of(dir / "a") == 0700);
  CHECK(mode_of(dir / "a/b") == 0700);
}

TEST_CASE("write_file_atomically keeps an existing file's mode and leaves no temporary file") {
  temp_dir dir;
  const auto p = dir.write("config.toml", "old contents that are longer\n");
  REQUIRE(::chmod(p.c_str(), 0640) == 0);
  write_file_atomically(p, "new\n");
  CHECK(read_file(p) == "new\n");
  CHECK(mode_of(p) == 0640);
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("write_file_atomically writes through a symlink") {
  temp_dir dir;
  const auto target = dir.write("real.toml", "old\n");
  const auto link = dir / "config.toml";
  std::filesystem::create_symlink(target, link);
  write_file_atomically(link, "new\n");
  CHECK(std::filesystem::is_symlink(link));
  CHECK(read_file(target) == "new\n");
}

TEST_CASE("write_file_atomically reports errors as system_error naming the path") {
  temp_dir dir;
  const auto blocker = dir.write("file", "x");
  const auto p = blocker / "config.toml";
  try {
    write_file_atomically(p, "x");
    FAIL("write under a regular file succeeded");
  } catch (const std::system_error& e) {
    CHECK(contains(e.what(), blocker.string()));
  }
}

TEST_CASE("write_file_atomically follows a chain of relative symlinks to the final target") {
  temp_dir dir;
  const auto target = dir.write("dotfiles/fracta.toml", "old\n");
  fs::create_symlink("dotfiles/fracta.toml", dir / "middle.toml");
  fs::create_symlink("middle.toml", dir / "config.toml");
  REQUIRE(::chmod(target.c_str(), 0640) == 0);
  write_file_atomically(dir / "config.toml", "new\n");
  CHECK(fs::is_symlink(dir / "config.toml"));
  CHECK(fs::is_symlink(dir / "middle.toml"));
  CHECK(read_file(target) == "new\n");
  CHECK(mode_of(target) == 0640);
}

TEST_CASE("write_file_atomically refuses a FIFO and leaves it in place") {
  temp_dir dir;
  const auto fifo = make_fifo(dir / "config.toml");
  const std::string msg = write_error(fifo);
  CHECK(contains(msg, "refusing to write '" + fifo.string() +
                          "': it is a FIFO (named pipe), "
                          "not a regular file; nothing was changed"));
  CHECK(still_a_fifo(fifo));
}

TEST_CASE(
    "write_file_atomically refuses a symlink to a FIFO or directory; both stay as they were") {
  temp_dir dir;
  const auto fifo = make_fifo(dir / "pipe");
  fs::create_symlink(fifo, dir / "config.toml");
  CHECK(
      contains(write_error(dir / "config.toml"), "it is a FIFO (named pipe), not a regular file"));
  CHECK(still_a_fifo(fifo));
  CHECK(fs::is_symlink(dir / "config.toml"));

  fs::create_directory(dir / "sub");
  fs::create_symlink(dir / "sub", dir / "dir.toml");
  CHECK(contains(write_error(dir / "dir.toml"), "it is a directory, not a regular file"));
  CHECK(fs::is_directory(dir / "sub"));
  CHECK(fs::is_symlink(dir / "dir.toml"));
}

TEST_CASE("write_file_atomically refuses a symlink loop instead of replacing the link") {
  temp_dir dir;
  fs::create_symlink("b.toml", dir / "a.toml");
  fs::create_symlink("a.toml", dir / "b.toml");
  CHECK(contains(write_error(dir / "a.toml"),
                 "cannot follow the symlink '" + (dir / "a.toml").string()));
  CHECK(fs::is_symlink(dir / "a.toml"));
  CHECK(fs::read_symlink(dir / "a.toml") == "b.toml");
}

// ---- literal_secret_warning --------------------------------------------------------------------

TEST_CASE("literal_secret_warning: a literal secret going into a file others can read") {
  temp_dir dir;
  const auto p = dir.write("config.toml", "");
  REQUIRE(::chmod(p.c_str(), 0644) == 0);
  const std::string w = literal_secret_warning(p, with_secret(secret_value::source::value));
  CHECK(w == p.string() +
                 " (mode 0644) can be read by its group and other users, and now holds "
                 "the literal secret client_secret. Run chmod 600 '" +
                 p.string() + "', or give the secret as env:NAME or file:PATH instead");
  CHECK_FALSE(contains(w, "SeCr3t-VaLuE"));
  REQUIRE(::chmod(p.c_str(), 0640) == 0);
  CHECK(contains(literal_secret_warning(p, with_secret(secret_value::source::value)),
                 "can be read by its group,"));
}

TEST_CASE("literal_secret_warning: nothing for a private file, a new file or a reference") {
  temp_dir dir;
  const auto p = dir.write("config.toml", "");
  REQUIRE(::chmod(p.c_str(), 0600) == 0);
  CHECK(literal_secret_warning(p, with_secret(secret_value::source::value)).empty());
  CHECK(literal_secret_warning(dir / "new.toml", with_secret(secret_value::source::value)).empty());
  REQUIRE(::chmod(p.c_str(), 0644) == 0);
  CHECK(literal_secret_warning(p, with_secret(secret_value::source::env)).empty());
  new_server id_only = with_secret(secret_value::source::value);
  id_only.auth_secrets[0].first = "client_id";  // public by design
  CHECK(literal_secret_warning(p, id_only).empty());
}
