// SPDX-License-Identifier: Apache-2.0
// Browser launching: $BROWSER parsing, posix_spawnp without a shell, and reaping the child.
#include "login/browser.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace fracta::login {

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

std::string launch(const std::vector<std::vector<std::string>>& commands, std::string& why) {
  for (const auto& cmd : commands) {
    std::vector<char*> argv;
    argv.reserve(cmd.size() + 1);
    for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // The browser must not read the terminal fracta may be reading a pasted URL from.
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
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
