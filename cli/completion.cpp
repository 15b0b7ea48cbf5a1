// SPDX-License-Identifier: Apache-2.0
// Shell completions computed from the CLI11 command tree: the scripts `fracta completion SHELL`
// prints, and the hidden `fracta __complete WORDS…` they call on every Tab.
#include "completion.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fracta/config.hpp"
#include "output.hpp"
#include "usage.hpp"

namespace fracta::cli {
namespace {

// Values fracta knows for an argument (the rest of the tree says nothing about values).
constexpr std::array<std::string_view, 3> shells = {"bash", "zsh", "fish"};
constexpr std::array<std::string_view, 3> export_formats = {"env", "files", "k8s-secret"};

// The scripts are small: each hands the words typed so far to `fracta __complete` and turns
// its lines (`candidate<TAB>description`, a last `:files`) into the shell's candidates.
constexpr const char* bash_script = R"(# bash completion for fracta (`fracta completion bash`)
_fracta() {
  local i w words=()
  for ((i = 1; i <= COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    # COMP_WORDBREAKS splits --option=value at '='; fracta wants the word whole.
    if ((${#words[@]})) && [[ $w == = || ${words[-1]} == -*= ]]; then
      words[-1]+=$w
    else
      words+=("$w")
    fi
  done
  local cur=${COMP_WORDS[COMP_CWORD]} strip= line files= out
  [[ $cur == = ]] && cur=
  [[ ${words[-1]} == -*=* && ${words[-1]} != "$cur" ]] && strip=${words[-1]%%=*}=
  out=$("${COMP_WORDS[0]}" __complete "${words[@]}" 2>/dev/null) || return 0
  COMPREPLY=()
  while IFS= read -r line; do
    if [[ $line == :files ]]; then
      files=1
    elif [[ -n $line ]]; then
      line=${line%%$'\t'*}
      COMPREPLY+=("${line#"$strip"}")
    fi
  done <<<"$out"
  if [[ -n $files ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
  fi
  return 0
}
complete -F _fracta fracta
)";

constexpr const char* zsh_script = R"(#compdef fracta
# zsh completion for fracta (`fracta completion zsh`)
_fracta() {
  local line name desc files=0
  local -a out cands
  out=("${(@f)$("${(Q)words[1]}" __complete "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")
  for line in "${out[@]}"; do
    if [[ $line == :files ]]; then
      files=1
    elif [[ -n $line ]]; then
      name=${line%%$'\t'*} desc=
      [[ $line == *$'\t'* ]] && desc=${line#*$'\t'}
      cands+=("${name//:/\\:}${desc:+:$desc}")
    fi
  done
  (( ${#cands} )) && _describe -t values fracta cands
  if (( files )); then
    [[ $PREFIX == -*=* ]] && compset -P '*='
    _files
  fi
  return 0
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _fracta "$@"
else
  compdef _fracta fracta
fi
)";

constexpr const char* fish_script = R"(# fish completion for fracta (`fracta completion fish`)
function __fracta_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete $tokens[2..-1] "$cur" 2>/dev/null)
    for line in $out
        if test "$line" = :files
            set -l value (string replace -r -- '^-[^=]*=' '' "$cur")
            set -l flag (string sub -l (math (string length -- "$cur") - (string length -- "$value")) -- "$cur")
            for p in (__fish_complete_path "$value")
                printf '%s%s\n' "$flag" "$p"
            end
        else if test -n "$line"
            printf '%s\n' "$line"
        end
    end
end
complete -c fracta -f -a '(__fracta_complete)'
)";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Prints `candidate` (and its description) when it extends what was typed.
void offer(std::string_view typed, std::string_view candidate, std::string_view description = {}) {
  if (!starts_with(candidate, typed)) return;
  std::cout << candidate;
  if (!description.empty()) std::cout << '\t' << description;
  std::cout << '\n';
}

// The configured servers' names; none when the config is missing or does not load.
void offer_servers(std::string_view typed, const std::string& config_path) {
  try {
    std::string path = config_path;
    if (starts_with(path, "~/")) {
      const char* home = std::getenv("HOME");
      if (home == nullptr) return;
      path = home + path.substr(1);
    }
    const config::config cfg = config::load(path.empty() ? config::default_path() : std::filesystem::path(path));
    for (const auto& s : cfg.servers) offer(typed, s.name);
  } catch (...) {  // completion never fails: a broken config has no names to offer
  }
}

struct context {
  CLI::App* app;            // the root
  CLI::App* at;             // the command the words name
  std::string config_path;  // --config's value on the line, if any
};

// The candidates for the value of `o` (of `ctx.at`), each after `lead` ("--format=" or "").
void offer_values(const context& ctx, const CLI::Option* o, std::string_view lead, std::string_view typed) {
  const std::string name = o->get_positional() ? o->get_name(true) : o->get_lnames().empty() ? "" : o->get_lnames()[0];
  const std::string lead_s(lead);
  auto offer_all = [&](const auto& values) {
    for (std::string_view v : values) offer(typed, lead_s + std::string(v));
  };
  if (name == "server" || (name == "name" && ctx.at->get_name() != "add")) {
    if (lead.empty()) offer_servers(typed, ctx.config_path);
  } else if (name == "shell") {
    offer_all(shells);
  } else if (name == "format") {
    offer_all(export_formats);
  } else if (name == "config" || name == "out") {
    std::cout << ":files\n";
  }
}

// Every flag name of `ctx.at` and the flags of the commands above it (their --help and
// --version belong to them and are left out).
void offer_flags(const context& ctx, std::string_view typed) {
  std::vector<std::string> seen;
  for (CLI::App* a = ctx.at; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (!o->nonpositional()) continue;
      if (a != ctx.at && (o == a->get_help_ptr() || o == a->get_version_ptr())) continue;
      std::vector<std::string> names;
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& n : names) {
        if (std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
        seen.push_back(n);
        offer(typed, n, o->get_description());
      }
    }
  }
}

}  // namespace

CLI::App* add_completion_command(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("completion", "Print a completion script for bash, zsh or fish");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("shell", *shell, "bash, zsh or fish")->required();
  cmd->footer(
      "Install (then open a new shell):\n"
      "  bash  add to ~/.bashrc:  source <(fracta completion bash)\n"
      "  zsh   fracta completion zsh > \"${fpath[1]}/_fracta\"   (with compinit in ~/.zshrc)\n"
      "  fish  fracta completion fish > ~/.config/fish/completions/fracta.fish\n"
      "Commands, subcommands, flags, configured server names and known values (--format, the shell) "
      "complete from fracta itself, so they follow the installed version.");
  cmd->callback([&rc, shell] {
    if (*shell == "bash") std::cout << bash_script;
    else if (*shell == "zsh") std::cout << zsh_script;
    else if (*shell == "fish") std::cout << fish_script;
    else {
      print_error("unknown shell '" + *shell + "' for 'fracta completion'. Shells: bash, zsh, fish "
                  "(`fracta completion --help`)");
      rc = exit_usage;
      return;
    }
    rc = exit_ok;
  });
  return cmd;
}

int complete(CLI::App& app, int argc, char** words) {
  try {
    context ctx{&app, &app, {}};
    const CLI::Option* config_opt = app.get_option_no_throw("--config");
    const CLI::Option* pending = nullptr;  // an option whose value comes next
    std::size_t positionals = 0;           // words given to ctx.at that are not commands or flags
    bool only_positionals = false;         // after "--"
    for (int i = 0; i + 1 < argc; ++i) {
      const std::string_view w = words[i];
      if (pending != nullptr) {
        if (pending == config_opt) ctx.config_path = w;
        pending = nullptr;
        continue;
      }
      if (!only_positionals && w == "--") {
        only_positionals = true;
        continue;
      }
      if (!only_positionals && w.size() > 1 && w[0] == '-') {
        const auto eq = w.find('=');
        const CLI::Option* o = find_option(ctx.at, w.substr(0, eq));
        if (o == nullptr) continue;  // an unknown flag or a negative number
        if (eq != std::string_view::npos) {
          if (o == config_opt) ctx.config_path = w.substr(eq + 1);
        } else if (o->get_items_expected_max() > 0) {
          pending = o;
        }
        continue;
      }
      if (positionals == 0) {
        if (CLI::App* next = child(ctx.at, w)) {
          ctx.at = next;
          continue;
        }
      }
      ++positionals;
    }
    const std::string_view typed = argc > 0 ? words[argc - 1] : "";
    if (pending != nullptr) {
      offer_values(ctx, pending, "", typed);
      return exit_ok;
    }
    if (!only_positionals && starts_with(typed, "-")) {
      const auto eq = typed.find('=');
      if (eq == std::string_view::npos) {
        offer_flags(ctx, typed);
      } else if (const CLI::Option* o = find_option(ctx.at, typed.substr(0, eq));
                 o != nullptr && o->get_items_expected_max() > 0) {
        offer_values(ctx, o, typed.substr(0, eq + 1), typed);
      }
      return exit_ok;
    }
    const auto subcommands = ctx.at->get_subcommands([](CLI::App* s) { return !s->get_group().empty(); });
    if (positionals == 0 && !only_positionals) {
      for (CLI::App* s : subcommands) offer(typed, s->get_name(), s->get_description());
    }
    if (!subcommands.empty() && ctx.at->get_require_subcommand_min() > 0) return exit_ok;
    const auto args = ctx.at->get_options([](const CLI::Option* o) { return o->get_positional(); });
    if (positionals < args.size()) offer_values(ctx, args[positionals], "", typed);
  } catch (...) {  // completion never fails
  }
  return exit_ok;
}

}  // namespace fracta::cli
