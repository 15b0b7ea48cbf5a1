// SPDX-License-Identifier: Apache-2.0
// TOML → typed config model: the file's structure, [plugins], servers and their remote table.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "config/parser.hpp"
#include <fracta/proto/fields.hpp>

namespace fracta::config {

config_error::config_error(const std::string& message, location where, std::string server,
                           std::string key)
    : std::runtime_error(message),
      where_(std::move(where)),
      server_(std::move(server)),
      key_(std::move(key)) {}

const server* config::find(std::string_view name) const noexcept {
  for (const auto& s : servers) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string config::no_such_server(std::string_view name) const {
  std::vector<std::string_view> names;
  for (const auto& s : servers) names.emplace_back(s.name);
  std::string msg = "no server named '" + text::printable(name, 80) + "'" + (path.empty() ? "" : " in " + path);
  if (names.empty()) return msg + "; it defines none yet: add one with `fracta config mcp add <name> --url https://…`";
  const auto near = text::suggest(name, names);
  msg += near ? "; did you mean '" + *near + "'?" : std::string(".");
  return msg + " Configured servers: " + detail::join(names) + " (`fracta config mcp list`)";
}

namespace detail {
namespace {

using http::iequals;
using http::is_token;

constexpr std::array top_keys{"plugins", "mcp", "gateway"};
constexpr std::array plugins_keys{"paths", "replace_builtin"};
constexpr std::array remote_keys{"url",
                                 "headers",
                                 "ca_bundle",
                                 "timeout_seconds",
                                 "allow_insecure_http",
                                 "allow_private_network",
                                 "protocol",
                                 "auth"};

bool is_protocol_choice(std::string_view v) {
  return v == "auto" || contains(modern_protocol_versions, v) || contains(legacy_protocol_versions, v);
}

std::string protocol_choices() {
  return join(modern_protocol_versions) + ", " + join(legacy_protocol_versions);
}

// The shipped types a plugin may be allowed to replace: all but the engine's own `none`.
std::vector<std::string_view> replaceable_types() {
  std::vector<std::string_view> out;
  for (std::string_view t : shipped_provider_types) {
    if (t != "none") out.push_back(t);
  }
  return out;
}

}  // namespace

std::vector<entry> ordered(const toml::table& t) {
  std::vector<entry> out;
  for (auto&& [k, n] : t) out.emplace_back(&k, &n);
  std::stable_sort(out.begin(), out.end(), [](const entry& a, const entry& b) {
    const auto& sa = a.first->source().begin;
    const auto& sb = b.first->source().begin;
    return sa.line != sb.line ? sa.line < sb.line : sa.column < sb.column;
  });
  return out;
}

std::string type_name(const toml::node& n) {
  static constexpr std::pair<toml::node_type, std::string_view> names[] = {
      {toml::node_type::table, "a table"},     {toml::node_type::array, "an array"},
      {toml::node_type::string, "a string"},   {toml::node_type::integer, "an integer"},
      {toml::node_type::floating_point, "a float"}, {toml::node_type::boolean, "a boolean"},
      {toml::node_type::date, "a date"},       {toml::node_type::time, "a time"},
      {toml::node_type::date_time, "a date-time"}};
  for (const auto& [type, name] : names) {
    if (type == n.type()) return std::string(name);
  }
  return "nothing";
}

std::string dotted(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  out += toml_key(key);
  return out;
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return pw->pw_dir;
  return {};
}

}  // namespace detail

std::string expand_home(std::string_view path) {
  if (path != "~" && path.rfind("~/", 0) != 0) return std::string(path);
  const std::string home = detail::home_dir();
  if (home.empty()) return std::string(path);
  return (std::filesystem::path(home) / path.substr(path.size() > 1 ? 2 : 1)).string();
}

namespace detail {

parser::parser(const std::string& path, parse_options options) : path_(path), options_(options) {
  std::error_code ec;
  if (path.empty()) {
    dir_ = std::filesystem::current_path(ec);
  } else {
    dir_ = std::filesystem::absolute(std::filesystem::path(path), ec).parent_path();
  }
}

config parser::run(const toml::table& root) {
  config out;
  out.path = path_;
  for (const auto& [k, n] : ordered(root)) {
    if (k->str() == "plugins") {
      parse_plugins(*n, out);
    } else if (k->str() == "mcp") {
      parse_mcp(*n, out);
    } else if (k->str() == "gateway") {
      parse_gateway(*n, out);
    } else {
      unknown_key(*k, "", top_keys);
    }
  }
  return out;
}

location parser::loc(const toml::source_region& r) const {
  return location{path_, static_cast<std::uint32_t>(r.begin.line),
                  static_cast<std::uint32_t>(r.begin.column)};
}

void parser::fail(const toml::source_region& at, std::string_view key, std::string_view problem,
                  std::string_view fix) const {
  throw make_error(loc(at), server_, key, problem, fix);
}

const toml::table& parser::need_table(const toml::node& n, std::string_view key,
                                      std::string_view fix) const {
  const auto* t = n.as_table();
  if (t == nullptr) fail(n.source(), key, "must be a table, not " + type_name(n), fix);
  return *t;
}

const std::string& parser::need_string(const toml::node& n, std::string_view key,
                                       std::string_view fix) const {
  const auto* s = n.as_string();
  if (s == nullptr) fail(n.source(), key, "must be a string, not " + type_name(n), fix);
  return s->get();
}

bool parser::need_bool(const toml::node& n, std::string_view key, std::string_view name) const {
  const auto* b = n.as_boolean();
  if (b == nullptr) {
    fail(n.source(), key, "must be true or false, not " + type_name(n),
         "Write " + std::string(name) + " = true");
  }
  return b->get();
}

namespace {

// The rest of a path that starts with systemd's credentials directory (LoadCredential=),
// written ${CREDENTIALS_DIRECTORY}/… or $CREDENTIALS_DIRECTORY/…; nullopt otherwise.
std::optional<std::string> after_credentials_directory(const std::string& p) {
  for (std::string_view prefix : {"${CREDENTIALS_DIRECTORY}/", "$CREDENTIALS_DIRECTORY/"}) {
    if (p.rfind(prefix, 0) == 0) return p.substr(prefix.size());
  }
  return std::nullopt;
}

std::string credentials_directory() {
  const char* d = std::getenv("CREDENTIALS_DIRECTORY");
  return d != nullptr ? std::string(d) : std::string();
}

}  // namespace

void parser::check_credentials_directory(const toml::node& n, std::string_view key, const std::string& p) const {
  if (after_credentials_directory(p) && credentials_directory().empty()) {
    fail(n.source(), key, "starts with $CREDENTIALS_DIRECTORY, which is not set in fracta's environment",
         "systemd sets it for a service with LoadCredential=NAME:PATH (docs/deployments.md); outside such a "
         "service, write the file's full path");
  }
}

std::string parser::absolute_path(const std::string& p) const {
  std::filesystem::path fp(p);
  if (auto rest = after_credentials_directory(p)) {
    const std::string dir = credentials_directory();
    if (!dir.empty()) fp = std::filesystem::path(dir) / *rest;
  }
  if (p == "~" || p.rfind("~/", 0) == 0) fp = expand_home(p);
  if (fp.is_relative()) fp = dir_ / fp;
  return fp.lexically_normal().string();
}

std::string parser::need_path(const toml::node& n, std::string_view key,
                              std::string_view example) const {
  const std::string& s =
      need_string(n, key, std::string("Write the path as a string, e.g. ") + std::string(example));
  if (s.empty()) {
    fail(n.source(), key, "is empty",
         std::string("Write a path (relative paths are resolved against the config file's "
                     "directory), e.g. ") +
             std::string(example));
  }
  check_credentials_directory(n, key, s);
  return absolute_path(s);
}

void parser::check_url_at(const toml::node& n, std::string_view url, std::string_view key,
                          url_use use, bool allow_insecure_http, std::string_view example) const {
  // The URL is not quoted back: it may carry credentials in its user-info or query.
  if (auto problem = check_url(url, use, allow_insecure_http, example)) {
    fail(n.source(), key, problem->problem, problem->fix);
  }
}

void parser::parse_plugins(const toml::node& n, config& out) {
  const auto& t = need_table(n, "plugins", "Write [plugins] with paths = [\"/path/to/plugins\"]");
  for (const auto& [pk, pn] : ordered(t)) {
    const std::string name(pk->str());
    if (name != "paths" && name != "replace_builtin") unknown_key(*pk, "plugins", plugins_keys);
    const std::string key = "plugins." + name;
    const std::string fix = name == "paths"
                                ? std::string("Write paths = [\"/usr/lib/fracta/plugins\"]")
                                : std::string("Write replace_builtin = [\"bearer\"]");
    const auto* arr = pn->as_array();
    if (arr == nullptr) {
      fail(pn->source(), key, "must be an array of strings, not " + type_name(*pn), fix);
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = (*arr)[i];
      const std::string ekey = key + "[" + std::to_string(i) + "]";
      if (name == "paths") {
        out.plugins.paths.push_back(need_path(e, ekey, "\"/usr/lib/fracta/plugins\""));
        continue;
      }
      const std::string& type = need_string(e, ekey, fix);
      const auto replaceable = replaceable_types();
      if (type == "none") {
        fail(e.source(), ekey, "'none' is built into the engine and cannot be replaced",
             "Remove it");
      }
      if (!contains(replaceable, type)) {
        std::string hint;
        if (auto s = suggest(type, replaceable)) hint = "Did you mean '" + *s + "'? ";
        fail(e.source(), ekey, "'" + type + "' is not a provider type fracta ships",
             hint + "Only these need the permission: " + join(replaceable) +
                 "; a plugin's own types need none");
      }
      out.plugins.replace_builtin.push_back(type);
    }
  }
}

void parser::parse_mcp(const toml::node& n, config& out) {
  const auto& t = need_table(n, "mcp", "Write servers as [mcp.servers.<name>.remote] tables");
  for (const auto& [mk, mn] : ordered(t)) {
    if (mk->str() != "servers") unknown_key(*mk, "mcp", std::array{"servers"});
    const auto& servers =
        need_table(*mn, "mcp.servers", "Write each server as a [mcp.servers.<name>.remote] table");
    for (const auto& [sk, sn] : ordered(servers)) parse_server(*sk, *sn, out);
  }
}

void parser::parse_server(const toml::key& k, const toml::node& n, config& out) {
  const std::string name(k.str());
  const std::string prefix = dotted("mcp.servers", name);
  if (!is_valid_server_name(name)) {
    fail(k.source(), prefix,
         name.empty()
             ? "server name is empty"
             : (name.size() > 64 ? "server name is longer than 64 characters"
                                 : "server name may only contain letters, digits, '_' and '-'"),
         "Rename it to 1-64 characters from [A-Za-z0-9_-], e.g. [mcp.servers.my-server.remote]");
  }
  server_ = name;
  const auto& t =
      need_table(n, prefix, "Write the server as [" + prefix + ".remote] with url = \"https://…\"");
  server s;
  s.name = name;
  s.where = loc(t.source());
  const toml::table* remote = nullptr;
  for (const auto& [rk, rn] : ordered(t)) {
    if (rk->str() == "gateway") {
      parse_server_gateway(*rn, prefix + ".gateway", s);
      continue;
    }
    if (rk->str() != "remote") unknown_key(*rk, prefix, std::array{"remote", "gateway"});
    remote = &need_table(*rn, prefix + ".remote",
                         "Write [" + prefix + ".remote] with url = \"https://…\"");
  }
  if (remote == nullptr) {
    fail(t.source(), prefix + ".remote", "missing",
         "Add a [" + prefix + ".remote] table with url = \"https://mcp.example.com/mcp\"");
  }
  parse_remote(*remote, prefix + ".remote", s);
  out.servers.push_back(std::move(s));
  server_.clear();
}

void parser::parse_remote(const toml::table& t, const std::string& prefix, server& s) {
  const toml::node* url = nullptr;
  const toml::table* headers_table = nullptr;
  const toml::table* auth_table = nullptr;
  for (const auto& [k, n] : ordered(t)) {
    const std::string name(k->str());
    const std::string key = dotted(prefix, name);
    if (name == "url") {
      url = n;
    } else if (name == "headers") {
      headers_table = &need_table(*n, key, "Write headers = { \"X-Team\" = \"platform\" }");
    } else if (name == "ca_bundle") {
      s.ca_bundle = need_path(*n, key, "ca_bundle = \"/etc/ssl/certs/corp-ca.pem\"");
    } else if (name == "timeout_seconds") {
      const auto* i = n->as_integer();
      if (i == nullptr) {
        fail(n->source(), key, "must be an integer, not " + type_name(*n),
             "Write a whole number of seconds between 1 and 3600, e.g. timeout_seconds = 30");
      }
      if (i->get() < 1 || i->get() > 3600) {
        fail(n->source(), key, "is " + std::to_string(i->get()) + ", outside 1..3600",
             "Write a whole number of seconds between 1 and 3600, e.g. timeout_seconds = 30");
      }
      s.timeout_seconds = static_cast<std::uint32_t>(i->get());
    } else if (name == "allow_insecure_http") {
      s.allow_insecure_http = need_bool(*n, key, name);
    } else if (name == "allow_private_network") {
      s.allow_private_network = need_bool(*n, key, name);
    } else if (name == "protocol") {
      s.protocol = need_string(*n, key, "Write protocol = \"auto\" (or a version, e.g. \"2026-07-28\")");
      if (!is_protocol_choice(s.protocol)) {
        fail(n->source(), key, "is '" + s.protocol + "', not a protocol fracta speaks",
             "Write protocol = \"auto\" (fracta asks the server) or one of " + protocol_choices());
      }
    } else if (name == "auth") {
      auth_table = &need_table(
          *n, key, "Write [" + key + "] with type = \"bearer\" (or none, header, basic, oauth)");
    } else {
      unknown_key(*k, prefix, remote_keys);
    }
  }
  if (url == nullptr) {
    fail(t.source(), prefix + ".url", "missing",
         "Add url = \"https://mcp.example.com/mcp\" to [" + prefix + "]");
  }
  const std::string url_key = prefix + ".url";
  s.url = need_string(*url, url_key, "Write url = \"https://mcp.example.com/mcp\"");
  check_url_at(*url, s.url, url_key, url_use::server, s.allow_insecure_http,
               "url = \"https://mcp.example.com/mcp\"");

  const toml::key* authorization_header = nullptr;
  if (headers_table != nullptr) {
    parse_headers(*headers_table, prefix + ".headers", s, authorization_header);
  }
  if (auth_table != nullptr) parse_auth(*auth_table, prefix + ".auth", s, authorization_header);
}

void parser::parse_headers(const toml::table& t, const std::string& prefix, server& s,
                           const toml::key*& authorization_header) const {
  for (const auto& [k, n] : ordered(t)) {
    const std::string key = dotted(prefix, k->str());
    if (!is_token(k->str())) {
      fail(k->source(), key, "is not a valid HTTP header name",
           "Header names are RFC 9110 tokens: letters, digits and !#$%&'*+-.^_`|~ (no spaces "
           "or colons)");
    }
    // Header values may carry credentials: never quote them in messages.
    const std::string& v = need_string(
        *n, key, "Write the header value as a string: \"" + std::string(k->str()) + "\" = \"…\"");
    if (!http::is_field_value(v)) {
      fail(n->source(), key, "value contains a line break or NUL character",
           "Header values must be a single line; remove the \\r, \\n or \\0");
    }
    for (const auto& [seen, unused] : s.headers) {
      if (iequals(seen, k->str())) {
        fail(k->source(), key,
             "duplicates header '" + seen + "' (header names are case-insensitive)",
             "Keep only one of them");
      }
    }
    if (iequals(k->str(), "authorization")) authorization_header = k;
    s.headers.emplace_back(k->str(), v);
  }
}

config parse_text(std::string_view text, const std::string& path, parse_options options) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(path.empty() ? "<config>" : path));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw make_error(
        location{path, static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column)},
        "", "", std::string("invalid TOML: ") + std::string(e.description()),
        "Fix the syntax at that position");
  }
  return parser(path, options).run(root);
}

}  // namespace detail

config parse(std::string_view text, const std::string& path) {
  return detail::parse_text(text, path, {});
}

config load(const std::filesystem::path& path) {
  const std::optional<std::string> text = read_text(path);
  if (!text) {
    throw detail::make_error(
        location{path.string(), 0, 0}, "", "", "no configuration file here",
        "Create one with `fracta config mcp add <name> --url https://…`, write it by hand, or "
        "point --config or $FRACTA_CONFIG at an existing file");
  }
  return parse(*text, path.string());
}

std::filesystem::path default_path() {
  if (const char* p = std::getenv("FRACTA_CONFIG"); p != nullptr && *p != '\0') return p;
  // The XDG spec says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x == '/') {
    return std::filesystem::path(x) / "fracta" / "config.toml";
  }
  return std::filesystem::path(detail::home_dir()) / ".config" / "fracta" / "config.toml";
}

}  // namespace fracta::config
