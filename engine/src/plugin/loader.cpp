// SPDX-License-Identifier: Apache-2.0
// Plugin discovery and loading: search path, dlopen, ABI negotiation, the provider registry.
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "config/detail.hpp"
#include "fracta/errors.hpp"
#include "fracta/plugins.hpp"
#include "plugin/builtin.hpp"

namespace fracta {
namespace fs = std::filesystem;
namespace {

using config::detail::contains;
using config::detail::shipped_provider_types;

error refuse(const fs::path& file, const std::string& reason) {
  return error{make_error_code(errc::plugin), file.string() + ": " + reason};
}

// True when this executable runs from the build tree (then the build's plugins are found).
bool running_uninstalled() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return false;
  const fs::path build_root = fs::path(FRACTA_PLUGIN_BUILD_DIR).parent_path();
  const auto exe_s = exe.string();
  const auto root_s = build_root.string() + "/";
  return exe_s.compare(0, root_s.size(), root_s) == 0;
}

bool valid_type_name(const char* t) {
  if (t == nullptr || *t == '\0') return false;
  for (const char* p = t; *p; ++p) {
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return std::strlen(t) <= 64;
}

bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// The directories fracta's own plugins come from: only they may provide the shipped types
// without [plugins] replace_builtin.
bool is_shipped_dir(const fs::path& dir) {
  return same_dir(dir, FRACTA_PLUGIN_INSTALL_DIR) ||
         (running_uninstalled() && same_dir(dir, FRACTA_PLUGIN_BUILD_DIR));
}

// Why `p` must not be trusted to hold plugin code, or "" when it may (OpenSSH's StrictModes):
// after symlinks, it is a regular file (a directory when !want_file), and it and every
// directory above it are owned by root or this user and not writable by group or others. A
// sticky directory above the plugin's own directory (such as /tmp) may be world-writable:
// nobody else can rename or remove what is in it.
std::string unsafe_reason(const fs::path& p, bool want_file) {
  std::error_code ec;
  const fs::path real = fs::canonical(p, ec);
  if (ec) return "cannot be resolved (" + ec.message() + ")";
  const uid_t me = ::geteuid();
  const int own_dir_depth = want_file ? 1 : 0;
  int depth = 0;
  for (fs::path cur = real;; cur = cur.parent_path(), ++depth) {
    struct stat st {};
    if (::stat(cur.c_str(), &st) != 0) {
      return "'" + cur.string() + "' cannot be inspected (" +
             std::generic_category().message(errno) + ")";
    }
    if (depth == 0 && want_file && !S_ISREG(st.st_mode)) return "not a regular file";
    if (depth == 0 && !want_file && !S_ISDIR(st.st_mode)) return "not a directory";
    const std::string what = depth == 0 ? (want_file ? "the file" : "the directory")
                                        : "directory '" + cur.string() + "'";
    if (st.st_uid != 0 && st.st_uid != me) {
      return what + " is owned by uid " + std::to_string(st.st_uid) +
             ", neither root nor this user";
    }
    const bool sticky_above = depth > own_dir_depth && (st.st_mode & S_ISVTX) != 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_above) {
      return what + " is writable by " +
             ((st.st_mode & S_IWOTH) != 0 ? "other users" : "its group") + " (mode " +
             config::detail::octal_mode(st.st_mode) + "); run chmod go-w on it";
    }
    if (cur == cur.parent_path()) break;
  }
  return {};
}

}  // namespace

plugin_sources plugin_search_path(const config::config* cfg) {
  plugin_sources out;
  std::vector<std::pair<fs::path, bool>> found;  // directory, from the config only
  if (const char* env = std::getenv("FRACTA_PLUGIN_PATH"); env && *env) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string part(rest.substr(0, colon));
      if (!part.empty() && fs::path(part).is_relative()) {
        // It would resolve against whatever directory fracta runs in.
        out.refused.push_back(
            {part, "FRACTA_PLUGIN_PATH entry '" + part +
                       "' is relative and would be resolved against the current directory: "
                       "ignored. Write an absolute path"});
      } else if (!part.empty()) {
        found.emplace_back(part, false);
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (cfg) {
    for (const auto& p : cfg->plugins.paths) found.emplace_back(p, true);
    out.replace_builtin = cfg->plugins.replace_builtin;
  }
  found.emplace_back(FRACTA_PLUGIN_INSTALL_DIR, false);
  if (running_uninstalled()) found.emplace_back(FRACTA_PLUGIN_BUILD_DIR, false);
  // Keep the first occurrence of each directory.
  for (auto& [dir, from_config] : found) {
    if (std::find(out.dirs.begin(), out.dirs.end(), dir) != out.dirs.end()) continue;
    if (from_config) out.config_dirs.push_back(dir);
    out.dirs.push_back(std::move(dir));
  }
  return out;
}

result<plugin_info> load_plugin(const fs::path& file, std::vector<const fracta_provider*>* providers) {
  // RTLD_NODELETE: plugins are never unloaded, so no pointer into them can dangle.
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return refuse(file, std::string("cannot be loaded: ") + (why ? why : "unknown dlopen error"));
  }
  void* sym = ::dlsym(handle, FRACTA_PLUGIN_ENTRY_V1_NAME);
  if (sym == nullptr) {
    for (int major = 0; major <= 9; ++major) {
      if (major == FRACTA_ABI_MAJOR) continue;
      const std::string other = "fracta_plugin_entry_v" + std::to_string(major);
      if (::dlsym(handle, other.c_str()) != nullptr) {
        return refuse(file, "built for plugin ABI major " + std::to_string(major) +
                                " (exports " + other + "); this fracta speaks major " +
                                std::to_string(FRACTA_ABI_MAJOR) +
                                ". Rebuild the plugin against this fracta's auth_plugin.h");
      }
    }
    return refuse(file, "exports no " FRACTA_PLUGIN_ENTRY_V1_NAME
                        " symbol: not a fracta plugin, or built without default visibility "
                        "for its entry point (use FRACTA_PLUGIN_EXPORT)");
  }
  auto entry = reinterpret_cast<fracta_plugin_entry_v1_fn>(sym);
  const fracta_plugin* desc = entry(FRACTA_ABI_MINOR);
  if (desc == nullptr) return refuse(file, "its entry point declined to load (returned NULL)");
  if (desc->struct_size < offsetof(fracta_plugin, providers) + sizeof(desc->providers)) {
    return refuse(file, "plugin descriptor is too short (struct_size " +
                            std::to_string(desc->struct_size) + "); rebuild the plugin");
  }
  if (desc->abi_major != FRACTA_ABI_MAJOR) {
    return refuse(file, "declares plugin ABI major " + std::to_string(desc->abi_major) +
                            "; this fracta speaks major " + std::to_string(FRACTA_ABI_MAJOR) +
                            ". Rebuild the plugin against this fracta's auth_plugin.h");
  }
  plugin_info info;
  info.path = file.string();
  info.name = desc->name ? desc->name : file.stem().string();
  info.version = desc->version ? desc->version : "";
  info.abi_major = desc->abi_major;
  info.abi_minor = desc->abi_minor;
  if (desc->provider_count == 0 || desc->providers == nullptr) {
    return refuse(file, "offers no providers");
  }
  for (std::size_t i = 0; i < desc->provider_count; ++i) {
    const fracta_provider* p = desc->providers[i];
    const std::string which = "provider #" + std::to_string(i);
    if (p == nullptr) return refuse(file, which + " is NULL");
    if (p->struct_size < FRACTA_PROVIDER_MIN_SIZE) {
      return refuse(file, which + " has a table too short to hold create/destroy/apply (struct_size " +
                              std::to_string(p->struct_size) + ", need at least " +
                              std::to_string(FRACTA_PROVIDER_MIN_SIZE) + ")");
    }
    if (!valid_type_name(p->type)) {
      return refuse(file, which + " has an invalid type name (want [a-z0-9_-], 1-64 chars)");
    }
    if (p->create == nullptr || p->destroy == nullptr || p->apply == nullptr) {
      return refuse(file, "provider '" + std::string(p->type) +
                              "' lacks a required operation (create, destroy and apply are required)");
    }
    info.types.emplace_back(p->type);
    if (providers) providers->push_back(p);
  }
  return info;
}

plugin_registry plugin_registry::load(const plugin_sources& sources) {
  plugin_registry reg;
  reg.searched_ = sources.dirs;
  reg.refused_ = sources.refused;
  const fracta_provider& none = plugin::none_provider();
  reg.plugins_.push_back(plugin_info{"(built in)", "fracta-builtin", FRACTA_VERSION,
                                     FRACTA_ABI_MAJOR, FRACTA_ABI_MINOR, {none.type}});
  reg.providers_.emplace_back(none.type, &none);

  for (const auto& dir : sources.dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    if (const std::string why = unsafe_reason(dir, false); !why.empty()) {
      reg.refused_.push_back({dir.string(), dir.string() + ": not searched: " + why});
      continue;
    }
    const bool shipped = is_shipped_dir(dir);
    const bool run_code =
        sources.load_config_dirs ||
        std::find(sources.config_dirs.begin(), sources.config_dirs.end(), dir) ==
            sources.config_dirs.end();
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (const std::string why = unsafe_reason(f, true); !why.empty()) {
        reg.refused_.push_back({f.string(), f.string() + ": not loaded: " + why});
        continue;
      }
      if (!run_code) {
        reg.not_loaded_.push_back(f);
        continue;
      }
      std::vector<const fracta_provider*> provs;
      auto r = load_plugin(f, &provs);
      if (!r) {
        reg.refused_.push_back({f.string(), r.err().message});
        continue;
      }
      plugin_info info = std::move(r).value();
      std::vector<std::string> kept;
      for (const fracta_provider* p : provs) {
        const std::string type(p->type);
        if (!shipped && contains(shipped_provider_types, type) &&
            !contains(sources.replace_builtin, type)) {
          reg.refused_.push_back(
              {f.string(),
               f.string() + ": provider type '" + type +
                   "' is one fracta ships, and this plugin is not in the install directory: "
                   "ignored, fracta's own provider serves '" + type +
                   "'. To use this plugin instead, add \"" + type +
                   "\" to [plugins] replace_builtin",
               true});
          continue;
        }
        if (reg.find(type) != nullptr) {
          reg.refused_.push_back({f.string(), f.string() + ": provider type '" + type +
                                                  "' is already provided by a plugin found "
                                                  "earlier in the search path"});
          continue;
        }
        reg.providers_.emplace_back(type, p);
        kept.push_back(type);
      }
      if (kept.empty()) continue;
      info.types = std::move(kept);
      reg.plugins_.push_back(std::move(info));
    }
  }
  return reg;
}

plugin_registry plugin_registry::load(const std::vector<fs::path>& dirs) {
  plugin_sources sources;
  sources.dirs = dirs;
  return load(sources);
}

const fracta_provider* plugin_registry::find(std::string_view type) const noexcept {
  for (const auto& [t, p] : providers_) {
    if (t == type) return p;
  }
  return nullptr;
}

std::string missing_provider_message(const config::server& srv, const plugin_registry& registry) {
  const std::string type = provider_type_for(srv.auth);
  const auto& w = srv.auth.where;
  std::string msg;
  if (!w.file.empty()) msg = w.file + ":" + std::to_string(w.line) + ":" + std::to_string(w.column) + ": ";
  msg += "server '" + srv.name + "': mcp.servers." + srv.name + ".remote.auth.type: no plugin provides auth type '" +
         type + "'";
  if (type != srv.auth.type) msg += " (for auth.type '" + srv.auth.type + "', grant_type '" + srv.auth.grant_type + "')";
  msg += ".";
  std::vector<std::string> close;
  for (const auto& p : registry.plugins()) {
    for (const auto& t : p.types) {
      if (config::detail::edit_distance(t, type) <= 2) close.push_back("'" + t + "'");
    }
  }
  for (std::size_t i = 0; i < close.size(); ++i) {
    msg += (i == 0 ? " Did you mean " : (i + 1 == close.size() ? " or " : ", ")) + close[i];
    if (i + 1 == close.size()) msg += "?";
  }
  msg += " Searched: ";
  std::string searched;
  for (const auto& d : registry.searched()) searched += (searched.empty() ? "" : ", ") + d.string();
  msg += searched.empty() ? "(nothing)" : searched;
  for (const auto& r : registry.refused()) msg += "; refused " + r.reason;
  if (!registry.not_loaded().empty()) {
    msg += "; not loaded by this command (from [plugins] paths):";
    for (const auto& f : registry.not_loaded()) msg += " " + f.string();
  }
  msg += ". Install the plugin, or add its directory to FRACTA_PLUGIN_PATH or [plugins] paths "
         "(see `fracta plugins list`).";
  return msg;
}

std::string provider_type_for(const config::auth& auth) {
  if (auth.type != "oauth") return auth.type;
  if (auth.grant_type == "client_credentials") return "oauth-client-credentials";
  if (auth.grant_type == "device_code") return "device-code";
  return "oauth-authcode";
}

}  // namespace fracta
