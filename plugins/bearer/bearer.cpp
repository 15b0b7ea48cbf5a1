// SPDX-License-Identifier: Apache-2.0
// The "bearer" provider: sends a SecretValue token as `Authorization: Bearer <token>` (RFC 6750).
#include "../common/static_credential.hpp"

#include <array>

namespace fracta::plugins {
namespace {

struct bearer_policy final {
  static constexpr const char* type = "bearer";
  static constexpr std::array<std::string_view, 1> secrets{"token"};

  std::string header_value(std::span<const std::string> values,
                           std::span<const sdk::secret_setting> settings) const {
    const std::string& token = values[0];
    if (token.empty())
      throw sdk::error(FRACTA_E_CONFIG, "the token from " + settings[0].source() + " is empty");
    // RFC 6750 tokens are b64token: no spaces, and never a line break (header injection).
    if (token.find(' ') != std::string::npos || sdk::has_control_char(token))
      throw sdk::error(FRACTA_E_CONFIG, "the token from " + settings[0].source() +
                                            " contains a space or a control character (a trailing "
                                            "newline?); a bearer token is a single word");
    return "Bearer " + token;
  }
};

}  // namespace

using bearer = static_credential<bearer_policy>;

}  // namespace fracta::plugins

FRACTA_SDK_DEFINE_PLUGIN("fracta-bearer", FRACTA_VERSION,
                         fracta::sdk::provider_table<fracta::plugins::bearer>())
