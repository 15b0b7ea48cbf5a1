// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's configuration and what it stores: parsed settings, token and registration records.
#include "state.hpp"

#include <simdjson.h>

#include <span>
#include <type_traits>
#include <variant>

#include <fracta/proto/json.hpp>
#include <fracta/proto/time.hpp>
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

// Written as is, never read back (the records hold Bearer tokens only).
struct fixed_text final {
  std::string_view text;
};

// One member of a stored record (or of the settings) under its JSON key. A record's fields
// are listed once, for to_json and for parsing, so the two cannot drift apart.
template <class Record>
struct stored_field final {
  std::string_view key;
  std::variant<std::string Record::*,                 // "" when absent
               std::optional<std::string> Record::*,  // unset when absent or empty
               std::int64_t Record::*,                // 0 when absent
               std::vector<std::string> Record::*,    // the strings of an array
               fixed_text>
      member;
  bool required = false;  // a non-empty string without which the record is invalid
};

template <class Record>
void write_fields(json::writer& w, const Record& r, std::span<const stored_field<Record>> fields) {
  for (const stored_field<Record>& f : fields) {
    std::visit(
        [&](auto m) {
          using member = decltype(m);
          if constexpr (std::is_same_v<member, fixed_text>) {
            w.key(f.key).value(m.text);
          } else if constexpr (std::is_same_v<member, std::optional<std::string> Record::*>) {
            if (r.*m) w.key(f.key).value(*(r.*m));
          } else if constexpr (std::is_same_v<member, std::vector<std::string> Record::*>) {
            w.key(f.key).begin_array();
            for (const std::string& item : r.*m) w.value(item);
            w.end_array();
          } else {
            w.key(f.key).value(r.*m);
          }
        },
        f.member);
  }
}

template <class Record>
void read_fields(simdjson::dom::element doc, Record& r, std::span<const stored_field<Record>> fields) {
  for (const stored_field<Record>& f : fields) {
    std::visit(
        [&](auto m) {
          using member = decltype(m);
          if constexpr (std::is_same_v<member, std::string Record::*>) {
            if (auto v = json::get_string(doc, f.key)) r.*m = std::string(*v);
          } else if constexpr (std::is_same_v<member, std::optional<std::string> Record::*>) {
            if (auto v = json::get_string(doc, f.key); v && !v->empty()) r.*m = std::string(*v);
          } else if constexpr (std::is_same_v<member, std::int64_t Record::*>) {
            r.*m = json::get_int(doc, f.key).value_or(0);
          } else if constexpr (std::is_same_v<member, std::vector<std::string> Record::*>) {
            if (auto e = json::get(doc, f.key)) r.*m = strings(*e);
          }
        },
        f.member);
  }
}

// Parses a stored record; `what` names it in errors, which never quote the text (secrets).
template <class Record>
result<Record> parse_record(std::string_view text, std::string_view what,
                            std::span<const stored_field<Record>> fields) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto msg = json::parse(parser, text, doc); !msg.empty() || !doc.is_object())
    return protocol_error(std::string(what) + " is not a JSON object");
  for (const stored_field<Record>& f : fields) {
    if (f.required && json::get_string(doc, f.key).value_or("").empty())
      return protocol_error(std::string(what) + " has no " + std::string(f.key));
  }
  Record r;
  read_fields(doc, r, fields);
  return r;
}

template <class Record>
std::string record_json(const Record& r, std::span<const stored_field<Record>> fields) {
  json::writer w;
  w.begin_object();
  write_fields(w, r, fields);
  w.end_object();
  return w.take();
}

using token_field = stored_field<token_record>;
constexpr token_field token_fields[] = {
    {"access_token", &token_record::access_token, true},
    {"refresh_token", &token_record::refresh_token},
    {"token_type", fixed_text{"Bearer"}},
    {"expires_at", &token_record::expires_at_s},
    {"scope", &token_record::scope},
    {"requested_scope", &token_record::requested_scope},
    {"issuer", &token_record::issuer},
    {"token_endpoint", &token_record::token_endpoint},
    {"resource", &token_record::resource},
    {"client_id", &token_record::client_id},
};

using registration_field = stored_field<registration_record>;
constexpr registration_field registration_fields[] = {
    {"client_id", &registration_record::client_id, true},
    {"client_secret", &registration_record::client_secret},
    {"client_secret_expires_at", &registration_record::client_secret_expires_at},
    {"token_endpoint_auth_method", &registration_record::token_endpoint_auth_method},
    {"redirect_uris", &registration_record::redirect_uris},
    {"grant_types", &registration_record::grant_types},
    {"issuer", &registration_record::issuer},
    {"registration_endpoint", &registration_record::registration_endpoint},
};

// The plain string settings; SecretValues and the rest are read by parse_settings itself.
using settings_field = stored_field<settings>;
constexpr settings_field settings_strings[] = {
    {"token_file", &settings::token_file},
    {"client_registration_file", &settings::client_registration_file},
    {"issuer", &settings::issuer},
    {"metadata_url", &settings::metadata_url},
    {"redirect_uri", &settings::redirect_uri},
    {"resource", &settings::resource},
    {"client_metadata_url", &settings::client_metadata_url},
    {"key_id", &settings::key_id},
    {"token_endpoint_auth_method", &settings::token_endpoint_auth_method},
};

// The SecretValue settings, kept as their JSON (a reference the host resolves).
constexpr std::pair<std::string_view, std::optional<std::string> settings::*> settings_secrets[] = {
    {"client_id", &settings::client_id},         {"client_secret", &settings::client_secret},
    {"private_key", &settings::private_key},     {"access_token", &settings::access_token},
    {"refresh_token", &settings::refresh_token},
};

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
  for (const auto& [key, member] : settings_secrets) {
    if (auto e = json::get(doc, key)) s.*member = json::to_string(*e);
  }
  if (auto e = json::get(doc, "expires_at")) {
    std::int64_t n = 0;
    std::string_view str;
    if (e->get_int64().get(n) == simdjson::SUCCESS) {
      s.expires_at_s = n;
    } else if (e->is_object()) {
      s.expires_at_secret = json::to_string(*e);
    } else if (e->get_string().get(str) == simdjson::SUCCESS) {
      auto t = text::parse_instant(str);
      if (!t) return config_error("expires_at must be unix seconds or an RFC 3339 date-time such as 2026-01-01T00:00:00Z");
      s.expires_at_s = *t;
    }
  }
  read_fields<settings>(doc, s, settings_strings);
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

std::string to_json(const token_record& t) { return record_json<token_record>(t, token_fields); }

std::string to_json(const registration_record& r) {
  return record_json<registration_record>(r, registration_fields);
}

result<token_record> parse_token_record(std::string_view text) {
  return parse_record<token_record>(text, "the stored token record", token_fields);
}

result<registration_record> parse_registration_record(std::string_view text) {
  return parse_record<registration_record>(text, "the client registration", registration_fields);
}

}  // namespace fracta::oauth
