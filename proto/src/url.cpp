// SPDX-License-Identifier: Apache-2.0
// Absolute http(s) URL parsing and the percent / form encodings used by OAuth requests.
#include <fracta/proto/url.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <fracta/proto/error_category.hpp>
#include <fracta/proto/text.hpp>

namespace fracta::http {
namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
using text::hex_value;
bool is_hex(char c) noexcept { return hex_value(c) >= 0; }
char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

/// Appends c as %XX (upper-case hex digits).
void append_percent_encoded(std::string& out, char c) {
  const auto b = static_cast<unsigned char>(c);
  out += '%';
  out += hex_digits[b >> 4];
  out += hex_digits[b & 0x0f];
}

bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
bool is_pchar(char c) noexcept {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

/// True when every character satisfies `allowed` or is part of a well-formed %XX.
template <class Pred>
bool valid_encoded(std::string_view s, Pred allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}

error bad(std::string message) { return error{make_error_code(url_errc::malformed), std::move(message)}; }

/// RFC 3986 §5.2.4 remove_dot_segments on an absolute path.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      auto next = in.find('/', 1);
      if (next == std::string_view::npos) next = in.size();
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

/// A strict dotted quad: four decimal parts 0-255 without leading zeros.
bool is_dotted_quad(std::string_view s) {
  int parts = 0;
  while (true) {
    auto dot = s.find('.');
    auto part = s.substr(0, dot);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit))
      return false;
    if (part.size() > 1 && part[0] == '0') return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

std::uint16_t default_port(std::string_view scheme) noexcept {
  return scheme == "https" ? 443 : 80;
}

}  // namespace

const std::error_category& url_category() noexcept {
  // One message for every code.
  static const table_category<url_errc> c("fracta.url", {}, "not a valid absolute http(s) URL");
  return c;
}

std::error_code make_error_code(url_errc e) noexcept { return {static_cast<int>(e), url_category()}; }

result<url> url::parse(std::string_view text) {
  url u;
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad("URL has no scheme");
  auto scheme = text.substr(0, colon);
  if (!is_alpha(scheme[0]) || !std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
      }))
    return bad("URL scheme is malformed");
  u.scheme = lower(scheme);
  if (u.scheme != "http" && u.scheme != "https")
    return bad("URL scheme '" + u.scheme + "' is not http or https");
  text.remove_prefix(colon + 1);
  if (!text.starts_with("//")) return bad("URL is not absolute (expected '//' after the scheme)");
  text.remove_prefix(2);

  auto authority_end = text.find_first_of("/?#");
  auto authority = text.substr(0, authority_end);
  text.remove_prefix(authority_end == std::string_view::npos ? text.size() : authority_end);

  if (auto at = authority.find('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    if (authority.find('@') != std::string_view::npos)
      return bad("URL authority has more than one '@'");
    if (!valid_encoded(userinfo,
                       [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; }))
      return bad("URL userinfo is malformed");
    u.userinfo = std::string(userinfo);
  }

  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("URL IPv6 literal has no closing ']'");
    auto literal = std::string(authority.substr(1, close - 1));
    in6_addr addr{};
    if (literal.empty() || literal.find('%') != std::string::npos ||
        inet_pton(AF_INET6, literal.c_str(), &addr) != 1)
      return bad("URL IPv6 literal is malformed");
    u.host = "[" + lower(literal) + "]";
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("URL has characters after the IPv6 literal");
      has_port = true;
      port_text = rest.substr(1);
    }
  } else {
    auto port_colon = authority.find(':');
    auto host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(port_colon + 1);
    }
    if (host.empty()) return bad("URL has no host");
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
        }))
      return bad("URL host has characters outside letters, digits, '-', '.', '_'");
    u.host = lower(host);
    // A host whose last label is numeric must be a plain dotted quad: forms such as 127.1 or
    // 0x7f.1 mean different hosts to different parsers.
    std::string_view labels = u.host;
    if (labels.ends_with('.') && labels.size() > 1) labels.remove_suffix(1);
    auto last_dot = labels.rfind('.');
    auto last = labels.substr(last_dot == std::string_view::npos ? 0 : last_dot + 1);
    bool numeric = !last.empty() && (std::all_of(last.begin(), last.end(), is_digit) ||
                                     (last.size() > 1 && last[0] == '0' && (last[1] == 'x')));
    if (numeric && (labels.size() != u.host.size() || !is_dotted_quad(labels)))
      return bad("URL host looks numeric but is not a dotted-quad IPv4 address");
  }

  if (has_port && !port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), is_digit))
      return bad("URL port is not a number");
    auto value = std::stoi(std::string(port_text));
    if (value < 1 || value > 65535) return bad("URL port is out of range");
    u.port = static_cast<std::uint16_t>(value);
  } else {
    u.port = default_port(u.scheme);
  }

  auto path_end = text.find_first_of("?#");
  auto path = text.substr(0, path_end);
  text.remove_prefix(path_end == std::string_view::npos ? text.size() : path_end);
  if (!valid_encoded(path, [](char c) { return is_pchar(c) || c == '/'; }))
    return bad("URL path has characters that must be percent-encoded");
  u.path = path.empty() ? std::string("/") : remove_dot_segments(path);
  if (u.path.empty()) u.path = "/";

  auto query_or_fragment = [](char c) { return is_pchar(c) || c == '/' || c == '?'; };
  if (text.starts_with('?')) {
    auto hash = text.find('#');
    auto query = text.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    if (!valid_encoded(query, query_or_fragment))
      return bad("URL query has characters that must be percent-encoded");
    u.query = std::string(query);
    text.remove_prefix(hash == std::string_view::npos ? text.size() : hash);
  }
  if (text.starts_with('#')) {
    auto fragment = text.substr(1);
    if (!valid_encoded(fragment, query_or_fragment))
      return bad("URL fragment has characters that must be percent-encoded");
    u.fragment = std::string(fragment);
  }
  return u;
}

bool url::has_default_port() const noexcept { return port == default_port(scheme); }

std::string url::authority() const {
  return has_default_port() ? host : host + ":" + std::to_string(port);
}

std::string url::origin() const { return scheme + "://" + authority(); }

std::string url::target() const { return query ? path + "?" + *query : path; }

std::string url::str() const {
  std::string out = scheme + "://";
  if (!userinfo.empty()) out += userinfo + "@";
  out += authority() + target();
  if (fragment) out += "#" + *fragment;
  return out;
}

std::string url::redacted() const { return origin() + path; }

bool url::is_loopback_host() const { return http::is_loopback_host(host); }

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto name = lower(host);
  if (name == "localhost" || name == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  return false;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      append_percent_encoded(out, c);
    }
  }
  return out;
}

std::string form_urlencode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_alpha(c) || is_digit(c) || c == '*' || c == '-' || c == '.' || c == '_') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      append_percent_encoded(out, c);
    }
  }
  return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2])) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string build_query(const query_params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += form_urlencode(name);
    out += '=';
    out += form_urlencode(value);
  }
  return out;
}

query_params parse_query(std::string_view text) {
  query_params out;
  if (text.starts_with('?')) text.remove_prefix(1);
  while (!text.empty()) {
    auto amp = text.find('&');
    auto piece = text.substr(0, amp);
    text.remove_prefix(amp == std::string_view::npos ? text.size() : amp + 1);
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    auto name = piece.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    out.emplace_back(percent_decode(name, true), percent_decode(value, true));
  }
  return out;
}

std::string join_path(std::string_view origin, std::string_view path) {
  while (origin.ends_with('/')) origin.remove_suffix(1);
  while (path.starts_with('/')) path.remove_prefix(1);
  std::string out(origin);
  out += '/';
  out += path;
  return out;
}

std::string well_known_url(const url& u, std::string_view suffix) {
  std::string_view path = u.path;
  while (path.ends_with('/')) path.remove_suffix(1);
  while (suffix.starts_with('/')) suffix.remove_prefix(1);
  std::string out = u.origin() + "/.well-known/";
  out += suffix;
  out += path;
  return out;
}

}  // namespace fracta::http
