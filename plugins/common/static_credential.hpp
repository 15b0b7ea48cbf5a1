// SPDX-License-Identifier: Apache-2.0
// The provider shared by credentials read from SecretValues and sent as one header (bearer, header, basic).
#pragma once

#include <fracta/plugin_sdk.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fracta::plugins {

/// A static credential: SecretValues from the configuration, turned into one request header.
/// refresh() re-resolves the SecretValues (a mounted file or an env may have been rotated)
/// and says FRACTA_E_DENIED when nothing changed. What differs between types is a Policy:
///
///   static constexpr const char* type;                        // the auth type
///   static constexpr std::array<std::string_view, N> secrets; // config keys of its SecretValues
///   Policy(const sdk::host&, std::string_view config_json);   // other settings; throws sdk::error
///   std::string_view header_name() const;
///   std::string header_value(std::span<const std::string> values,
///                            std::span<const sdk::secret_setting> settings) const;
///                                                             // validates; throws sdk::error
///   void describe(sdk::json_object& status) const;            // extra status fields
///
/// Actor-bound, like every provider instance.
template <class Policy>
class static_credential final {
 public:
  static constexpr const char* type = Policy::type;

  /// Reads and resolves the configuration. Throws sdk::error(FRACTA_E_CONFIG).
  static_credential(sdk::host host, std::string_view config_json)
      : policy_(host, config_json), later_(host) {
    settings_.reserve(Policy::secrets.size());
    for (const std::string_view key : Policy::secrets)
      settings_.emplace_back(host, config_json, key, type);
    std::string error;
    std::optional<std::string> value = compute(error);
    if (!value) throw sdk::error(FRACTA_E_CONFIG, error);
    header_value_ = std::move(*value);
  }
  static_credential(const static_credential&) = delete;
  static_credential& operator=(const static_credential&) = delete;
  ~static_credential() { sdk::secure_wipe(header_value_); }

  std::int32_t apply(sdk::request& request, const sdk::sink& error) {
    const std::int32_t st = request.set_header(policy_.header_name(), header_value_);
    if (st != FRACTA_OK)
      error.write("the host refused to set the " + std::string(policy_.header_name()) + " header");
    return st;
  }

  std::int32_t refresh(sdk::completion& done) {
    std::string error;
    std::optional<std::string> value = compute(error);
    if (!value) {
      later_.complete(std::move(done), FRACTA_E_CONFIG, std::move(error));
      return FRACTA_PENDING;
    }
    if (*value == header_value_) {
      sdk::secure_wipe(*value);
      later_.complete(std::move(done), FRACTA_E_DENIED, unchanged_message());
      return FRACTA_PENDING;
    }
    sdk::secure_wipe(header_value_);
    header_value_ = std::move(*value);
    return FRACTA_OK;
  }

  // A refused static credential can only get better by being rotated at its source.
  std::int32_t on_challenge(const sdk::challenge&, sdk::completion&) { return FRACTA_NEED_REFRESH; }

  std::string status() const {
    sdk::json_object o;
    o.add_string("type", type);
    o.add_string("credential", joined_keys());
    if (settings_.size() == 1) {
      o.add_string("source", settings_.front().source());
    } else {
      for (const sdk::secret_setting& s : settings_) o.add_string(s.key() + "_source", s.source());
    }
    policy_.describe(o);
    return o.str();
  }

  void cancel() { later_.cancel_all(); }

 private:
  // Owns resolved secrets for the duration of one computation, wiping them afterwards.
  struct wiped_values final {
    std::vector<std::string> v;
    ~wiped_values() {
      for (std::string& s : v) sdk::secure_wipe(s);
    }
  };

  // The header value from the current SecretValues, or nullopt with a message for people.
  std::optional<std::string> compute(std::string& error) const {
    wiped_values values;
    values.v.reserve(settings_.size());
    for (const sdk::secret_setting& s : settings_) {
      std::optional<std::string> v = s.resolve(error);
      if (!v) return std::nullopt;
      values.v.push_back(std::move(*v));
    }
    try {
      return policy_.header_value(values.v, settings_);
    } catch (const sdk::error& e) {
      error = e.what();
      return std::nullopt;
    }
  }

  std::string joined_keys() const {
    std::string out;
    for (std::size_t i = 0; i < settings_.size(); ++i) {
      if (i > 0) out += " and ";
      out += settings_[i].key();
    }
    return out;
  }

  std::string unchanged_message() const {
    std::string out;
    for (std::size_t i = 0; i < settings_.size(); ++i) {
      if (i > 0) out += " and ";
      out += "the " + settings_[i].key() + " from " + settings_[i].source();
    }
    out += settings_.size() == 1
               ? " has not changed since it was refused; update it and retry"
               : " have not changed since they were refused; update them and retry";
    return out;
  }

  Policy policy_;
  std::vector<sdk::secret_setting> settings_;
  std::string header_value_;  // secret: the full header value, wiped on replacement
  sdk::deferred later_;
};

}  // namespace fracta::plugins
