// SPDX-License-Identifier: Apache-2.0
// The fracta::errc category and the plugin-status mapping.
#include "fracta/errors.hpp"

#include <string>

#include "fracta/auth_plugin.h"
#include <fracta/proto/error_category.hpp>

namespace fracta {
namespace {

constexpr table_category<errc>::entry messages[] = {
    {errc::config, "configuration error"},
    {errc::auth_failed, "authentication failed"},
    {errc::needs_login, "login needed"},
    {errc::transport, "transport error"},
    {errc::protocol, "protocol error"},
    {errc::remote, "remote error"},
    {errc::plugin, "plugin error"},
    {errc::cancelled, "cancelled"},
    {errc::unsupported, "unsupported"},
};

}  // namespace

const std::error_category& category() noexcept {
  static const table_category<errc> c("fracta", messages, "unknown fracta error");
  return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

errc errc_from_plugin_status(std::int32_t status) noexcept {
  switch (status) {
    case FRACTA_E_CONFIG: return errc::config;
    case FRACTA_E_NEEDS_LOGIN: return errc::needs_login;
    case FRACTA_E_DENIED: return errc::auth_failed;
    case FRACTA_E_TRANSIENT:
    case FRACTA_E_UNAVAILABLE:
    case FRACTA_E_TIMEOUT: return errc::transport;
    case FRACTA_E_CANCELLED: return errc::cancelled;
    case FRACTA_E_UNSUPPORTED: return errc::unsupported;
    default: return errc::plugin;
  }
}

}  // namespace fracta
