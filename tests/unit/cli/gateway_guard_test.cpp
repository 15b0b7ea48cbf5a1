// SPDX-License-Identifier: Apache-2.0
// Who may use the gateway: loopback listen addresses, Host and Origin checks against DNS
// rebinding, the bearer check, the 401 challenge and the RFC 9728 metadata.
#include "gateway/guard.hpp"

#include <fracta/proto/json.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace fracta::gateway;

namespace {

guard_policy on_loopback() { return guard_policy{}; }

guard_policy public_with(std::vector<std::string> hosts, std::vector<std::string> origins = {}) {
  guard_policy p;
  p.loopback = false;
  p.allowed_hosts = std::move(hosts);
  p.allowed_origins = std::move(origins);
  return p;
}

}  // namespace

TEST_CASE("is_loopback_host accepts loopback listen addresses with or without a port, and nothing else") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.8.9.10"));
  CHECK(is_loopback_host("127.0.0.1:8080"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("[::1]"));
  CHECK(is_loopback_host("[::1]:8080"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("LocalHost:80"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK_FALSE(is_loopback_host("[::]:8080"));
  CHECK_FALSE(is_loopback_host("192.168.1.2"));
  CHECK_FALSE(is_loopback_host("localhost.evil.com"));
  CHECK_FALSE(is_loopback_host("127.0.0.1.nip.io"));
  CHECK_FALSE(is_loopback_host("[::1"));
  CHECK_FALSE(is_loopback_host(""));
}

TEST_CASE("on loopback, Host accepts localhost, 127.0.0.1 and [::1] with any port, in any case") {
  const auto p = on_loopback();
  CHECK(host_allowed("localhost", p));
  CHECK(host_allowed("localhost:8080", p));
  CHECK(host_allowed("LOCALHOST:8080", p));
  CHECK(host_allowed("127.0.0.1", p));
  CHECK(host_allowed("127.0.0.1:39999", p));
  CHECK(host_allowed("[::1]", p));
  CHECK(host_allowed("[::1]:8080", p));
}

TEST_CASE("on loopback, Host refuses a rebinding name, a missing Host and malformed values") {
  const auto p = on_loopback();
  CHECK_FALSE(host_allowed("evil.com", p));
  CHECK_FALSE(host_allowed("localhost.evil.com:8080", p));
  CHECK_FALSE(host_allowed("127.0.0.1.nip.io", p));
  CHECK_FALSE(host_allowed("", p));
  CHECK_FALSE(host_allowed("::1", p));
  CHECK_FALSE(host_allowed("localhost:99999", p));
  CHECK_FALSE(host_allowed("localhost:80x", p));
  CHECK_FALSE(host_allowed("localhost/path", p));
  CHECK_FALSE(host_allowed("user@localhost", p));
  CHECK_FALSE(host_allowed("local host", p));
}

TEST_CASE("off loopback, Host accepts only allowed_hosts: a bare entry any port, host:port that port") {
  const auto p = public_with({"mcp.example.com", "Gw.Example.org:8443"});
  CHECK(host_allowed("mcp.example.com", p));
  CHECK(host_allowed("MCP.example.COM:9000", p));
  CHECK(host_allowed("gw.example.org:8443", p));
  CHECK_FALSE(host_allowed("gw.example.org", p));
  CHECK_FALSE(host_allowed("gw.example.org:8444", p));
  CHECK_FALSE(host_allowed("localhost:8080", p));
  CHECK_FALSE(host_allowed("127.0.0.1", p));
  CHECK_FALSE(host_allowed("evil.com", p));
  CHECK_FALSE(host_allowed("", p));
  CHECK_FALSE(host_allowed("localhost", public_with({})));
}

TEST_CASE("allowed_hosts \"*\" accepts any well-formed Host but still refuses a missing one") {
  const auto p = public_with({"*"});
  CHECK(host_allowed("anything.example:1234", p));
  CHECK_FALSE(host_allowed("", p));
  CHECK_FALSE(host_allowed("a/b", p));
}

TEST_CASE("an absent Origin passes; \"null\" and non-origins are refused") {
  const auto p = on_loopback();
  CHECK(origin_allowed(std::nullopt, p));
  CHECK(origin_allowed(std::nullopt, public_with({})));
  CHECK_FALSE(origin_allowed("null", p));
  CHECK_FALSE(origin_allowed("", p));
  CHECK_FALSE(origin_allowed("localhost:3000", p));
  CHECK_FALSE(origin_allowed("file://localhost", p));
  CHECK_FALSE(origin_allowed("http://localhost:3000/path", p));
  CHECK_FALSE(origin_allowed("http://user@localhost:3000", p));
}

TEST_CASE("on loopback, loopback origins pass over http and https, any port, any case") {
  const auto p = on_loopback();
  CHECK(origin_allowed("http://localhost:3000", p));
  CHECK(origin_allowed("http://localhost", p));
  CHECK(origin_allowed("https://localhost:8443", p));
  CHECK(origin_allowed("http://127.0.0.1:5173", p));
  CHECK(origin_allowed("http://[::1]:8080", p));
  CHECK(origin_allowed("HTTP://LOCALHOST:3000", p));
  CHECK(origin_allowed("http://localhost:3000/", p));
}

TEST_CASE("look-alike loopback origins are refused: localhost.evil.com, 127.0.0.1.nip.io") {
  const auto p = on_loopback();
  CHECK_FALSE(origin_allowed("http://localhost.evil.com", p));
  CHECK_FALSE(origin_allowed("http://localhost.evil.com:3000", p));
  CHECK_FALSE(origin_allowed("http://127.0.0.1.nip.io", p));
  CHECK_FALSE(origin_allowed("http://evil.com", p));
  CHECK_FALSE(origin_allowed("http://127.1", p));
}

TEST_CASE("off loopback, only allowed_origins pass, compared on scheme, host and normalised port") {
  const auto p = public_with({"*"}, {"https://App.Example.com", "http://tool.example:8080"});
  CHECK(origin_allowed("https://app.example.com", p));
  CHECK(origin_allowed("HTTPS://APP.EXAMPLE.COM:443", p));
  CHECK(origin_allowed("http://tool.example:8080", p));
  CHECK_FALSE(origin_allowed("http://app.example.com", p));
  CHECK_FALSE(origin_allowed("https://app.example.com:8443", p));
  CHECK_FALSE(origin_allowed("http://tool.example", p));
  CHECK_FALSE(origin_allowed("https://app.example.com.evil.com", p));
  CHECK_FALSE(origin_allowed("http://localhost:3000", p));
}

TEST_CASE("normalise_origin lower-cases, drops default ports and refuses what is not an origin") {
  CHECK(normalise_origin("HTTPS://Example.COM:443") == "https://example.com");
  CHECK(normalise_origin("http://example.com:80/") == "http://example.com");
  CHECK(normalise_origin("http://example.com:8080") == "http://example.com:8080");
  CHECK(normalise_origin("http://[::1]:3000") == "http://[::1]:3000");
  CHECK_FALSE(normalise_origin("null"));
  CHECK_FALSE(normalise_origin("ftp://example.com"));
  CHECK_FALSE(normalise_origin("https://example.com/x"));
  CHECK_FALSE(normalise_origin("https://example.com?q"));
  CHECK_FALSE(normalise_origin("https://"));
}

TEST_CASE("bearer_allowed accepts the right token, in any configured position, scheme in any case") {
  const std::vector<std::string> tokens = {"first-token", "s3cr3t.Token_~+/=="};
  CHECK(bearer_allowed("Bearer first-token", tokens));
  CHECK(bearer_allowed("Bearer s3cr3t.Token_~+/==", tokens));
  CHECK(bearer_allowed("bearer first-token", tokens));
  CHECK(bearer_allowed("BEARER first-token", tokens));
}

TEST_CASE("bearer_allowed refuses wrong, truncated, extended and empty tokens and other schemes") {
  const std::vector<std::string> tokens = {"first-token", "second"};
  CHECK_FALSE(bearer_allowed(std::nullopt, tokens));
  CHECK_FALSE(bearer_allowed("", tokens));
  CHECK_FALSE(bearer_allowed("Bearer", tokens));
  CHECK_FALSE(bearer_allowed("Bearer ", tokens));
  CHECK_FALSE(bearer_allowed("Bearer wrong-token", tokens));
  CHECK_FALSE(bearer_allowed("Bearer first-toke", tokens));
  CHECK_FALSE(bearer_allowed("Bearer first-token2", tokens));
  CHECK_FALSE(bearer_allowed("Bearer  first-token", tokens));
  CHECK_FALSE(bearer_allowed("Bearer\tfirst-token", tokens));
  CHECK_FALSE(bearer_allowed("Bearer first-token ", tokens));
  CHECK_FALSE(bearer_allowed("Bearerfirst-token", tokens));
  CHECK_FALSE(bearer_allowed("Basic first-token", tokens));
  CHECK_FALSE(bearer_allowed("Basic Zmlyc3QtdG9rZW4=", tokens));
  CHECK_FALSE(bearer_allowed("Bearer first token", tokens));
  CHECK_FALSE(bearer_allowed("Bearer =first-token", tokens));
  CHECK_FALSE(bearer_allowed("Bearer first-token", {}));
}

TEST_CASE("www_authenticate points at the metadata and adds invalid_token only when a token came") {
  const std::string url = "https://gw.example/.well-known/oauth-protected-resource/mcp";
  CHECK(www_authenticate(url, false) == "Bearer resource_metadata=\"" + url + "\"");
  CHECK(www_authenticate(url, true) == "Bearer error=\"invalid_token\", resource_metadata=\"" + url + "\"");
}

TEST_CASE("www_authenticate writes the URL as a quoted-string: quote and backslash escaped, controls dropped") {
  CHECK(www_authenticate("http://a/\"x\\y\r\nSet-Cookie: z", false) ==
        "Bearer resource_metadata=\"http://a/\\\"x\\\\ySet-Cookie: z\"");
}

TEST_CASE("protected_resource_metadata is the RFC 9728 document with the header bearer method") {
  const std::string doc = protected_resource_metadata("https://gw.example/mcp", {"https://as.example"},
                                                      {"mcp:tools", "mcp:read"});
  CHECK(doc == R"({"resource":"https://gw.example/mcp","authorization_servers":["https://as.example"],)"
               R"("scopes_supported":["mcp:tools","mcp:read"],"bearer_methods_supported":["header"]})");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  REQUIRE(fracta::json::parse(parser, doc, root).empty());
  CHECK(fracta::json::get_string(root, "resource") == "https://gw.example/mcp");
}

TEST_CASE("protected_resource_metadata leaves out empty authorization_servers and scopes_supported") {
  CHECK(protected_resource_metadata("http://127.0.0.1:8080/mcp", {}, {}) ==
        R"({"resource":"http://127.0.0.1:8080/mcp","bearer_methods_supported":["header"]})");
}

TEST_CASE("metadata_path inserts the well-known segment before the resource path") {
  CHECK(metadata_path("/mcp") == "/.well-known/oauth-protected-resource/mcp");
  CHECK(metadata_path("/mcp/") == "/.well-known/oauth-protected-resource/mcp");
  CHECK(metadata_path("/mcp/github") == "/.well-known/oauth-protected-resource/mcp/github");
  CHECK(metadata_path("/mcp?x=1") == "/.well-known/oauth-protected-resource/mcp");
  CHECK(metadata_path("/") == "/.well-known/oauth-protected-resource");
  CHECK(metadata_path("") == "/.well-known/oauth-protected-resource");
}

TEST_CASE("www_authenticate names the scopes a token needs, and insufficient_scope for a 403") {
  const std::string url = "https://gw.example.com/.well-known/oauth-protected-resource/mcp";
  CHECK(www_authenticate(url, false, {"mcp:read", "mcp:write"}) ==
        "Bearer scope=\"mcp:read mcp:write\", resource_metadata=\"" + url + "\"");
  CHECK(www_authenticate(url, true, {"mcp:write"}, true) ==
        "Bearer error=\"insufficient_scope\", scope=\"mcp:write\", resource_metadata=\"" + url + "\"");
}

TEST_CASE("served_hosts: the configured hosts, the resource's host and a specific listen address") {
  CHECK(served_hosts("0.0.0.0", "", {}).empty());
  CHECK(served_hosts("::", "", {}).empty());
  CHECK(served_hosts("127.0.0.1", "", {}).empty());
  CHECK(served_hosts("0.0.0.0", "", {"mcp.example.com"}) == std::vector<std::string>{"mcp.example.com"});
  CHECK(served_hosts("0.0.0.0", "https://GW.example.com:8443/mcp", {}) == std::vector<std::string>{"gw.example.com"});
  CHECK(served_hosts("10.0.0.5", "", {}) == std::vector<std::string>{"10.0.0.5"});
  CHECK(served_hosts("fd00::5", "", {}) == std::vector<std::string>{"[fd00::5]"});
  // What they let through, off loopback.
  guard_policy p = public_with(served_hosts("0.0.0.0", "https://gw.example.com/mcp", {}));
  CHECK(host_allowed("gw.example.com", p));
  CHECK(host_allowed("gw.example.com:443", p));
  CHECK_FALSE(host_allowed("evil.example.com", p));
  CHECK_FALSE(host_allowed("localhost", p));
  CHECK(host_allowed("[fd00::5]:8710", public_with(served_hosts("fd00::5", "", {}))));
}

TEST_CASE("bearer_token takes the token of a Bearer value and nothing else") {
  CHECK(bearer_token(std::string_view("Bearer abc.def-ghi_~+/=")) == std::optional<std::string_view>("abc.def-ghi_~+/="));
  CHECK(bearer_token(std::string_view("bearer x")) == std::optional<std::string_view>("x"));
  CHECK_FALSE(bearer_token(std::nullopt).has_value());
  CHECK_FALSE(bearer_token(std::string_view("Basic abc")).has_value());
  CHECK_FALSE(bearer_token(std::string_view("Bearer  abc")).has_value());
  CHECK_FALSE(bearer_token(std::string_view("Bearer a b")).has_value());
  CHECK_FALSE(bearer_token(std::string_view("Bearer ")).has_value());
}
