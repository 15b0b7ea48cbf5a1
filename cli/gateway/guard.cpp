// SPDX-License-Identifier: Apache-2.0
// Who may use the gateway: Host, Origin and bearer checks, the 401 challenge, RFC 9728 metadata.
#include "gateway/guard.hpp"

#include <fracta/json_writer.hpp>
#include <fracta/proto/fields.hpp>
#include <fracta/proto/url.hpp>

#include <sodium.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace fracta::gateway {

namespace {

// True when `authority` is non-empty and holds no path, query, fragment or userinfo.
bool is_bare_authority(std::string_view authority) {
  return !authority.empty() && authority.find_first_of("/?#@") == std::string_view::npos;
}

// An authority text (host[:port]) parsed as the URL parser parses one: host lower-cased, IPv6
// bracketed, the port defaulted to 80 when absent. nullopt unless it is a bare authority.
std::optional<http::url> parse_authority(std::string_view authority) {
  if (!is_bare_authority(authority)) return std::nullopt;
  std::string text = "http://";
  text += authority;
  auto parsed = http::url::parse(text);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

// True when an authority text names a port ("h:1", "[::1]:1"), as opposed to a bare host.
bool names_port(std::string_view authority) {
  const auto close = authority.rfind(']');
  return authority.find(':', close == std::string_view::npos ? 0 : close) != std::string_view::npos;
}

bool host_entry_matches(std::string_view entry, const http::url& host) {
  if (entry == "*") return true;
  auto wanted = parse_authority(entry);
  if (!wanted || wanted->host != host.host) return false;
  // An entry without a port accepts any port; one with a port wants that port (a Host without
  // one meaning port 80, as parse_authority defaults it).
  return !names_port(entry) || wanted->port == host.port;
}

// An origin text parsed (see normalise_origin), or nullopt.
std::optional<http::url> parse_origin(std::string_view text) {
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) return std::nullopt;
  auto authority = text.substr(separator + 3);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (!is_bare_authority(authority)) return std::nullopt;
  auto parsed = http::url::parse(text);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256(std::string_view text) {
  digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

// RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool is_b64token(std::string_view s) {
  const auto body_end = s.find_last_not_of('=');
  if (body_end == std::string_view::npos) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(body_end) + 1, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
  });
}

// `value` as an RFC 9110 quoted-string; control bytes (which no header may carry) are dropped.
void append_quoted_string(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

bool is_loopback_host(std::string_view listen_address) {
  // "::1" holds colons but no port; "[::1]:8080", "127.0.0.1:8080" and "localhost:8080" do.
  if (listen_address.starts_with('[')) {
    const auto close = listen_address.find(']');
    if (close == std::string_view::npos) return false;
    const auto rest = listen_address.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    return http::is_loopback_host(listen_address.substr(0, close + 1));
  }
  if (std::count(listen_address.begin(), listen_address.end(), ':') == 1) {
    listen_address = listen_address.substr(0, listen_address.find(':'));
  }
  return http::is_loopback_host(listen_address);
}

bool host_allowed(std::string_view host_header, const guard_policy& policy) {
  auto host = parse_authority(host_header);
  if (!host) return false;
  if (policy.loopback && http::is_loopback_host(host->host)) return true;
  return std::any_of(policy.allowed_hosts.begin(), policy.allowed_hosts.end(),
                     [&](const std::string& entry) { return host_entry_matches(entry, *host); });
}

std::optional<std::string> normalise_origin(std::string_view text) {
  auto parsed = parse_origin(text);
  if (!parsed) return std::nullopt;
  return parsed->origin();
}

bool origin_allowed(std::optional<std::string_view> origin, const guard_policy& policy) {
  if (!origin) return true;
  auto parsed = parse_origin(*origin);
  if (!parsed) return false;  // "null" included
  if (policy.loopback && parsed->is_loopback_host()) return true;
  const std::string normalised = parsed->origin();
  return std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                     [&](const std::string& entry) { return normalise_origin(entry) == normalised; });
}

std::vector<std::string> served_hosts(std::string_view listen_host, std::string_view resource_url,
                                      const std::vector<std::string>& configured) {
  std::vector<std::string> out = configured;
  if (!resource_url.empty()) {
    if (auto u = http::url::parse(resource_url)) out.push_back(u->host);
  }
  std::string_view h = listen_host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const bool wildcard = h.empty() || h == "0.0.0.0" || h == "::";
  if (!wildcard && !http::is_loopback_host(h)) {
    out.push_back(h.find(':') != std::string_view::npos ? "[" + std::string(h) + "]" : std::string(h));
  }
  return out;
}

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  constexpr std::string_view scheme = "Bearer";
  if (!authorization || authorization->size() <= scheme.size() + 1) return std::nullopt;
  if (!http::iequals(authorization->substr(0, scheme.size()), scheme) || (*authorization)[scheme.size()] != ' ') {
    return std::nullopt;
  }
  const auto token = authorization->substr(scheme.size() + 1);
  if (!is_b64token(token)) return std::nullopt;
  return token;
}

bool bearer_allowed(std::optional<std::string_view> authorization, const std::vector<std::string>& tokens) {
  const auto token = bearer_token(authorization);
  if (!token) return false;
  // Digests make every comparison the same length; CRYPTO_memcmp does not stop at the first
  // differing byte, and the loop does not stop at the first match.
  const digest presented = sha256(*token);
  unsigned matched = 0;
  for (const std::string& candidate : tokens) {
    const digest expected = sha256(candidate);
    matched |= static_cast<unsigned>(CRYPTO_memcmp(presented.data(), expected.data(), presented.size()) == 0);
  }
  return matched != 0;
}

std::string token_principal(std::string_view token) {
  const digest d = sha256(token);
  char hex[2 * 16 + 1];
  sodium_bin2hex(hex, sizeof hex, d.data(), 16);
  return std::string("token:") + hex;
}

std::string www_authenticate(std::string_view resource_metadata_url, bool token_was_presented,
                             const std::vector<std::string>& scopes, bool insufficient_scope) {
  std::string out = "Bearer ";
  if (insufficient_scope) {
    out += "error=\"insufficient_scope\", ";
  } else if (token_was_presented) {
    out += "error=\"invalid_token\", ";
  }
  if (!scopes.empty()) {
    std::string joined;
    for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
    out += "scope=";
    append_quoted_string(out, joined);
    out += ", ";
  }
  out += "resource_metadata=";
  append_quoted_string(out, resource_metadata_url);
  return out;
}

std::string protected_resource_metadata(std::string_view resource, const std::vector<std::string>& authorization_servers,
                                        const std::vector<std::string>& scopes) {
  json::writer w;
  w.begin_object();
  w.key("resource").value(resource);
  if (!authorization_servers.empty()) {
    w.key("authorization_servers").begin_array();
    for (const std::string& s : authorization_servers) w.value(s);
    w.end_array();
  }
  if (!scopes.empty()) {
    w.key("scopes_supported").begin_array();
    for (const std::string& s : scopes) w.value(s);
    w.end_array();
  }
  w.key("bearer_methods_supported").begin_array().value("header").end_array();
  w.end_object();
  return w.take();
}

std::string metadata_path(std::string_view resource_path) {
  resource_path = resource_path.substr(0, resource_path.find_first_of("?#"));
  while (resource_path.ends_with('/')) resource_path.remove_suffix(1);
  std::string out = "/.well-known/oauth-protected-resource";
  if (!resource_path.empty() && !resource_path.starts_with('/')) out += '/';
  out += resource_path;
  return out;
}

}  // namespace fracta::gateway
