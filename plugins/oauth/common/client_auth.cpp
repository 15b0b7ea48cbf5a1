// SPDX-License-Identifier: Apache-2.0
// Client authentication method choice and the Basic header.
#include "client_auth.hpp"

#include <algorithm>

#include <fracta/proto/base64.hpp>
#include <fracta/proto/url.hpp>

namespace fracta::oauth {

std::string_view to_string(auth_method m) noexcept {
  switch (m) {
    case auth_method::client_secret_basic: return "client_secret_basic";
    case auth_method::client_secret_post: return "client_secret_post";
    case auth_method::none: return "none";
    case auth_method::private_key_jwt: return "private_key_jwt";
  }
  return "none";
}

std::optional<auth_method> parse_auth_method(std::string_view name) noexcept {
  for (auto m : {auth_method::client_secret_basic, auth_method::client_secret_post,
                 auth_method::none, auth_method::private_key_jwt}) {
    if (to_string(m) == name) return m;
  }
  return std::nullopt;
}

auth_method choose_auth_method(const std::vector<std::string>& supported, bool have_secret,
                               bool have_private_key, std::optional<auth_method> configured) {
  if (configured) return *configured;
  auto listed = [&](auth_method m) {
    return std::find(supported.begin(), supported.end(), to_string(m)) != supported.end();
  };
  if (supported.empty()) {
    if (have_secret) return auth_method::client_secret_basic;
    if (have_private_key) return auth_method::private_key_jwt;
    return auth_method::none;
  }
  if (have_private_key && listed(auth_method::private_key_jwt)) return auth_method::private_key_jwt;
  if (have_secret) {
    if (listed(auth_method::client_secret_basic)) return auth_method::client_secret_basic;
    if (listed(auth_method::client_secret_post)) return auth_method::client_secret_post;
  }
  if (!have_secret && !have_private_key) return auth_method::none;
  if (listed(auth_method::none)) return auth_method::none;
  return have_secret ? auth_method::client_secret_basic : auth_method::private_key_jwt;
}

std::string basic_authorization(std::string_view client_id, std::string_view secret) {
  std::string plain = http::form_urlencode(client_id);
  plain.push_back(':');
  plain += http::form_urlencode(secret);
  return "Basic " + text::base64_encode(plain);
}

}  // namespace fracta::oauth
