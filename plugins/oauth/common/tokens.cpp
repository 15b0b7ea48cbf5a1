// SPDX-License-Identifier: Apache-2.0
// Token response parsing and grant-failure classification.
#include "tokens.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fracta/proto/fields.hpp>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <fracta/proto/url.hpp>

#include "fracta/errors.hpp"

namespace fracta::oauth {
namespace {

constexpr std::size_t max_quoted = 200;
// Ten years: a larger expires_in is nonsense and would overflow the millisecond clock.
constexpr std::int64_t max_expires_in_s = 10LL * 366 * 24 * 3600;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, lower-cased.
std::string media_type(std::string_view content_type) {
  if (auto semi = content_type.find(';'); semi != std::string_view::npos) {
    content_type = content_type.substr(0, semi);
  }
  return lower(text::trim(content_type));
}

// Visible text of an HTML page: tags, scripts and styles dropped (each leaves a space), then
// made printable and cut to max_quoted bytes.
std::string html_text(std::string_view html) {
  std::string visible;
  std::size_t i = 0;
  const std::string low = lower(html);
  while (i < html.size()) {
    if (html[i] == '<') {
      for (std::string_view skip : {"script", "style"}) {
        if (std::string_view(low).substr(i + 1).starts_with(skip)) {
          auto end = low.find("</" + std::string(skip), i + 1);
          i = end == std::string::npos ? html.size() : end;
          break;
        }
      }
      auto close = html.find('>', i);
      i = close == std::string_view::npos ? html.size() : close + 1;
      visible.push_back(' ');
      continue;
    }
    visible.push_back(html[i++]);
  }
  return text::printable(visible, max_quoted);
}

errc errc_for(grant_failure f) {
  switch (f) {
    case grant_failure::needs_login: return errc::needs_login;
    case grant_failure::transient: return errc::transport;
    case grant_failure::reregister: return errc::auth_failed;
    case grant_failure::bad_request:
    case grant_failure::scope: return errc::remote;
  }
  return errc::remote;
}

error oauth_failure(int status, const oauth_error& e) {
  std::string msg = "token endpoint refused the request (HTTP " + std::to_string(status) +
                    "): " + text::printable(e.error, max_quoted);
  if (!e.description.empty()) msg += ": " + text::printable(e.description, max_quoted);
  return error{make_error_code(errc_for(classify(status, e))), std::move(msg)};
}

error status_failure(int status, std::string detail) {
  const oauth_error none;
  return error{make_error_code(status >= 200 && status < 300 ? errc::protocol
                                                              : errc_for(classify(status, none))),
               "token endpoint answered HTTP " + std::to_string(status) + detail};
}

std::optional<std::int64_t> parse_seconds(std::string_view s) {
  s = text::trim(s);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Fields of a successful response, from JSON or a form-encoded body.
struct raw_fields {
  std::optional<std::string> access_token, token_type, refresh_token, scope, id_token;
  std::optional<std::int64_t> expires_in;
};

result<token_set> finish(int status, raw_fields f, std::int64_t now_ms,
                         std::string_view requested_scope) {
  if (!f.access_token || f.access_token->empty()) {
    return status_failure(status, " without an access_token");
  }
  token_set t;
  if (f.token_type && !http::iequals(*f.token_type, "bearer")) {
    return error{make_error_code(errc::unsupported),
                 "token endpoint issued a token of type \"" +
                     text::printable(*f.token_type, max_quoted) +
                     "\"; only Bearer tokens are supported"};
  }
  t.access_token = std::move(*f.access_token);
  t.token_type = "Bearer";
  if (f.refresh_token && !f.refresh_token->empty()) t.refresh_token = std::move(f.refresh_token);
  if (f.id_token && !f.id_token->empty()) t.id_token = std::move(f.id_token);
  if (f.scope) {
    t.scope = std::move(f.scope);
  } else if (!text::trim(requested_scope).empty()) {
    t.scope = std::string(requested_scope);
  }
  if (f.expires_in && *f.expires_in >= 0) {
    t.expires_at_unix_ms = now_ms + std::min(*f.expires_in, max_expires_in_s) * 1000;
  }
  return t;
}

}  // namespace

grant_failure classify(int http_status, const oauth_error& err) noexcept {
  const std::string_view code = err.error;
  if (code == "invalid_grant") return grant_failure::needs_login;
  if (code == "invalid_client") return grant_failure::reregister;
  if (code == "invalid_scope" || code == "insufficient_scope") return grant_failure::scope;
  if (code == "temporarily_unavailable" || code == "server_error" || code == "slow_down")
    return grant_failure::transient;
  if (http_status == 0 || http_status == 429 || http_status >= 500) return grant_failure::transient;
  return grant_failure::bad_request;
}

std::optional<oauth_error> parse_oauth_error(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, body, doc).empty() || !doc.is_object()) return std::nullopt;
  auto code = json::get_string(doc, "error");
  if (!code) return std::nullopt;
  oauth_error e;
  e.error = std::string(*code);
  e.description = std::string(json::get_string(doc, "error_description").value_or(""));
  e.uri = std::string(json::get_string(doc, "error_uri").value_or(""));
  return e;
}

result<token_set> parse_token_response(int http_status, std::string_view content_type,
                                       std::string_view body, std::int64_t now_ms,
                                       std::string_view requested_scope) {
  const std::string type = media_type(content_type);
  const std::string_view trimmed = text::trim(body);

  if (type == "text/html" || type == "application/xhtml+xml" || trimmed.starts_with('<')) {
    std::string text = html_text(body);
    return status_failure(http_status,
                          " with an HTML page" + (text.empty() ? std::string() : ": " + text));
  }

  if (type == "application/x-www-form-urlencoded") {
    // Some servers (GitHub without Accept: application/json) answer form-encoded.
    raw_fields f;
    oauth_error e;
    for (auto& [name, value] : http::parse_query(body)) {
      if (name == "error") e.error = value;
      else if (name == "error_description") e.description = value;
      else if (name == "error_uri") e.uri = value;
      else if (name == "access_token") f.access_token = value;
      else if (name == "token_type") f.token_type = value;
      else if (name == "refresh_token") f.refresh_token = value;
      else if (name == "scope") f.scope = value;
      else if (name == "id_token") f.id_token = value;
      else if (name == "expires_in") f.expires_in = parse_seconds(value);
    }
    if (!e.error.empty()) return oauth_failure(http_status, e);
    if (http_status < 200 || http_status > 299) return status_failure(http_status, "");
    return finish(http_status, std::move(f), now_ms, requested_scope);
  }

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, body, doc).empty() || !doc.is_object()) {
    // The body is not quoted: it could hold a token in some unexpected format.
    return status_failure(http_status, trimmed.empty() ? " with an empty body"
                                                        : " with a body that is not a JSON object");
  }
  if (auto e = parse_oauth_error(body)) return oauth_failure(http_status, *e);
  if (http_status < 200 || http_status > 299) return status_failure(http_status, "");

  raw_fields f;
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    auto v = json::get_string(doc, key);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  f.access_token = str("access_token");
  f.token_type = str("token_type");
  f.refresh_token = str("refresh_token");
  f.scope = str("scope");
  f.id_token = str("id_token");
  if (auto v = json::get(doc, "expires_in")) {
    std::int64_t i = 0;
    double d = 0;
    std::string_view s;
    if (v->get_int64().get(i) == simdjson::SUCCESS) {
      f.expires_in = i;
    } else if (v->get_double().get(d) == simdjson::SUCCESS && std::isfinite(d)) {
      f.expires_in = static_cast<std::int64_t>(
          std::clamp(d, -1.0, static_cast<double>(max_expires_in_s)));
    } else if (v->get_string().get(s) == simdjson::SUCCESS) {
      f.expires_in = parse_seconds(s);
    }
  }
  return finish(http_status, std::move(f), now_ms, requested_scope);
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += http::form_urlencode(name);
    out.push_back('=');
    out += http::form_urlencode(value);
  }
  return out;
}

}  // namespace fracta::oauth
