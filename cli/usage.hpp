// SPDX-License-Identifier: Apache-2.0
// Mistakes on the command line named before CLI11 parses: unknown commands and flags with a
// did-you-mean, help for bare groups and `fracta help <command>`, and durations as people
// write them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace fracta::cli {

/// Walks argv over `app`'s command tree. Returns the exit code when the words ask for help
/// (bare `fracta`, a group without its subcommand, `fracta help [command…]`: help printed to
/// stdout, 0) or hold a mistake (an unknown command or flag: one line on stderr naming it,
/// what it may have meant and what is valid, 2). nullopt: let CLI11 parse. `command` is set
/// to the command the words name ("fracta config mcp add"), for CLI11's own errors.
std::optional<int> check_command_line(CLI::App& app, int argc, char** argv, std::string& command);

/// The subcommand of `a` named `word`, or nullptr.
CLI::App* child(CLI::App* a, std::string_view word);

/// An option of `a` or of a command above it (global options fall through), by a name as
/// typed ("--url", "-v"), or nullptr.
const CLI::Option* find_option(CLI::App* a, std::string_view typed);

/// Adds `--NAME DURATION` to `cmd`, stored in whole seconds: "90", "60s", "5m", "1h30m"
/// (text::parse_duration). Anything else is a usage error that says what is accepted.
CLI::Option* add_duration_option(CLI::App* cmd, const std::string& name, int& seconds, const std::string& help);

}  // namespace fracta::cli
