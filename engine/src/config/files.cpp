// SPDX-License-Identifier: Apache-2.0
// Config and secret files on disk: bounded reads that never block on a FIFO or device, and
// atomic replacement that follows symlinks and refuses anything but a regular file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "config/detail.hpp"

namespace fracta::config {
namespace fs = std::filesystem;
namespace {

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

[[noreturn]] void throw_errno(const std::string& what, const fs::path& path) {
  const int e = errno;
  throw std::system_error(e, std::generic_category(), what + " '" + path.string() + "'");
}

void make_parent_dirs(const fs::path& dir) {
  fs::path built;
  for (const auto& part : dir) {
    built /= part;
    if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST)
      throw_errno("cannot create directory", built);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw_errno("cannot create directory", dir);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    throw_errno("not a directory:", dir);
  }
}

}  // namespace

namespace detail {

file_read read_regular_file(const std::string& path, std::size_t max_bytes) {
  file_read out;
  const auto failed = [&](int e) {
    out.what =
        (e == ENOENT || e == ENOTDIR) ? file_read::status::missing : file_read::status::failed;
    out.error = e;
    return out;
  };
  struct stat st {};
  // stat() first: a FIFO or device is refused before it is ever opened.
  if (::stat(path.c_str(), &st) != 0) return failed(errno);
  if (!S_ISREG(st.st_mode)) {
    out.what = file_read::status::not_regular;
    out.kind = kind_of(st.st_mode);
    return out;
  }
  // O_NONBLOCK: if the file was swapped for a FIFO since, open() still returns at once.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return failed(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  if (::fstat(fd, &st) != 0) return failed(errno);
  if (!S_ISREG(st.st_mode)) {
    out.what = file_read::status::not_regular;
    out.kind = kind_of(st.st_mode);
    return out;
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) {
    out.what = file_read::status::too_large;
    return out;
  }
  char buf[4096];
  while (out.data.size() <= max_bytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      out.data.clear();
      return failed(e);
    }
    if (n == 0) return out;
    out.data.append(buf, static_cast<std::size_t>(n));
  }
  out.data.clear();  // it grew while being read
  out.what = file_read::status::too_large;
  return out;
}

}  // namespace detail

std::optional<std::string> read_text(const fs::path& path) {
  const std::string p = path.string();
  detail::file_read r = detail::read_regular_file(p, max_config_bytes);
  const location where{p, 0, 0};
  switch (r.what) {
    case detail::file_read::status::ok:
      return std::move(r.data);
    case detail::file_read::status::missing:
      return std::nullopt;
    case detail::file_read::status::not_regular:
      if (r.kind == "a directory") {
        throw detail::make_error(where, "", "", "is a directory, not a configuration file",
                                 "Point --config or $FRACTA_CONFIG at a TOML file");
      }
      throw detail::make_error(where, "", "", "is " + r.kind + ", not a regular file",
                               "Point --config or $FRACTA_CONFIG at a TOML file");
    case detail::file_read::status::too_large:
      throw detail::make_error(where, "", "",
                               "is larger than " + std::to_string(max_config_bytes / 1024) +
                                   " KiB, which no configuration file needs",
                               "Point --config or $FRACTA_CONFIG at the right TOML file");
    case detail::file_read::status::failed:
      break;
  }
  throw detail::make_error(where, "", "",
                           "cannot be read: " + std::generic_category().message(r.error),
                           "Check the file's permissions");
}

void write_file_atomically(const fs::path& path_in, std::string_view text) {
  fs::path path = path_in;
  std::error_code ec;
  // Write the link's final target, so that links kept by dotfile managers survive.
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    fs::path target = fs::weakly_canonical(path, ec);
    if (ec) {
      throw std::system_error(ec, "cannot follow the symlink '" + path.string() + "'");
    }
    path = std::move(target);
  }
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";

  mode_t mode = 0600;
  struct stat st {};
  const bool existed = ::stat(path.c_str(), &st) == 0;
  if (existed) {
    if (!S_ISREG(st.st_mode)) {
      // rename() would replace a device node such as /dev/null, or a FIFO, with a file.
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "refusing to write '" + path_in.string() + "': it is " +
                                  kind_of(st.st_mode) +
                                  ", not a regular file; nothing was changed");
    }
    mode = st.st_mode & 07777;
  } else if (errno != ENOENT) {
    throw_errno("cannot inspect", path);
  }
  make_parent_dirs(dir);

  std::string tmp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) throw_errno("cannot create a temporary file next to", path);
  const auto fail = [&](const char* what) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    throw_errno(what, path);
  };
  if (::fchmod(fd, mode) != 0) fail("cannot set the mode of the temporary file for");
  if (existed && (st.st_uid != ::geteuid() || st.st_gid != ::getegid())) {
    if (::fchown(fd, st.st_uid, st.st_gid) != 0) {
      // Best effort: only root can keep someone else's ownership; the mode is kept regardless.
    }
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot fsync");
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    throw_errno("cannot write", path);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    throw_errno("cannot replace", path);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw_errno("cannot open the directory of", path);
  const int r = ::fsync(dfd);
  const int e = errno;
  ::close(dfd);
  if (r != 0 && e != EINVAL) {  // some file systems cannot fsync directories
    errno = e;
    throw_errno("cannot fsync the directory of", path);
  }
}

std::string literal_secret_warning(const fs::path& path, const new_server& s) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : s.auth_secrets) {
    // A client id is written as a SecretValue but is public by design.
    if (value.from == secret_value::source::value && key != "client_id") keys.push_back(key);
  }
  struct stat st {};
  if (keys.empty() || ::stat(path.c_str(), &st) != 0) return {};
  const bool group = (st.st_mode & S_IRGRP) != 0, others = (st.st_mode & S_IROTH) != 0;
  if (!group && !others) return {};
  return path.string() + " (mode " + detail::octal_mode(st.st_mode) + ") can be read by " +
         (group && others ? "its group and other users"
          : group         ? "its group"
                          : "other users") +
         ", and now holds the literal secret " + detail::join(keys) + ". Run chmod 600 '" +
         path.string() + "', or give the secret as env:NAME or file:PATH instead";
}

}  // namespace fracta::config
