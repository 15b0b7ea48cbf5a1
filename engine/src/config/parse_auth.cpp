// SPDX-License-Identifier: Apache-2.0
// TOML → typed config model: the remote.auth table of each type, and SecretValues.
#include "config/parser.hpp"
#include <fracta/proto/fields.hpp>

namespace fracta::config::detail {
namespace {

using http::iequals;
using http::is_token;

constexpr std::array builtin_types{"none", "bearer", "header", "basic", "oauth"};
constexpr std::array grant_types{"authorization_code", "client_credentials", "device_code"};
constexpr std::array token_stores{"auto", "keyring", "file"};
constexpr std::array secret_sources{"value", "env", "file"};

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
                                "issuer",
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

constexpr std::string_view metadata_example =
    "metadata_url = \"https://auth.example.com/.well-known/oauth-authorization-server\"";
constexpr std::string_view issuer_example = "issuer = \"https://auth.example.com\"";

bool is_plugin_type(std::string_view s) {
  if (s.empty()) return false;
  const auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok_first(s.front())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return ok_first(c) || c == '_' || c == '-'; });
}

}  // namespace

void parser::parse_auth(const toml::table& t, const std::string& prefix, server& s,
                        const toml::key* authorization_header) {
  auth& a = s.auth;
  a.where = loc(t.source());
  const toml::node* type = t.get("type");
  const std::string type_key = prefix + ".type";
  const std::string types = join(builtin_types);
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
  a.json =
      auth_json(t, a.type == "oauth", [this](const std::string& p) { return absolute_path(p); });
}

secret_value parser::required_secret(const toml::table& t, const std::string& prefix,
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

void parser::parse_oauth(const toml::table& t, const std::string& prefix, auth& a) const {
  a.grant_type = "authorization_code";
  a.token_store = "auto";
  for (const auto& [k, n] : ordered(t)) {
    const std::string name(k->str());
    const std::string key = dotted(prefix, name);
    if (name == "grant_type") {
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
      a.access_token = parse_secret(*n, key, name);
    } else if (name == "refresh_token") {
      a.refresh_token = parse_secret(*n, key, name);
    } else if (name == "passphrase") {
      a.passphrase = parse_secret(*n, key, name);
    } else if (name == "private_key") {
      (void)parse_secret(*n, key, name);
    } else if (name == "expires_at") {
      // A table is a SecretValue (an exported expiry injected beside its token).
      if (n->is_table()) a.expires_at_secret = parse_secret(*n, key, name);
      else a.expires_at = parse_expires_at(*n, key);
    } else if (name == "token_file") {
      a.token_file = need_path(*n, key, "token_file = \"/var/run/secrets/fracta/token.json\"");
    } else if (name == "client_registration_file") {
      a.client_registration_file = need_path(
          *n, key,
          "client_registration_file = \"/var/run/secrets/fracta/client-registration.json\"");
      if (options_.check_files) check_file_exists(*n, key, a.client_registration_file, mounted_file::registration);
    } else if (name == "metadata_url") {
      a.metadata_url = need_string(*n, key, "Write " + std::string(metadata_example));
      check_url_at(*n, a.metadata_url, key, url_use::metadata, false, metadata_example);
    } else if (name == "issuer") {
      a.issuer = need_string(*n, key, "Write " + std::string(issuer_example));
      check_url_at(*n, a.issuer, key, url_use::issuer, false, issuer_example);
    } else if (name == "redirect_uri" || name == "resource" ||
               name == "token_endpoint_auth_method" || name == "client_metadata_url" ||
               name == "key_id") {
      need_string(*n, key, "Write " + name + " = \"…\"");
    } else if (name == "omit_resource") {
      (void)need_bool(*n, key, name);
    } else if (name == "authorize_params" || name == "token_params") {
      const auto& pt = need_table(*n, key, "Write " + name + " = { audience = \"api\" }");
      for (const auto& [pk, pn] : ordered(pt)) {
        need_string(*pn, dotted(key, pk->str()),
                    "Write " + toml_key(pk->str()) + " = \"…\" (parameters are strings)");
      }
    }
  }
  check_oauth_combinations(t, prefix, a);
  // Last, so that a combination that cannot work is named first.
  if (const toml::node* tf = t.get("token_file"); tf != nullptr && options_.check_files)
    check_file_exists(*tf, prefix + ".token_file", a.token_file, mounted_file::tokens);
}

void parser::check_oauth_combinations(const toml::table& t, const std::string& prefix,
                                      const auth& a) const {
  if (a.grant_type == "client_credentials") {
    // The client authenticates with a secret, or with a key (private_key_jwt).
    const char* credential = t.get("private_key") != nullptr ? "private_key" : "client_secret";
    for (const char* required : {"client_id", credential}) {
      if (t.get(required) == nullptr) {
        fail(t.get("grant_type")->source(), prefix + "." + required,
             "missing; grant_type = \"client_credentials\" requires client_id and client_secret "
             "(or private_key for private_key_jwt)",
             "Add " + std::string(required) + " = { env = \"NAME\" } to [" + prefix + "]");
      }
    }
  }
  const toml::node* access_node = t.get("access_token");
  const toml::node* token_file_node = t.get("token_file");
  if (access_node != nullptr && token_file_node != nullptr) {
    const toml::node* later = access_node->source().begin < token_file_node->source().begin
                                  ? token_file_node
                                  : access_node;
    fail(later->source(), prefix + (later == access_node ? ".access_token" : ".token_file"),
         "access_token and token_file are mutually exclusive",
         "Keep only one: token_file for a mounted token (preferred), or access_token for an "
         "injected one");
  }
  // The inline token's companions need the token itself; a token_file already holds them.
  for (const char* companion : {"refresh_token", "expires_at"}) {
    const toml::node* c = t.get(companion);
    if (c == nullptr) continue;
    if (token_file_node != nullptr) {
      fail(c->source(), prefix + "." + companion, "token_file already holds the tokens and their expiry",
           "Remove " + std::string(companion) + " (export again to change what token_file holds)");
    }
    // A refresh token alone is a bootstrap: the first refresh fetches the access token.
    if (access_node == nullptr && std::string_view(companion) == "expires_at") {
      fail(c->source(), prefix + "." + companion, "is set without access_token",
           "Add access_token = { env = \"NAME\" } beside it (the exported FRACTA_MCP_<SERVER>_ACCESS_TOKEN), "
           "or use token_file");
    }
  }
  if (a.grant_type == "client_credentials") {
    for (const toml::node* injected : {access_node, token_file_node}) {
      if (injected == nullptr) continue;
      fail(injected->source(), prefix + (injected == access_node ? ".access_token" : ".token_file"),
           "grant_type = \"client_credentials\" fetches its own tokens with client_id and client_secret",
           "Remove it, or drop grant_type = \"client_credentials\" to use the injected token");
    }
  }
  // A refresh token is bound to the authorization server that issued it; without knowing
  // which one that is, it would go to whichever server the MCP server's metadata names.
  if (const toml::node* refresh = t.get("refresh_token");
      refresh != nullptr && a.issuer.empty() && a.metadata_url.empty()) {
    fail(refresh->source(), prefix + ".refresh_token",
         "a refresh_token in the config needs issuer or metadata_url, so that it is only ever "
         "sent to the authorization server that issued it",
         "Add " + std::string(issuer_example) + " (the server that issued the token) or " +
             std::string(metadata_example) + " to [" + prefix + "]");
  }
}

std::int64_t parser::parse_expires_at(const toml::node& n, const std::string& key) const {
  if (const auto* i = n.as_integer()) return i->get();
  const std::string fix =
      "Write unix seconds (expires_at = 1767225600), a date-time with an offset "
      "(expires_at = 2026-01-01T00:00:00Z), or read either from the environment "
      "(expires_at = { env = \"NAME\" })";
  if (const auto* dt = n.as_date_time()) {
    if (!dt->get().offset) fail(n.source(), key, "date-time has no UTC offset", fix);
    return unix_seconds(dt->get());
  }
  fail(n.source(), key, "must be an integer or an offset date-time, not " + type_name(n), fix);
}

void parser::check_file_exists(const toml::node& n, const std::string& key, const std::string& path,
                               mounted_file kind) const {
  const bool tokens = kind == mounted_file::tokens;
  const std::string file = tokens ? "token.json" : "client-registration.json";
  const std::string holds = tokens ? "the tokens" : "the dynamic client registration";
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    fail(n.source(), key, "file '" + path + "' does not exist",
         "Create it with fracta config mcp auth export <server> --format files (it holds " + holds +
             " a login produced), mount it there, fix the path, or remove the key");
  }
  if (std::filesystem::is_directory(st)) {
    fail(n.source(), key, "'" + path + "' is a directory", "Point it at the " + file + " file inside it");
  }
  if (!std::filesystem::is_regular_file(st)) {
    fail(n.source(), key, "'" + path + "' is not a regular file (a FIFO, socket or device would block or lie)",
         "Point it at the " + file + " file fracta config mcp auth export wrote");
  }
}

secret_value parser::parse_secret(const toml::node& n, const std::string& key,
                                  std::string_view short_key) const {
  const std::string example_env = std::string(short_key) + " = { env = \"NAME\" }";
  const std::string how = "Write " + example_env + " to read an environment variable, " +
                          std::string(short_key) +
                          " = { file = \"/path/to/secret\" } to read a file, or " +
                          std::string(short_key) + " = { value = \"…\" } for a literal";
  if (n.is_string()) {
    // The string is most likely the secret itself: never repeat it.
    fail(n.source(), key, "is a plain string, but secrets are written as a SecretValue table", how);
  }
  const auto* t = n.as_table();
  if (t == nullptr) {
    fail(n.source(), key,
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
    check_credentials_directory(*sv, source_key, str->get());
    out.from = secret_value::source::file;
    out.ref = absolute_path(str->get());
  }
  return out;
}

}  // namespace fracta::config::detail
