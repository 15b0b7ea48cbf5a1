// SPDX-License-Identifier: Apache-2.0
// Finding and loading auth provider plugins; the registry of provider types they offer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fracta/auth_plugin.h"
#include "fracta/config.hpp"
#include "fracta/result.hpp"

namespace fracta {

/// One loaded plugin file (or the built-in providers, with path "(built in)").
struct plugin_info {
  std::string path;
  std::string name;
  std::string version;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::vector<std::string> types;
};

/// A file that looked like a plugin and was refused, with the reason.
struct plugin_refusal {
  std::string path;
  std::string reason;
};

/// The directories searched, in order: $FRACTA_PLUGIN_PATH (colon-separated), the config's
/// `[plugins] paths`, the install directory, and the build directory when running uninstalled.
std::vector<std::filesystem::path> plugin_search_path(const config::config* cfg);

/// Loads one plugin file: dlopen with RTLD_NODELETE (never unloaded), then ABI negotiation.
/// Refuses a wrong major, a missing entry symbol, a short table, and invalid providers, with a
/// message naming the file and the reason. Thread-safe.
result<plugin_info> load_plugin(const std::filesystem::path& file,
                                std::vector<const fracta_provider*>* providers = nullptr);

/// Every provider type available to this process. Immutable after load(); thread-safe.
class plugin_registry final {
 public:
  /// Loads every `*.so` in each directory of `search_path` (sorted by name). When two files
  /// provide the same type, the one found first wins and the other is reported as refused.
  static plugin_registry load(const std::vector<std::filesystem::path>& search_path);

  const std::vector<plugin_info>& plugins() const noexcept { return plugins_; }
  const std::vector<plugin_refusal>& refused() const noexcept { return refused_; }
  const std::vector<std::filesystem::path>& searched() const noexcept { return searched_; }

  /// The provider for an auth type, or nullptr.
  const fracta_provider* find(std::string_view type) const noexcept;

 private:
  std::vector<plugin_info> plugins_;
  std::vector<plugin_refusal> refused_;
  std::vector<std::filesystem::path> searched_;
  std::vector<std::pair<std::string, const fracta_provider*>> providers_;
};

/// The provider type that serves a configured auth block: the type itself, or for `oauth`
/// the grant's provider (oauth-authcode, oauth-client-credentials, device-code).
std::string provider_type_for(const config::auth& auth);

/// The error for a server whose auth type no loaded plugin provides: file, line, server, key,
/// the directories searched, refused files, and what to do.
std::string missing_provider_message(const config::server& srv, const plugin_registry& registry);

}  // namespace fracta
