// SPDX-License-Identifier: Apache-2.0
// The CLI's command handlers; main.cpp wires them to CLI11.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fracta::cli {

struct global_options {
  std::string config_path;  // --config; empty → default path
  int verbose = 0;  // -v: each HTTP exchange and what fracta does; -vv: its debugging detail too
};

struct add_options {
  std::string name, url, auth_type;
  std::vector<std::string> headers;  // K=V
  int request_timeout_seconds = 0;   // --request-timeout → remote.timeout_seconds (0: not written)
  std::vector<std::string> sets;     // KEY=VALUE
  std::vector<std::string> secrets;  // KEY=env:NAME | file:PATH | value:TEXT
  // --oauth and its keys
  bool oauth = false;
  std::string client_id, client_secret, client_secret_env;
  std::vector<std::string> scopes;
};

/// `fracta config mcp set`.
struct set_options {
  std::string name;
  std::vector<std::string> settings;  // KEY=VALUE
  std::vector<std::string> unset;     // --unset KEY
  bool json = false;
};

/// `auth login` and the --login of call/tools.
struct login_options {
  int timeout_seconds = 300;
  bool no_browser = false;
  bool device = false;
  std::vector<std::string> scopes;
};

/// call/tools: the request deadline, and the login (with its own wait) that retries once when
/// the server needs one.
struct request_options {
  int request_timeout_seconds = 0;  // --request-timeout; 0: the server's timeout_seconds
  bool login = false;               // --login
  login_options options;
};

/// `fracta proxy`.
struct proxy_options {
  std::string target;                // a configured server's name, or an MCP endpoint URL
  std::vector<std::string> headers;  // --header 'Name: value' (URL form)
  std::string oauth_client_id;       // --oauth-client-id (URL form)
  std::vector<std::string> scopes;   // --scope (URL form)
  bool no_login = false;             // --no-login
  bool no_browser = false;           // --no-browser
  login_options login;
};

/// `fracta gateway`.
struct gateway_options {
  std::string listen;    // --listen ADDRESS:PORT (else gateway.listen)
  unsigned threads = 0;  // --threads (else gateway.threads, else one per core)
};

/// `fracta config mcp auth export`.
struct export_options {
  std::string format;         // env | files | k8s-secret
  std::string out;            // --out: DIR for files, FILE for the others
  bool to_stdout = false;     // --stdout: print even to a terminal
  bool force = false;         // --force: replace existing files
  std::string k8s_namespace;  // --namespace (k8s-secret)
};

int cmd_proxy(const global_options& g, const proxy_options& o);
int cmd_gateway(const global_options& g, const gateway_options& o);
int cmd_auth_export(const global_options& g, const std::string& server, const export_options& o);
int cmd_config_add(const global_options& g, const add_options& o);
int cmd_config_list(const global_options& g, bool json);
int cmd_config_show(const global_options& g, const std::string& name, bool json);
int cmd_config_remove(const global_options& g, const std::string& name, bool keep_credentials);
int cmd_config_set(const global_options& g, const set_options& o);
int cmd_config_validate(const global_options& g, bool json);
int cmd_plugins_list(const global_options& g, bool json);
int cmd_version(bool json);
int cmd_call(const global_options& g, const std::string& server, const std::string& tool,
             const std::string& args, bool json, const request_options& rl, const std::string& answers = {});
int cmd_tools(const global_options& g, const std::string& server, bool json, bool all, const request_options& rl);
int cmd_auth_login(const global_options& g, const std::string& server, const login_options& o, bool json);
int cmd_auth_status(const global_options& g, const std::string& server, bool json);
int cmd_auth_logout(const global_options& g, const std::string& server);

}  // namespace fracta::cli
