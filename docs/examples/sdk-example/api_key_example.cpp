// SPDX-License-Identifier: Apache-2.0
// The SDK walkthrough quoted in docs/plugin-abi.md: a provider that sends a SecretValue as X-Api-Key.
#include <fracta/plugin_sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

// [sdk-example]
namespace sdk = fracta::sdk;

class api_key final {
 public:
  // The auth type operators configure: type = "example-api-key", key = { env = "API_KEY" }.
  static constexpr const char* type = "example-api-key";

  // create(): read and check the auth table. A thrown sdk::error becomes the status and the
  // message fracta shows the operator; any other exception becomes FRACTA_E_INTERNAL. This is
  // the one place where resolving a secret synchronously (a small file read) is allowed.
  api_key(sdk::host host, std::string_view config_json)
      : key_setting_(host, config_json, "key", type) {
    std::string error;
    std::optional<std::string> key = key_setting_.resolve(error);
    if (!key) throw sdk::error(FRACTA_E_CONFIG, error);
    key_ = std::move(*key);
  }
  api_key(const api_key&) = delete;
  api_key& operator=(const api_key&) = delete;
  ~api_key() { sdk::secure_wipe(key_); }

  // apply(): required, synchronous, on the request path: attach the cached credential.
  std::int32_t apply(sdk::request& request, const sdk::sink& error) {
    const std::int32_t st = request.set_header("X-Api-Key", key_);
    if (st != FRACTA_OK) error.write("the host refused the X-Api-Key header");
    return st;
  }

  // refresh(): optional; the table gets it because the class declares it. Either return a
  // final status leaving `done` untouched, or hand `done` on and return FRACTA_PENDING. After
  // create(), resolve secrets without blocking: the callback runs later, on the actor (and
  // with FRACTA_E_CANCELLED, before destroy, if the instance goes away first).
  std::int32_t refresh(sdk::completion& done) {
    key_setting_.resolve_async(
        [this, done = std::move(done)](std::int32_t status, const sdk::outcome_view& outcome) mutable {
          if (status != FRACTA_OK) {
            done(status, outcome.message);
          } else if (outcome.value == key_) {
            done(FRACTA_E_DENIED, "the key from " + key_setting_.source() + " has not changed; rotate it");
          } else {
            sdk::secure_wipe(key_);
            key_.assign(outcome.value);
            done(FRACTA_OK);
          }
        });
    return FRACTA_PENDING;
  }

  // status(): optional. A JSON object for `fracta config mcp auth status`; never the secret.
  std::string status() const {
    return sdk::json_object().add_string("type", type).add_string("source", key_setting_.source()).str();
  }

 private:
  sdk::secret_setting key_setting_;  // where the key comes from; holds no secret
  std::string key_;                  // the secret itself, wiped when replaced or destroyed
};

FRACTA_SDK_DEFINE_PLUGIN("fracta-example-api-key", "1.0.0", sdk::provider_table<api_key>())
// [sdk-example]
