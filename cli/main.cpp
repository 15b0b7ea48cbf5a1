// SPDX-License-Identifier: Apache-2.0
// The `fracta` command line: argument parsing and dispatch to the command handlers.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace {

constexpr const char* exit_codes_help =
    "Exit codes: 0 success; 1 the tool or server reported an error; 2 bad arguments or "
    "configuration; 3 authentication failed or a login is needed; 4 network, TLS, timeout, "
    "protocol or plugin failure.";

constexpr const char* config_help =
    "Configuration: --config PATH, else $FRACTA_CONFIG, else $XDG_CONFIG_HOME/fracta/config.toml "
    "(~/.config/fracta/config.toml).";

}  // namespace

int main(int argc, char** argv) {
  using namespace fracta::cli;
  CLI::App app{"fracta: credentials for MCP clients. Configure remote MCP servers, attach their "
               "credentials, and call them.",
               "fracta"};
  app.footer(std::string(config_help) + "\n" + exit_codes_help);
  app.require_subcommand(1);
  // Global options (--config, -v) are accepted after the subcommand too.
  app.fallthrough();
  app.set_version_flag("--version", std::string("fracta ") + FRACTA_VERSION);

  global_options g;
  app.add_option("--config", g.config_path, "Config file to use")->envname("FRACTA_CONFIG");
  app.add_flag("-v,--verbose", g.verbose, "Log what fracta does to stderr (never secrets)");

  int rc = exit_ok;
  bool json = false;

  // fracta version
  auto* version = app.add_subcommand("version", "Print the version and the plugin ABI version");
  version->add_flag("--json", json, "Machine-readable output");
  version->callback([&] { rc = cmd_version(json); });

  // fracta plugins list
  auto* plugins = app.add_subcommand("plugins", "Inspect auth provider plugins");
  plugins->require_subcommand(1);
  auto* plugins_list = plugins->add_subcommand(
      "list", "List loaded plugins (path, ABI version, provider types), refused files and the search path");
  plugins_list->add_flag("--json", json, "Machine-readable output");
  plugins_list->callback([&] { rc = cmd_plugins_list(g, json); });

  // fracta config mcp …
  auto* config = app.add_subcommand("config", "Edit and check the configuration");
  config->require_subcommand(1);
  auto* mcp = config->add_subcommand("mcp", "Remote MCP servers");
  mcp->require_subcommand(1);

  add_options add;
  auto* add_cmd = mcp->add_subcommand("add", "Add a server (keeps the rest of the file byte for byte)");
  add_cmd->add_option("name", add.name, "Server name ([A-Za-z0-9_-])")->required();
  add_cmd->add_option("--url", add.url, "The server's MCP endpoint (http or https)")->required();
  add_cmd->add_option("--header", add.headers, "Extra request header NAME=VALUE (repeatable)");
  add_cmd->add_option("--auth", add.auth_type, "Auth type: none, bearer, header, basic, oauth or a plugin type");
  add_cmd->add_option("--set", add.sets, "Auth field KEY=VALUE, e.g. header_name=X-Api-Key (repeatable)");
  add_cmd->add_option("--secret", add.secrets,
                      "Auth secret KEY=env:NAME | KEY=file:PATH | KEY=value:TEXT, e.g. token=env:GITHUB_TOKEN "
                      "(repeatable; env and file keep the secret out of the config)");
  add_cmd->footer(
      "Examples:\n"
      "  fracta config mcp add github --url https://api.githubcopilot.com/mcp/ --auth bearer --secret token=env:GITHUB_TOKEN\n"
      "  fracta config mcp add internal --url https://mcp.example.com/mcp --auth header \\\n"
      "      --set header_name=X-Api-Key --secret header_value=file:/run/secrets/api-key\n"
      "  fracta config mcp add legacy --url https://legacy.example.com/mcp --auth basic \\\n"
      "      --secret username=value:alice --secret password=env:LEGACY_PASSWORD");
  add_cmd->callback([&] { rc = cmd_config_add(g, add); });

  auto* list_cmd = mcp->add_subcommand("list", "List configured servers");
  list_cmd->add_flag("--json", json, "Machine-readable output");
  list_cmd->callback([&] { rc = cmd_config_list(g, json); });

  std::string name;
  auto* show_cmd = mcp->add_subcommand("show", "Show one server's configuration (secrets shown as their source)");
  show_cmd->add_option("name", name, "Server name")->required();
  show_cmd->add_flag("--json", json, "Machine-readable output");
  show_cmd->callback([&] { rc = cmd_config_show(g, name, json); });

  auto* remove_cmd = mcp->add_subcommand("remove", "Remove a server (keeps the rest of the file byte for byte)");
  remove_cmd->add_option("name", name, "Server name")->required();
  remove_cmd->callback([&] { rc = cmd_config_remove(g, name); });

  auto* validate_cmd = mcp->add_subcommand("validate", "Check the configuration and that every auth type has a provider");
  validate_cmd->add_flag("--json", json, "Machine-readable output");
  validate_cmd->callback([&] { rc = cmd_config_validate(g, json); });

  // fracta call / fracta tools
  std::string server, tool, args;
  auto* call = app.add_subcommand("call", "Call a tool on a server (initialize, tools/call, print the result)");
  call->add_option("server", server, "Server name")->required();
  call->add_option("tool", tool, "Tool name")->required();
  call->add_option("arguments", args, "Tool arguments as a JSON object, e.g. '{\"text\":\"hi\"}'");
  call->add_flag("--json", json, "Print the whole MCP result object as JSON");
  call->footer(exit_codes_help);
  call->callback([&] { rc = cmd_call(g, server, tool, args, json); });

  auto* tools = app.add_subcommand("tools", "List a server's tools");
  tools->add_option("server", server, "Server name")->required();
  tools->add_flag("--json", json, "Print the MCP result object as JSON");
  tools->callback([&] { rc = cmd_tools(g, server, json); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  return rc;
}
