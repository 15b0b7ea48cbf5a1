// SPDX-License-Identifier: Apache-2.0
// SecretValue resolution: a literal, an environment variable or a file, with messages that never
// contain the secret.
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

using detail::max_secret_bytes;

result<std::string> read_secret_file(const secret_value& s) {
  const std::string& path = s.ref;
  detail::file_read r = detail::read_regular_file(path, max_secret_bytes);
  using status = detail::file_read::status;
  switch (r.what) {
    case status::ok:
      break;
    case status::missing:
      return make(r.error, s, "secret file '" + path + "' does not exist",
                  "Create it, fix the path in file = \"…\", or use env = \"NAME\" instead");
    case status::not_regular:
      if (r.kind == "a directory") {
        return make(EISDIR, s, "secret file '" + path + "' is a directory",
                    "Point file = \"…\" at the file inside it that holds the secret");
      }
      // Never opened: a FIFO without a writer or a device would block or never end.
      return make(EINVAL, s, "secret file '" + path + "' is " + r.kind + ", not a regular file",
                  "Point file = \"…\" at a regular file that holds the secret");
    case status::too_large:
      return make(EFBIG, s,
                  "secret file '" + path + "' is larger than " +
                      std::to_string(max_secret_bytes / 1024) + " KiB",
                  "Point file = \"…\" at the file that holds only the secret");
    case status::failed:
      return make(r.error, s,
                  "secret file '" + path + "' cannot be read (" +
                      std::generic_category().message(r.error) + ")",
                  "Check the permissions of the file (fracta runs as uid " +
                      std::to_string(::getuid()) + ")");
  }
  std::string data = std::move(r.data);
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
