// SPDX-License-Identifier: Apache-2.0
// The TOML → model parser, shared by parse.cpp (files, plugins, servers, remote) and
// parse_auth.cpp (auth tables and SecretValues); auth_json.cpp turns auth tables into JSON.
#pragma once
#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/detail.hpp"

namespace fracta::config::detail {

using entry = std::pair<const toml::key*, const toml::node*>;

/// A table's entries in the order they were written (toml++ keeps them sorted by name).
std::vector<entry> ordered(const toml::table& t);

/// "a string", "an integer", … for messages.
std::string type_name(const toml::node& n);

/// `prefix.key`, the key quoted when it is not bare.
std::string dotted(std::string_view prefix, std::string_view key);

/// $HOME, else the password database's home directory; "" when neither is known.
std::string home_dir();

/// Unix seconds of a date-time that has an offset.
std::int64_t unix_seconds(const toml::date_time& dt);

/// The auth table as JSON, keys in file order; date-times as RFC 3339. `absolute` makes a
/// path absolute; it is applied to every `{ file = "…" }` table and, when `oauth`, to
/// token_file and client_registration_file.
std::string auth_json(const toml::table& t, bool oauth,
                      const std::function<std::string(const std::string&)>& absolute);

/// One parse of one file. Throws config_error at the first mistake.
class parser final {
 public:
  parser(const std::string& path, parse_options options);

  config run(const toml::table& root);

 private:
  // parse.cpp: the file's structure, [plugins], servers and their remote table.
  location loc(const toml::source_region& r) const;
  [[noreturn]] void fail(const toml::source_region& at, std::string_view key,
                         std::string_view problem, std::string_view fix) const;
  const toml::table& need_table(const toml::node& n, std::string_view key,
                                std::string_view fix) const;
  const std::string& need_string(const toml::node& n, std::string_view key,
                                 std::string_view fix) const;
  bool need_bool(const toml::node& n, std::string_view key, std::string_view name) const;
  /// `p` made absolute: ${CREDENTIALS_DIRECTORY}/ (systemd) and ~/ expanded, a relative path
  /// taken from the config file's directory.
  std::string absolute_path(const std::string& p) const;
  /// Fails at `n` when `p` starts with $CREDENTIALS_DIRECTORY and the variable is not set.
  void check_credentials_directory(const toml::node& n, std::string_view key, const std::string& p) const;
  std::string need_path(const toml::node& n, std::string_view key, std::string_view example) const;
  void check_url_at(const toml::node& n, std::string_view url, std::string_view key, url_use use,
                    bool allow_insecure_http, std::string_view example) const;
  void parse_plugins(const toml::node& n, config& out);
  void parse_mcp(const toml::node& n, config& out);
  void parse_server(const toml::key& k, const toml::node& n, config& out);
  void parse_remote(const toml::table& t, const std::string& prefix, server& s);
  void parse_headers(const toml::table& t, const std::string& prefix, server& s,
                     const toml::key*& authorization_header) const;

  // parse_gateway.cpp: [gateway] and each server's gateway table.
  void parse_gateway(const toml::node& n, config& out) const;
  void parse_server_gateway(const toml::node& n, const std::string& prefix, server& s) const;
  std::vector<std::string> need_strings(const toml::node& n, const std::string& key, std::string_view fix) const;

  // parse_auth.cpp: remote.auth and SecretValues.
  void parse_auth(const toml::table& t, const std::string& prefix, server& s,
                  const toml::key* authorization_header);
  void parse_oauth(const toml::table& t, const std::string& prefix, auth& a) const;
  void check_oauth_combinations(const toml::table& t, const std::string& prefix,
                                const auth& a) const;
  secret_value parse_secret(const toml::node& n, const std::string& key,
                            std::string_view short_key) const;
  secret_value required_secret(const toml::table& t, const std::string& prefix,
                               std::string_view name) const;
  std::int64_t parse_expires_at(const toml::node& n, const std::string& key) const;
  /// What a mounted file named by the auth table holds, for the messages about it.
  enum class mounted_file { tokens, registration };
  /// Fails at `n` unless `path` is an existing regular file.
  void check_file_exists(const toml::node& n, const std::string& key, const std::string& path,
                         mounted_file kind) const;

  template <class Range>
  [[noreturn]] void unknown_key(const toml::key& k, std::string_view prefix,
                                const Range& allowed) const {
    const std::string key = dotted(prefix, k.str());
    std::string fix;
    if (auto s = suggest(k.str(), allowed)) fix = "Did you mean '" + *s + "'? ";
    fix += "Remove it or use one of the keys allowed here: " + join(allowed);
    fail(k.source(), key, "unknown key", fix);
  }

  template <class Range>
  void check_keys(const toml::table& t, const std::string& prefix, const Range& allowed) const {
    for (const auto& [k, n] : ordered(t)) {
      (void)n;
      if (!contains(allowed, k->str())) unknown_key(*k, prefix, allowed);
    }
  }

  template <class Range>
  std::string need_choice(const toml::node& n, const std::string& key, const Range& choices) const {
    const std::string& v = need_string(n, key, "Write one of: " + join(choices));
    if (!contains(choices, v)) {
      std::string fix;
      if (auto s = suggest(v, choices)) fix = "Did you mean '" + *s + "'? ";
      fix += "Use one of: " + join(choices);
      fail(n.source(), key, "'" + v + "' is not supported", fix);
    }
    return v;
  }

  std::string path_;
  std::filesystem::path dir_;
  parse_options options_;
  std::string server_;  // the server being parsed, for messages
};

}  // namespace fracta::config::detail
