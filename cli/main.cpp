// SPDX-License-Identifier: Apache-2.0
// The `fracta` command line: argument parsing and dispatch to the command handlers.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "completion.hpp"
#include "usage.hpp"
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
  app.add_flag("-v,--verbose", g.verbose,
               "Show each HTTP exchange (method, URL, JSON-RPC method, MCP version, status, time) and what "
               "fracta does on stderr; -vv adds its debugging detail. Never a secret");

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
  add_duration_option(add_cmd, "--request-timeout", add.request_timeout_seconds,
                      "Deadline of each request to the server, e.g. 30s, 2m (remote.timeout_seconds; default 30s)");
  add_cmd->add_option("--auth", add.auth_type, "Auth type: none, bearer, header, basic, oauth or a plugin type");
  add_cmd->add_option("--set", add.sets, "Auth field KEY=VALUE, e.g. header_name=X-Api-Key (repeatable)");
  add_cmd->add_option("--secret", add.secrets,
                      "Auth secret KEY=env:NAME | KEY=file:PATH | KEY=value:TEXT, e.g. token=env:GITHUB_TOKEN "
                      "(repeatable; env and file keep the secret out of the config)");
  add_cmd->add_flag("--oauth", add.oauth, "OAuth (type = \"oauth\"): log in later with `fracta config mcp auth login NAME`");
  add_cmd->add_option("--client-id", add.client_id, "With --oauth: a pre-registered client id (else dynamic registration)");
  add_cmd->add_option("--client-secret-env", add.client_secret_env,
                      "With --oauth: the environment variable holding the client secret (recommended)");
  add_cmd->add_option("--client-secret", add.client_secret,
                      "With --oauth: the client secret itself, written to the config (it also lands in your "
                      "shell history: prefer --client-secret-env)");
  add_cmd->add_option("--scope", add.scopes, "With --oauth: a scope to request (repeatable)");
  add_cmd->footer(
      "Examples:\n"
      "  fracta config mcp add github --url https://api.githubcopilot.com/mcp/ --auth bearer --secret token=env:GITHUB_TOKEN\n"
      "  fracta config mcp add internal --url https://mcp.example.com/mcp --auth header \\\n"
      "      --set header_name=X-Api-Key --secret header_value=file:/run/secrets/api-key\n"
      "  fracta config mcp add legacy --url https://legacy.example.com/mcp --auth basic \\\n"
      "      --secret username=value:alice --secret password=env:LEGACY_PASSWORD\n"
      "  fracta config mcp add notion --url https://mcp.notion.com/mcp --oauth --scope read\n"
      "  fracta config mcp add corp --url https://mcp.corp.example/mcp --oauth --client-id fracta-cli \\\n"
      "      --client-secret-env CORP_CLIENT_SECRET");
  add_cmd->callback([&] { rc = cmd_config_add(g, add); });

  auto* list_cmd = mcp->add_subcommand("list", "List configured servers");
  list_cmd->add_flag("--json", json, "Machine-readable output");
  list_cmd->callback([&] { rc = cmd_config_list(g, json); });

  std::string name;
  auto* show_cmd = mcp->add_subcommand("show", "Show one server's configuration (secrets shown as their source)");
  show_cmd->add_option("name", name, "Server name")->required();
  show_cmd->add_flag("--json", json, "Machine-readable output");
  show_cmd->callback([&] { rc = cmd_config_show(g, name, json); });

  auto* remove_cmd = mcp->add_subcommand("remove", "Remove a server (keeps the rest of the file byte for byte) and erase its stored credentials");
  remove_cmd->add_option("name", name, "Server name")->required();
  bool keep_credentials = false;
  remove_cmd->add_flag("--keep-credentials", keep_credentials, "Leave the server's stored tokens in the keyring or encrypted file");
  remove_cmd->callback([&] { rc = cmd_config_remove(g, name, keep_credentials); });

  set_options set;
  auto* set_cmd = mcp->add_subcommand("set", "Change, add or remove keys of a server (keeps the rest of the file byte for byte)");
  set_cmd->add_option("name", set.name, "Server name")->required();
  set_cmd->add_option("settings", set.settings,
                      "KEY=VALUE: url, timeout_seconds, ca_bundle, headers.NAME, auth.KEY, … (remote.… as the file "
                      "writes them; secrets as env:NAME, file:PATH or value:TEXT)");
  set_cmd->add_option("--unset", set.unset, "Remove KEY (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  set_cmd->add_flag("--json", set.json, "Machine-readable output");
  set_cmd->footer(
      "Examples:\n"
      "  fracta config mcp set github url=https://api.githubcopilot.com/mcp/\n"
      "  fracta config mcp set internal headers.X-Team=platform timeout_seconds=2m\n"
      "  fracta config mcp set github auth.token=env:GITHUB_TOKEN_2\n"
      "  fracta config mcp set notion auth.scopes=read,write --unset ca_bundle");
  set_cmd->callback([&] { rc = cmd_config_set(g, set); });

  auto* validate_cmd = mcp->add_subcommand("validate", "Check the configuration and that every auth type has a provider");
  validate_cmd->add_flag("--json", json, "Machine-readable output");
  validate_cmd->callback([&] { rc = cmd_config_validate(g, json); });

  // fracta config mcp auth login|status|logout
  std::string server, tool, args, answers;
  login_options login;
  auto add_login_options = [&](CLI::App* cmd) {
    add_duration_option(cmd, "--timeout", login.timeout_seconds, "How long to wait for the browser: 90 (seconds), 60s, 5m (default 5m)");
    cmd->add_flag("--no-browser", login.no_browser,
                  "Print the login URL instead of opening a browser; the redirect address may be pasted back");
  };
  auto* auth = mcp->add_subcommand("auth", "Log in to OAuth servers; inspect, export and remove stored credentials");
  auth->require_subcommand(1);
  // `auth login` and `auth status`, also under their deprecated names.
  auto add_login = [&](CLI::App* parent, const char* name, const char* help, const char* scope_help,
                       const char* device_help) {
    auto* cmd = parent->add_subcommand(name, help);
    cmd->add_option("server", server, "Server name")->required();
    add_login_options(cmd);
    cmd->add_option("--scope", login.scopes, scope_help);
    cmd->add_flag("--device", login.device, device_help);
    cmd->add_flag("--json", json, "Machine-readable output");
    return cmd;
  };
  auto add_status = [&](CLI::App* parent, const char* name, const char* help, const char* json_help) {
    auto* cmd = parent->add_subcommand(name, help);
    cmd->add_option("server", server, "Server name (default: every server)");
    cmd->add_flag("--json", json, json_help);
    return cmd;
  };
  auto* login_cmd = add_login(auth, "login", "Log in to an OAuth server in the browser and store its tokens",
                              "A scope to request instead of the configured ones (repeatable)",
                              "Use the device flow (a code to enter on another device)");
  login_cmd->footer(exit_codes_help);
  login_cmd->callback([&] { rc = cmd_auth_login(g, server, login, json); });

  auto* status_cmd = add_status(auth, "status", "Show login state, expiry, scopes, issuer and token store (never a secret)",
                                "Machine-readable output (an array of objects)");
  status_cmd->callback([&] { rc = cmd_auth_status(g, server, json); });

  auto* logout_cmd = auth->add_subcommand("logout", "Forget a server's stored tokens");
  logout_cmd->add_option("server", server, "Server name")->required();
  logout_cmd->callback([&] { rc = cmd_auth_logout(g, server); });

  export_options ex;
  auto add_export = [&](CLI::App* parent, const char* name, const char* help) {
    auto* cmd = parent->add_subcommand(name, help);
    cmd->add_option("server", server, "Server name")->required();
    cmd->add_option("--format", ex.format, "env, files or k8s-secret")->required();
    cmd->add_option("--out", ex.out, "files: the directory to write into; env, k8s-secret: a file to write (mode 0600)");
    cmd->add_flag("--stdout", ex.to_stdout, "Print to standard output even when it is a terminal");
    cmd->add_flag("--force", ex.force, "Replace files that exist");
    cmd->add_option("--namespace", ex.k8s_namespace, "k8s-secret: the Secret's namespace (default: kubectl's)");
    cmd->footer(
        "Hands a server's stored OAuth credentials to a headless machine (Kubernetes, Compose, systemd, CI), "
        "without contacting any server. The output holds secrets.\n"
        "Formats:\n"
        "  files       DIR/token.json and, when a dynamic client registration is stored, "
        "DIR/client-registration.json (mode 0600); the auth table reads them with token_file and "
        "client_registration_file.\n"
        "  env         export lines FRACTA_MCP_<SERVER>_<FIELD> for ACCESS_TOKEN, REFRESH_TOKEN, EXPIRES_AT, "
        "CLIENT_ID and CLIENT_SECRET (when known); <SERVER> is the name upper-cased, other characters as _. "
        "The leading comments show the auth table that reads them back.\n"
        "  k8s-secret  a v1 Secret fracta-mcp-<server> with those files as keys, for kubectl apply -f -.\n"
        "env and k8s-secret print to a terminal only with --stdout. A mounted copy is refreshed in memory "
        "and never written back; with rotating refresh tokens, export again when the other machine says so.\n"
        "Examples:\n"
        "  fracta config mcp auth export notion --format k8s-secret --namespace tools | kubectl apply -f -\n"
        "  fracta config mcp auth export notion --format files --out ./secrets/notion\n"
        "  fracta config mcp auth export notion --format env --out notion.env");
    return cmd;
  };
  auto* export_cmd = add_export(auth, "export", "Export a server's stored credentials for a headless machine");
  export_cmd->callback([&] { rc = cmd_auth_export(g, server, ex); });

  // Deprecated aliases (one release): fracta mcp login, fracta mcp export, fracta mcp auth-status.
  auto* old_mcp = app.add_subcommand("mcp", "Deprecated: use `fracta config mcp auth …`");
  old_mcp->require_subcommand(1);
  auto* old_login = add_login(old_mcp, "login", "Deprecated alias of `fracta config mcp auth login`",
                              "A scope to request (repeatable)", "Use the device flow");
  old_login->callback([&] {
    print_error("`fracta mcp login` is deprecated and will be removed; use `fracta config mcp auth login`");
    rc = cmd_auth_login(g, server, login, json);
  });
  auto* old_export = add_export(old_mcp, "export", "Deprecated alias of `fracta config mcp auth export`");
  old_export->callback([&] {
    print_error("`fracta mcp export` is deprecated and will be removed; use `fracta config mcp auth export`");
    rc = cmd_auth_export(g, server, ex);
  });
  auto* old_status = add_status(old_mcp, "auth-status", "Deprecated alias of `fracta config mcp auth status`",
                                "Machine-readable output");
  old_status->callback([&] {
    print_error("`fracta mcp auth-status` is deprecated and will be removed; use `fracta config mcp auth status`");
    rc = cmd_auth_status(g, server, json);
  });

  // fracta call / fracta tools
  request_options retry;
  auto add_retry_options = [&](CLI::App* cmd) {
    cmd->add_flag("--login", retry.login,
                  "When the server needs a login, log in (browser) and retry once (default when a terminal is attached)");
    cmd->add_flag("--no-browser", retry.options.no_browser, "For that login: print the URL instead of opening a browser");
    add_duration_option(cmd, "--timeout", retry.options.timeout_seconds, "For that login: how long to wait, e.g. 90, 60s, 5m (default 5m)");
    add_duration_option(cmd, "--request-timeout", retry.request_timeout_seconds,
                        "Deadline of each request to the server, e.g. 30s, 2m (default: its timeout_seconds)");
  };
  auto* call = app.add_subcommand("call", "Call a tool on a server (initialize, tools/call, print the result)");
  call->add_option("server", server, "Server name")->required();
  call->add_option("tool", tool, "Tool name")->required();
  call->add_option("arguments", args,
                   "Tool arguments as a JSON object, e.g. '{\"text\":\"hi\"}'; @FILE reads them from a file, - from "
                   "standard input");
  call->add_flag("--json", json, "Print the whole MCP result object as JSON");
  call->add_option("--answers", answers,
                   "Answer the server's questions (elicitation forms) without asking: a JSON object of field "
                   "values; fields left out take their defaults ('{}' takes every default)");
  add_retry_options(call);
  call->footer(exit_codes_help);
  call->callback([&] { rc = cmd_call(g, server, tool, args, json, retry, answers); });

  auto* tools = app.add_subcommand("tools", "List a server's tools");
  tools->add_option("server", server, "Server name")->required();
  tools->add_flag("--json", json, "Print the MCP result object as JSON");
  bool all_pages = false;
  tools->add_flag("--all", all_pages,
                  "Follow the server's pages (nextCursor) and list every tool (with --json: one {\"tools\":[…]} object)");
  add_retry_options(tools);
  tools->callback([&] { rc = cmd_tools(g, server, json, all_pages, retry); });

  // fracta proxy
  proxy_options px;
  auto* proxy = app.add_subcommand(
      "proxy", "Bridge a desktop host's stdio MCP connection to a remote server, with fracta's credentials");
  proxy->add_option("server", px.target, "A configured server's name, or the server's MCP endpoint URL")->required();
  proxy->add_option("--header", px.headers,
                    "With a URL: a header 'Name: value' sent on every request; ${VAR} takes an environment "
                    "variable (repeatable)");
  proxy->add_option("--oauth-client-id", px.oauth_client_id, "With a URL: a pre-registered OAuth client id (else "
                                                             "dynamic registration)");
  proxy->add_option("--scope", px.scopes, "With a URL: an OAuth scope to request (repeatable)");
  proxy->add_flag("--no-login", px.no_login,
                  "Never open a browser: when the server needs a login, answer the host with the command to run");
  proxy->add_flag("--no-browser", px.no_browser, "Print the login URL on stderr instead of opening a browser");
  add_duration_option(proxy, "--timeout", px.login.timeout_seconds, "How long to wait for a browser login, e.g. 90, 60s, 5m (default 5m)");
  proxy->footer(
      "Reads newline-delimited JSON-RPC on stdin and writes it on stdout (the MCP stdio transport); logs go "
      "to stderr. The host's first message decides its MCP era (initialize: 2025; server/discover or _meta: "
      "2026-07-28), the server's is asked; the proxy translates between them. It ends when stdin closes.\n"
      "Host config (Claude Desktop, Cursor, VS Code): command \"fracta\", args [\"proxy\", \"<server>\"].\n"
      "Examples:\n"
      "  fracta proxy github\n"
      "  fracta proxy https://mcp.example.com/mcp\n"
      "  fracta proxy https://mcp.example.com/mcp --header 'Authorization: Bearer ${EXAMPLE_TOKEN}'");
  proxy->callback([&] {
    px.login.no_browser = px.no_browser;
    rc = cmd_proxy(g, px);
  });

  // fracta gateway
  gateway_options gwo;
  auto* gateway = app.add_subcommand(
      "gateway", "Serve the configured servers over HTTP: one aggregated MCP endpoint and a pass-through per server");
  gateway->add_option("--listen", gwo.listen,
                      "ADDRESS:PORT to listen on (default: gateway.listen, else 127.0.0.1:8710; port 0 picks one)");
  gateway->add_option("--threads", gwo.threads, "Loop threads (default: gateway.threads, else one per core)")
      ->check(CLI::Range(1u, 256u));
  gateway->footer(
      "Endpoints: /mcp (every server's tools, prompts and resources, named <server>__<name>), /mcp/<server> "
      "(that server as it is, with fracta's credential), /healthz, /readyz (per-server state), /metrics "
      "(Prometheus).\n"
      "A non-loopback --listen needs front-end authentication in the config ([gateway.auth] tokens, or "
      "[gateway.auth.jwt] issuer, audience and jwks_url) and the Host names it serves (gateway.allowed_hosts "
      "or gateway.resource). SIGTERM finishes the requests in "
      "flight, then exits; SIGHUP re-reads the config (servers added, changed or removed; the others keep "
      "their sessions).\n"
      "Examples:\n"
      "  fracta gateway\n"
      "  fracta gateway --listen 127.0.0.1:9000\n"
      "  fracta --config /etc/fracta/gateway.toml gateway --listen 0.0.0.0:8710");
  gateway->callback([&] { rc = cmd_gateway(g, gwo); });

  // fracta completion bash|zsh|fish, and the hidden `fracta __complete WORDS…` its scripts call
  // on every Tab: answered here, before the mistake checker and CLI11 see the words.
  add_completion_command(app, rc);
  if (argc > 1 && std::string_view(argv[1]) == complete_command) return complete(app, argc - 2, argv + 2);

  std::string command;
  if (auto done = check_command_line(app, argc, argv, command)) return *done;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // CLI11's words ("server is required"), said of the command they belong to.
    print_error("`" + command + "`: " + e.what() + "; see `" + command + " --help`");
    return exit_usage;
  }
  return rc;
}
