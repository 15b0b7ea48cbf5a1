// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp auth export`'s output formats: pure functions from exported credentials to text.
#pragma once

#include <string>
#include <string_view>

#include "fracta/engine.hpp"

namespace fracta::cli::exporting {

/// The environment variable that carries `field` (an auth-table key) of `server`:
/// FRACTA_MCP_<SERVER>_<FIELD>, each upper-cased with every character outside [A-Z0-9] as `_`.
std::string env_name(std::string_view server, std::string_view field);

/// The Kubernetes Secret's name: "fracta-mcp-" + the server name as a DNS-1123 subdomain
/// (lower case; every character outside [a-z0-9-] becomes `-`; no `-` at either end).
std::string k8s_secret_name(std::string_view server);

/// True for a Kubernetes namespace name (a DNS-1123 label: [a-z0-9-], 1–63, alphanumeric ends).
bool is_k8s_namespace(std::string_view ns);

/// `export NAME='value'` lines for every field except issuer, after `#` lines that show the
/// auth table reading them back.
std::string env_lines(std::string_view server, const exported_credentials& c);

/// A v1 Secret (YAML) named k8s_secret_name(server) whose data keys are the exported files;
/// `ns` empty: no namespace (kubectl's current one).
std::string k8s_secret_yaml(std::string_view server, std::string_view ns, const exported_credentials& c);

/// The auth-table lines that read the exported files back from `dir`.
std::string auth_table_for_files(const std::string& dir, const exported_credentials& c);

}  // namespace fracta::cli::exporting
