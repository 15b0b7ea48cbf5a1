// SPDX-License-Identifier: Apache-2.0
// Specification of config parsing: the model, and one case per validation rule with its message.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

TEST_CASE("a complete config becomes the typed model, servers and headers in file order") {
  const std::string text = R"(# fracta
[plugins]
paths = ["plugins", "/usr/lib/fracta/extra"]

[mcp.servers.zeta.remote]
url = "https://zeta.example.com/mcp"
headers = { "X-Team" = "platform", "A-First" = "1" }
ca_bundle = "certs/corp.pem"
timeout_seconds = 90

[mcp.servers.alpha.remote]
url = "http://localhost:8080/mcp"

[mcp.servers.alpha.remote.auth]
type = "bearer"
token = { env = "ALPHA_TOKEN" }
)";
  const config c = parse(text, cfg_path);
  CHECK(c.path == cfg_path);
  REQUIRE(c.plugins.paths.size() == 2);
  CHECK(c.plugins.paths[0] == "/etc/fracta/plugins");
  CHECK(c.plugins.paths[1] == "/usr/lib/fracta/extra");
  REQUIRE(c.servers.size() == 2);
  const server& z = c.servers[0];
  CHECK(z.name == "zeta");
  CHECK(z.where.line == 5);
  CHECK(z.url == "https://zeta.example.com/mcp");
  REQUIRE(z.headers.size() == 2);
  CHECK(z.headers[0] == std::pair<std::string, std::string>{"X-Team", "platform"});
  CHECK(z.headers[1] == std::pair<std::string, std::string>{"A-First", "1"});
  CHECK(z.ca_bundle == "/etc/fracta/certs/corp.pem");
  CHECK(z.timeout_seconds == 90);
  CHECK(z.auth.type == "none");
  CHECK(z.auth.json == "{}");
  const server& a = c.servers[1];
  CHECK(a.name == "alpha");
  CHECK(a.timeout_seconds == 30);
  CHECK(a.auth.type == "bearer");
  REQUIRE(a.auth.token.has_value());
  CHECK(a.auth.token->from == secret_value::source::env);
  CHECK(a.auth.token->ref == "ALPHA_TOKEN");
  CHECK(a.auth.token->key == "mcp.servers.alpha.remote.auth.token");
  CHECK(a.auth.token->where.line == 16);
  CHECK(a.auth.json == R"({"type":"bearer","token":{"env":"ALPHA_TOKEN"}})");
  CHECK(c.find("alpha") == &c.servers[1]);
  CHECK(c.find("beta") == nullptr);
}

TEST_CASE("an empty file is a valid config without servers") {
  const config c = parse("", cfg_path);
  CHECK(c.servers.empty());
  CHECK(c.plugins.paths.empty());
}

TEST_CASE("TOML syntax errors carry toml++'s description, line and column") {
  const std::string msg = parse_error("[mcp.servers.gh.remote]\nurl = \n");
  CHECK(starts_with(msg, "/etc/fracta/config.toml:2:7: invalid TOML: "));
  CHECK(contains(msg, "expected"));
  CHECK(contains(msg, "Fix the syntax at that position."));
}

TEST_CASE("messages for text without a file name say <config>") {
  const std::string msg = parse_error("x = 1\n", "");
  CHECK(starts_with(msg, "<config>:1:1: x: unknown key. "));
}

TEST_CASE("load: a missing file says how to create one") {
  temp_dir dir;
  const auto p = dir / "config.toml";
  try {
    (void)load(p);
    FAIL("load() of a missing file did not throw");
  } catch (const config_error& e) {
    const std::string msg = e.what();
    CHECK(starts_with(msg, p.string() + ": no configuration file here. "));
    CHECK(contains(msg, "fracta config mcp add"));
    CHECK(e.where().file == p.string());
  }
}

TEST_CASE("load: reads and parses a file, resolving paths against its directory") {
  temp_dir dir;
  const auto p = dir.write(
      "config.toml",
      "[mcp.servers.a.remote]\nurl = \"https://a.example/mcp\"\nca_bundle = \"ca.pem\"\n");
  const config c = load(p);
  CHECK(c.path == p.string());
  REQUIRE(c.servers.size() == 1);
  CHECK(c.servers[0].ca_bundle == (dir.path() / "ca.pem").string());
}

TEST_CASE("load: a syntax error names the file") {
  temp_dir dir;
  const auto p = dir.write("config.toml", "[mcp.servers.a.remote\n");
  try {
    (void)load(p);
    FAIL("load() accepted invalid TOML");
  } catch (const config_error& e) {
    CHECK(starts_with(e.what(), p.string() + ":1:"));
    CHECK(contains(e.what(), "invalid TOML"));
  }
}

TEST_CASE("default_path: $FRACTA_CONFIG, then $XDG_CONFIG_HOME, then ~/.config") {
  const char* old_fracta = std::getenv("FRACTA_CONFIG");
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_fracta = old_fracta ? old_fracta : "", saved_xdg = old_xdg ? old_xdg : "",
                    saved_home = old_home ? old_home : "";
  ::setenv("FRACTA_CONFIG", "/srv/fracta.toml", 1);
  ::setenv("XDG_CONFIG_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/me", 1);
  CHECK(default_path() == "/srv/fracta.toml");
  ::unsetenv("FRACTA_CONFIG");
  CHECK(default_path() == "/xdg/fracta/config.toml");
  ::setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
  CHECK(default_path() == "/home/me/.config/fracta/config.toml");
  ::unsetenv("XDG_CONFIG_HOME");
  CHECK(default_path() == "/home/me/.config/fracta/config.toml");
  old_fracta ? (void)::setenv("FRACTA_CONFIG", saved_fracta.c_str(), 1)
             : (void)::unsetenv("FRACTA_CONFIG");
  old_xdg ? (void)::setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1)
          : (void)::unsetenv("XDG_CONFIG_HOME");
  old_home ? (void)::setenv("HOME", saved_home.c_str(), 1) : (void)::unsetenv("HOME");
}

// ---- structure and unknown keys ---------------------------------------------------------------

TEST_CASE("rule: server names are 1-64 characters from [A-Za-z0-9_-]") {
  const std::string msg =
      parse_error("[mcp.servers.\"my server\".remote]\nurl = \"https://a.example\"\n");
  CHECK(starts_with(msg, "/etc/fracta/config.toml:1:14: mcp.servers.\"my server\": "));
  CHECK(contains(msg, "may only contain letters, digits"));
  CHECK(contains(msg, "Rename it to 1-64 characters"));
  const std::string long_name(65, 'a');
  const std::string msg2 =
      parse_error("[mcp.servers." + long_name + ".remote]\nurl = \"https://a.example\"\n");
  CHECK(contains(msg2, "longer than 64 characters"));
}

TEST_CASE("rule: unknown keys in remote are errors with a did-you-mean") {
  const std::string msg =
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\ntimout_seconds = 5\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:3:1: server 'gh': "
                    "mcp.servers.gh.remote.timout_seconds: unknown key. "));
  CHECK(contains(msg, "Did you mean 'timeout_seconds'?"));
  CHECK(contains(msg, "url, headers, ca_bundle, timeout_seconds, allow_insecure_http, "
                      "allow_private_network, protocol, auth"));
}

TEST_CASE("rule: the did-you-mean knows the keys added for transport and plugin rules") {
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\n"
                             "allow_insecure_htp = true\n"),
                 "mcp.servers.gh.remote.allow_insecure_htp: unknown key. Did you mean "
                 "'allow_insecure_http'?"));
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\n"
                             "allow_private_networks = true\n"),
                 "Did you mean 'allow_private_network'?"));
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nisuer = \"https://as.example\"\n")),
                 "mcp.servers.gh.remote.auth.isuer: unknown key. Did you mean 'issuer'?"));
  CHECK(contains(parse_error("[plugins]\nreplace_bultin = [\"bearer\"]\n"),
                 "plugins.replace_bultin: unknown key. Did you mean 'replace_builtin'? Remove it or "
                 "use one of the keys allowed here: paths, replace_builtin."));
}

TEST_CASE("rule: unknown keys without a close match list the allowed keys") {
  const std::string msg =
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nproxy = \"x\"\n");
  CHECK(starts_with(
      msg, "/etc/fracta/config.toml:3:1: server 'gh': mcp.servers.gh.remote.proxy: unknown key. "));
  CHECK_FALSE(contains(msg, "Did you mean"));
  CHECK(contains(msg, "Remove it or use one of the keys allowed here: url,"));
}

TEST_CASE("rule: unknown keys in a server table are errors with a did-you-mean") {
  const std::string msg = parse_error(
      "[mcp.servers.gh]\nremot = 1\n[mcp.servers.gh.remote]\nurl = \"https://a.example\"\n");
  CHECK(starts_with(
      msg, "/etc/fracta/config.toml:2:1: server 'gh': mcp.servers.gh.remot: unknown key. "));
  CHECK(contains(msg, "Did you mean 'remote'?"));
}

TEST_CASE("rule: unknown keys in a built-in auth table are errors with a did-you-mean") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntokn = { env = \"T\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:1: server 'gh': mcp.servers.gh.remote.auth.tokn: unknown key. "));
  CHECK(contains(msg, "Did you mean 'token'?"));
}

TEST_CASE("rule: unknown keys in an oauth auth table are errors with a did-you-mean") {
  const std::string msg = parse_error(with_auth("type = \"oauth\"\nscope = [\"read\"]\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:1: server 'gh': mcp.servers.gh.remote.auth.scope: unknown key. "));
  CHECK(contains(msg, "Did you mean 'scopes'?"));
}

TEST_CASE("rule: unknown top-level and [mcp] keys are errors") {
  const std::string msg = parse_error("[mpc.servers.gh.remote]\nurl = \"https://a.example\"\n");
  CHECK(starts_with(msg, "/etc/fracta/config.toml:1:2: mpc: unknown key. "));
  CHECK(contains(msg, "Did you mean 'mcp'?"));
  const std::string msg2 = parse_error("[mcp.server.gh.remote]\nurl = \"https://a.example\"\n");
  CHECK(starts_with(msg2, "/etc/fracta/config.toml:1:6: mcp.server: unknown key. "));
  CHECK(contains(msg2, "Did you mean 'servers'?"));
}

TEST_CASE("rule: a server needs a remote table") {
  const std::string msg = parse_error("[mcp.servers.gh]\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:1:1: server 'gh': mcp.servers.gh.remote: missing. "));
  CHECK(contains(msg, "Add a [mcp.servers.gh.remote] table with url ="));
}

TEST_CASE("rule: [plugins] paths is an array of strings") {
  const std::string msg = parse_error("[plugins]\npaths = \"/usr/lib\"\n");
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:2:9: plugins.paths: must be an array of strings, not a string. "));
  CHECK(contains(msg, "Write paths = ["));
}

TEST_CASE("[plugins] replace_builtin lists the shipped types a plugin may replace") {
  const config c = parse("[plugins]\nreplace_builtin = [\"bearer\", \"oauth-authcode\"]\n", cfg_path);
  CHECK(c.plugins.replace_builtin == std::vector<std::string>{"bearer", "oauth-authcode"});
  CHECK(parse("", cfg_path).plugins.replace_builtin.empty());
}

TEST_CASE("rule: [plugins] replace_builtin names only types fracta ships, never none") {
  CHECK(starts_with(parse_error("[plugins]\nreplace_builtin = \"bearer\"\n"),
                    "/etc/fracta/config.toml:2:19: plugins.replace_builtin: must be an array of "
                    "strings, not a string. Write replace_builtin = [\"bearer\"]."));
  const std::string typo = parse_error("[plugins]\nreplace_builtin = [\"baerer\"]\n");
  CHECK(starts_with(typo, "/etc/fracta/config.toml:2:20: plugins.replace_builtin[0]: 'baerer' is "
                          "not a provider type fracta ships. Did you mean 'bearer'? "));
  CHECK(contains(typo, "Only these need the permission: bearer, header, basic, oauth-authcode, "
                       "oauth-client-credentials, device-code; a plugin's own types need none."));
  CHECK(contains(parse_error("[plugins]\nreplace_builtin = [\"bearer\", \"none\"]\n"),
                 "plugins.replace_builtin[1]: 'none' is built into the engine and cannot be "
                 "replaced. Remove it."));
  CHECK(contains(parse_error("[plugins]\nreplace_builtin = [1]\n"),
                 "plugins.replace_builtin[0]: must be a string, not an integer."));
}

// ---- remote -------------------------------------------------------------------------------------

TEST_CASE("rule: remote.url is required") {
  const std::string msg = parse_error("[mcp.servers.gh.remote]\ntimeout_seconds = 5\n");
  CHECK(starts_with(
      msg, "/etc/fracta/config.toml:1:1: server 'gh': mcp.servers.gh.remote.url: missing. "));
  CHECK(contains(msg, "Add url = \"https://mcp.example.com/mcp\""));
}

TEST_CASE("rule: remote.url must be a string") {
  const std::string msg = parse_error("[mcp.servers.gh.remote]\nurl = 42\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:2:7: server 'gh': mcp.servers.gh.remote.url: must be "
                    "a string, not an integer. "));
}

TEST_CASE("rule: remote.url must be an absolute http or https URL") {
  const std::string msg =
      parse_error("[mcp.servers.gh.remote]\nurl = \"ftp://files.example/mcp\"\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:2:7: server 'gh': mcp.servers.gh.remote.url: must be "
                    "an absolute http:// or https:// URL. "));
  CHECK(contains(msg, "Write url = \"https://mcp.example.com/mcp\""));
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"mcp.example.com/mcp\"\n"),
                 "absolute http"));
}

TEST_CASE("rule: remote.url must have a host") {
  const std::string msg = parse_error("[mcp.servers.gh.remote]\nurl = \"https:///mcp\"\n");
  CHECK(starts_with(
      msg, "/etc/fracta/config.toml:2:7: server 'gh': mcp.servers.gh.remote.url: has no host. "));
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example:99999/\"\n"),
                 "port is out of range. Use a port between 1 and 65535"));
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example/a b\"\n"),
                 "path has characters that must be percent-encoded. Percent-encode them"));
  CHECK(parse("[mcp.servers.gh.remote]\nurl = \"HTTPS://[::1]:8443/mcp?x=1\"\n", cfg_path)
            .servers.size() == 1);
}

TEST_CASE("rule: remote.headers names must be RFC 9110 tokens") {
  const std::string msg = parse_error(
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { \"X Team\" = \"a\" }\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:3:13: server 'gh': mcp.servers.gh.remote.headers.\"X "
                    "Team\": is not a valid HTTP header name. "));
  CHECK(contains(msg, "RFC 9110 tokens"));
}

TEST_CASE("rule: remote.headers values must be strings") {
  const std::string msg = parse_error(
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { X-Retries = 3 }\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:3:25: server 'gh': "
                    "mcp.servers.gh.remote.headers.X-Retries: must be a string, not an integer. "));
  CHECK(contains(msg, "\"X-Retries\" = \"…\""));
}

TEST_CASE("rule: remote.headers values contain no CR, LF or NUL, and are never quoted") {
  const std::string msg = parse_error(
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { X-Key = "
      "\"k3y-VALUE\\r\\nX-Evil: 1\" }\n");
  CHECK(
      starts_with(msg,
                  "/etc/fracta/config.toml:3:21: server 'gh': mcp.servers.gh.remote.headers.X-Key: "
                  "value contains a line break or NUL character. "));
  CHECK(contains(msg, "must be a single line"));
  CHECK_FALSE(contains(msg, "k3y-VALUE"));
  CHECK(contains(parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { "
                             "X-Key = \"a\\u0000b\" }\n"),
                 "line break or NUL"));
}

TEST_CASE("rule: remote.headers names are unique case-insensitively") {
  const std::string msg = parse_error(
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { X-A = \"1\", x-a = \"2\" "
      "}\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:3:24: server 'gh': mcp.servers.gh.remote.headers.x-a: "
                    "duplicates header 'X-A'"));
  CHECK(contains(msg, "Keep only one of them."));
}

TEST_CASE("rule: remote.timeout_seconds is an integer in 1..3600") {
  const std::string msg =
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\ntimeout_seconds = 0\n");
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:3:19: server 'gh': "
                    "mcp.servers.gh.remote.timeout_seconds: is 0, outside 1..3600. "));
  CHECK(contains(msg, "timeout_seconds = 30"));
  CHECK(contains(
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\ntimeout_seconds = 3601\n"),
      "is 3601"));
  const std::string msg2 =
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\ntimeout_seconds = 2.5\n");
  CHECK(contains(msg2, "timeout_seconds: must be an integer, not a float. "));
}

TEST_CASE("rule: remote.ca_bundle is a path made absolute against the config directory") {
  const config c = parse(
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nca_bundle = \"../ca/corp.pem\"\n",
      cfg_path);
  CHECK(c.servers[0].ca_bundle == "/etc/ca/corp.pem");
  const std::string msg =
      parse_error("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nca_bundle = \"\"\n");
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:3:13: server 'gh': mcp.servers.gh.remote.ca_bundle: is empty. "));
}

// ---- auth.type ---------------------------------------------------------------------------------

TEST_CASE("rule: auth.type defaults to none only when auth is absent") {
  const std::string msg = parse_error(with_auth("token = { env = \"T\" }\n"));
  CHECK(starts_with(
      msg, "/etc/fracta/config.toml:4:1: server 'gh': mcp.servers.gh.remote.auth.type: missing. "));
  CHECK(contains(msg,
                 "Add type = \"…\" to [mcp.servers.gh.remote.auth]: one of none, bearer, header, "
                 "basic, oauth"));
}

TEST_CASE("rule: auth.type must be a string") {
  const std::string msg = parse_error(with_auth("type = 1\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:5:8: server 'gh': mcp.servers.gh.remote.auth.type: "
                    "must be a string, not an integer. "));
  CHECK(contains(msg, "Write type = \"bearer\""));
}

TEST_CASE("rule: auth.type must be one of the five or a plugin type name") {
  const std::string msg = parse_error(with_auth("type = \"Bearer\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:5:8: server 'gh': mcp.servers.gh.remote.auth.type: "
                    "'Bearer' is not an auth type. "));
  CHECK(contains(msg, "Did you mean 'bearer'?"));
  CHECK(contains(msg, "a plugin's type name ([a-z0-9][a-z0-9_-]*)"));
}

TEST_CASE("auth type none accepts no other keys") {
  const config c = parse(with_auth("type = \"none\"\n"), cfg_path);
  CHECK(c.servers[0].auth.type == "none");
  CHECK(c.servers[0].auth.where.line == 5);
  CHECK(contains(parse_error(with_auth("type = \"none\"\ntoken = { env = \"T\" }\n")),
                 "auth.token: unknown key"));
}

TEST_CASE("plugin auth types pass their table through without key checks") {
  const config c = parse(
      with_auth("type = \"aws-sigv4\"\nregion = \"eu-west-1\"\nkey = { file = \"keys/aws\" }\n"
                "retries = 3\nat = 2024-05-01T10:00:00+02:00\n"),
      cfg_path);
  const auth& a = c.servers[0].auth;
  CHECK(a.type == "aws-sigv4");
  CHECK(
      a.json ==
      R"({"type":"aws-sigv4","region":"eu-west-1","key":{"file":"/etc/fracta/keys/aws"},"retries":3,"at":"2024-05-01T10:00:00+02:00"})");
}
