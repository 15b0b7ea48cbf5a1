// SPDX-License-Identifier: Apache-2.0
// Discovery: probe orders from the MCP spec, probe outcomes, metadata validation.
#include "discovery.hpp"

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through it

#include "fracta/errors.hpp"

using namespace fracta::oauth;
using fracta::http::url;
using strings = std::vector<std::string>;

namespace {

url parse(std::string_view s) {
  auto u = url::parse(s);
  REQUIRE(u.ok());
  return *u;
}

constexpr std::string_view as_json_ok = R"({
  "issuer": "https://auth.example.com/tenant1",
  "authorization_endpoint": "https://auth.example.com/tenant1/authorize",
  "token_endpoint": "https://auth.example.com/tenant1/token",
  "registration_endpoint": "https://auth.example.com/tenant1/register",
  "device_authorization_endpoint": "https://auth.example.com/tenant1/device",
  "code_challenge_methods_supported": ["plain", "S256"],
  "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
  "scopes_supported": ["openid", "offline_access"],
  "client_id_metadata_document_supported": true,
  "authorization_response_iss_parameter_supported": true
})";

}  // namespace

TEST_CASE("resource metadata URLs: server with a path, no challenge") {
  CHECK(protected_resource_metadata_urls(parse("https://example.com/public/mcp"), std::nullopt) ==
        strings{"https://example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://example.com/.well-known/oauth-protected-resource"});
}

TEST_CASE("resource metadata URLs: server without a path probes only the root") {
  const strings root = {"https://example.com/.well-known/oauth-protected-resource"};
  CHECK(protected_resource_metadata_urls(parse("https://example.com"), std::nullopt) == root);
  CHECK(protected_resource_metadata_urls(parse("https://example.com/"), std::nullopt) == root);
}

TEST_CASE("resource metadata URLs: trailing slash and port") {
  CHECK(protected_resource_metadata_urls(parse("http://127.0.0.1:8080/mcp/"), std::nullopt) ==
        strings{"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp",
                "http://127.0.0.1:8080/.well-known/oauth-protected-resource"});
}

TEST_CASE("resource metadata URLs: the challenge's URL comes first") {
  CHECK(protected_resource_metadata_urls(
            parse("https://example.com/mcp"),
            std::string_view("https://example.com/custom/prm.json")) ==
        strings{"https://example.com/custom/prm.json",
                "https://example.com/.well-known/oauth-protected-resource/mcp",
                "https://example.com/.well-known/oauth-protected-resource"});
}

TEST_CASE("resource metadata URLs: no duplicates when the challenge names a well-known URL") {
  CHECK(protected_resource_metadata_urls(
            parse("https://example.com/mcp"),
            std::string_view("https://example.com/.well-known/oauth-protected-resource")) ==
        strings{"https://example.com/.well-known/oauth-protected-resource",
                "https://example.com/.well-known/oauth-protected-resource/mcp"});
  CHECK(protected_resource_metadata_urls(
            parse("https://example.com/mcp"),
            std::string_view("https://example.com/.well-known/oauth-protected-resource/mcp")) ==
        strings{"https://example.com/.well-known/oauth-protected-resource/mcp",
                "https://example.com/.well-known/oauth-protected-resource"});
}

TEST_CASE("resource metadata URLs: an unusable challenge URL is skipped") {
  CHECK(protected_resource_metadata_urls(parse("https://example.com/mcp"),
                                         std::string_view("not a url")) ==
        strings{"https://example.com/.well-known/oauth-protected-resource/mcp",
                "https://example.com/.well-known/oauth-protected-resource"});
}

TEST_CASE("AS metadata URLs: issuer with a path") {
  CHECK(authorization_server_metadata_urls("https://auth.example.com/tenant1") ==
        strings{"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"});
  CHECK(authorization_server_metadata_urls("https://sso.example.com/realms/x") ==
        strings{"https://sso.example.com/.well-known/oauth-authorization-server/realms/x",
                "https://sso.example.com/.well-known/openid-configuration/realms/x",
                "https://sso.example.com/realms/x/.well-known/openid-configuration"});
}

TEST_CASE("AS metadata URLs: issuer with a path and a trailing slash") {
  CHECK(authorization_server_metadata_urls("https://auth.example.com/tenant1/") ==
        strings{"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"});
}

TEST_CASE("AS metadata URLs: issuer without a path, with or without trailing slash") {
  const strings expected = {"https://auth.example.com/.well-known/oauth-authorization-server",
                            "https://auth.example.com/.well-known/openid-configuration"};
  CHECK(authorization_server_metadata_urls("https://auth.example.com") == expected);
  CHECK(authorization_server_metadata_urls("https://auth.example.com/") == expected);
  CHECK(authorization_server_metadata_urls("not a url").empty());
}

TEST_CASE("metadata probe classification") {
  CHECK(classify_metadata_response(200) == probe_outcome::found);
  for (int s : {400, 401, 403, 404, 405, 410, 429, 502}) {
    CAPTURE(s);
    CHECK(classify_metadata_response(s) == probe_outcome::try_next);
  }
  for (int s : {500, 503, 504, 0, 301, 204}) {
    CAPTURE(s);
    CHECK(classify_metadata_response(s) == probe_outcome::fail);
  }
}

TEST_CASE("resource metadata: valid document with the exact server URL") {
  auto md = parse_resource_metadata(R"({"resource":"https://example.com/mcp",
      "authorization_servers":["https://auth.example.com/tenant1","https://other.example"],
      "scopes_supported":["files:read"]})",
                                    parse("https://example.com/mcp"));
  REQUIRE(md.ok());
  CHECK(md->resource == "https://example.com/mcp");
  CHECK(md->authorization_servers ==
        strings{"https://auth.example.com/tenant1", "https://other.example"});
  CHECK(md->scopes_supported == strings{"files:read"});
  CHECK(choose_authorization_server(md->authorization_servers) ==
        "https://auth.example.com/tenant1");
  CHECK(choose_authorization_server({}).empty());
}

TEST_CASE("resource metadata: same-origin parent path accepted") {
  const url server = parse("https://example.com/api/v1/mcp");
  for (std::string_view resource :
       {"https://example.com", "https://example.com/", "https://example.com/api",
        "https://example.com/api/", "https://EXAMPLE.com:443/api/v1/mcp"}) {
    CAPTURE(resource);
    std::string doc = R"({"resource":")" + std::string(resource) +
                      R"(","authorization_servers":["https://auth.example.com"]})";
    CHECK(parse_resource_metadata(doc, server).ok());
  }
}

TEST_CASE("resource metadata: mismatched resource rejected") {
  const url server = parse("https://example.com/api/mcp");
  for (std::string_view resource :
       {"https://evil.example.com/api/mcp", "http://example.com/api/mcp",
        "https://example.com:8443/api/mcp", "https://example.com/other",
        "https://example.com/ap", "https://example.com/api/mcp/deeper", "not a url"}) {
    CAPTURE(resource);
    std::string doc = R"({"resource":")" + std::string(resource) +
                      R"(","authorization_servers":["https://auth.example.com"]})";
    auto md = parse_resource_metadata(doc, server);
    REQUIRE_FALSE(md.ok());
    CHECK(md.err().code == fracta::errc::protocol);
  }
}

TEST_CASE("resource metadata: missing fields and bad JSON rejected") {
  const url server = parse("https://example.com/mcp");
  CHECK_FALSE(parse_resource_metadata("{", server).ok());
  CHECK_FALSE(parse_resource_metadata("[]", server).ok());
  CHECK_FALSE(parse_resource_metadata(R"({"authorization_servers":["https://a"]})", server).ok());
  CHECK_FALSE(
      parse_resource_metadata(R"({"resource":"https://example.com/mcp"})", server).ok());
  CHECK_FALSE(parse_resource_metadata(
                  R"({"resource":"https://example.com/mcp","authorization_servers":[]})", server)
                  .ok());
  CHECK_FALSE(parse_resource_metadata(
                  R"({"resource":"https://example.com/mcp","authorization_servers":"https://a"})",
                  server)
                  .ok());
}

TEST_CASE("AS metadata: all fields parsed") {
  auto md = parse_as_metadata(as_json_ok, "https://auth.example.com/tenant1", false, false);
  REQUIRE(md.ok());
  CHECK(md->issuer == "https://auth.example.com/tenant1");
  CHECK(md->authorization_endpoint == "https://auth.example.com/tenant1/authorize");
  CHECK(md->token_endpoint == "https://auth.example.com/tenant1/token");
  CHECK(md->registration_endpoint == std::optional<std::string>("https://auth.example.com/tenant1/register"));
  CHECK(md->device_authorization_endpoint ==
        std::optional<std::string>("https://auth.example.com/tenant1/device"));
  CHECK(md->token_endpoint_auth_methods_supported == strings{"client_secret_post", "none"});
  CHECK(md->scopes_supported == strings{"openid", "offline_access"});
  CHECK(md->client_id_metadata_document_supported);
  CHECK(md->authorization_response_iss_parameter_supported);
  CHECK_FALSE(md->legacy);
}

TEST_CASE("AS metadata: issuer mismatch rejected, accepted in legacy mode") {
  auto md = parse_as_metadata(as_json_ok, "https://auth.example.com", false, false);
  REQUIRE_FALSE(md.ok());
  CHECK(md.err().code == fracta::errc::protocol);
  CHECK(md.err().message.find("issuer") != std::string::npos);
  // Trailing slash differences are mismatches too: the comparison is exact.
  CHECK_FALSE(parse_as_metadata(as_json_ok, "https://auth.example.com/tenant1/", false, false).ok());

  auto legacy = parse_as_metadata(as_json_ok, "https://auth.example.com", true, false);
  REQUIRE(legacy.ok());
  CHECK(legacy->issuer == "https://auth.example.com/tenant1");
}

TEST_CASE("AS metadata: PKCE refused when S256 is absent or missing from the list") {
  auto absent = parse_as_metadata(
      R"({"issuer":"https://a.example","token_endpoint":"https://a.example/token"})",
      "https://a.example", false, false);
  REQUIRE(absent.ok());  // client credentials need no PKCE: parsing accepts it
  auto r = require_pkce_s256(*absent);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("code_challenge_methods_supported") != std::string::npos);
  CHECK(r.err().message.find("S256") != std::string::npos);

  auto plain = parse_as_metadata(
      R"({"issuer":"https://a.example","token_endpoint":"https://a.example/token",
          "code_challenge_methods_supported":["plain"]})",
      "https://a.example", false, false);
  REQUIRE(plain.ok());
  auto rp = require_pkce_s256(*plain);
  REQUIRE_FALSE(rp.ok());
  CHECK(rp.err().message.find("S256") != std::string::npos);

  auto good = parse_as_metadata(
      R"({"issuer":"https://a.example","token_endpoint":"https://a.example/token",
          "code_challenge_methods_supported":["plain","S256"]})",
      "https://a.example", false, false);
  REQUIRE(good.ok());
  CHECK(require_pkce_s256(*good).ok());
  CHECK(require_pkce_s256(legacy_fallback(parse("https://m.example/mcp"))).ok());
}

TEST_CASE("AS metadata: token endpoint required, https unless loopback is allowed") {
  CHECK_FALSE(parse_as_metadata(
                  R"({"issuer":"https://a.example","code_challenge_methods_supported":["S256"]})",
                  "https://a.example", false, true)
                  .ok());
  CHECK_FALSE(parse_as_metadata(R"({"issuer":"https://a.example",
      "token_endpoint":"http://a.example/token","code_challenge_methods_supported":["S256"]})",
                                "https://a.example", false, true)
                  .ok());
  constexpr std::string_view loopback = R"({"issuer":"http://127.0.0.1:9000",
      "token_endpoint":"http://127.0.0.1:9000/token","code_challenge_methods_supported":["S256"]})";
  CHECK(parse_as_metadata(loopback, "http://127.0.0.1:9000", false, true).ok());
  auto refused = parse_as_metadata(loopback, "http://127.0.0.1:9000", false, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().message.find("http://127.0.0.1:9000/token") != std::string::npos);
}

// ---- egress: which URLs the server may make fracta fetch or post to -------------------------------

TEST_CASE("egress: is_secure_endpoint accepts loopback http only when allowed") {
  for (bool loopback_ok : {false, true}) {
    CAPTURE(loopback_ok);
    CHECK(is_secure_endpoint("https://as.example.com/token", loopback_ok));
    CHECK(is_secure_endpoint("https://10.0.0.5/token", loopback_ok));  // addresses: the client's egress policy
    CHECK_FALSE(is_secure_endpoint("http://as.example.com/token", loopback_ok));
    CHECK_FALSE(is_secure_endpoint("ftp://as.example.com/token", loopback_ok));
    CHECK(is_secure_endpoint("http://127.0.0.1:6379/", loopback_ok) == loopback_ok);
    CHECK(is_secure_endpoint("http://localhost/token", loopback_ok) == loopback_ok);
  }
}

TEST_CASE("egress: a challenge's resource_metadata must be https, or loopback http for a loopback server") {
  const url remote = parse("https://example.com/mcp");
  const url local = parse("http://127.0.0.1:8080/mcp");
  for (std::string_view bad : {"http://169.254.169.254/latest/meta-data?k=v", "http://example.com/prm",
                               "http://127.0.0.1:6379/prm"}) {
    CAPTURE(bad);
    CHECK(protected_resource_metadata_urls(remote, bad).front() != bad);
    auto r = check_discovered_url(bad, remote, "resource metadata");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("resource metadata") != std::string::npos);
    CHECK(r.err().message.find("?k=v") == std::string::npos);  // redacted
  }
  CHECK(check_discovered_url("http://169.254.169.254/x", remote, "x").err().message.find("http://169.254.169.254/x") !=
        std::string::npos);
  CHECK(check_discovered_url("https://example.com/prm", remote, "x").ok());
  CHECK(check_discovered_url("http://127.0.0.1:8080/prm", local, "x").ok());
  CHECK_FALSE(check_discovered_url("http://example.com/prm", local, "x").ok());
  CHECK(protected_resource_metadata_urls(local, std::string_view("http://127.0.0.1:8080/prm")).front() ==
        "http://127.0.0.1:8080/prm");
}

TEST_CASE("egress: resource metadata naming a plain-http authorization server is refused") {
  const url remote = parse("https://example.com/mcp");
  for (std::string_view as : {"http://auth.example.com", "http://127.0.0.1:9000", "http://169.254.169.254"}) {
    CAPTURE(as);
    const std::string doc = R"({"resource":"https://example.com/mcp","authorization_servers":[")" + std::string(as) + R"("]})";
    auto md = parse_resource_metadata(doc, remote);
    REQUIRE_FALSE(md.ok());
    CHECK(md.err().message.find(std::string(as)) != std::string::npos);
  }
  auto local = parse_resource_metadata(
      R"({"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["http://127.0.0.1:9000"]})",
      parse("http://127.0.0.1:8080/mcp"));
  CHECK(local.ok());
}

TEST_CASE("resource_covers: same origin, same or parent path on segment boundaries") {
  const url target = parse("https://example.com/api/mcp");
  CHECK(resource_covers("https://example.com/api/mcp", target));
  CHECK(resource_covers("https://example.com/api", target));
  CHECK(resource_covers("https://example.com", target));
  CHECK_FALSE(resource_covers("https://example.com/ap", target));
  CHECK_FALSE(resource_covers("https://example.com/api/mcp/x", target));
  CHECK_FALSE(resource_covers("https://other.example/api/mcp", target));
  CHECK_FALSE(resource_covers("http://example.com/api/mcp", target));
  CHECK_FALSE(resource_covers("not a url", target));
}

TEST_CASE("legacy 2025-03-26 fallback uses the server origin") {
  const as_metadata md = legacy_fallback(parse("https://mcp.example.com:8443/v1/mcp?x=1"));
  CHECK(md.issuer == "https://mcp.example.com:8443");
  CHECK(md.authorization_endpoint == "https://mcp.example.com:8443/authorize");
  CHECK(md.token_endpoint == "https://mcp.example.com:8443/token");
  CHECK(md.registration_endpoint == std::optional<std::string>("https://mcp.example.com:8443/register"));
  CHECK(md.legacy);
}
