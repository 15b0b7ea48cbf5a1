// SPDX-License-Identifier: Apache-2.0
// Discovery URL orders and metadata validation (MCP 2025-11-25, RFC 8414, RFC 9728).
#include "discovery.hpp"

#include <algorithm>

#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"

namespace fracta::oauth {
namespace {

error protocol_error(std::string message) {
  return error{make_error_code(errc::protocol), std::move(message)};
}

void push_unique(std::vector<std::string>& out, std::string s) {
  if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
}

std::string_view trim_trailing_slashes(std::string_view path) {
  while (path.ends_with('/')) path.remove_suffix(1);
  return path;
}

// A metadata document that must be a JSON object (`parser` keeps `doc` alive); errors name it
// as `where`.
struct metadata_doc {
  std::string where;
  simdjson::dom::parser parser{};
  simdjson::dom::element doc{};
};

result<void> parse_metadata(metadata_doc& m, std::string_view text) {
  if (auto msg = json::parse(m.parser, text, m.doc); !msg.empty())
    return protocol_error(m.where + " is not valid JSON: " + msg);
  if (!m.doc.is_object()) return protocol_error(m.where + " is not a JSON object");
  return {};
}

// Strings of a JSON array field; a missing field gives an empty list, a field of the wrong
// shape gives nullopt.
std::optional<std::vector<std::string>> string_array(simdjson::dom::element obj,
                                                     std::string_view key) {
  std::vector<std::string> out;
  auto field = json::get(obj, key);
  if (!field) return out;
  simdjson::dom::array arr;
  if (field->get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element e : arr) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
    out.emplace_back(s);
  }
  return out;
}

// True when `parent` equals `child` or is a parent of it on '/' boundaries.
bool is_same_or_parent_path(std::string_view parent, std::string_view child) {
  parent = trim_trailing_slashes(parent);
  child = trim_trailing_slashes(child);
  if (parent.empty()) return true;
  if (!child.starts_with(parent)) return false;
  return child.size() == parent.size() || child[parent.size()] == '/';
}

}  // namespace

std::vector<std::string> protected_resource_metadata_urls(
    const http::url& server, std::optional<std::string_view> challenge_resource_metadata) {
  std::vector<std::string> out;
  if (challenge_resource_metadata &&
      check_discovered_url(*challenge_resource_metadata, server, "resource metadata").ok()) {
    push_unique(out, std::string(*challenge_resource_metadata));
  }
  if (!trim_trailing_slashes(server.path).empty()) {
    push_unique(out, http::well_known_url(server, "oauth-protected-resource"));
  }
  push_unique(out, server.origin() + "/.well-known/oauth-protected-resource");
  return out;
}

std::vector<std::string> authorization_server_metadata_urls(std::string_view issuer) {
  std::vector<std::string> out;
  auto u = http::url::parse(issuer);
  if (!u) return out;
  const std::string origin = u->origin();
  const std::string_view path = trim_trailing_slashes(u->path);
  if (path.empty()) {
    out.push_back(origin + "/.well-known/oauth-authorization-server");
    out.push_back(origin + "/.well-known/openid-configuration");
  } else {
    out.push_back(http::well_known_url(*u, "oauth-authorization-server"));
    out.push_back(http::well_known_url(*u, "openid-configuration"));
    out.push_back(origin + std::string(path) + "/.well-known/openid-configuration");
  }
  return out;
}

probe_outcome classify_metadata_response(int status) noexcept {
  if (status == 200) return probe_outcome::found;
  if ((status >= 400 && status <= 499) || status == 502) return probe_outcome::try_next;
  return probe_outcome::fail;
}

result<resource_metadata> parse_resource_metadata(std::string_view text,
                                                  const http::url& server) {
  metadata_doc m{"protected-resource metadata for " + server.redacted()};
  if (auto parsed = parse_metadata(m, text); !parsed) return parsed.err();
  const std::string& where = m.where;
  const simdjson::dom::element doc = m.doc;

  resource_metadata md;
  auto resource = json::get_string(doc, "resource");
  if (!resource || resource->empty()) {
    return protocol_error(where + " has no \"resource\" (RFC 9728 §2)");
  }
  md.resource = std::string(*resource);
  auto res_url = http::url::parse(md.resource);
  if (!res_url || res_url->fragment || !resource_covers(md.resource, server)) {
    return protocol_error(where + " names the resource \"" +
                          (res_url ? res_url->redacted() : std::string("(not a URL)")) +
                          "\", which is neither the server URL nor a parent of it on the same "
                          "origin (RFC 9728 §3.3)");
  }

  auto servers = string_array(doc, "authorization_servers");
  if (!servers) return protocol_error(where + ": \"authorization_servers\" is not a string array");
  for (const auto& s : *servers) {
    if (auto ok = check_discovered_url(s, server, "the authorization server"); !ok) {
      return protocol_error(where + ": " + ok.err().message);
    }
  }
  if (servers->empty()) return protocol_error(where + " lists no \"authorization_servers\"");
  md.authorization_servers = std::move(*servers);

  auto scopes = string_array(doc, "scopes_supported");
  if (!scopes) return protocol_error(where + ": \"scopes_supported\" is not a string array");
  md.scopes_supported = std::move(*scopes);
  return md;
}

result<as_metadata> parse_as_metadata(std::string_view text, std::string_view expected_issuer,
                                      bool legacy_2025_03_26, bool allow_loopback_http) {
  metadata_doc m{"authorization-server metadata for " + redacted_url(expected_issuer)};
  if (auto parsed = parse_metadata(m, text); !parsed) return parsed.err();
  const std::string& where = m.where;
  const simdjson::dom::element doc = m.doc;

  as_metadata md;
  auto issuer = json::get_string(doc, "issuer");
  if (issuer) md.issuer = std::string(*issuer);
  if (!legacy_2025_03_26) {
    if (!issuer) return protocol_error(where + " has no \"issuer\" (RFC 8414 §2)");
    if (*issuer != expected_issuer) {
      return protocol_error(where + " declares a different issuer \"" + md.issuer +
                            "\"; it must equal the identifier it was fetched for (RFC 8414 §3.3)");
    }
  } else if (md.issuer.empty()) {
    md.issuer = std::string(expected_issuer);
  }

  auto endpoint = [&](std::string_view key, bool required) -> result<std::optional<std::string>> {
    auto v = json::get_string(doc, key);
    if (!v) {
      if (required) return protocol_error(where + " has no \"" + std::string(key) + "\"");
      return std::optional<std::string>{};
    }
    if (!is_secure_endpoint(*v, allow_loopback_http)) {
      return protocol_error(where + ": \"" + std::string(key) + "\" (" + redacted_url(*v) +
                            ") must be an https URL (http only for loopback hosts when the MCP "
                            "server is on loopback too)");
    }
    return std::optional<std::string>(std::string(*v));
  };

  auto authz = endpoint("authorization_endpoint", false);
  if (!authz) return authz.err();
  md.authorization_endpoint = authz->value_or("");
  auto token = endpoint("token_endpoint", true);
  if (!token) return token.err();
  md.token_endpoint = **token;
  auto reg = endpoint("registration_endpoint", false);
  if (!reg) return reg.err();
  md.registration_endpoint = *reg;
  auto device = endpoint("device_authorization_endpoint", false);
  if (!device) return device.err();
  md.device_authorization_endpoint = *device;

  auto list = [&](std::string_view key, std::vector<std::string>& out) -> result<void> {
    auto v = string_array(doc, key);
    if (!v) return protocol_error(where + ": \"" + std::string(key) + "\" is not a string array");
    out = std::move(*v);
    return {};
  };
  if (auto r = list("code_challenge_methods_supported", md.code_challenge_methods_supported); !r)
    return r.err();
  if (auto r = list("token_endpoint_auth_methods_supported",
                    md.token_endpoint_auth_methods_supported);
      !r)
    return r.err();
  if (auto r = list("scopes_supported", md.scopes_supported); !r) return r.err();
  if (auto r = list("grant_types_supported", md.grant_types_supported); !r) return r.err();

  md.client_id_metadata_document_supported =
      json::get_bool(doc, "client_id_metadata_document_supported").value_or(false);
  md.authorization_response_iss_parameter_supported =
      json::get_bool(doc, "authorization_response_iss_parameter_supported").value_or(false);
  return md;
}

bool is_secure_endpoint(std::string_view text, bool allow_loopback_http) {
  auto u = http::url::parse(text);
  if (!u) return false;
  return u->scheme == "https" || (allow_loopback_http && u->is_loopback_host());
}

result<void> check_discovered_url(std::string_view text, const http::url& server,
                                  std::string_view what) {
  auto u = http::url::parse(text);
  if (!u) return protocol_error(std::string(what) + " is named by something that is not an http(s) URL");
  if (u->scheme == "https") return {};
  if (u->is_loopback_host() && server.is_loopback_host()) return {};
  return protocol_error("fracta will not fetch " + std::string(what) + " from " + u->redacted() +
                        ": it must be an https URL (plain http only to a loopback host, and only "
                        "when the MCP server is on loopback too)");
}

bool resource_covers(std::string_view resource, const http::url& target) {
  auto r = http::url::parse(resource);
  return r && r->origin() == target.origin() && is_same_or_parent_path(r->path, target.path);
}

std::string redacted_url(std::string_view text) {
  auto u = http::url::parse(text);
  return u ? u->redacted() : std::string("(an invalid URL)");
}

result<void> require_pkce_s256(const as_metadata& md) {
  const auto& methods = md.code_challenge_methods_supported;
  if (std::find(methods.begin(), methods.end(), "S256") != methods.end()) return {};
  const auto u = http::url::parse(md.issuer);
  const std::string who = u ? u->redacted() : std::string("the authorization server");
  return protocol_error(
      "authorization-server metadata for " + who +
      (methods.empty() ? " has no \"code_challenge_methods_supported\""
                       : " does not list S256 in \"code_challenge_methods_supported\"") +
      "; PKCE with S256 is required, so fracta refuses to log in there");
}

as_metadata legacy_fallback(const http::url& server) {
  as_metadata md;
  md.issuer = server.origin();
  md.authorization_endpoint = http::join_path(md.issuer, "/authorize");
  md.token_endpoint = http::join_path(md.issuer, "/token");
  md.registration_endpoint = http::join_path(md.issuer, "/register");
  md.code_challenge_methods_supported = {"S256"};
  md.legacy = true;
  return md;
}

std::string choose_authorization_server(const std::vector<std::string>& servers) {
  return servers.empty() ? std::string() : servers.front();
}

}  // namespace fracta::oauth
