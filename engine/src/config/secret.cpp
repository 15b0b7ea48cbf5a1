// SPDX-License-Identifier: Apache-2.0
// SecretValue resolution: a literal, an environment variable or a file, with messages that never
// contain the secret.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "config/detail.hpp"

namespace fracta::config {
namespace {

error make(std::errc code, const secret_value& s, std::string_view problem, std::string_view fix) {
  // The message is built like a config_error's, without a server part: the key names it.
  return error{std::make_error_code(code),
               detail::make_error(s.where, "", s.key, problem, fix).what()};
}

error make(int errno_value, const secret_value& s, std::string_view problem, std::string_view fix) {
  return error{std::error_code(errno_value, std::generic_category()),
               detail::make_error(s.where, "", s.key, problem, fix).what()};
}

result<std::string> read_secret_file(const secret_value& s) {
  const std::string& path = s.ref;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      return make(e, s, "secret file '" + path + "' does not exist",
                  "Create it, fix the path in file = \"…\", or use env = \"NAME\" instead");
    }
    return make(
        e, s,
        "secret file '" + path + "' cannot be read (" + std::generic_category().message(e) + ")",
        "Check the permissions of the file and its directories");
  }
  if (S_ISDIR(st.st_mode)) {
    return make(EISDIR, s, "secret file '" + path + "' is a directory",
                "Point file = \"…\" at the file inside it that holds the secret");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int e = errno;
    return make(
        e, s,
        "secret file '" + path + "' cannot be read (" + std::generic_category().message(e) + ")",
        "Check the permissions of the file (fracta runs as uid " + std::to_string(::getuid()) +
            ")");
  }
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return make(
          e, s,
          "secret file '" + path + "' cannot be read (" + std::generic_category().message(e) + ")",
          "Check that the path names a regular file fracta can read");
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (data.size() >= 2 && data.compare(data.size() - 2, 2, "\r\n") == 0) {
    data.resize(data.size() - 2);
  } else if (!data.empty() && data.back() == '\n') {
    data.pop_back();
  }
  if (data.empty()) {
    return make(std::errc::invalid_argument, s, "secret file '" + path + "' is empty",
                "Write the secret into the file (one trailing newline is ignored)");
  }
  return data;
}

}  // namespace

result<std::string> resolve(const secret_value& s) {
  switch (s.from) {
    case secret_value::source::value:
      if (s.ref.empty()) {
        return make(
            std::errc::invalid_argument, s, "value is empty",
            "Put the secret in value = \"…\", or read it with env = \"NAME\" or file = \"/path\"");
      }
      return s.ref;
    case secret_value::source::env: {
      // getenv is thread-safe as long as nobody calls setenv concurrently; fracta never does.
      const char* v = s.ref.empty() ? nullptr : std::getenv(s.ref.c_str());
      if (v == nullptr) {
        return make(std::errc::invalid_argument, s,
                    "environment variable '" + s.ref + "' is not set",
                    "Export " + s.ref +
                        " in fracta's environment, or change the source to file = \"/path\"");
      }
      if (*v == '\0') {
        return make(std::errc::invalid_argument, s,
                    "environment variable '" + s.ref + "' is set but empty",
                    "Give " + s.ref + " the secret's value in fracta's environment");
      }
      return std::string(v);
    }
    case secret_value::source::file:
      return read_secret_file(s);
  }
  return make(std::errc::invalid_argument, s, "has an unknown source", "Use value, env or file");
}

}  // namespace fracta::config
