// SPDX-License-Identifier: Apache-2.0
// CLI output helpers: exit codes, error printing, JSON text for --json.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "fracta/errors.hpp"
#include "fracta/result.hpp"

namespace fracta::cli {

/// Exit codes (documented in `fracta --help` and docs/cli.md).
enum exit_code : int {
  exit_ok = 0,
  exit_remote = 1,     // the tool reported an error, or the server answered a JSON-RPC error
  exit_usage = 2,      // bad arguments or configuration
  exit_auth = 3,       // authentication failed or a login is needed
  exit_transport = 4,  // network, TLS, timeout, protocol
};

int exit_code_for(const error& e);

/// Prints "fracta: <message>" to stderr, stripped of escape sequences and control characters
/// (messages quote server text).
void print_error(std::string_view message);

/// Prints a line of server-provided output (a tool's result, a list) to stdout. On a terminal
/// it is stripped of escape sequences and controls (text::terminal_text); to a pipe or file it
/// is written as received, so scripts get the server's bytes.
void print_output(std::string_view text);

/// One line of `-v` for an HTTP exchange, e.g. "notion: POST https://mcp.notion.com/mcp
/// tools/call (MCP 2026-07-28) → 200 in 84 ms" or "… → failed after 30001 ms: …".
std::string exchange_line(const exchange_info& x);

/// How a secret is referenced, for people: "env NAME", "file /path", "inline value".
std::string describe_secret(const config::secret_value& s);

}  // namespace fracta::cli
