// SPDX-License-Identifier: Apache-2.0
// Specification of SecretValue resolution: each source, and each way it can fail.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

namespace {

secret_value make(secret_value::source from, std::string ref) {
  secret_value s;
  s.from = from;
  s.ref = std::move(ref);
  s.key = "mcp.servers.gh.remote.auth.token";
  s.where = location{"/etc/fracta/config.toml", 9, 9};
  return s;
}

constexpr std::string_view prefix =
    "/etc/fracta/config.toml:9:9: mcp.servers.gh.remote.auth.token: ";

// Sets an environment variable for the scope of a test.
class scoped_env final {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() { ::unsetenv(name_); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("resolve value: the literal") {
  const auto r = resolve(make(secret_value::source::value, "lit-eral"));
  REQUIRE(r.ok());
  CHECK(*r == "lit-eral");
}

TEST_CASE("resolve value: an empty literal is an error") {
  const auto r = resolve(make(secret_value::source::value, ""));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(r.err().message, std::string(prefix) + "value is empty. "));
}

TEST_CASE("resolve env: the variable's value") {
  scoped_env env("FRACTA_TEST_SECRET_SET", "from-env");
  const auto r = resolve(make(secret_value::source::env, "FRACTA_TEST_SECRET_SET"));
  REQUIRE(r.ok());
  CHECK(*r == "from-env");
}

TEST_CASE("resolve env failure: unset variable is named") {
  scoped_env env("FRACTA_TEST_SECRET_UNSET", nullptr);
  const auto r = resolve(make(secret_value::source::env, "FRACTA_TEST_SECRET_UNSET"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == std::errc::invalid_argument);
  CHECK(starts_with(
      r.err().message,
      std::string(prefix) + "environment variable 'FRACTA_TEST_SECRET_UNSET' is not set. "));
  CHECK(contains(r.err().message, "Export FRACTA_TEST_SECRET_UNSET in fracta's environment"));
}

TEST_CASE("resolve env failure: set but empty") {
  scoped_env env("FRACTA_TEST_SECRET_EMPTY", "");
  const auto r = resolve(make(secret_value::source::env, "FRACTA_TEST_SECRET_EMPTY"));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(
      r.err().message,
      std::string(prefix) + "environment variable 'FRACTA_TEST_SECRET_EMPTY' is set but empty. "));
  CHECK(contains(r.err().message, "Give FRACTA_TEST_SECRET_EMPTY the secret's value"));
}

TEST_CASE("resolve file: contents with one trailing \\n stripped") {
  temp_dir dir;
  const auto p = dir.write("tok", "abc\n");
  const auto r = resolve(make(secret_value::source::file, p.string()));
  REQUIRE(r.ok());
  CHECK(*r == "abc");
}

TEST_CASE("resolve file: one trailing \\r\\n stripped, and only one newline") {
  temp_dir dir;
  CHECK(*resolve(make(secret_value::source::file, dir.write("crlf", "abc\r\n").string())) == "abc");
  CHECK(*resolve(make(secret_value::source::file, dir.write("two", "abc\n\n").string())) ==
        "abc\n");
  CHECK(*resolve(make(secret_value::source::file, dir.write("none", " abc ").string())) == " abc ");
}

TEST_CASE("resolve file: relative paths in the config are resolved against its directory") {
  temp_dir dir;
  dir.write("secrets/gh", "from-file\n");
  const std::string text =
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\n[mcp.servers.gh.remote.auth]\ntype = "
      "\"bearer\"\n"
      "token = { file = \"secrets/gh\" }\n";
  const config c = parse(text, (dir / "config.toml").string());
  const auto r = resolve(*c.servers[0].auth.token);
  REQUIRE(r.ok());
  CHECK(*r == "from-file");
}

TEST_CASE("resolve file failure: missing file is named") {
  temp_dir dir;
  const auto p = dir / "absent";
  const auto r = resolve(make(secret_value::source::file, p.string()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == std::errc::no_such_file_or_directory);
  CHECK(starts_with(r.err().message,
                    std::string(prefix) + "secret file '" + p.string() + "' does not exist. "));
  CHECK(contains(r.err().message, "Create it, fix the path"));
}

TEST_CASE("resolve file failure: a directory") {
  temp_dir dir;
  const auto r = resolve(make(secret_value::source::file, dir.path().string()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == std::errc::is_a_directory);
  CHECK(starts_with(r.err().message, std::string(prefix) + "secret file '" + dir.path().string() +
                                         "' is a directory. "));
  CHECK(contains(r.err().message, "Point file = \"…\" at the file inside it"));
}

TEST_CASE("resolve file failure: empty file") {
  temp_dir dir;
  const auto p = dir.write("empty", "");
  const auto r = resolve(make(secret_value::source::file, p.string()));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(r.err().message,
                    std::string(prefix) + "secret file '" + p.string() + "' is empty. "));
  CHECK(contains(r.err().message, "Write the secret into the file"));
  // A lone newline is empty too.
  CHECK(contains(
      resolve(make(secret_value::source::file, dir.write("nl", "\n").string())).err().message,
      "is empty"));
}

TEST_CASE("resolve file failure: unreadable file") {
  temp_dir dir;
  std::string p;
  if (::geteuid() == 0) {
    // root reads any mode; reading this process's memory at address 0 fails (EIO).
    p = "/proc/self/mem";
  } else {
    p = dir.write("locked", "x").string();
    REQUIRE(::chmod(p.c_str(), 0) == 0);
  }
  const auto r = resolve(make(secret_value::source::file, p));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(r.err().message,
                    std::string(prefix) + "secret file '" + p + "' cannot be read ("));
  CHECK(contains(r.err().message, "Check the permissions of the file"));
}

TEST_CASE("resolve file failure: a FIFO without a writer is refused at once") {
  temp_dir dir;
  const auto fifo = make_fifo(dir / "token");
  const auto r = without_blocking_on(
      fifo, [&] { return resolve(make(secret_value::source::file, fifo.string())); });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == std::string(prefix) + "secret file '" + fifo.string() +
                               "' is a FIFO (named pipe), not a regular file. Point file = \"…\" "
                               "at a regular file that holds the secret.");
}

TEST_CASE("resolve file failure: a device or socket is refused without reading it") {
  // /dev/null used to read as an empty secret; /dev/zero would never end.
  const auto dev = resolve(make(secret_value::source::file, "/dev/null"));
  REQUIRE_FALSE(dev.ok());
  CHECK(contains(dev.err().message,
                 "secret file '/dev/null' is a character device, not a regular file."));

  temp_dir dir;
  const std::string p = (dir / "sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(p.size() < sizeof addr.sun_path);
  p.copy(addr.sun_path, p.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  const auto sock = resolve(make(secret_value::source::file, p));
  REQUIRE_FALSE(sock.ok());
  CHECK(contains(sock.err().message, "secret file '" + p + "' is a socket, not a regular file."));
}

TEST_CASE("resolve file failure: a file over 64 KiB is refused") {
  temp_dir dir;
  const auto p = dir.write("huge", "");
  std::filesystem::resize_file(p, 64 * 1024 + 1);
  const auto r = resolve(make(secret_value::source::file, p.string()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == std::string(prefix) + "secret file '" + p.string() +
                               "' is larger than 64 KiB. Point file = \"…\" at the file that "
                               "holds only the secret.");
  std::filesystem::resize_file(p, 64 * 1024);  // exactly the cap is read
  CHECK(resolve(make(secret_value::source::file, p.string())).ok());
}
