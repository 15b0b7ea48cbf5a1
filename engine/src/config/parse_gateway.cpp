// SPDX-License-Identifier: Apache-2.0
// TOML → model for `fracta gateway`: the [gateway] table (listener, names, front-end auth) and
// each server's [mcp.servers.<name>.gateway] table (prefix, tool filters).
#include "config/parser.hpp"

namespace fracta::config::detail {

namespace {

constexpr std::array gateway_keys{"listen",  "tool_prefix", "separator", "allowed_origins", "allowed_hosts",
                                  "tls_cert", "tls_key",    "threads",   "resource",        "auth"};
constexpr std::array gateway_auth_keys{"tokens", "jwt"};
constexpr std::array jwt_keys{"issuer", "audience", "jwks_url", "scopes"};
constexpr std::array prefix_modes{"always", "on_collision", "never"};
constexpr std::array server_gateway_keys{"prefix", "tools"};
constexpr std::array tools_keys{"allow", "deny"};

// "host:port", "[v6]:port": the port part is a number in 1..65535 (0: any, for tests).
bool valid_listen(std::string_view v) {
  const auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == v.size()) return false;
  const auto host = v.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return false;
  long port = 0;
  for (char c : v.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
    if (port > 65535) return false;
  }
  return true;
}

// Name characters the MCP spec allows in tool names.
bool valid_name_part(std::string_view v) {
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> parser::need_strings(const toml::node& n, const std::string& key,
                                              std::string_view fix) const {
  std::vector<std::string> out;
  if (const auto* s = n.as_string()) {
    out.push_back(s->get());
    return out;
  }
  const auto* arr = n.as_array();
  if (arr == nullptr) fail(n.source(), key, "must be an array of strings, not " + type_name(n), fix);
  for (std::size_t i = 0; i < arr->size(); ++i) {
    out.push_back(need_string((*arr)[i], key + "[" + std::to_string(i) + "]", fix));
  }
  return out;
}

void parser::parse_gateway(const toml::node& n, config& out) const {
  const auto& t = need_table(n, "gateway", "Write [gateway] with listen = \"127.0.0.1:8710\"");
  gateway_section& g = out.gateway;
  g.present = true;
  g.where = loc(t.source());
  for (const auto& [k, v] : ordered(t)) {
    const std::string name(k->str());
    const std::string key = dotted("gateway", name);
    if (name == "listen") {
      g.listen = need_string(*v, key, "Write listen = \"127.0.0.1:8710\"");
      if (!valid_listen(g.listen)) {
        fail(v->source(), key, "is not address:port",
             "Write listen = \"127.0.0.1:8710\" (or \"0.0.0.0:8710\", \"[::1]:8710\")");
      }
    } else if (name == "tool_prefix") {
      g.tool_prefix = need_choice(*v, key, prefix_modes);
    } else if (name == "separator") {
      g.separator = need_string(*v, key, "Write separator = \"__\"");
      if (g.separator.empty() || g.separator.size() > 8 || !valid_name_part(g.separator)) {
        fail(v->source(), key, "must be 1 to 8 of the characters A-Z a-z 0-9 _ - .",
             "Write separator = \"__\" (the MCP spec's tool-name characters only)");
      }
    } else if (name == "allowed_origins") {
      g.allowed_origins = need_strings(*v, key, "Write allowed_origins = [\"https://app.example.com\"]");
    } else if (name == "allowed_hosts") {
      g.allowed_hosts = need_strings(*v, key, "Write allowed_hosts = [\"mcp.example.com\"]");
    } else if (name == "tls_cert") {
      g.tls_cert = need_path(*v, key, "tls_cert = \"/etc/fracta/tls/cert.pem\"");
    } else if (name == "tls_key") {
      g.tls_key = need_path(*v, key, "tls_key = \"/etc/fracta/tls/key.pem\"");
    } else if (name == "threads") {
      const auto* i = v->as_integer();
      if (i == nullptr || i->get() < 0 || i->get() > 256) {
        fail(v->source(), key, "must be a whole number in 0..256", "Write threads = 0 (one per core) or e.g. 4");
      }
      g.threads = static_cast<std::uint32_t>(i->get());
    } else if (name == "resource") {
      g.resource = need_string(*v, key, "Write resource = \"https://mcp.example.com/mcp\"");
      check_url_at(*v, g.resource, key, url_use::metadata, false, "resource = \"https://mcp.example.com/mcp\"");
    } else if (name == "auth") {
      const auto& a = need_table(*v, key, "Write [gateway.auth] with tokens = [{ env = \"GATEWAY_TOKEN\" }]");
      for (const auto& [ak, av] : ordered(a)) {
        const std::string aname(ak->str());
        const std::string akey = dotted(key, aname);
        if (aname == "tokens") {
          const auto* arr = av->as_array();
          if (arr == nullptr) {
            fail(av->source(), akey, "must be an array of SecretValues, not " + type_name(*av),
                 "Write tokens = [{ env = \"GATEWAY_TOKEN\" }]");
          }
          for (std::size_t i = 0; i < arr->size(); ++i) {
            g.tokens.push_back(parse_secret((*arr)[i], akey + "[" + std::to_string(i) + "]", "tokens"));
          }
        } else if (aname == "jwt") {
          const auto& j = need_table(*av, akey, "Write [gateway.auth.jwt] with issuer, audience and jwks_url");
          for (const auto& [jk, jv] : ordered(j)) {
            const std::string jname(jk->str());
            const std::string jkey = dotted(akey, jname);
            if (jname == "issuer") {
              g.jwt_issuer = need_string(*jv, jkey, "Write issuer = \"https://login.example.com\"");
              check_url_at(*jv, g.jwt_issuer, jkey, url_use::issuer, false, "issuer = \"https://login.example.com\"");
            } else if (jname == "audience") {
              g.jwt_audiences = need_strings(*jv, jkey, "Write audience = \"https://mcp.example.com/mcp\"");
            } else if (jname == "jwks_url") {
              g.jwt_jwks_url = need_string(*jv, jkey, "Write jwks_url = \"https://login.example.com/jwks\"");
              check_url_at(*jv, g.jwt_jwks_url, jkey, url_use::metadata, false,
                           "jwks_url = \"https://login.example.com/jwks\"");
            } else if (jname == "scopes") {
              g.jwt_scopes = need_strings(*jv, jkey, "Write scopes = [\"mcp\"]");
            } else {
              unknown_key(*jk, akey, jwt_keys);
            }
          }
          if (g.jwt_issuer.empty() || g.jwt_audiences.empty() || g.jwt_jwks_url.empty()) {
            fail(j.source(), akey, "needs issuer, audience and jwks_url",
                 "Write all three, e.g. issuer = \"https://login.example.com\", audience = "
                 "\"https://mcp.example.com/mcp\", jwks_url = \"https://login.example.com/jwks\"");
          }
        } else {
          unknown_key(*ak, key, gateway_auth_keys);
        }
      }
    } else {
      unknown_key(*k, "gateway", gateway_keys);
    }
  }
  if (g.tls_cert.empty() != g.tls_key.empty()) {
    fail(t.source(), "gateway.tls_cert", "and gateway.tls_key go together",
         "Write both (a PEM certificate chain and its private key), or neither for plain HTTP");
  }
}

void parser::parse_server_gateway(const toml::node& n, const std::string& prefix, server& s) const {
  const auto& t = need_table(n, prefix, "Write [" + prefix + "] with prefix = \"gh\"");
  for (const auto& [k, v] : ordered(t)) {
    const std::string name(k->str());
    const std::string key = dotted(prefix, name);
    if (name == "prefix") {
      s.gateway.prefix = need_string(*v, key, "Write prefix = \"gh\"");
      if (s.gateway.prefix.empty() || s.gateway.prefix.size() > 32 || !valid_name_part(s.gateway.prefix)) {
        fail(v->source(), key, "must be 1 to 32 of the characters A-Z a-z 0-9 _ - .",
             "Write prefix = \"gh\" (the MCP spec's tool-name characters only)");
      }
    } else if (name == "tools") {
      const auto& tt = need_table(*v, key, "Write [" + key + "] with allow = [\"*\"] or deny = [\"delete_*\"]");
      for (const auto& [tk, tv] : ordered(tt)) {
        const std::string tname(tk->str());
        const std::string tkey = dotted(key, tname);
        if (tname == "allow") {
          s.gateway.tools_allow = need_strings(*tv, tkey, "Write allow = [\"search_*\", \"get_issue\"]");
        } else if (tname == "deny") {
          s.gateway.tools_deny = need_strings(*tv, tkey, "Write deny = [\"delete_*\"]");
        } else {
          unknown_key(*tk, key, tools_keys);
        }
      }
    } else {
      unknown_key(*k, prefix, server_gateway_keys);
    }
  }
}

}  // namespace fracta::config::detail
