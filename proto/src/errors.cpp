// SPDX-License-Identifier: Apache-2.0
// The fracta::errc category and the plugin-status mapping.
#include "fracta/errors.hpp"

#include <string>

#include "fracta/auth_plugin.h"

namespace fracta {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fracta"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::config: return "configuration error";
      case errc::auth_failed: return "authentication failed";
      case errc::needs_login: return "login needed";
      case errc::transport: return "transport error";
      case errc::protocol: return "protocol error";
      case errc::remote: return "remote error";
      case errc::plugin: return "plugin error";
      case errc::cancelled: return "cancelled";
      case errc::unsupported: return "unsupported";
    }
    return "unknown fracta error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl c;
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
