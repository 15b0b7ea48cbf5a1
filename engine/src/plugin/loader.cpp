// SPDX-License-Identifier: Apache-2.0
// Plugin discovery and loading: search path, dlopen, ABI negotiation, the provider registry.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "fracta/errors.hpp"
#include "fracta/plugins.hpp"
#include "plugin/builtin.hpp"

namespace fracta {
namespace fs = std::filesystem;
namespace {

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

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<fs::path> plugin_search_path(const config::config* cfg) {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("FRACTA_PLUGIN_PATH"); env && *env) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto part = rest.substr(0, colon);
      if (!part.empty()) out.emplace_back(std::string(part));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (cfg) {
    for (const auto& p : cfg->plugin_paths) out.emplace_back(p);
  }
  out.emplace_back(FRACTA_PLUGIN_INSTALL_DIR);
  if (running_uninstalled()) out.emplace_back(FRACTA_PLUGIN_BUILD_DIR);
  // Keep the first occurrence of each directory.
  std::vector<fs::path> unique;
  for (auto& p : out) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(std::move(p));
  }
  return unique;
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

plugin_registry plugin_registry::load(const std::vector<fs::path>& search_path) {
  plugin_registry reg;
  reg.searched_ = search_path;
  const fracta_provider& none = plugin::none_provider();
  reg.plugins_.push_back(plugin_info{"(built in)", "fracta-builtin", FRACTA_VERSION,
                                     FRACTA_ABI_MAJOR, FRACTA_ABI_MINOR, {none.type}});
  reg.providers_.emplace_back(none.type, &none);

  for (const auto& dir : search_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::vector<const fracta_provider*> provs;
      auto r = load_plugin(f, &provs);
      if (!r) {
        reg.refused_.push_back({f.string(), r.err().message});
        continue;
      }
      plugin_info info = std::move(r).value();
      std::vector<std::string> kept;
      for (const fracta_provider* p : provs) {
        if (reg.find(p->type) != nullptr) {
          reg.refused_.push_back({f.string(), f.string() + ": provider type '" + std::string(p->type) +
                                                  "' is already provided by a plugin found earlier in the search path"});
          continue;
        }
        reg.providers_.emplace_back(p->type, p);
        kept.emplace_back(p->type);
      }
      if (kept.empty()) continue;
      info.types = std::move(kept);
      reg.plugins_.push_back(std::move(info));
    }
  }
  return reg;
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
      if (edit_distance(t, type) <= 2) close.push_back("'" + t + "'");
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
