// SPDX-License-Identifier: Apache-2.0
// Token endpoint client authentication: the method choice table and the Basic header.
#include "client_auth.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <fracta/proto/base64.hpp>

using namespace fracta::oauth;
using fracta::text::base64_encode;

TEST_CASE("choose_auth_method table") {
  using m = auth_method;
  const std::vector<std::string> absent;
  const std::vector<std::string> basic_post = {"client_secret_basic", "client_secret_post"};
  const std::vector<std::string> post_only = {"client_secret_post"};
  const std::vector<std::string> none_only = {"none"};
  const std::vector<std::string> all = {"none", "client_secret_post", "private_key_jwt",
                                        "client_secret_basic"};

  // Absent list: RFC 8414 default is client_secret_basic.
  CHECK(choose_auth_method(absent, true, false, std::nullopt) == m::client_secret_basic);
  CHECK(choose_auth_method(absent, false, false, std::nullopt) == m::none);
  CHECK(choose_auth_method(absent, false, true, std::nullopt) == m::private_key_jwt);
  // Listed methods.
  CHECK(choose_auth_method(basic_post, true, false, std::nullopt) == m::client_secret_basic);
  CHECK(choose_auth_method(post_only, true, false, std::nullopt) == m::client_secret_post);
  CHECK(choose_auth_method(none_only, false, false, std::nullopt) == m::none);
  CHECK(choose_auth_method(basic_post, false, false, std::nullopt) == m::none);
  CHECK(choose_auth_method(all, true, true, std::nullopt) == m::private_key_jwt);
  CHECK(choose_auth_method(all, true, false, std::nullopt) == m::client_secret_basic);
  // A secret with only "none" listed: a public client after all.
  CHECK(choose_auth_method(none_only, true, false, std::nullopt) == m::none);
  // Configuration wins.
  CHECK(choose_auth_method(basic_post, true, false, m::client_secret_post) ==
        m::client_secret_post);
  CHECK(choose_auth_method(absent, true, false, m::none) == m::none);
}

TEST_CASE("auth method names round-trip") {
  for (auto x : {auth_method::client_secret_basic, auth_method::client_secret_post,
                 auth_method::none, auth_method::private_key_jwt}) {
    CHECK(parse_auth_method(to_string(x)) == x);
  }
  CHECK_FALSE(parse_auth_method("tls_client_auth").has_value());
}

TEST_CASE("basic_authorization form-urlencodes id and secret before base64") {
  CHECK(basic_authorization("client", "secret") == "Basic " + base64_encode("client:secret"));
  // "a b:c" -> "a+b%3Ac", "p&ss/w:rd" -> "p%26ss%2Fw%3Ard"
  CHECK(basic_authorization("a b:c", "p&ss/w:rd") ==
        "Basic " + base64_encode("a+b%3Ac:p%26ss%2Fw%3Ard"));
  CHECK(basic_authorization("a b:c", "p&ss/w:rd") == "Basic YStiJTNBYzpwJTI2c3MlMkZ3JTNBcmQ=");
}
