// SPDX-License-Identifier: Apache-2.0
// Browser launching: $BROWSER parsing, URL and environment checks, posix_spawnp without a shell, reaping.
#include "login/browser.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fracta/proto/url.hpp>

extern char** environ;

namespace fracta::login {
namespace {

std::atomic<spawn_hook> hook_{nullptr};

// What a browser needs to reach the user's display and session, and xdg-open to find the
// desktop's opener. Nothing that could carry a secret.
constexpr std::string_view kept_names[] = {
    "DISPLAY",         "WAYLAND_DISPLAY",  "XAUTHORITY",       "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "XDG_SESSION_DESKTOP",
    "DESKTOP_SESSION", "XDG_DATA_DIRS",    "XDG_CONFIG_DIRS",  "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",   "XDG_CACHE_HOME",   "HOME",             "PATH",
    "LANG",            "LANGUAGE",         "USER",             "LOGNAME",
    "SHELL",           "TMPDIR",           "BROWSER",
};

bool kept(std::string_view name) {
  if (name.starts_with("LC_")) return true;
  for (const auto k : kept_names) {
    if (name == k) return true;
  }
  return false;
}

// posix_spawnp with stdin from /dev/null, every descriptor above 2 closed, an empty signal
// mask and default dispositions. Returns 0 or an errno value.
int spawn(const std::vector<std::string>& cmd, const std::vector<std::string>& env, pid_t& pid) {
  std::vector<char*> argv;
  argv.reserve(cmd.size() + 1);
  for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The browser must not read the terminal fracta may be reading a pasted URL from, nor
  // inherit a socket, a lock or the token file.
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

}  // namespace

std::vector<std::vector<std::string>> browser_commands(std::string_view browser_env, std::string_view url,
                                                       bool fallback) {
  std::vector<std::vector<std::string>> out;
  std::size_t start = 0;
  while (start <= browser_env.size() && !browser_env.empty()) {
    const auto colon = browser_env.find(':', start);
    const std::string_view entry =
        browser_env.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    std::vector<std::string> argv;
    std::string word;
    bool substituted = false;
    auto flush = [&] {
      if (word.empty()) return;
      for (auto pos = word.find("%s"); pos != std::string::npos; pos = word.find("%s", pos + url.size())) {
        word.replace(pos, 2, url);
        substituted = true;
      }
      argv.push_back(std::move(word));
      word.clear();
    };
    for (char c : entry) {
      if (c == ' ' || c == '\t') {
        flush();
      } else {
        word.push_back(c);
      }
    }
    flush();
    if (!argv.empty()) {
      if (!substituted) argv.emplace_back(url);
      out.push_back(std::move(argv));
    }
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (out.empty() && fallback) out.push_back({"xdg-open", std::string(url)});
  return out;
}

bool is_openable_url(std::string_view url) {
  if (url.empty() || url.front() == '-') return false;
  auto u = http::url::parse(url);
  return u.ok() && (u->scheme == "http" || u->scheme == "https");
}

std::vector<std::string> browser_environment(const char* const* env) {
  std::vector<std::string> out;
  for (; env != nullptr && *env != nullptr; ++env) {
    const std::string_view entry(*env);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const auto name = entry.substr(0, eq);
    if (!name.starts_with("FRACTA_") && kept(name)) out.emplace_back(entry);
  }
  return out;
}

spawn_hook set_spawn_hook(spawn_hook hook) noexcept { return hook_.exchange(hook); }

std::string launch(std::string_view url, const std::vector<std::vector<std::string>>& commands, std::string& why) {
  if (!is_openable_url(url)) {
    why = "the address to open is not an http(s) URL; it was not passed to a browser";
    return {};
  }
  const auto env = browser_environment(environ);
  for (const auto& cmd : commands) {
    if (cmd.empty()) continue;
    if (const auto hook = hook_.load()) {
      std::string failed;
      if (hook(cmd, failed)) return cmd[0];
      if (!why.empty()) why += "; ";
      why += cmd[0] + ": " + failed;
      continue;
    }
    pid_t pid = 0;
    if (const int rc = spawn(cmd, env, pid); rc != 0) {
      if (!why.empty()) why += "; ";
      why += cmd[0] + ": " + std::strerror(rc);
      continue;
    }
    std::thread([pid] {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }).detach();
    return cmd[0];
  }
  if (why.empty()) why = "no browser command to run";
  return {};
}

}  // namespace fracta::login
