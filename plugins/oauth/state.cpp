// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's configuration and what it stores: parsed settings, token and registration records.
#include "state.hpp"

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include "fracta/errors.hpp"
#include "fracta/json_writer.hpp"
#include <fracta/proto/url.hpp>

namespace fracta::oauth {
namespace {

error config_error(std::string message) {
  return error{make_error_code(errc::config), std::move(message)};
}
error protocol_error(std::string message) {
  return error{make_error_code(errc::protocol), std::move(message)};
}

std::vector<std::string> strings(simdjson::dom::element e) {
  std::vector<std::string> out;
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return out;
  for (auto item : arr) {
    std::string_view s;
    if (item.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> string_pairs(simdjson::dom::element e) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return out;
  for (auto field : obj) {
    std::string_view v;
    if (field.value.get_string().get(v) == simdjson::SUCCESS) out.emplace_back(std::string(field.key), std::string(v));
  }
  return out;
}

// True for an https URL, or http to a loopback host: what a configured authorization-server
// URL must be (the user chose it, so a local development server is fine).
bool is_configured_as_url(std::string_view text) {
  auto u = http::url::parse(text);
  return u && (u->scheme == "https" || u->is_loopback_host());
}

// Sets `out` when `key` is a string member of `doc`.
void copy_string(simdjson::dom::element doc, std::string_view key, std::string& out) {
  if (auto v = json::get_string(doc, key)) out = std::string(*v);
}

}  // namespace

result<settings> parse_settings(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto msg = json::parse(parser, text, doc); !msg.empty() || !doc.is_object())
    return config_error("the oauth auth table is not a JSON object");
  settings s;
  if (auto g = json::get_string(doc, "grant_type")) {
    if (*g == "authorization_code") s.kind = grant::authorization_code;
    else if (*g == "client_credentials") s.kind = grant::client_credentials;
    else if (*g == "device_code") s.kind = grant::device_code;
    else return config_error("grant_type must be authorization_code, client_credentials or device_code");
  }
  if (auto e = json::get(doc, "scopes")) s.scopes = strings(*e);
  auto secret = [&](std::string_view key) -> std::optional<std::string> {
    if (auto e = json::get(doc, key)) return json::to_string(*e);
    return std::nullopt;
  };
  s.client_id = secret("client_id");
  s.client_secret = secret("client_secret");
  s.private_key = secret("private_key");
  s.access_token = secret("access_token");
  s.refresh_token = secret("refresh_token");
  if (auto e = json::get(doc, "expires_at")) {
    std::int64_t n = 0;
    std::string_view str;
    if (e->get_int64().get(n) == simdjson::SUCCESS) {
      s.expires_at_s = n;
    } else if (e->get_string().get(str) == simdjson::SUCCESS) {
      return config_error("expires_at as a date-time string is not supported by the oauth plugin; "
                          "write unix seconds");
    }
  }
  copy_string(doc, "token_file", s.token_file);
  copy_string(doc, "client_registration_file", s.client_registration_file);
  copy_string(doc, "issuer", s.issuer);
  copy_string(doc, "metadata_url", s.metadata_url);
  copy_string(doc, "redirect_uri", s.redirect_uri);
  copy_string(doc, "resource", s.resource);
  copy_string(doc, "client_metadata_url", s.client_metadata_url);
  copy_string(doc, "key_id", s.key_id);
  copy_string(doc, "token_endpoint_auth_method", s.token_endpoint_auth_method);
  s.omit_resource = json::get_bool(doc, "omit_resource").value_or(false);
  if (auto e = json::get(doc, "authorize_params")) s.authorize_params = string_pairs(*e);
  if (auto e = json::get(doc, "token_params")) s.token_params = string_pairs(*e);
  if (!s.issuer.empty() && !is_configured_as_url(s.issuer))
    return config_error("issuer must be an https URL (http only to a loopback host), e.g. "
                        "issuer = \"https://auth.example.com\"");
  if (!s.metadata_url.empty() && !is_configured_as_url(s.metadata_url))
    return config_error("metadata_url must be an https URL (http only to a loopback host)");
  if (s.refresh_token && s.issuer.empty() && s.metadata_url.empty())
    return config_error("refresh_token: an inline refresh token needs issuer (or metadata_url), so that fracta "
                        "sends it only to the authorization server that issued it; add "
                        "issuer = \"https://…\" to the auth table");
  if (s.kind == grant::client_credentials && (!s.client_id || (!s.client_secret && !s.private_key)))
    return config_error("grant_type = \"client_credentials\" requires client_id and client_secret "
                        "(or private_key for private_key_jwt)");
  return s;
}

std::string to_json(const token_record& t) {
  json::writer w;
  w.begin_object();
  w.key("access_token").value(t.access_token);
  if (t.refresh_token) w.key("refresh_token").value(*t.refresh_token);
  w.key("token_type").value("Bearer");
  w.key("expires_at").value(t.expires_at_s);
  w.key("scope").value(t.scope);
  w.key("requested_scope").value(t.requested_scope);
  w.key("issuer").value(t.issuer);
  w.key("token_endpoint").value(t.token_endpoint);
  w.key("resource").value(t.resource);
  w.key("client_id").value(t.client_id);
  w.end_object();
  return w.take();
}

std::string to_json(const registration_record& r) {
  json::writer w;
  w.begin_object();
  w.key("client_id").value(r.client_id);
  if (r.client_secret) w.key("client_secret").value(*r.client_secret);
  w.key("client_secret_expires_at").value(r.client_secret_expires_at);
  w.key("token_endpoint_auth_method").value(r.token_endpoint_auth_method);
  w.key("redirect_uris").begin_array();
  for (const auto& u : r.redirect_uris) w.value(u);
  w.end_array();
  w.key("grant_types").begin_array();
  for (const auto& g : r.grant_types) w.value(g);
  w.end_array();
  w.key("issuer").value(r.issuer);
  w.key("registration_endpoint").value(r.registration_endpoint);
  w.end_object();
  return w.take();
}

result<token_record> parse_token_record(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto msg = json::parse(parser, text, doc); !msg.empty() || !doc.is_object())
    return protocol_error("the stored token record is not a JSON object");
  token_record t;
  auto access = json::get_string(doc, "access_token");
  if (!access || access->empty()) return protocol_error("the stored token record has no access_token");
  t.access_token = std::string(*access);
  if (auto r = json::get_string(doc, "refresh_token"); r && !r->empty()) t.refresh_token = std::string(*r);
  t.expires_at_s = json::get_int(doc, "expires_at").value_or(0);
  copy_string(doc, "scope", t.scope);
  copy_string(doc, "requested_scope", t.requested_scope);
  copy_string(doc, "issuer", t.issuer);
  copy_string(doc, "token_endpoint", t.token_endpoint);
  copy_string(doc, "resource", t.resource);
  copy_string(doc, "client_id", t.client_id);
  return t;
}

result<registration_record> parse_registration_record(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto msg = json::parse(parser, text, doc); !msg.empty() || !doc.is_object())
    return protocol_error("the client registration is not a JSON object");
  registration_record r;
  auto id = json::get_string(doc, "client_id");
  if (!id || id->empty()) return protocol_error("the client registration has no client_id");
  r.client_id = std::string(*id);
  if (auto s = json::get_string(doc, "client_secret"); s && !s->empty()) r.client_secret = std::string(*s);
  r.client_secret_expires_at = json::get_int(doc, "client_secret_expires_at").value_or(0);
  copy_string(doc, "token_endpoint_auth_method", r.token_endpoint_auth_method);
  if (auto e = json::get(doc, "redirect_uris")) r.redirect_uris = strings(*e);
  if (auto e = json::get(doc, "grant_types")) r.grant_types = strings(*e);
  copy_string(doc, "issuer", r.issuer);
  copy_string(doc, "registration_endpoint", r.registration_endpoint);
  return r;
}

}  // namespace fracta::oauth
