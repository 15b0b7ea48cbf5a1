// SPDX-License-Identifier: Apache-2.0
// The engine's error codes: what failed, in the terms policy and exit codes need.
#pragma once

#include <cstdint>
#include <system_error>

namespace fracta {

/// What failed (fracta::category()). Compared with `e.code == errc::…`.
enum class errc {
  config = 1,       // the configuration is wrong (bad value, unresolvable secret, missing plugin)
  auth_failed,      // the server refused the credentials (after the one retry)
  needs_login,      // an interactive login is needed
  transport,        // network, TLS, timeout, proxy
  protocol,         // the server broke the MCP / JSON-RPC / HTTP contract
  remote,           // the server answered with a JSON-RPC error
  plugin,           // a provider plugin misbehaved or failed internally
  cancelled,
  unsupported,      // the provider or host does not offer the operation
};

/// The category of errc. Thread-safe.
const std::error_category& category() noexcept;
/// The std::error_code for `e`. Thread-safe.
std::error_code make_error_code(errc e) noexcept;

/// Maps a plugin status (FRACTA_E_*) to the engine's error code. Thread-safe.
errc errc_from_plugin_status(std::int32_t status) noexcept;

}  // namespace fracta

template <>
struct std::is_error_code_enum<fracta::errc> : std::true_type {};
