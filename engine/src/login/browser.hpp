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
std::vector<std::vector<std::string>> browser_commands(std::string_view browser_env, std::string_view url,
                                                       bool fallback);

/// Starts the first command that starts (posix_spawnp, no shell; the URL is one argv item).
/// Never waits: a small detached thread reaps the child, so a long-lived browser holds no
/// thread of the engine. Returns the program that started, or "" with `why` set.
std::string launch(const std::vector<std::vector<std::string>>& commands, std::string& why);

}  // namespace fracta::login
