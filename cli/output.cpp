// SPDX-License-Identifier: Apache-2.0
// Exit codes and error printing for the CLI.
#include "output.hpp"

#include <unistd.h>

#include <iostream>

#include <fracta/proto/text.hpp>

namespace fracta::cli {

int exit_code_for(const error& e) {
  if (e.code.category() != fracta::category()) return exit_transport;
  switch (static_cast<errc>(e.code.value())) {
    case errc::config:
    case errc::unsupported: return exit_usage;
    case errc::auth_failed:
    case errc::needs_login: return exit_auth;
    case errc::remote: return exit_remote;
    case errc::transport:
    case errc::protocol:
    case errc::plugin:
    case errc::cancelled: return exit_transport;
  }
  return exit_transport;
}

std::string exchange_line(const exchange_info& x) {
  std::string line = std::string(x.server) + ": " + std::string(x.method) + " " + std::string(x.url) + " " +
                     std::string(x.purpose);
  if (!x.protocol_version.empty()) line += " (MCP " + std::string(x.protocol_version) + ")";
  const std::string ms = std::to_string(x.elapsed_ms) + " ms";
  if (x.status == 0) return line + " \u2192 failed after " + ms + ": " + std::string(x.error);
  return line + " \u2192 " + std::to_string(x.status) + " in " + ms;
}

void print_error(std::string_view message) {
  std::cerr << "fracta: " << text::terminal_text(message) << "\n";
}

void print_output(std::string_view text) {
  static const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  if (terminal) std::cout << text::terminal_text(text) << "\n";
  else std::cout << text << "\n";
}

std::string describe_secret(const config::secret_value& s) {
  switch (s.from) {
    case config::secret_value::source::env: return "env " + s.ref;
    case config::secret_value::source::file: return "file " + s.ref;
    case config::secret_value::source::value: return "inline value (hidden)";
  }
  return "?";
}

}  // namespace fracta::cli
