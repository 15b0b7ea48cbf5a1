// SPDX-License-Identifier: Apache-2.0
// WWW-Authenticate parsing: several challenges, quoted strings with commas and escapes, token68.
#include <fracta/proto/www_authenticate.hpp>

#include <doctest/doctest.h>

using fracta::auth::find_challenge;
using fracta::auth::parse_www_authenticate;

TEST_CASE("one Bearer challenge with quoted parameters") {
  auto cs = parse_www_authenticate(
      R"(Bearer error="invalid_token", error_description="The token expired", resource_metadata="https://x/.well-known/oauth-protected-resource/mcp")");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].scheme == "Bearer");
  CHECK(cs[0].param("error") == std::optional<std::string_view>("invalid_token"));
  CHECK(cs[0].param("error_description") == std::optional<std::string_view>("The token expired"));
  CHECK(cs[0].param("resource_metadata") ==
        std::optional<std::string_view>("https://x/.well-known/oauth-protected-resource/mcp"));
}

TEST_CASE("several challenges in one header value, commas inside quoted strings") {
  auto cs = parse_www_authenticate(
      R"(Basic realm="a, b", charset="UTF-8", Bearer scope="read write", error="insufficient_scope", Negotiate)");
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].scheme == "Basic");
  CHECK(cs[0].param("realm") == std::optional<std::string_view>("a, b"));
  CHECK(cs[0].param("charset") == std::optional<std::string_view>("UTF-8"));
  CHECK(cs[1].scheme == "Bearer");
  CHECK(cs[1].param("scope") == std::optional<std::string_view>("read write"));
  CHECK(cs[2].scheme == "Negotiate");
  CHECK(cs[2].params.empty());
  REQUIRE(find_challenge(cs, "bearer") != nullptr);
  CHECK(find_challenge(cs, "bearer")->param("error") == std::optional<std::string_view>("insufficient_scope"));
  CHECK(find_challenge(cs, "Digest") == nullptr);
}

TEST_CASE("backslash escapes in quoted strings") {
  auto cs = parse_www_authenticate(R"(Bearer error_description="say \"hi\", then \\ leave")");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].param("error_description") == std::optional<std::string_view>(R"(say "hi", then \ leave)"));
}

TEST_CASE("parameter names are case-insensitive, token values unquoted") {
  auto cs = parse_www_authenticate("Bearer Error=invalid_token, REALM = mcp");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].param("error") == std::optional<std::string_view>("invalid_token"));
  CHECK(cs[0].param("realm") == std::optional<std::string_view>("mcp"));
}

TEST_CASE("token68 credentials-style challenge") {
  auto cs = parse_www_authenticate("Custom abc123+/==, Bearer realm=\"x\"");
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].token68 == "abc123+/==");
  CHECK(cs[1].param("realm") == std::optional<std::string_view>("x"));
}

TEST_CASE("empty and malformed input never crash and keep what parsed") {
  CHECK(parse_www_authenticate("").empty());
  CHECK(parse_www_authenticate("   ,  ").empty());
  auto cs = parse_www_authenticate(R"(Bearer error="unterminated)");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].scheme == "Bearer");
  CHECK_FALSE(cs[0].param("error").has_value());
}
