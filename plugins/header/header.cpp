// SPDX-License-Identifier: Apache-2.0
// The "header" provider: sends a SecretValue as the value of a configured header (e.g. X-Api-Key).
#include "../common/static_credential.hpp"

#include <array>

namespace fracta::plugins {
namespace {

struct header_policy final {
  static constexpr const char* type = "header";
  static constexpr std::array<std::string_view, 1> secrets{"header_value"};

  header_policy(const sdk::host& host, std::string_view config_json) {
    sdk::json_lookup name = host.json_get_string(config_json, "/header_name");
    if (name.status == FRACTA_E_NOT_FOUND)
      throw sdk::error(FRACTA_E_CONFIG,
                       "auth type \"header\" needs `header_name`, the name of the header to send "
                       "(e.g. header_name = \"X-Api-Key\")");
    if (!name.ok()) throw sdk::error(FRACTA_E_CONFIG, "`header_name` must be a string");
    if (!sdk::is_http_token(name.value)) {
      std::string quoted;
      sdk::append_json_string(quoted, name.value);
      throw sdk::error(FRACTA_E_CONFIG, "`header_name` " + quoted +
                                            " is not an HTTP header name (RFC 9110: letters, "
                                            "digits and !#$%&'*+-.^_`|~ only)");
    }
    name_ = std::move(name.value);
  }

  std::string_view header_name() const noexcept { return name_; }

  std::string header_value(std::span<const std::string> values,
                           std::span<const sdk::secret_setting> settings) const {
    const std::string& value = values[0];
    if (value.empty())
      throw sdk::error(FRACTA_E_CONFIG,
                       "the header_value from " + settings[0].source() + " is empty");
    if (sdk::has_control_char(value, /*allow_tab=*/true))
      throw sdk::error(FRACTA_E_CONFIG, "the header_value from " + settings[0].source() +
                                            " contains a control character (a trailing newline?), "
                                            "which an HTTP header value cannot carry");
    return value;
  }

  void describe(sdk::json_object& status) const { status.add_string("header", name_); }

  std::string name_;
};

}  // namespace

using header = static_credential<header_policy>;

}  // namespace fracta::plugins

FRACTA_SDK_DEFINE_PLUGIN("fracta-header", FRACTA_VERSION,
                         fracta::sdk::provider_table<fracta::plugins::header>())
