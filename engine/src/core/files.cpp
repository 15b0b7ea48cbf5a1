// SPDX-License-Identifier: Apache-2.0
// Private directories and flock()ed lock files, shared by the file store and the login lock.
#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fracta::core {

std::string make_private_dirs(const std::filesystem::path& dir) {
  std::filesystem::path built;
  for (const auto& part : dir) {
    built /= part;
    if (built == built.root_path()) continue;
    if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create the directory " + built.string() + ": " + std::strerror(errno);
    }
  }
  return {};
}

std::unique_ptr<lock_file> lock_file::open(const std::filesystem::path& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open the lock file " + path.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<lock_file>(new lock_file(fd, path));
}

lock_file::~lock_file() { ::close(fd_); }  // closing releases the flock

lock_file::attempt lock_file::try_lock(std::string& error) {
  for (;;) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return attempt::held;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return attempt::busy;
    error = "cannot lock " + path_.string() + ": " + std::strerror(errno);
    return attempt::failed;
  }
}

}  // namespace fracta::core
