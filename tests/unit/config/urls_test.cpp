// SPDX-License-Identifier: Apache-2.0
// Specification of the config's URL keys: the runtime's strict parser at load time, the
// plain-http rules of url, metadata_url and issuer, and the redacted form the CLI prints.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

namespace {

std::string server_with(std::string_view remote_lines) {
  return "[mcp.servers.gh.remote]\n" + std::string(remote_lines);
}

}  // namespace

TEST_CASE("remote.url is checked by the runtime's URL parser, so its mistakes are config errors") {
  // Review 2.5: validate accepted this, `call` then failed with exit 4.
  const std::string msg = parse_error(server_with("url = \"https://a.example/mcp|x\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:2:7: server 'gh': mcp.servers.gh.remote.url: path has "
                    "characters that must be percent-encoded. Percent-encode them (a space is "
                    "%20), e.g. url = \"https://mcp.example.com/mcp\"."));
  CHECK(contains(parse_error(server_with("url = \"https://127.1/mcp\"\n")),
                 "remote.url: host looks numeric but is not a dotted-quad IPv4 address. "));
  CHECK(contains(parse_error(server_with("url = \"https://a.example:0/\"\n")),
                 "remote.url: port is out of range. Use a port between 1 and 65535"));
  CHECK(contains(parse_error(server_with("url = \"https://a@b@c.example/\"\n")),
                 "remote.url: authority has more than one '@'. "));
}

TEST_CASE("remote.url: plain http to a host that is not loopback is refused") {
  const std::string msg = parse_error(server_with("url = \"http://mcp.example.com/mcp\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:2:7: server 'gh': mcp.servers.gh.remote.url: is plain "
                    "http:// to 'mcp.example.com', which is not a loopback host: credentials, "
                    "tokens and metadata would cross the network unencrypted"));
  CHECK(contains(msg,
                 "Use https://, or, if every network in between is trusted, add "
                 "allow_insecure_http = true to the server's remote table."));
  CHECK(contains(parse_error(server_with("url = \"http://10.0.0.5:8080/mcp\"\n")),
                 "plain http:// to '10.0.0.5'"));
  CHECK(contains(parse_error(server_with("url = \"HTTP://[2001:db8::1]/mcp\"\n")),
                 "plain http:// to '[2001:db8::1]'"));
}

TEST_CASE("remote.url: plain http to loopback needs no permission") {
  for (const char* url : {"http://127.0.0.1:8080/mcp", "http://localhost/mcp", "http://[::1]:9/mcp",
                          "http://127.9.9.9/", "https://mcp.example.com/mcp"}) {
    CAPTURE(url);
    const config c = parse(server_with("url = \"" + std::string(url) + "\"\n"), cfg_path);
    REQUIRE(c.servers.size() == 1);
    CHECK_FALSE(c.servers[0].allow_insecure_http);
    CHECK_FALSE(c.servers[0].allow_private_network);
  }
}

TEST_CASE("remote.allow_insecure_http = true allows plain http to any host; the key is a boolean") {
  // Written after url on purpose: the rule applies once the whole table is read.
  const config c =
      parse(server_with("url = \"http://mcp.internal/mcp\"\nallow_insecure_http = true\n"
                        "allow_private_network = true\n"),
            cfg_path);
  CHECK(c.servers[0].allow_insecure_http);
  CHECK(c.servers[0].allow_private_network);
  CHECK(contains(parse_error(server_with("url = \"http://mcp.internal/mcp\"\n"
                                         "allow_insecure_http = false\n")),
                 "is plain http://"));
  CHECK(contains(
      parse_error(server_with("url = \"https://a.example\"\nallow_insecure_http = \"yes\"\n")),
      "mcp.servers.gh.remote.allow_insecure_http: must be true or false, not a string. "
      "Write allow_insecure_http = true."));
  CHECK(
      contains(parse_error(server_with("url = \"https://a.example\"\nallow_private_network = 1\n")),
               "mcp.servers.gh.remote.allow_private_network: must be true or false, not an "
               "integer. Write allow_private_network = true."));
}

TEST_CASE("auth.metadata_url: plain http only to loopback, even with allow_insecure_http") {
  const std::string text =
      "[mcp.servers.gh.remote]\nurl = \"http://mcp.internal/mcp\"\nallow_insecure_http = true\n\n"
      "[mcp.servers.gh.remote.auth]\ntype = \"oauth\"\n"
      "metadata_url = \"http://auth.internal/.well-known/oauth-authorization-server\"\n";
  const std::string msg = parse_error(text);
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:7:16: server 'gh': "
                    "mcp.servers.gh.remote.auth.metadata_url: is plain http:// to 'auth.internal', "
                    "which is not a loopback host"));
  CHECK(
      contains(msg, "Use https:// (plain http is accepted only for 127.0.0.1, ::1 or localhost)."));
  CHECK(parse(with_auth("type = \"oauth\"\nmetadata_url = "
                        "\"http://127.0.0.1:9/.well-known/oauth-authorization-server\"\n"),
              cfg_path)
            .servers[0]
            .auth.metadata_url == "http://127.0.0.1:9/.well-known/oauth-authorization-server");
}

TEST_CASE("auth.issuer: an https URL without query or fragment; plain http only to loopback") {
  CHECK(starts_with(
      parse_error(with_auth("type = \"oauth\"\nissuer = \"http://auth.example.com\"\n")),
      "/etc/fracta/config.toml:6:10: server 'gh': mcp.servers.gh.remote.auth.issuer: "
      "is plain http:// to 'auth.example.com', which is not a loopback host"));
  CHECK(contains(
      parse_error(with_auth("type = \"oauth\"\nissuer = \"https://auth.example.com/?a=1\"\n")),
      "mcp.servers.gh.remote.auth.issuer: has user-info, a query or a fragment, which an "
      "issuer identifier never has (RFC 8414 section 2). Write only the scheme, host and "
      "path, e.g. issuer = \"https://auth.example.com\"."));
  CHECK(contains(
      parse_error(with_auth("type = \"oauth\"\nissuer = \"https://auth.example.com/#x\"\n")),
      "has user-info, a query or a fragment"));
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nissuer = \"auth.example.com\"\n")),
                 "mcp.servers.gh.remote.auth.issuer: must be an absolute http:// or https:// URL. "
                 "Write issuer = \"https://auth.example.com\"."));
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nissuer = 1\n")),
                 "mcp.servers.gh.remote.auth.issuer: must be a string, not an integer."));
  CHECK(
      parse(with_auth("type = \"oauth\"\nissuer = \"http://localhost:8080/realms/x\"\n"), cfg_path)
          .servers[0]
          .auth.issuer == "http://localhost:8080/realms/x");
}

TEST_CASE("URL messages never quote the URL's user-info or query") {
  const std::string secret = "S3CR3T-in-url";
  const std::vector<std::string> bad = {
      server_with("url = \"http://user:" + secret + "@mcp.example.com/mcp\"\n"),
      server_with("url = \"http://mcp.example.com/mcp?api_key=" + secret + "\"\n"),
      server_with("url = \"https://user:" + secret + "@a.example/mcp|x\"\n"),
      server_with("url = \"https://a.example/mcp?api_key=" + secret + "\\\"\"\n"),
      server_with("url = \"" + secret + ":" + secret + "@mcp.example.com/mcp\"\n"),
      with_auth("type = \"oauth\"\nmetadata_url = \"http://u:" + secret +
                "@as.example/m?k=" + secret + "\"\n"),
      with_auth("type = \"oauth\"\nissuer = \"https://as.example/?k=" + secret + "\"\n"),
  };
  for (const auto& text : bad) {
    CAPTURE(text);
    const std::string msg = parse_error(text);
    CHECK_FALSE(msg.empty());
    CHECK_FALSE(contains(msg, secret));
  }
}

TEST_CASE("redacted_url keeps scheme, host, port and path; drops user-info, query and fragment") {
  CHECK(redacted_url("https://alice:pw@mcp.example.com:8443/a/mcp?api_key=k#f") ==
        "https://mcp.example.com:8443/a/mcp");
  CHECK(redacted_url("HTTPS://MCP.example.com/mcp") == "https://mcp.example.com/mcp");
  CHECK(redacted_url("http://127.0.0.1:9") == "http://127.0.0.1:9/");
}

TEST_CASE("redacted_url cuts text the URL parser refuses the same way, and drops controls") {
  CHECK(redacted_url("https://alice:pw@a.example/mcp|x?key=k") == "https://a.example/mcp|x");
  CHECK(redacted_url("alice:pw@a.example/x?key=k") == "a.example/x");
  CHECK(redacted_url("ftp://u:p@h/x#frag") == "ftp://h/x");
  CHECK(redacted_url("https://a.example/\x1b[31mred") == "https://a.example/[31mred");
  CHECK(redacted_url("") == "");
}
