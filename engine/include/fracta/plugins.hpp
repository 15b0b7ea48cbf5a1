// SPDX-License-Identifier: Apache-2.0
// Finding and loading auth provider plugins; the registry of provider types they offer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fracta/auth_plugin.h"
#include "fracta/config.hpp"
#include "fracta/result.hpp"

namespace fracta {

/// One loaded plugin file (or the built-in providers, with path "(built in)"). A value type
/// (thread-compatible), like plugin_refusal and plugin_sources.
struct plugin_info {
  std::string path;
  std::string name;
  std::string version;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::vector<std::string> types;
};

/// A file or directory that looked like a plugin source and was refused, with the reason.
struct plugin_refusal {
  std::string path;
  std::string reason;
  /// The file offered a type fracta ships without [plugins] replace_builtin naming it: its
  /// provider was ignored, and the shipped one serves that type. Worth a loud warning.
  bool shadows_builtin = false;
};

/// Where plugins come from, and what the configuration lets them do.
struct plugin_sources {
  /// The directories searched, in order, each once: the absolute entries of
  /// $FRACTA_PLUGIN_PATH (colon-separated), the config's `[plugins] paths`, the install
  /// directory, and the build directory when running uninstalled.
  std::vector<std::filesystem::path> dirs;
  /// Those of `dirs` that only the config's `[plugins] paths` named.
  std::vector<std::filesystem::path> config_dirs;
  /// `[plugins] replace_builtin`: the shipped provider types that a plugin from a directory
  /// other than the install (or build) directory may provide instead of fracta's own.
  std::vector<std::string> replace_builtin;
  /// Entries refused before any file was looked at: relative $FRACTA_PLUGIN_PATH entries.
  std::vector<plugin_refusal> refused;
  /// When false, plugin files in `config_dirs` are checked and listed
  /// (plugin_registry::not_loaded()) but never dlopen'ed: for commands that need no provider.
  bool load_config_dirs = true;
};

/// The search path and the config's plugin rules (`cfg` may be null: no config). Reads the
/// environment: thread-safe unless another thread changes it (setenv).
plugin_sources plugin_search_path(const config::config* cfg);

/// Loads one plugin file: dlopen with RTLD_NODELETE (never unloaded), then ABI negotiation.
/// Refuses a wrong major, a missing entry symbol, a short table, and invalid providers, with a
/// message naming the file and the reason. It does not check ownership or mode: the registry
/// does that before calling it. Thread-safe.
result<plugin_info> load_plugin(const std::filesystem::path& file,
                                std::vector<const fracta_provider*>* providers = nullptr);

/// Every provider type available to this process. Immutable after load(); thread-safe.
class plugin_registry final {
 public:
  /// Loads every `*.so` in each directory of `sources.dirs` (sorted by name). Like OpenSSH's
  /// StrictModes, a file is loaded only when it is a regular file and it and every directory
  /// above it are owned by root or the current user and not writable by group or others (a
  /// sticky directory such as /tmp may be, above the plugin's own directory). A provider of a
  /// type fracta ships counts only from the install or build directory, unless
  /// `sources.replace_builtin` names the type. When two files provide the same type, the one
  /// found first wins. Everything refused is listed with its reason. Blocking (disk, dlopen).
  /// Thread-safe.
  static plugin_registry load(const plugin_sources& sources);
  /// load() of these directories with no config: nothing may replace a shipped type. Blocking.
  /// Thread-safe.
  static plugin_registry load(const std::vector<std::filesystem::path>& dirs);

  const std::vector<plugin_info>& plugins() const noexcept { return plugins_; }
  const std::vector<plugin_refusal>& refused() const noexcept { return refused_; }
  const std::vector<std::filesystem::path>& searched() const noexcept { return searched_; }
  /// Plugin files in config directories that passed the checks but were not loaded
  /// (plugin_sources::load_config_dirs = false).
  const std::vector<std::filesystem::path>& not_loaded() const noexcept { return not_loaded_; }

  /// The provider for an auth type, or nullptr.
  const fracta_provider* find(std::string_view type) const noexcept;

 private:
  std::vector<plugin_info> plugins_;
  std::vector<plugin_refusal> refused_;
  std::vector<std::filesystem::path> searched_;
  std::vector<std::filesystem::path> not_loaded_;
  std::vector<std::pair<std::string, const fracta_provider*>> providers_;
};

/// The provider type that serves a configured auth block: the type itself, or for `oauth`
/// the grant's provider (oauth-authcode, oauth-client-credentials, device-code). Thread-safe.
std::string provider_type_for(const config::auth& auth);

/// The error for a server whose auth type no loaded plugin provides: file, line, server, key,
/// the directories searched, refused files, and what to do. Thread-safe.
std::string missing_provider_message(const config::server& srv, const plugin_registry& registry);

}  // namespace fracta
