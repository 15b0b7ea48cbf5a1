// SPDX-License-Identifier: Apache-2.0
// Opening the browser: $BROWSER parsing, the URL check, what the child inherits (environment,
// descriptors), and the host services open_url / show_device_code that start it.
#include "login/browser.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "capture.hpp"

using namespace fracta;
using fracta::test::str;

namespace {

namespace fs = std::filesystem;

struct scratch_dir {
  fs::path path = fs::temp_directory_path() / ("fracta-browser-" + std::to_string(::getpid()));
  scratch_dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
};

// The launcher seam: records what launch() would have started, starts nothing.
std::vector<std::vector<std::string>> spawned;
bool record_spawn(const std::vector<std::string>& argv, std::string&) {
  spawned.push_back(argv);
  return true;
}
struct recording_launcher {
  recording_launcher() {
    spawned.clear();
    previous = login::set_spawn_hook(&record_spawn);
  }
  ~recording_launcher() { login::set_spawn_hook(previous); }
  login::spawn_hook previous = nullptr;
};

bool said(const test::host_fixture& f, std::string_view needle) {
  return std::any_of(f.said.begin(), f.said.end(), [&](const std::string& l) { return l.find(needle) != l.npos; });
}

const fracta_host* create_instance(test::host_fixture& f, std::unique_ptr<plugin::provider_instance>& out) {
  auto r = plugin::provider_instance::create(test::capturing, f.ctx());
  REQUIRE(r.ok());
  out = std::move(r).value();
  return test::captured_host;
}

}  // namespace

TEST_CASE("$BROWSER is a ':'-separated list; %s takes the URL, else it is the last argument") {
  const std::string url = "http://127.0.0.1:1/x?a=1&b=2";
  auto cmds = login::browser_commands("firefox --new-tab:open %s --wait", url, true);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == std::vector<std::string>{"firefox", "--new-tab", url});
  CHECK(cmds[1] == std::vector<std::string>{"open", url, "--wait"});
  CHECK(login::browser_commands("", url, true) == std::vector<std::vector<std::string>>{{"xdg-open", url}});
  CHECK(login::browser_commands("", url, false).empty());
  CHECK(login::browser_commands("::", url, true) == std::vector<std::vector<std::string>>{{"xdg-open", url}});
}

TEST_CASE("launch tries each command until one starts, without a shell") {
  scratch_dir dir;
  const fs::path log = dir.path / "browser.log";
  const std::string url = "https://example.invalid/a?b=1&c=$(touch%20/tmp/no);x";
  const std::string browser = std::string(FRACTA_TEST_BROWSER) + " --log " + log.string() + " --flag";
  auto cmds = login::browser_commands("/nonexistent/browser:" + browser, url, true);
  std::string why;
  const auto started = login::launch(url, cmds, why);
  CHECK(started == FRACTA_TEST_BROWSER);
  CHECK(why.find("/nonexistent/browser") != std::string::npos);
  CHECK(test::wait_for_lines(log, 2) == "--flag\n" + url + "\n");  // the URL is one argv item, verbatim
  std::string why2;
  CHECK(login::launch(url, {{"/nonexistent/a"}, {"/nonexistent/b"}}, why2).empty());
  CHECK(why2.find("/nonexistent/b") != std::string::npos);
}

TEST_CASE("launch refuses anything that is not an http(s) URL, an option above all") {
  recording_launcher launcher;
  const char* refused[] = {
      "--gpu-launcher=sh -c 'touch /tmp/pwned'",  // Chromium runs this: argument injection
      "-new-tab",
      "--",
      "",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "ftp://as.example/device",
      " https://as.example/device",
      "https://as.example/device code",
      "https://as.example/\x1b]0;title\x07",
      "as.example/device",
  };
  for (const char* url : refused) {
    const std::string shown = url;
    CAPTURE(shown);
    CHECK_FALSE(login::is_openable_url(url));
    std::string why;
    CHECK(login::launch(url, login::browser_commands("firefox", url, true), why).empty());
    CHECK(why == "the address to open is not an http(s) URL; it was not passed to a browser");
  }
  CHECK(spawned.empty());
  for (const char* url : {"https://as.example/device?user_code=ABCD-EFGH", "http://127.0.0.1:5/callback?x=1"}) {
    const std::string shown = url;
    CAPTURE(shown);
    CHECK(login::is_openable_url(url));
    std::string why;
    CHECK(login::launch(url, login::browser_commands("firefox", url, true), why) == "firefox");
  }
  CHECK(spawned.size() == 2);
}

TEST_CASE("the browser's environment keeps the session's variables and drops FRACTA_* and the rest") {
  const char* env[] = {"DISPLAY=:0",
                       "WAYLAND_DISPLAY=wayland-0",
                       "XAUTHORITY=/run/user/1000/xauth",
                       "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus",
                       "XDG_RUNTIME_DIR=/run/user/1000",
                       "XDG_CURRENT_DESKTOP=GNOME",
                       "HOME=/home/u",
                       "PATH=/usr/bin:/bin",
                       "LANG=de_DE.UTF-8",
                       "LC_ALL=C.UTF-8",
                       "LC_TIME=en_GB.UTF-8",
                       "USER=u",
                       "LOGNAME=u",
                       "SHELL=/bin/bash",
                       "TMPDIR=/tmp",
                       "BROWSER=firefox",
                       "FRACTA_STORE_PASSPHRASE=hunter2",
                       "FRACTA_CONFIG=/home/u/.config/fracta/config.toml",
                       "GITHUB_TOKEN=ghp_secret",
                       "https_proxy=http://user:pw@proxy:3128",
                       "LD_PRELOAD=/tmp/evil.so",
                       "DISPLAYX=:1",
                       "=odd",
                       "noequals",
                       nullptr};
  const auto out = login::browser_environment(env);
  const std::vector<std::string> want(env, env + 16);  // everything before FRACTA_STORE_PASSPHRASE
  CHECK(out == want);
  CHECK(login::browser_environment(nullptr).empty());
}

TEST_CASE("the browser child gets stdin from /dev/null, no other inherited descriptor, and no FRACTA_*") {
  scratch_dir dir;
  ::setenv("FRACTA_STORE_PASSPHRASE", "hunter2", 1);
  ::setenv("FRACTA_TEST_SECRET", "s3cr3t", 1);
  ::setenv("SOME_API_TOKEN", "tok", 1);
  ::setenv("DISPLAY", ":77", 1);
  // A descriptor fracta might hold (a socket, a lock, the token file), not close-on-exec.
  const int leaked = ::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(leaked >= 0);
  REQUIRE(::dup2(leaked, 57) == 57);
  const std::string url = "https://as.example/device?user_code=ABCD";
  const std::string browser = std::string(FRACTA_TEST_BROWSER) + " --probe " + dir.path.string();
  std::string why;
  CHECK(login::launch(url, login::browser_commands(browser, url, false), why) == FRACTA_TEST_BROWSER);
  const fs::path done = dir.path / "done";  // written last
  test::wait_for_file(done, [&](const std::string&) { return fs::exists(done); });
  REQUIRE(fs::exists(done));
  ::close(57);
  ::close(leaked);
  ::unsetenv("FRACTA_STORE_PASSPHRASE");
  ::unsetenv("FRACTA_TEST_SECRET");
  ::unsetenv("SOME_API_TOKEN");

  const std::string env = test::slurp(dir.path / "env");
  CHECK(env.find("DISPLAY=:77\n") != std::string::npos);
  CHECK(env.find("PATH=") != std::string::npos);
  CHECK(env.find("FRACTA_") == std::string::npos);
  CHECK(env.find("hunter2") == std::string::npos);
  CHECK(env.find("SOME_API_TOKEN") == std::string::npos);
  // `ls` sees 0, 1 (its output file), 2, and 3 (the directory it lists); nothing else.
  std::istringstream fds(test::slurp(dir.path / "fds"));
  std::vector<int> seen;
  for (std::string line; std::getline(fds, line);) seen.push_back(std::stoi(line));
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
  CHECK(test::slurp(dir.path / "stdin") == "/dev/null\n");
}

TEST_CASE("open_url and show_device_code start $BROWSER unless --no-browser; option-like URIs never") {
  recording_launcher launcher;
  ::setenv("BROWSER", "firefox", 1);
  {
    test::host_fixture f(true, true);  // --no-browser: printed, never started
    std::unique_ptr<plugin::provider_instance> inst;
    const auto* h = create_instance(f, inst);
    CHECK(h->open_url(h->host_ctx, str("https://as.example/authorize?x=1")) == FRACTA_OK);
    CHECK(said(f, "Open this URL in a browser: https://as.example/authorize?x=1"));
    CHECK(h->show_device_code(h->host_ctx, str("https://as.example/device"), str("ABCD-EFGH"),
                              str("https://as.example/device?user_code=ABCD-EFGH")) == FRACTA_OK);
    CHECK(spawned.empty());
  }
  {
    test::host_fixture f(true);
    std::unique_ptr<plugin::provider_instance> inst;
    const auto* h = create_instance(f, inst);
    CHECK(h->open_url(h->host_ctx, str("https://as.example/authorize?x=1")) == FRACTA_OK);
    REQUIRE(spawned.size() == 1);
    CHECK(spawned[0] == std::vector<std::string>{"firefox", "https://as.example/authorize?x=1"});
    // The device flow's complete URI comes from the authorization server: an option is refused.
    CHECK(h->show_device_code(h->host_ctx, str("https://as.example/device"), str("ABCD-EFGH"),
                              str("--gpu-launcher=sh -c 'touch /tmp/pwned'")) == FRACTA_OK);
    CHECK(spawned.size() == 1);
    CHECK(said(f, "Could not start a browser (the address to open is not an http(s) URL"));
    CHECK(h->show_device_code(h->host_ctx, str("https://as.example/device"), str("ABCD-EFGH"),
                              str("https://as.example/device?user_code=ABCD-EFGH")) == FRACTA_OK);
    REQUIRE(spawned.size() == 2);
    CHECK(spawned[1] == std::vector<std::string>{"firefox", "https://as.example/device?user_code=ABCD-EFGH"});
  }
  ::unsetenv("BROWSER");
}
