// SPDX-License-Identifier: Apache-2.0
// Mistakes on the command line named before CLI11 parses: unknown commands and flags with a
// did-you-mean, help for bare groups and `fracta help <command>`, and durations as people
// write them.
#include "usage.hpp"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <fracta/proto/text.hpp>
#include <fracta/proto/time.hpp>

#include "output.hpp"

namespace fracta::cli {
namespace {

std::vector<CLI::App*> subcommands(CLI::App* a) {
  return a->get_subcommands([](CLI::App*) { return true; });
}

std::string path_of(CLI::App* a) {
  std::string p = a->get_name();
  for (CLI::App* up = a->get_parent(); up != nullptr; up = up->get_parent()) p = up->get_name() + " " + p;
  return p;
}

std::vector<std::string> long_flags(CLI::App* a) {
  std::vector<std::string> out;
  for (CLI::App* at = a; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* o : at->get_options()) {
      for (const auto& n : o->get_lnames()) out.push_back("--" + n);
    }
  }
  return out;
}

int unknown_command(CLI::App* at, std::string_view word) {
  std::vector<std::string> names;
  for (CLI::App* s : subcommands(at)) names.push_back(s->get_name());
  std::string msg = "unknown command '" + text::printable(word, 60) + "' for '" + path_of(at) + "'";
  if (auto near = text::suggest(word, names)) msg += "; did you mean '" + *near + "'?";
  else msg += ".";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  print_error(msg + " Commands: " + list + " (`" + path_of(at) + " --help`)");
  return exit_usage;
}

int unknown_flag(CLI::App* at, std::string_view flag) {
  const auto flags = long_flags(at);
  std::string msg = "unknown flag '" + text::printable(flag, 60) + "' for '" + path_of(at) + "'";
  // Short flags are close to many others: suggest only what is a small part of the word.
  const auto near = text::suggest(flag, flags);
  if (near && text::edit_distance(flag, *near) * 3 <= flag.size()) msg += "; did you mean '" + *near + "'?";
  else msg += ".";
  print_error(msg + " See `" + path_of(at) + " --help`");
  return exit_usage;
}

// `fracta help [command…]`: the words after "help" (flags among them skipped).
int help_for(CLI::App& app, int from, int argc, char** argv) {
  CLI::App* at = &app;
  for (int i = from; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    CLI::App* next = child(at, argv[i]);
    if (next == nullptr) return unknown_command(at, argv[i]);
    at = next;
  }
  std::cout << at->help();
  return exit_ok;
}

}  // namespace

CLI::App* child(CLI::App* a, std::string_view word) {
  for (CLI::App* s : subcommands(a)) {
    if (s->get_name() == word) return s;
  }
  return nullptr;
}

const CLI::Option* find_option(CLI::App* a, std::string_view typed) {
  const bool is_long = typed.rfind("--", 0) == 0;
  const std::string name(typed.substr(is_long ? 2 : 1));
  for (CLI::App* at = a; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* o : at->get_options()) {
      const auto& names = is_long ? o->get_lnames() : o->get_snames();
      for (const auto& n : names) {
        if (n == name) return o;
      }
    }
  }
  return nullptr;
}

// `-vv`: short flags that take no value, written together, as CLI11 reads them.
bool short_flag_cluster(CLI::App* at, std::string_view arg) {
  if (arg.size() < 3 || arg[1] == '-') return false;
  for (char c : arg.substr(1)) {
    const char flag[] = {'-', c, '\0'};
    const CLI::Option* o = find_option(at, flag);
    if (o == nullptr || o->get_items_expected_max() > 0) return false;
  }
  return true;
}

std::optional<int> check_command_line(CLI::App& app, int argc, char** argv, std::string& command) {
  command = app.get_name();
  if (argc == 1) {
    std::cout << app.help();
    return exit_ok;
  }
  CLI::App* at = &app;
  bool words_end_commands = false;  // after the first positional, words are arguments
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg == "-h" || arg == "--help" || arg == "--version") return std::nullopt;
      const std::string_view name = arg.substr(0, arg.find('='));
      const CLI::Option* o = find_option(at, name);
      if (o == nullptr && short_flag_cluster(at, arg)) continue;  // -vv
      if (o == nullptr) {
        // A negative number is an argument, not a flag.
        if (arg.find_first_not_of("-0123456789.") == std::string_view::npos) continue;
        return unknown_flag(at, name);
      }
      if (arg.find('=') == std::string_view::npos && o->get_items_expected_max() > 0) ++i;  // its value
      continue;
    }
    if (words_end_commands) continue;
    if (at == &app && arg == "help") return help_for(app, i + 1, argc, argv);
    if (CLI::App* next = child(at, arg)) {
      at = next;
      command = path_of(at);
      continue;
    }
    if (!subcommands(at).empty() && at->get_require_subcommand_min() > 0) return unknown_command(at, arg);
    words_end_commands = true;
  }
  // A group named without one of its commands: its help, as gh and kubectl do.
  if (!subcommands(at).empty() && at->get_require_subcommand_min() > 0) {
    std::cout << at->help();
    return exit_ok;
  }
  return std::nullopt;
}

CLI::Option* add_duration_option(CLI::App* cmd, const std::string& name, int& seconds, const std::string& help) {
  auto* opt = cmd->add_option(name, seconds, help);
  opt->type_name("DURATION");
  opt->transform(CLI::Validator(
      [](std::string& text) -> std::string {
        const auto s = text::parse_duration(text);
        if (!s) return "'" + text + "' is not a duration: write 90 (seconds), 60s, 5m or 1h30m (at most 30d)";
        text = std::to_string(*s);
        return {};
      },
      "", "duration"));
  return opt;
}

}  // namespace fracta::cli
