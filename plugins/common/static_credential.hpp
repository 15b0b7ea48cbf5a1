// SPDX-License-Identifier: Apache-2.0
// The provider shared by credentials read from SecretValues and sent as one header (bearer, header, basic).
#pragma once

#include <fracta/plugin_sdk.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace fracta::plugins {

/// A static credential: SecretValues from the configuration, turned into one request header.
/// refresh() re-resolves the SecretValues (a mounted file or an env may have been rotated)
/// and says FRACTA_E_DENIED when nothing changed. What differs between types is a Policy:
///
///   static constexpr const char* type;                        // the auth type
///   static constexpr std::array<std::string_view, N> secrets; // config keys of its SecretValues
///   std::string header_value(std::span<const std::string> values,
///                            std::span<const sdk::secret_setting> settings) const;
///                                                             // validates; throws sdk::error
/// and, where a type needs them:
///   Policy(const sdk::host&, std::string_view config_json);   // other settings; throws sdk::error
///                                                             // (else default-constructed)
///   std::string_view header_name() const;                     // else "Authorization"
///   void describe(sdk::json_object& status) const;            // extra status fields
///
/// Actor-bound, like every provider instance.
template <class Policy>
class static_credential final {
  static_assert(!Policy::secrets.empty(), "a static credential has at least one SecretValue");

 public:
  static constexpr const char* type = Policy::type;

  /// Reads and resolves the configuration. Throws sdk::error(FRACTA_E_CONFIG).
  static_credential(sdk::host host, std::string_view config_json)
      : host_(host), policy_(make_policy(host, config_json)) {
    settings_.reserve(Policy::secrets.size());
    for (const std::string_view key : Policy::secrets)
      settings_.emplace_back(host, config_json, key, type);
    // create() may block briefly on a file: resolve synchronously, this once.
    wiped_values values;
    for (const sdk::secret_setting& s : settings_) {
      std::string error;
      std::optional<std::string> v = s.resolve(error);
      if (!v) throw sdk::error(FRACTA_E_CONFIG, error);
      values.v.push_back(std::move(*v));
    }
    header_value_ = policy_.header_value(values.v, settings_);  // throws sdk::error
  }
  static_credential(const static_credential&) = delete;
  static_credential& operator=(const static_credential&) = delete;
  ~static_credential() {
    cancel();
    sdk::secure_wipe(header_value_);
  }

  std::int32_t apply(sdk::request& request, const sdk::sink& error) {
    const std::string_view name = header_name();
    const std::int32_t st = request.set_header(name, header_value_);
    if (st != FRACTA_OK) error.write("the host refused to set the " + std::string(name) + " header");
    return st;
  }

  // Re-resolves every SecretValue without blocking (a file is read off the event loop). A
  // refresh asked for while one runs waits for it and shares its result.
  std::int32_t refresh(sdk::completion& done) {
    if (run_) {
      run_->waiters.push_back(std::move(done));
      return FRACTA_PENDING;
    }
    const auto run = std::make_shared<refresh_run>();
    run_ = run;
    run->waiters.push_back(std::move(done));
    run->values.v.resize(settings_.size());
    run->remaining = settings_.size();
    const std::weak_ptr<refresh_run> weak = run;
    for (std::size_t i = 0; i < settings_.size(); ++i) {
      const fracta_op_id op = settings_[i].resolve_async(
          [this, weak, i](std::int32_t status, const sdk::outcome_view& outcome) {
            // A run that was cancelled, or whose instance is gone, has expired.
            if (const auto r = weak.lock()) resolved(r, i, status, outcome);
          });
      if (op != 0) run->ops.push_back(op);
    }
    return FRACTA_PENDING;
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
    if constexpr (requires { policy_.describe(o); }) policy_.describe(o);
    return o.str();
  }

  // Every pending refresh completes with FRACTA_E_CANCELLED, now.
  void cancel() {
    std::shared_ptr<refresh_run> run = std::exchange(run_, nullptr);
    if (!run) return;
    const std::vector<fracta_op_id> ops = std::move(run->ops);
    std::vector<sdk::completion> waiters = std::move(run->waiters);
    run.reset();  // expires the run: its resolutions' callbacks now do nothing
    for (const fracta_op_id op : ops) host_.cancel(op);
    for (sdk::completion& w : waiters) w(FRACTA_E_CANCELLED, "cancelled");
  }

 private:
  static Policy make_policy(const sdk::host& host, std::string_view config_json) {
    if constexpr (std::is_constructible_v<Policy, const sdk::host&, std::string_view>)
      return Policy(host, config_json);
    else
      return Policy{};
  }

  std::string_view header_name() const noexcept {
    if constexpr (requires { policy_.header_name(); })
      return policy_.header_name();
    else
      return "Authorization";
  }

  // Owns resolved secrets, wiping them when it goes.
  struct wiped_values final {
    std::vector<std::string> v;
    ~wiped_values() {
      for (std::string& s : v) sdk::secure_wipe(s);
    }
  };

  // One refresh in flight: the SecretValues being resolved and who waits for the result.
  struct refresh_run final {
    wiped_values values;
    std::size_t remaining = 0;
    std::int32_t failure = FRACTA_OK;
    std::string failure_message;
    std::vector<fracta_op_id> ops;
    std::vector<sdk::completion> waiters;
  };

  void resolved(const std::shared_ptr<refresh_run>& run, std::size_t i, std::int32_t status,
                const sdk::outcome_view& outcome) {
    if (status == FRACTA_OK) {
      run->values.v[i].assign(outcome.value);
    } else if (run->failure == FRACTA_OK) {
      run->failure = status;
      run->failure_message.assign(outcome.message);
    }
    if (--run->remaining == 0) finish(run);
  }

  // All SecretValues are in: compare with what is sent now, and answer every waiter.
  void finish(const std::shared_ptr<refresh_run>& run) {
    if (run_ == run) run_.reset();
    std::int32_t status = run->failure;
    std::string message = std::move(run->failure_message);
    if (status == FRACTA_OK) {
      try {
        std::string value = policy_.header_value(run->values.v, settings_);
        if (value == header_value_) {
          sdk::secure_wipe(value);
          status = FRACTA_E_DENIED;
          message = unchanged_message();
        } else {
          sdk::secure_wipe(header_value_);
          header_value_ = std::move(value);
        }
      } catch (const sdk::error& e) {
        status = FRACTA_E_CONFIG;
        message = e.what();
      }
    }
    // We run inside a host completion, not inside refresh(): answering now is not re-entrant.
    for (sdk::completion& w : run->waiters) w(status, message);
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

  sdk::host host_;
  Policy policy_;
  std::vector<sdk::secret_setting> settings_;
  std::string header_value_;  // secret: the full header value, wiped on replacement
  std::shared_ptr<refresh_run> run_;  // the refresh in flight, if any
};

}  // namespace fracta::plugins
