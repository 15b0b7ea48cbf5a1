// SPDX-License-Identifier: Apache-2.0
// Scope selection order, the offline_access rule, step-up unions, canonical resource URIs.
#include "scopes.hpp"

#include <doctest/doctest.h>

using namespace fracta::oauth;
using fracta::http::url;

namespace {

url parse(std::string_view s) {
  auto u = url::parse(s);
  REQUIRE(u.ok());
  return *u;
}

}  // namespace

TEST_CASE("select_scope: configured, else challenge, else scopes_supported, else none") {
  const std::vector<std::string> none;
  const std::vector<std::string> supported = {"files:read", "files:write"};
  CHECK(select_scope({"a", "b"}, "c", supported) == std::optional<std::string>("a b"));
  CHECK(select_scope(none, "files:read  extra", supported) ==
        std::optional<std::string>("files:read extra"));
  CHECK(select_scope(none, std::nullopt, supported) ==
        std::optional<std::string>("files:read files:write"));
  CHECK(select_scope(none, "", supported) == std::optional<std::string>("files:read files:write"));
  CHECK_FALSE(select_scope(none, std::nullopt, none).has_value());
  CHECK_FALSE(select_scope(none, "   ", none).has_value());
}

TEST_CASE("select_scope: offline_access only when the server lists it") {
  const std::vector<std::string> without = {"read"};
  const std::vector<std::string> with = {"read", "offline_access"};
  CHECK(select_scope({"read", "offline_access"}, std::nullopt, without) ==
        std::optional<std::string>("read"));
  CHECK(select_scope({"read", "offline_access"}, std::nullopt, with) ==
        std::optional<std::string>("read offline_access"));
  // Only offline_access configured and not listed: fall through to the challenge.
  CHECK(select_scope({"offline_access"}, "mcp", without) == std::optional<std::string>("mcp"));
  // Never added by fracta itself.
  CHECK(select_scope({"read"}, std::nullopt, with) == std::optional<std::string>("read"));
}

TEST_CASE("union_scopes keeps order and drops duplicates") {
  CHECK(union_scopes("files:read", "files:read files:write") == "files:read files:write");
  CHECK(union_scopes("a b", "c a") == "a b c");
  CHECK(union_scopes("", "x") == "x");
  CHECK(union_scopes("a  a", "") == "a");
  CHECK(union_scopes("", "") == "");
}

TEST_CASE("canonical_resource is the RFC 8707 form") {
  CHECK(canonical_resource(parse("HTTPS://MCP.Example.COM/mcp")) == "https://mcp.example.com/mcp");
  CHECK(canonical_resource(parse("https://mcp.example.com")) == "https://mcp.example.com");
  CHECK(canonical_resource(parse("https://mcp.example.com/")) == "https://mcp.example.com");
  CHECK(canonical_resource(parse("https://mcp.example.com:443/mcp")) ==
        "https://mcp.example.com/mcp");
  CHECK(canonical_resource(parse("https://mcp.example.com:8443")) ==
        "https://mcp.example.com:8443");
  CHECK(canonical_resource(parse("https://mcp.example.com/server/mcp#frag")) ==
        "https://mcp.example.com/server/mcp");
  CHECK(canonical_resource(parse("https://user:pw@mcp.example.com/mcp/")) ==
        "https://mcp.example.com/mcp/");
}
