// SPDX-License-Identifier: Apache-2.0
// The C++20 plugin SDK: turns a plain C++ class into a fracta auth provider over the C ABI.
#pragma once

/*
 * Writing a provider (docs/plugin-abi.md has the full story):
 *
 *   class my_provider final {
 *    public:
 *     static constexpr const char* type = "my-type";
 *     my_provider(fracta::sdk::host host, std::string_view config_json);   // throws sdk::error
 *     std::int32_t apply(fracta::sdk::request& request, const fracta::sdk::sink& error);
 *     // optional, detected by signature:
 *     std::int32_t refresh(fracta::sdk::completion& done);
 *     std::int32_t on_challenge(const fracta::sdk::challenge& c, fracta::sdk::completion& done);
 *     std::int32_t login(std::string_view options_json, fracta::sdk::completion& done);
 *     std::int32_t logout(fracta::sdk::completion& done);
 *     std::string status();
 *     void cancel();
 *   };
 *   FRACTA_SDK_DEFINE_PLUGIN("my-plugin", "1.0.0", fracta::sdk::provider_table<my_provider>())
 *
 * Every C entry point the SDK generates is noexcept and catches everything: an exception
 * becomes a status (sdk::error carries its own; anything else is FRACTA_E_INTERNAL) and its
 * what() goes to the call's error sink, or to the host log when the call has no sink.
 */

// The SDK by job; this header includes all of it.
#include <fracta/sdk/strings.hpp>     // string views, checks, base64, json_object
#include <fracta/sdk/completion.hpp>  // sinks, sdk::error, completion, outcome_view
#include <fracta/sdk/host.hpp>        // sdk::host services, deferred, secret_setting
#include <fracta/sdk/provider.hpp>    // request, challenge, provider_table, the entry point macro
