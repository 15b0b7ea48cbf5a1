// SPDX-License-Identifier: Apache-2.0
// Shell completions (bash, zsh, fish) computed from the CLI11 command tree: `fracta completion
// SHELL` prints a small script that asks the hidden `fracta __complete WORDS…` for candidates.
#pragma once

#include <CLI/CLI.hpp>

namespace fracta::cli {

/// The hidden command's name; it is answered before anything else parses the command line.
inline constexpr const char* complete_command = "__complete";

/// Adds `completion SHELL` to `app`; its callback prints the script and sets `rc` (an unknown
/// shell: one line on stderr naming the valid ones, exit_usage).
CLI::App* add_completion_command(CLI::App& app, int& rc);

/// `fracta __complete WORD…`: `words` are the command line after the program name, the last
/// one the word being completed (possibly empty). Prints the candidates for it, one a line
/// (`candidate<TAB>description`), and a last line `:files` when the shell should complete file
/// names. Never writes to stderr, never fails (returns 0), never contacts a server or a keyring;
/// server names come from the config file the words (--config) or the environment name.
int complete(CLI::App& app, int argc, char** words);

}  // namespace fracta::cli
