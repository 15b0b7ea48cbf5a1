// SPDX-License-Identifier: Apache-2.0
// The "basic" provider: username and password SecretValues sent as HTTP Basic (RFC 7617, UTF-8).
#include "../common/static_credential.hpp"

#include <array>

namespace fracta::plugins {
namespace {

struct basic_policy final {
  static constexpr const char* type = "basic";
  static constexpr std::array<std::string_view, 2> secrets{"username", "password"};

  // RFC 7617 §2: user-id and password are sent as UTF-8 (charset="UTF-8", the only encoding
  // fracta uses), contain no control characters, and the user-id contains no colon.
  std::string header_value(std::span<const std::string> values,
                           std::span<const sdk::secret_setting> settings) const {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string what = "the " + settings[i].key() + " from " + settings[i].source();
      if (!sdk::is_utf8(values[i]))
        throw sdk::error(FRACTA_E_CONFIG,
                         what + " is not valid UTF-8, the only encoding RFC 7617 Basic allows here");
      if (sdk::has_control_char(values[i]))
        throw sdk::error(FRACTA_E_CONFIG, what +
                                              " contains a control character (a trailing "
                                              "newline?), which RFC 7617 forbids");
    }
    if (values[0].find(':') != std::string::npos)
      throw sdk::error(FRACTA_E_CONFIG,
                       "the username from " + settings[0].source() +
                           " contains ':', which RFC 7617 forbids in a user-id (the first colon "
                           "separates it from the password)");
    std::string user_pass = values[0] + ':' + values[1];
    std::string header = "Basic " + sdk::base64_encode(user_pass);
    sdk::secure_wipe(user_pass);
    return header;
  }
};

}  // namespace

using basic = static_credential<basic_policy>;

}  // namespace fracta::plugins

FRACTA_SDK_DEFINE_PLUGIN("fracta-basic", FRACTA_VERSION,
                         fracta::sdk::provider_table<fracta::plugins::basic>())
