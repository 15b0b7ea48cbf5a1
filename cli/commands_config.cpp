// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp …`, `fracta plugins list`, `fracta version`.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>

#include "commands.hpp"
#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "fracta/json_writer.hpp"
#include "fracta/plugins.hpp"
#include "output.hpp"
#include "run.hpp"

namespace fracta::cli {
namespace fs = std::filesystem;
namespace {

fs::path config_path(const global_options& g) {
  return g.config_path.empty() ? config::default_path() : fs::path(g.config_path);
}

// Loads the config or prints the error; nullopt means "exit with exit_usage".
std::optional<config::config> load_or_report(const global_options& g) {
  try {
    return config::load(config_path(g));
  } catch (const config::config_error& e) {
    print_error(e.what());
    return std::nullopt;
  }
}

std::optional<std::pair<std::string, std::string>> split_kv(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
}

// f() → an exit code; a config or file-system error it throws is printed and gives exit_usage.
template <class F>
int with_errors_reported(F&& f) {
  try {
    return f();
  } catch (const config::config_error& e) {
    print_error(e.what());
  } catch (const std::system_error& e) {
    print_error(e.what());
  }
  return exit_usage;
}

// Each NAME=VALUE of `items` (the values of `option`) appended to `out`. At the first without a
// name and '=', prints that `form` was expected and returns false.
bool append_pairs(const std::vector<std::string>& items, std::string_view option, std::string_view form,
                  std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& item : items) {
    auto kv = split_kv(item);
    if (!kv) {
      print_error(std::string(option) + " '" + item.substr(0, item.find('=')) + "': expected " + std::string(form));
      return false;
    }
    out.push_back(std::move(*kv));
  }
  return true;
}

bool sensitive_header(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view w : {"authorization", "cookie", "token", "key", "secret", "password", "auth"}) {
    if (n.find(w) != std::string::npos) return true;
  }
  return false;
}

// What can serve each server's auth type, without running plugin code from the config's
// [plugins] paths: a config file may come from anywhere, and validate, add, list and show
// need no provider. Plugins from $FRACTA_PLUGIN_PATH and the install directory are loaded.
plugin_registry registry_without_config_code(const config::config& cfg) {
  plugin_sources sources = plugin_search_path(&cfg);
  sources.load_config_dirs = false;
  return plugin_registry::load(sources);
}

// Prints a warning for each plugin that tried to replace a shipped provider type.
void warn_about_shadowing(const plugin_registry& registry) {
  for (const auto& r : registry.refused()) {
    if (r.shadows_builtin) print_error("warning: " + r.reason);
  }
}

enum class provider_check { found, unverified, missing };

// found: a built-in or loaded plugin provides the type. unverified: none does, but plugin
// files in [plugins] paths were not loaded, so it cannot be told (a note says so). missing: an
// error was printed, ending with `suffix`.
provider_check check_provider(const config::server& s, const plugin_registry& registry,
                              std::string_view suffix = "") {
  const std::string type = provider_type_for(s.auth);
  if (registry.find(type) != nullptr) return provider_check::found;
  if (!registry.not_loaded().empty()) {
    std::string files;
    for (const auto& f : registry.not_loaded()) files += (files.empty() ? "" : ", ") + f.string();
    print_error("note: server '" + s.name + "': auth type '" + type +
                "' is not provided by a built-in or installed plugin; it may come from a plugin in "
                "[plugins] paths (" + files +
                "), which this command does not load. `fracta plugins list` loads them and lists "
                "their types");
    return provider_check::unverified;
  }
  print_error(missing_provider_message(s, registry) + std::string(suffix));
  return provider_check::missing;
}

struct secret_field {
  const char* key;
  const std::optional<config::secret_value>* value;
};

std::vector<secret_field> secret_fields(const config::auth& a) {
  return {{"token", &a.token},
          {"header_value", &a.header_value},
          {"username", &a.username},
          {"password", &a.password},
          {"client_id", &a.client_id},
          {"client_secret", &a.client_secret},
          {"access_token", &a.access_token},
          {"refresh_token", &a.refresh_token},
          {"passphrase", &a.passphrase}};
}

}  // namespace

int cmd_config_add(const global_options& g, const add_options& o) {
  config::new_server s;
  s.name = o.name;
  s.url = o.url;
  s.timeout_seconds = static_cast<std::uint32_t>(o.request_timeout_seconds);
  s.auth_type = o.auth_type;
  const bool oauth_keys = !o.client_id.empty() || !o.client_secret.empty() || !o.client_secret_env.empty() ||
                          !o.scopes.empty();
  if (oauth_keys && !o.oauth && o.auth_type != "oauth") {
    print_error("--client-id, --client-secret, --client-secret-env and --scope configure OAuth: add --oauth");
    return exit_usage;
  }
  if (o.oauth) {
    if (!o.auth_type.empty() && o.auth_type != "oauth") {
      print_error("--oauth and --auth " + o.auth_type + " contradict each other: keep one");
      return exit_usage;
    }
    if (!o.client_secret.empty() && !o.client_secret_env.empty()) {
      print_error("--client-secret and --client-secret-env both give the client secret: keep one");
      return exit_usage;
    }
    if ((!o.client_secret.empty() || !o.client_secret_env.empty()) && o.client_id.empty()) {
      print_error("a client secret belongs to a pre-registered client: add --client-id");
      return exit_usage;
    }
    s.auth_type = "oauth";
    auto secret = [](const std::string& key, config::secret_value::source from, const std::string& ref) {
      config::secret_value sv;
      sv.from = from;
      sv.ref = ref;
      sv.key = key;
      return std::make_pair(key, sv);
    };
    if (!o.client_id.empty()) {
      s.auth_secrets.push_back(secret("client_id", config::secret_value::source::value, o.client_id));
    }
    if (!o.client_secret.empty()) {
      s.auth_secrets.push_back(secret("client_secret", config::secret_value::source::value, o.client_secret));
    } else if (!o.client_secret_env.empty()) {
      s.auth_secrets.push_back(secret("client_secret", config::secret_value::source::env, o.client_secret_env));
    }
    if (!o.scopes.empty()) s.auth_lists.emplace_back("scopes", o.scopes);
  }
  if (!append_pairs(o.headers, "--header", "NAME=VALUE", s.headers)) return exit_usage;
  if (s.auth_type.empty() && (!o.sets.empty() || !o.secrets.empty())) {
    print_error("--set and --secret configure an auth block: give its type with --auth TYPE");
    return exit_usage;
  }
  if (!append_pairs(o.sets, "--set", "KEY=VALUE", s.auth_strings)) return exit_usage;
  for (const auto& kvs : o.secrets) {
    auto kv = split_kv(kvs);
    const auto colon = kv ? kv->second.find(':') : std::string::npos;
    if (!kv || colon == std::string::npos) {
      print_error("--secret '" + kvs.substr(0, kvs.find('=')) +
                  "': expected KEY=env:NAME, KEY=file:PATH or KEY=value:TEXT");
      return exit_usage;
    }
    std::optional<config::secret_value> sv = config::secret_from_argument(kv->second);
    if (!sv) {
      print_error("--secret '" + kv->first + "': unknown source '" + kv->second.substr(0, colon) +
                  "'; use env:, file: or value:");
      return exit_usage;
    }
    sv->key = kv->first;
    s.auth_secrets.emplace_back(kv->first, std::move(*sv));
  }
  const fs::path path = config_path(g);
  std::string warning;
  const int rc = with_errors_reported([&] {
    const std::string text = config::read_text(path).value_or(std::string());
    const std::string updated = config::with_server_added(text, path.string(), s);
    // Refuse an auth type nothing provides (a typo, or a plugin not installed yet) before
    // anything is written.
    const auto cfg = config::parse(updated, path.string());
    const auto registry = registry_without_config_code(cfg);
    warn_about_shadowing(registry);
    const auto* added = cfg.find(o.name);
    if (added != nullptr &&
        check_provider(*added, registry, " Nothing was written.") == provider_check::missing) {
      return exit_usage;
    }
    warning = config::literal_secret_warning(path, s);
    config::write_file_atomically(path, updated);
    return exit_ok;
  });
  if (rc != exit_ok) return rc;
  if (!warning.empty()) print_error("warning: " + warning);
  std::cout << "added server '" << o.name << "' to " << path.string() << "\n";
  return exit_ok;
}

int cmd_config_list(const global_options& g, bool json) {
  auto cfg = load_or_report(g);
  if (!cfg) return exit_usage;
  if (json) {
    fracta::json::writer w;
    w.begin_array();
    for (const auto& s : cfg->servers) {
      w.begin_object().key("name").value(s.name).key("url").value(config::redacted_url(s.url))
          .key("auth").value(s.auth.type).end_object();
    }
    w.end_array();
    std::cout << w.take() << "\n";
    return exit_ok;
  }
  if (cfg->servers.empty()) {
    std::cout << "no servers configured in " << cfg->path << "; add one with `fracta config mcp add`\n";
    return exit_ok;
  }
  // URLs may carry a password (userinfo) or an API key (query): only the redacted form is shown.
  std::vector<std::string> urls;
  std::size_t wname = 4, wurl = 3;
  for (const auto& s : cfg->servers) {
    urls.push_back(config::redacted_url(s.url));
    wname = std::max(wname, s.name.size());
    wurl = std::max(wurl, urls.back().size());
  }
  auto pad = [](const std::string& t, std::size_t w) { return t + std::string(w - t.size() + 2, ' '); };
  std::cout << pad("NAME", wname) << pad("URL", wurl) << "AUTH\n";
  for (std::size_t i = 0; i < cfg->servers.size(); ++i) {
    const auto& s = cfg->servers[i];
    std::cout << pad(s.name, wname) << pad(urls[i], wurl) << s.auth.type << "\n";
  }
  return exit_ok;
}

int cmd_config_show(const global_options& g, const std::string& name, bool json) {
  auto cfg = load_or_report(g);
  if (!cfg) return exit_usage;
  const auto* s = cfg->find(name);
  if (s == nullptr) {
    print_error(cfg->no_such_server(name));
    return exit_usage;
  }
  const auto& a = s->auth;
  const std::string url = config::redacted_url(s->url);
  const std::string metadata_url = a.metadata_url.empty() ? "" : config::redacted_url(a.metadata_url);
  const std::string issuer = a.issuer.empty() ? "" : config::redacted_url(a.issuer);
  if (json) {
    fracta::json::writer w;
    w.begin_object().key("name").value(s->name).key("url").value(url);
    w.key("headers").begin_object();
    for (const auto& [k, v] : s->headers) w.key(k).value(sensitive_header(k) ? std::string("(hidden)") : v);
    w.end_object();
    if (!s->ca_bundle.empty()) w.key("ca_bundle").value(s->ca_bundle);
    w.key("timeout_seconds").value(static_cast<std::int64_t>(s->timeout_seconds));
    if (s->allow_insecure_http) w.key("allow_insecure_http").value(true);
    if (s->allow_private_network) w.key("allow_private_network").value(true);
    w.key("auth").begin_object().key("type").value(a.type);
    if (!a.header_name.empty()) w.key("header_name").value(a.header_name);
    if (!a.grant_type.empty()) w.key("grant_type").value(a.grant_type);
    if (!a.token_store.empty()) w.key("token_store").value(a.token_store);
    if (!a.scopes.empty()) {
      w.key("scopes").begin_array();
      for (const auto& sc : a.scopes) w.value(sc);
      w.end_array();
    }
    if (!a.token_file.empty()) w.key("token_file").value(a.token_file);
    if (!metadata_url.empty()) w.key("metadata_url").value(metadata_url);
    if (!issuer.empty()) w.key("issuer").value(issuer);
    for (const auto& f : secret_fields(a)) {
      if (f.value->has_value()) w.key(f.key).value(describe_secret(**f.value));
    }
    w.end_object();
    w.key("defined_at").value(s->where.file + ":" + std::to_string(s->where.line));
    w.end_object();
    std::cout << w.take() << "\n";
    return exit_ok;
  }
  std::cout << "server:     " << s->name << "\n"
            << "url:        " << url << "\n"
            << "defined at: " << s->where.file << ":" << s->where.line << "\n";
  for (const auto& [k, v] : s->headers) {
    std::cout << "header:     " << k << ": " << (sensitive_header(k) ? "(hidden)" : v) << "\n";
  }
  if (!s->ca_bundle.empty()) std::cout << "ca bundle:  " << s->ca_bundle << "\n";
  std::cout << "timeout:    " << s->timeout_seconds << " s\n";
  if (s->allow_insecure_http) std::cout << "plain http: allowed (allow_insecure_http)\n";
  if (s->allow_private_network) std::cout << "private network: allowed (allow_private_network)\n";
  std::cout << "auth:       " << a.type << "\n";
  if (!a.header_name.empty()) std::cout << "  header_name:  " << a.header_name << "\n";
  if (!a.grant_type.empty()) std::cout << "  grant_type:   " << a.grant_type << "\n";
  if (!a.token_store.empty()) std::cout << "  token_store:  " << a.token_store << "\n";
  if (!a.scopes.empty()) {
    std::cout << "  scopes:      ";
    for (const auto& sc : a.scopes) std::cout << " " << sc;
    std::cout << "\n";
  }
  if (!a.token_file.empty()) std::cout << "  token_file:   " << a.token_file << "\n";
  if (!metadata_url.empty()) std::cout << "  metadata_url: " << metadata_url << "\n";
  if (!issuer.empty()) std::cout << "  issuer:       " << issuer << "\n";
  for (const auto& f : secret_fields(a)) {
    if (f.value->has_value()) std::cout << "  " << f.key << ": " << describe_secret(**f.value) << "\n";
  }
  return exit_ok;
}

namespace {

// Erases what the store holds for `name`, while the server is still configured (its store
// settings say where). A line for people, or the error.
result<std::string> forget_stored(const global_options& g, const config::config& cfg, const std::string& name) {
  asio::io_context io(1);
  engine eng(io.get_executor(), cfg, make_engine_options(g, false));
  auto forget = eng.forget_credentials(name);
  auto r = run_on_loop(io, std::move(forget));
  if (!r) return r.err();
  if (r->store == "memory") return std::string();  // its auth type stores nothing
  if (r->items == 0) return "no stored credentials of '" + name + "' in the " + r->store;
  return "erased " + std::to_string(r->items) + " stored credential item" + (r->items == 1 ? "" : "s") + " of '" +
         name + "' from the " + r->store;
}

}  // namespace

int cmd_config_remove(const global_options& g, const std::string& name, bool keep_credentials) {
  const fs::path path = config_path(g);
  std::string updated;
  try {
    const std::optional<std::string> text = config::read_text(path);
    if (!text) {
      print_error("no config file at " + path.string() + "; nothing to remove");
      return exit_usage;
    }
    updated = config::with_server_removed(*text, path.string(), name);
  } catch (const config::config_error& e) {
    print_error(e.what());
    return exit_usage;
  }
  // The credentials first: once the server is gone from the file, nothing says where they are.
  std::optional<result<std::string>> forgotten;
  if (!keep_credentials) {
    if (auto cfg = load_or_report(g)) forgotten = forget_stored(g, *cfg, name);
  }
  const int rc = with_errors_reported([&] {
    config::write_file_atomically(path, updated);
    return exit_ok;
  });
  if (rc != exit_ok) return rc;
  std::cout << "removed server '" << name << "' from " << path.string() << "\n";
  if (keep_credentials) {
    std::cout << "kept the stored credentials of '" << name << "' (--keep-credentials)\n";
    return exit_ok;
  }
  if (!forgotten) {
    print_error("the stored credentials of '" + name + "' were not erased: the config could not be read");
    return exit_usage;
  }
  if (!*forgotten) {
    print_error("could not erase the stored credentials of '" + name + "': " + forgotten->err().message +
                ". They stay where they are, filed under the server's name and URL (a server added later "
                "under this name with another URL never uses them). To erase them, make the store usable, add "
                "the server again with its old URL and run `fracta config mcp remove " + name + "` once more");
    return exit_code_for(forgotten->err());
  }
  if (!forgotten->value().empty()) std::cout << forgotten->value() << "\n";
  return exit_ok;
}

int cmd_config_set(const global_options& g, const set_options& o) {
  std::vector<config::server_change> changes;
  for (const auto& item : o.settings) {
    auto kv = split_kv(item);
    if (!kv) {
      print_error("'" + item.substr(0, item.find('=')) + "': expected KEY=VALUE (to remove a key: --unset KEY)");
      return exit_usage;
    }
    changes.push_back({kv->first, kv->second});
  }
  for (const auto& key : o.unset) changes.push_back({key, std::nullopt});
  if (changes.empty()) {
    print_error("nothing to change: give KEY=VALUE or --unset KEY, e.g. `fracta config mcp set " + o.name +
                " url=https://mcp.example.com/mcp`");
    return exit_usage;
  }
  const fs::path path = config_path(g);
  config::changed_server changed;
  std::string warning;
  bool read = false;
  const int rc = with_errors_reported([&] {
    const std::optional<std::string> text = config::read_text(path);
    if (!text) {
      print_error("no config file at " + path.string() + "; add a server first with `fracta config mcp add`");
      return exit_usage;
    }
    read = true;
    changed = config::with_server_changed(*text, path.string(), o.name, changes);
    const bool new_type = std::any_of(changed.set.begin(), changed.set.end(),
                                      [](const std::string& k) { return k.ends_with(".remote.auth.type"); });
    if (new_type) {  // as add: an auth type nothing provides is refused before anything is written
      const auto cfg = config::parse(changed.text, path.string());
      const auto registry = registry_without_config_code(cfg);
      warn_about_shadowing(registry);
      const auto* s = cfg.find(o.name);
      if (s != nullptr && check_provider(*s, registry) == provider_check::missing) return exit_usage;
    }
    config::new_server secrets;
    secrets.auth_secrets = changed.secrets;
    warning = config::literal_secret_warning(path, secrets);
    config::write_file_atomically(path, changed.text);
    return exit_ok;
  });
  if (rc != exit_ok) {
    if (read) print_error("nothing was written to " + path.string());
    return rc;
  }
  if (o.json) {
    fracta::json::writer w;
    w.begin_object().key("path").value(path.string()).key("server").value(o.name).key("set").begin_array();
    for (const auto& k : changed.set) w.value(k);
    w.end_array().key("unset").begin_array();
    for (const auto& k : changed.unset) w.value(k);
    w.end_array().key("stored_credentials_left_behind").value(changed.stored_credentials_left_behind).end_object();
    std::cout << w.take() << "\n";
  } else {
    for (const auto& k : changed.set) std::cout << "set " << k << " in " << path.string() << "\n";
    for (const auto& k : changed.unset) std::cout << "unset " << k << " in " << path.string() << "\n";
  }
  // What was done first, then what it means (stdout is flushed: the two may share a pipe).
  std::cout.flush();
  if (!warning.empty()) print_error("warning: " + warning);
  if (changed.stored_credentials_left_behind) {
    print_error("note: credentials stored for '" + o.name + "' belong to its old URL " +
                config::redacted_url(changed.old_url) +
                " (they are filed under the server's name and URL), so they are no longer used and never sent to "
                "the new one. Log in again with `fracta config mcp auth login " + o.name +
                "`; the old ones stay in the store until `fracta config mcp remove " + o.name + "` erases them");
  }
  return exit_ok;
}

int cmd_config_validate(const global_options& g, bool json) {
  auto cfg = load_or_report(g);
  if (!cfg) return exit_usage;
  // Every auth type must be provided by a built-in provider or a plugin found on the path.
  const auto registry = registry_without_config_code(*cfg);
  warn_about_shadowing(registry);
  int problems = 0;
  std::vector<std::string> unverified;
  for (const auto& s : cfg->servers) {
    const provider_check c = check_provider(s, registry);
    if (c == provider_check::missing) ++problems;
    if (c == provider_check::unverified) unverified.push_back(s.name);
  }
  if (problems) return exit_usage;
  if (json) {
    fracta::json::writer w;
    w.begin_object().key("valid").value(true).key("path").value(cfg->path)
        .key("servers").value(static_cast<std::int64_t>(cfg->servers.size()));
    if (!unverified.empty()) {
      w.key("unverified").begin_array();
      for (const auto& n : unverified) w.value(n);
      w.end_array();
    }
    w.end_object();
    std::cout << w.take() << "\n";
  } else {
    std::cout << cfg->path << " is valid (" << cfg->servers.size() << " server"
              << (cfg->servers.size() == 1 ? "" : "s");
    if (!unverified.empty()) {
      std::cout << "; the auth type of " << unverified.size() << " could not be checked, see above";
    }
    std::cout << ")\n";
  }
  return exit_ok;
}

int cmd_plugins_list(const global_options& g, bool json) {
  std::optional<config::config> cfg;
  const fs::path path = config_path(g);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    try {
      cfg = config::load(path);
    } catch (const config::config_error& e) {
      print_error(std::string("warning: ignoring the config's plugin paths: ") + e.what());
    }
  }
  const auto registry = plugin_registry::load(plugin_search_path(cfg ? &*cfg : nullptr));
  warn_about_shadowing(registry);
  if (json) {
    fracta::json::writer w;
    w.begin_object().key("plugins").begin_array();
    for (const auto& p : registry.plugins()) {
      w.begin_object().key("path").value(p.path).key("name").value(p.name).key("version").value(p.version)
          .key("abi").value(std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)).key("types").begin_array();
      for (const auto& t : p.types) w.value(t);
      w.end_array().end_object();
    }
    w.end_array().key("refused").begin_array();
    for (const auto& r : registry.refused()) w.begin_object().key("path").value(r.path).key("reason").value(r.reason).end_object();
    w.end_array().key("searched").begin_array();
    for (const auto& d : registry.searched()) w.value(d.string());
    w.end_array().end_object();
    std::cout << w.take() << "\n";
    return exit_ok;
  }
  for (const auto& p : registry.plugins()) {
    std::cout << p.path << "\n  abi " << p.abi_major << "." << p.abi_minor << ", " << p.name
              << (p.version.empty() ? "" : " " + p.version) << ", types:";
    for (const auto& t : p.types) std::cout << " " << t;
    std::cout << "\n";
  }
  for (const auto& r : registry.refused()) std::cout << "refused: " << r.reason << "\n";
  std::cout << "searched:";
  for (const auto& d : registry.searched()) std::cout << " " << d.string();
  std::cout << "\n";
  return exit_ok;
}

int cmd_version(bool json) {
  if (json) {
    fracta::json::writer w;
    w.begin_object().key("version").value(FRACTA_VERSION)
        .key("plugin_abi").value(std::to_string(FRACTA_ABI_MAJOR) + "." + std::to_string(FRACTA_ABI_MINOR)).end_object();
    std::cout << w.take() << "\n";
  } else {
    std::cout << "fracta " << FRACTA_VERSION << " (plugin ABI " << FRACTA_ABI_MAJOR << "." << FRACTA_ABI_MINOR << ")\n";
  }
  return exit_ok;
}

}  // namespace fracta::cli
