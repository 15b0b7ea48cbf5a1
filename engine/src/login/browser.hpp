// SPDX-License-Identifier: Apache-2.0
// Opening a URL in the user's browser: $BROWSER (a ':'-separated list, like xdg-open), else xdg-open.
#pragma once
#include "core/internal.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fracta::login {

/// The commands to try, in order, for `url`. Each entry of `browser_env` (split on ':') is a
/// command split on blanks; a "%s" in it is replaced by the URL, else the URL is appended as
/// the last argument. An empty `browser_env` gives {"xdg-open", url} when `fallback` is set.
/// Thread-safe (pure).
std::vector<std::vector<std::string>> browser_commands(std::string_view browser_env, std::string_view url,
                                                       bool fallback);

/// True when `url` may be handed to a browser: it parses as an absolute http(s) URL (so it
/// cannot start with '-' and become an option). Thread-safe.
bool is_openable_url(std::string_view url);

/// The environment a browser child gets, from `env` (NULL-terminated, like `environ`): only
/// what reaches the user's display and session (DISPLAY, WAYLAND_DISPLAY, XAUTHORITY,
/// DBUS_SESSION_BUS_ADDRESS, the XDG_* session and base directories, HOME, PATH, LANG, LC_*,
/// USER, LOGNAME, SHELL, TMPDIR, BROWSER). Never FRACTA_* (the store passphrase), proxies
/// (they may carry credentials) or anything else. Thread-safe (pure).
std::vector<std::string> browser_environment(const char* const* env);

/// Opens `url` with the first of `commands` that starts (posix_spawnp, no shell), unless
/// `url` is not openable (is_openable_url), which starts nothing. The child gets stdin from
/// /dev/null, no other inherited descriptor than stdout and stderr, default signal handling
/// and browser_environment(environ). Never waits: a small detached thread reaps the child, so
/// a long-lived browser holds no thread of the engine. Returns the program that started, or
/// "" with `why` set (never quoting the URL). Thread-safe.
std::string launch(std::string_view url, const std::vector<std::vector<std::string>>& commands, std::string& why);

/// Test seam: when set, launch() calls `hook(argv, why)` instead of spawning argv (true means
/// "started"); its checks still run first. Returns the previous hook; nullptr restores
/// spawning. Process-wide; thread-safe.
using spawn_hook = bool (*)(const std::vector<std::string>& argv, std::string& why);
spawn_hook set_spawn_hook(spawn_hook hook) noexcept;

}  // namespace fracta::login
