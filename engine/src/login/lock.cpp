// SPDX-License-Identifier: Apache-2.0
// The login lock: one non-blocking flock attempt at a time; callers poll with a timer.
#include "login/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/select.hpp"

namespace fracta::login {
namespace fs = std::filesystem;

held_lock::~held_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

fs::path lock_path(const std::string& server) { return store::state_dir() / "locks" / (server + ".lock"); }

lock_attempt try_lock(const fs::path& path) {
  lock_attempt out;
  // mkdir -p with mode 0700 for what it creates.
  fs::path built;
  for (const auto& part : path.parent_path()) {
    built /= part;
    if (built == built.root_path()) continue;
    if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST) {
      out.error = "cannot create " + built.string() + ": " + std::strerror(errno);
      return out;
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    out.error = "cannot open the login lock " + path.string() + ": " + std::strerror(errno);
    return out;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK || e == EINTR) {
      out.busy = true;
    } else {
      out.error = "cannot lock " + path.string() + ": " + std::strerror(e);
    }
    return out;
  }
  out.held = std::make_shared<held_lock>(fd);
  return out;
}

}  // namespace fracta::login
