// SPDX-License-Identifier: Apache-2.0
// TOML → typed config model, with every validation rule of the product brief.
#include <pwd.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <system_error>

#include "config/detail.hpp"
#include <fracta/proto/json.hpp>
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

namespace detail {

std::string format_location(const location& where) {
  std::string out = where.file.empty() ? std::string("<config>") : where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  return out;
}

config_error make_error(const location& where, std::string_view server, std::string_view key,
                        std::string_view problem, std::string_view fix) {
  std::string msg = format_location(where);
  msg += ": ";
  if (!server.empty()) {
    msg += "server '";
    msg += server;
    msg += "': ";
  }
  if (!key.empty()) {
    msg += key;
    msg += ": ";
  }
  msg += problem;
  msg += ". ";
  msg += fix;
  if (!fix.empty() && fix.back() != '.' && fix.back() != '?') msg += '.';
  return config_error(msg, where, std::string(server), std::string(key));
}

bool is_bare_key(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

std::string toml_quote(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string toml_key(std::string_view s) { return is_bare_key(s) ? std::string(s) : toml_quote(s); }

bool is_valid_server_name(std::string_view s) noexcept { return s.size() <= 64 && is_bare_key(s); }

}  // namespace detail

namespace {

using http::iequals;
using http::is_token;

using detail::make_error;
using detail::toml_key;
using detail::toml_quote;

constexpr std::array builtin_types{"none", "bearer", "header", "basic", "oauth"};
constexpr std::array grant_types{"authorization_code", "client_credentials", "device_code"};
constexpr std::array token_stores{"auto", "keyring", "file"};
constexpr std::array secret_sources{"value", "env", "file"};

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Case-insensitive Levenshtein distance (keys are short).
std::size_t edit_distance(std::string_view a_in, std::string_view b_in) {
  const std::string a = to_lower(a_in), b = to_lower(b_in);
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <class Range>
std::optional<std::string> suggest(std::string_view word, const Range& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = 3;
  for (std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

template <class Range>
std::string join_quoted(const Range& items, std::string_view sep = ", ") {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

template <class Range>
bool contains(const Range& items, std::string_view s) {
  return std::any_of(std::begin(items), std::end(items),
                     [&](std::string_view x) { return x == s; });
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

enum class url_problem { none, not_http, no_host, bad_chars, bad_port };

url_problem check_http_url(std::string_view url) {
  for (char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F) return url_problem::bad_chars;
  }
  std::string_view rest;
  const std::string lower = to_lower(url.substr(0, 8));
  if (lower.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (lower.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return url_problem::not_http;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return url_problem::no_host;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_problem::bad_port;
      port = after.substr(1);
      if (port.empty()) return url_problem::bad_port;
    }
    if (host.size() <= 2) return url_problem::no_host;
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return url_problem::bad_port;
  }
  if (host.empty()) return url_problem::no_host;
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return url_problem::bad_port;
    if (std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0)
      return url_problem::bad_port;
  }
  return url_problem::none;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string two(unsigned v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

std::string format_date(const toml::date& d) {
  std::string y = std::to_string(d.year);
  while (y.size() < 4) y.insert(0, "0");
  return y + "-" + two(d.month) + "-" + two(d.day);
}

std::string format_time(const toml::time& t) {
  std::string out = two(t.hour) + ":" + two(t.minute) + ":" + two(t.second);
  if (t.nanosecond != 0) {
    std::string frac = std::to_string(t.nanosecond);
    while (frac.size() < 9) frac.insert(0, "0");
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out;
}

// RFC 3339 for offset date-times; the TOML local forms otherwise.
std::string format_date_time(const toml::date_time& dt) {
  std::string out = format_date(dt.date) + "T" + format_time(dt.time);
  if (dt.offset) {
    const int minutes = dt.offset->minutes;
    if (minutes == 0) {
      out += "Z";
    } else {
      const int a = minutes < 0 ? -minutes : minutes;
      out += (minutes < 0 ? "-" : "+") + two(static_cast<unsigned>(a / 60)) + ":" +
             two(static_cast<unsigned>(a % 60));
    }
  }
  return out;
}

std::int64_t unix_seconds(const toml::date_time& dt) {
  const std::int64_t days = days_from_civil(dt.date.year, dt.date.month, dt.date.day);
  return days * 86400 + dt.time.hour * 3600 + dt.time.minute * 60 + dt.time.second -
         static_cast<std::int64_t>(dt.offset->minutes) * 60;
}

using entry = std::pair<const toml::key*, const toml::node*>;

// A table's entries in the order they were written (toml++ keeps them sorted by name).
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

constexpr std::array remote_keys{"url", "headers", "ca_bundle", "timeout_seconds", "auth"};
constexpr std::array bearer_keys{"type", "token"};
constexpr std::array header_keys{"type", "header_name", "header_value"};
constexpr std::array basic_keys{"type", "username", "password"};
constexpr std::array none_keys{"type"};
constexpr std::array oauth_keys{"type",
                                "grant_type",
                                "scopes",
                                "token_store",
                                "client_id",
                                "client_secret",
                                "access_token",
                                "refresh_token",
                                "expires_at",
                                "token_file",
                                "client_registration_file",
                                "metadata_url",
                                "redirect_uri",
                                "resource",
                                "omit_resource",
                                "authorize_params",
                                "token_params",
                                "token_endpoint_auth_method",
                                "client_metadata_url",
                                "private_key",
                                "key_id",
                                "passphrase"};

class parser final {
 public:
  parser(const std::string& path, detail::parse_options options) : path_(path), options_(options) {
    std::error_code ec;
    if (path.empty()) {
      dir_ = std::filesystem::current_path(ec);
    } else {
      dir_ = std::filesystem::absolute(std::filesystem::path(path), ec).parent_path();
    }
  }

  config run(const toml::table& root) {
    config out;
    out.path = path_;
    for (const auto& [k, n] : ordered(root)) {
      if (k->str() == "plugins") {
        parse_plugins(*n, out);
      } else if (k->str() == "mcp") {
        parse_mcp(*n, out);
      } else {
        unknown_key(*k, "", std::array{"plugins", "mcp"});
      }
    }
    return out;
  }

 private:
  location loc(const toml::source_region& r) const {
    return location{path_, static_cast<std::uint32_t>(r.begin.line),
                    static_cast<std::uint32_t>(r.begin.column)};
  }

  [[noreturn]] void fail(const toml::source_region& at, std::string_view key,
                         std::string_view problem, std::string_view fix) const {
    throw make_error(loc(at), server_, key, problem, fix);
  }

  template <class Range>
  [[noreturn]] void unknown_key(const toml::key& k, std::string_view prefix,
                                const Range& allowed) const {
    const std::string key = dotted(prefix, k.str());
    std::string fix;
    if (auto s = suggest(k.str(), allowed)) fix = "Did you mean '" + *s + "'? ";
    fix += "Remove it or use one of the keys allowed here: " + join_quoted(allowed);
    fail(k.source(), key, "unknown key", fix);
  }

  const toml::table& need_table(const toml::node& n, std::string_view key,
                                std::string_view fix) const {
    const auto* t = n.as_table();
    if (t == nullptr) fail(n.source(), key, "must be a table, not " + type_name(n), fix);
    return *t;
  }

  const std::string& need_string(const toml::node& n, std::string_view key,
                                 std::string_view fix) const {
    const auto* s = n.as_string();
    if (s == nullptr) fail(n.source(), key, "must be a string, not " + type_name(n), fix);
    return s->get();
  }

  std::string absolute_path(const std::string& p) const {
    std::filesystem::path fp(p);
    if (p == "~" || p.rfind("~/", 0) == 0) {
      const std::string home = home_dir();
      if (!home.empty()) fp = std::filesystem::path(home) / p.substr(p.size() > 1 ? 2 : 1);
    }
    if (fp.is_relative()) fp = dir_ / fp;
    return fp.lexically_normal().string();
  }

  std::string need_path(const toml::node& n, std::string_view key, std::string_view example) const {
    const std::string& s = need_string(
        n, key, std::string("Write the path as a string, e.g. ") + std::string(example));
    if (s.empty()) {
      fail(n.source(), key, "is empty",
           std::string("Write a path (relative paths are resolved against the config file's "
                       "directory), e.g. ") +
               std::string(example));
    }
    return absolute_path(s);
  }

  void parse_plugins(const toml::node& n, config& out) {
    const auto& t = need_table(n, "plugins", "Write [plugins] with paths = [\"/path/to/plugins\"]");
    for (const auto& [pk, pn] : ordered(t)) {
      if (pk->str() != "paths") unknown_key(*pk, "plugins", std::array{"paths"});
      const auto* arr = pn->as_array();
      if (arr == nullptr) {
        fail(pn->source(), "plugins.paths", "must be an array of strings, not " + type_name(*pn),
             "Write paths = [\"/usr/lib/fracta/plugins\"]");
      }
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string key = "plugins.paths[" + std::to_string(i) + "]";
        out.plugin_paths.push_back(need_path((*arr)[i], key, "\"/usr/lib/fracta/plugins\""));
      }
    }
  }

  void parse_mcp(const toml::node& n, config& out) {
    const auto& t = need_table(n, "mcp", "Write servers as [mcp.servers.<name>.remote] tables");
    for (const auto& [mk, mn] : ordered(t)) {
      if (mk->str() != "servers") unknown_key(*mk, "mcp", std::array{"servers"});
      const auto& servers = need_table(*mn, "mcp.servers",
                                       "Write each server as a [mcp.servers.<name>.remote] table");
      for (const auto& [sk, sn] : ordered(servers)) parse_server(*sk, *sn, out);
    }
  }

  void parse_server(const toml::key& k, const toml::node& n, config& out) {
    const std::string name(k.str());
    const std::string prefix = dotted("mcp.servers", name);
    if (!detail::is_valid_server_name(name)) {
      fail(k.source(), prefix,
           name.empty()
               ? "server name is empty"
               : (name.size() > 64 ? "server name is longer than 64 characters"
                                   : "server name may only contain letters, digits, '_' and '-'"),
           "Rename it to 1-64 characters from [A-Za-z0-9_-], e.g. [mcp.servers.my-server.remote]");
    }
    server_ = name;
    const auto& t = need_table(
        n, prefix, "Write the server as [" + prefix + ".remote] with url = \"https://…\"");
    server s;
    s.name = name;
    s.where = loc(t.source());
    const toml::table* remote = nullptr;
    for (const auto& [rk, rn] : ordered(t)) {
      if (rk->str() != "remote") unknown_key(*rk, prefix, std::array{"remote"});
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

  void parse_remote(const toml::table& t, const std::string& prefix, server& s) {
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
    check_url(*url, s.url, url_key, "url = \"https://mcp.example.com/mcp\"");

    const toml::key* authorization_header = nullptr;
    if (headers_table != nullptr) {
      const std::string hprefix = prefix + ".headers";
      for (const auto& [k, n] : ordered(*headers_table)) {
        const std::string key = dotted(hprefix, k->str());
        if (!is_token(k->str())) {
          fail(k->source(), key, "is not a valid HTTP header name",
               "Header names are RFC 9110 tokens: letters, digits and !#$%&'*+-.^_`|~ (no spaces "
               "or colons)");
        }
        // Header values may carry credentials: never quote them in messages.
        const std::string& v = need_string(
            *n, key,
            "Write the header value as a string: \"" + std::string(k->str()) + "\" = \"…\"");
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

    if (auth_table != nullptr) parse_auth(*auth_table, prefix + ".auth", s, authorization_header);
  }

  void check_url(const toml::node& n, std::string_view url, std::string_view key,
                 std::string_view example) const {
    // The URL is not quoted back: it may carry credentials in its user-info or query.
    switch (check_http_url(url)) {
      case url_problem::none:
        return;
      case url_problem::not_http:
        fail(n.source(), key, "must be an absolute http:// or https:// URL",
             "Write " + std::string(example));
      case url_problem::no_host:
        fail(n.source(), key, "has no host", "Write " + std::string(example));
      case url_problem::bad_chars:
        fail(n.source(), key, "contains spaces or control characters",
             "Percent-encode them (a space is %20), e.g. " + std::string(example));
      case url_problem::bad_port:
        fail(n.source(), key, "has an invalid port",
             "Use a port between 1 and 65535, e.g. https://host:8443/mcp");
    }
  }

  secret_value parse_secret(const toml::node& n, const std::string& key,
                            std::string_view short_key) const {
    const std::string example_env = std::string(short_key) + " = { env = \"NAME\" }";
    const std::string how = "Write " + example_env + " to read an environment variable, " +
                            std::string(short_key) +
                            " = { file = \"/path/to/secret\" } to read a file, or " +
                            std::string(short_key) + " = { value = \"…\" } for a literal";
    if (n.is_string()) {
      // The string is most likely the secret itself: never repeat it.
      fail(n.source(), key, "is a plain string, but secrets are written as a SecretValue table",
           how);
    }
    const auto* t = n.as_table();
    if (t == nullptr) {
      fail(
          n.source(), key,
          "must be a SecretValue table with exactly one of value, env or file, not " + type_name(n),
          how);
    }
    std::vector<entry> sources;
    for (const auto& [k, v] : ordered(*t)) {
      if (!contains(secret_sources, k->str())) {
        const std::string sk = dotted(key, k->str());
        std::string fix;
        if (auto s = suggest(k->str(), secret_sources)) fix = "Did you mean '" + *s + "'? ";
        fix += "A SecretValue takes exactly one of value, env or file";
        fail(k->source(), sk, "unknown key in a SecretValue", fix);
      }
      sources.emplace_back(k, v);
    }
    if (sources.empty()) {
      fail(t->source(), key, "has no source",
           "Give exactly one of value, env or file: " + example_env);
    }
    if (sources.size() > 1) {
      fail(sources[1].first->source(), key,
           "has both '" + std::string(sources[0].first->str()) + "' and '" +
               std::string(sources[1].first->str()) + "'; a SecretValue takes exactly one source",
           "Keep only one of value, env or file");
    }
    const auto& [sk, sv] = sources.front();
    const std::string source_key = dotted(key, sk->str());
    const auto* str = sv->as_string();
    if (str == nullptr) {
      fail(sv->source(), source_key, "must be a string, not " + type_name(*sv),
           sk->str() == "env"    ? std::string("Write env = \"VARIABLE_NAME\"")
           : sk->str() == "file" ? std::string("Write file = \"/path/to/secret\"")
                                 : std::string("Write value = \"…\" (or better, use env or file)"));
    }
    secret_value out;
    out.key = key;
    out.where = loc(t->source());
    if (sk->str() == "value") {
      if (str->get().empty()) {
        fail(sv->source(), source_key, "is empty",
             "Put the secret in it, or read it with env = \"NAME\" or file = \"/path\"");
      }
      out.from = secret_value::source::value;
      out.ref = str->get();
    } else if (sk->str() == "env") {
      if (str->get().empty()) {
        fail(sv->source(), source_key, "is empty",
             "Write the name of an environment variable, e.g. env = \"GITHUB_TOKEN\"");
      }
      if (str->get().find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
        fail(sv->source(), source_key,
             "is not a valid environment variable name (it contains '=' or NUL)",
             "Write just the variable's name, e.g. env = \"GITHUB_TOKEN\"");
      }
      out.from = secret_value::source::env;
      out.ref = str->get();
    } else {
      if (str->get().empty()) {
        fail(sv->source(), source_key, "is empty",
             "Write the path of a file holding the secret, e.g. file = \"/run/secrets/token\"");
      }
      out.from = secret_value::source::file;
      out.ref = absolute_path(str->get());
    }
    return out;
  }

  template <class Range>
  std::string need_choice(const toml::node& n, const std::string& key, const Range& choices) const {
    const std::string& v = need_string(n, key, "Write one of: " + join_quoted(choices));
    if (!contains(choices, v)) {
      std::string fix;
      if (auto s = suggest(v, choices)) fix = "Did you mean '" + *s + "'? ";
      fix += "Use one of: " + join_quoted(choices);
      fail(n.source(), key, "'" + v + "' is not supported", fix);
    }
    return v;
  }

  void parse_auth(const toml::table& t, const std::string& prefix, server& s,
                  const toml::key* authorization_header) {
    auth& a = s.auth;
    a.where = loc(t.source());
    const toml::node* type = t.get("type");
    const std::string type_key = prefix + ".type";
    const std::string types = join_quoted(builtin_types);
    if (type == nullptr) {
      fail(t.source(), type_key, "missing",
           "Add type = \"…\" to [" + prefix + "]: one of " + types + " or a plugin's type name");
    }
    a.where = loc(type->source());
    a.type = need_string(*type, type_key,
                         "Write type = \"bearer\" (or " + types + ", or a plugin's type name)");
    const bool builtin = contains(builtin_types, a.type);
    if (!builtin && !is_plugin_type(a.type)) {
      std::string fix;
      if (auto sg = suggest(a.type, builtin_types)) fix = "Did you mean '" + *sg + "'? ";
      fix += "Use one of " + types + ", or a plugin's type name ([a-z0-9][a-z0-9_-]*)";
      fail(type->source(), type_key, "'" + a.type + "' is not an auth type", fix);
    }

    if (authorization_header != nullptr &&
        (a.type == "bearer" || a.type == "basic" || a.type == "oauth")) {
      const std::string remote_prefix =
          prefix.substr(0, prefix.size() - std::string_view(".auth").size());
      fail(authorization_header->source(),
           dotted(remote_prefix + ".headers", authorization_header->str()),
           "cannot be combined with auth type '" + a.type +
               "', which generates the Authorization header",
           "Remove the Authorization header, or set auth type = \"none\" to send it as written");
    }

    if (a.type == "none") {
      check_keys(t, prefix, none_keys);
    } else if (a.type == "bearer") {
      check_keys(t, prefix, bearer_keys);
      a.token = required_secret(t, prefix, "token");
    } else if (a.type == "header") {
      check_keys(t, prefix, header_keys);
      const toml::node* hn = t.get("header_name");
      const std::string hkey = prefix + ".header_name";
      if (hn == nullptr) {
        fail(t.source(), hkey, "missing",
             "Add header_name = \"X-Api-Key\" (the header to send) to [" + prefix + "]");
      }
      a.header_name = need_string(*hn, hkey, "Write header_name = \"X-Api-Key\"");
      if (!is_token(a.header_name)) {
        fail(hn->source(), hkey, "is not a valid HTTP header name",
             "Header names are RFC 9110 tokens: letters, digits and !#$%&'*+-.^_`|~, e.g. "
             "\"X-Api-Key\"");
      }
      for (const auto& [h, unused] : s.headers) {
        if (iequals(h, a.header_name)) {
          fail(hn->source(), hkey,
               "'" + a.header_name +
                   "' is also set in remote.headers (header names are case-insensitive)",
               "Remove '" + h + "' from remote.headers, or choose another header_name");
        }
      }
      a.header_value = required_secret(t, prefix, "header_value");
    } else if (a.type == "basic") {
      check_keys(t, prefix, basic_keys);
      a.username = required_secret(t, prefix, "username");
      a.password = required_secret(t, prefix, "password");
    } else if (a.type == "oauth") {
      check_keys(t, prefix, oauth_keys);
      parse_oauth(t, prefix, a);
    }
    // Plugin types: the table goes through as-is; the engine checks a plugin provides the type.
    a.json = auth_json(t, a.type == "oauth");
  }

  static bool is_plugin_type(std::string_view s) {
    if (s.empty()) return false;
    const auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok_first(s.front())) return false;
    return std::all_of(s.begin(), s.end(),
                       [&](char c) { return ok_first(c) || c == '_' || c == '-'; });
  }

  template <class Range>
  void check_keys(const toml::table& t, const std::string& prefix, const Range& allowed) const {
    for (const auto& [k, n] : ordered(t)) {
      (void)n;
      if (!contains(allowed, k->str())) unknown_key(*k, prefix, allowed);
    }
  }

  secret_value required_secret(const toml::table& t, const std::string& prefix,
                               std::string_view name) const {
    const std::string key = dotted(prefix, name);
    const toml::node* n = t.get(name);
    if (n == nullptr) {
      fail(t.source(), key, "missing",
           "Add " + std::string(name) + " = { env = \"NAME\" } (or { file = \"/path\" }) to [" +
               prefix + "]");
    }
    return parse_secret(*n, key, name);
  }

  void parse_oauth(const toml::table& t, const std::string& prefix, auth& a) const {
    a.grant_type = "authorization_code";
    a.token_store = "auto";
    const toml::node* grant_node = nullptr;
    const toml::node* access_node = nullptr;
    const toml::node* token_file_node = nullptr;
    for (const auto& [k, n] : ordered(t)) {
      const std::string name(k->str());
      const std::string key = dotted(prefix, name);
      if (name == "grant_type") {
        grant_node = n;
        a.grant_type = need_choice(*n, key, grant_types);
      } else if (name == "token_store") {
        a.token_store = need_choice(*n, key, token_stores);
      } else if (name == "scopes") {
        const auto* arr = n->as_array();
        if (arr == nullptr) {
          fail(n->source(), key, "must be an array of strings, not " + type_name(*n),
               "Write scopes = [\"read\", \"write\"]");
        }
        for (std::size_t i = 0; i < arr->size(); ++i) {
          const toml::node& e = (*arr)[i];
          const std::string ekey = key + "[" + std::to_string(i) + "]";
          const std::string& scope = need_string(e, ekey, "Write scopes = [\"read\", \"write\"]");
          if (scope.empty())
            fail(e.source(), ekey, "is empty", "Remove it or write the scope's name");
          if (std::any_of(scope.begin(), scope.end(), [](char c) {
                const auto u = static_cast<unsigned char>(c);
                return u <= 0x20 || u == 0x7F || c == '"' || c == '\\';
              })) {
            fail(e.source(), ekey, "contains a space, quote, backslash or control character",
                 "Write each scope as its own string: scopes = [\"read\", \"write\"]");
          }
          a.scopes.push_back(scope);
        }
      } else if (name == "client_id") {
        a.client_id = parse_secret(*n, key, name);
      } else if (name == "client_secret") {
        a.client_secret = parse_secret(*n, key, name);
      } else if (name == "access_token") {
        access_node = n;
        a.access_token = parse_secret(*n, key, name);
      } else if (name == "refresh_token") {
        a.refresh_token = parse_secret(*n, key, name);
      } else if (name == "passphrase") {
        a.passphrase = parse_secret(*n, key, name);
      } else if (name == "private_key") {
        (void)parse_secret(*n, key, name);
      } else if (name == "expires_at") {
        a.expires_at = parse_expires_at(*n, key);
      } else if (name == "token_file") {
        token_file_node = n;
        a.token_file = need_path(*n, key, "token_file = \"/var/run/secrets/fracta/token.json\"");
      } else if (name == "client_registration_file") {
        a.client_registration_file = need_path(
            *n, key,
            "client_registration_file = \"/var/run/secrets/fracta/client-registration.json\"");
        if (options_.check_files) check_file_exists(*n, key, a.client_registration_file);
      } else if (name == "metadata_url") {
        a.metadata_url =
            need_string(*n, key,
                        "Write metadata_url = "
                        "\"https://auth.example.com/.well-known/oauth-authorization-server\"");
        check_url(
            *n, a.metadata_url, key,
            "metadata_url = \"https://auth.example.com/.well-known/oauth-authorization-server\"");
      } else if (name == "redirect_uri" || name == "resource" ||
                 name == "token_endpoint_auth_method" || name == "client_metadata_url" ||
                 name == "key_id") {
        need_string(*n, key, "Write " + name + " = \"…\"");
      } else if (name == "omit_resource") {
        if (!n->is_boolean())
          fail(n->source(), key, "must be true or false, not " + type_name(*n),
               "Write omit_resource = true");
      } else if (name == "authorize_params" || name == "token_params") {
        const auto& pt = need_table(*n, key, "Write " + name + " = { audience = \"api\" }");
        for (const auto& [pk, pn] : ordered(pt)) {
          need_string(*pn, dotted(key, pk->str()),
                      "Write " + toml_key(pk->str()) + " = \"…\" (parameters are strings)");
        }
      }
    }
    if (a.grant_type == "client_credentials") {
      // The client authenticates with a secret, or with a key (private_key_jwt).
      const char* credential = t.get("private_key") != nullptr ? "private_key" : "client_secret";
      for (const char* required : {"client_id", credential}) {
        if (t.get(required) == nullptr) {
          fail(grant_node->source(), prefix + "." + required,
               "missing; grant_type = \"client_credentials\" requires client_id and client_secret "
               "(or private_key for private_key_jwt)",
               "Add " + std::string(required) + " = { env = \"NAME\" } to [" + prefix + "]");
        }
      }
    }
    if (access_node != nullptr && token_file_node != nullptr) {
      const toml::node* later = access_node->source().begin < token_file_node->source().begin
                                    ? token_file_node
                                    : access_node;
      fail(later->source(), prefix + (later == access_node ? ".access_token" : ".token_file"),
           "access_token and token_file are mutually exclusive",
           "Keep only one: token_file for a mounted token (preferred), or access_token for an "
           "injected one");
    }
  }

  std::int64_t parse_expires_at(const toml::node& n, const std::string& key) const {
    if (const auto* i = n.as_integer()) return i->get();
    const std::string fix =
        "Write unix seconds (expires_at = 1767225600) or a date-time with an offset "
        "(expires_at = 2026-01-01T00:00:00Z)";
    if (const auto* dt = n.as_date_time()) {
      if (!dt->get().offset) fail(n.source(), key, "date-time has no UTC offset", fix);
      return unix_seconds(dt->get());
    }
    fail(n.source(), key, "must be an integer or an offset date-time, not " + type_name(n), fix);
  }

  void check_file_exists(const toml::node& n, const std::string& key,
                         const std::string& path) const {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st)) {
      fail(n.source(), key, "file '" + path + "' does not exist",
           "Create it (it holds the dynamic client registration a login produced), fix the path, "
           "or remove the key");
    }
    if (std::filesystem::is_directory(st)) {
      fail(n.source(), key, "'" + path + "' is a directory",
           "Point it at the client-registration.json file");
    }
  }

  // The auth table as JSON, in file order; paths made absolute, date-times as RFC 3339.
  std::string auth_json(const toml::table& t, bool oauth) const {
    json::writer w;
    write_table(w, t, oauth);
    return w.take();
  }

  void write_table(json::writer& w, const toml::table& t, bool oauth_top) const {
    const auto entries = ordered(t);
    // A SecretValue-shaped { file = "…" } gets its path resolved, whatever the auth type.
    const bool secret_file =
        entries.size() == 1 && entries[0].first->str() == "file" && entries[0].second->is_string();
    w.begin_object();
    for (const auto& [k, n] : entries) {
      w.key(k->str());
      const std::string name(k->str());
      if ((secret_file ||
           (oauth_top && (name == "token_file" || name == "client_registration_file"))) &&
          n->is_string()) {
        w.value(absolute_path(n->as_string()->get()));
      } else {
        write_node(w, *n);
      }
    }
    w.end_object();
  }

  void write_node(json::writer& w, const toml::node& n) const {
    switch (n.type()) {
      case toml::node_type::table:
        write_table(w, *n.as_table(), false);
        break;
      case toml::node_type::array:
        w.begin_array();
        for (const auto& e : *n.as_array()) write_node(w, e);
        w.end_array();
        break;
      case toml::node_type::string:
        w.value(n.as_string()->get());
        break;
      case toml::node_type::integer:
        w.value(n.as_integer()->get());
        break;
      case toml::node_type::floating_point:
        w.value(n.as_floating_point()->get());
        break;
      case toml::node_type::boolean:
        w.value(n.as_boolean()->get());
        break;
      case toml::node_type::date:
        w.value(format_date(n.as_date()->get()));
        break;
      case toml::node_type::time:
        w.value(format_time(n.as_time()->get()));
        break;
      case toml::node_type::date_time:
        w.value(format_date_time(n.as_date_time()->get()));
        break;
      default:
        w.null();
        break;
    }
  }

  std::string path_;
  std::filesystem::path dir_;
  detail::parse_options options_;
  std::string server_;  // the server being parsed, for messages
};

}  // namespace

namespace detail {

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
  const std::string p = path.string();
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    throw make_error(
        location{p, 0, 0}, "", "", "no configuration file here",
        "Create one with `fracta config mcp add <name> --url https://…`, write it by hand, or "
        "point --config or $FRACTA_CONFIG at an existing file");
  }
  if (std::filesystem::is_directory(st)) {
    throw make_error(location{p, 0, 0}, "", "", "is a directory, not a configuration file",
                     "Point --config or $FRACTA_CONFIG at a TOML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw make_error(location{p, 0, 0}, "", "",
                     "cannot be read: " + std::generic_category().message(errno),
                     "Check the file's permissions");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    throw make_error(location{p, 0, 0}, "", "", "cannot be read", "Check the file's permissions");
  }
  return parse(buf.str(), p);
}

std::filesystem::path default_path() {
  if (const char* p = std::getenv("FRACTA_CONFIG"); p != nullptr && *p != '\0') return p;
  // The XDG spec says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x == '/') {
    return std::filesystem::path(x) / "fracta" / "config.toml";
  }
  return std::filesystem::path(home_dir()) / ".config" / "fracta" / "config.toml";
}

}  // namespace fracta::config
