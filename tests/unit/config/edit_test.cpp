// SPDX-License-Identifier: Apache-2.0
// Specification of config edits: add / remove keep every other byte.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>

#include <string>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

namespace {

const std::string sample = R"(# fracta configuration
# maintained by hand

[plugins]
paths = ["/opt/fracta/plugins"]  # site plugins

# Production GitHub
[mcp.servers.github.remote]
url = "https://api.githubcopilot.com/mcp/"
headers = { "X-Team" = "platform" }

[mcp.servers.github.remote.auth]
type = "bearer"
token = { env = "GITHUB_TOKEN" }

# Notion, via OAuth
[mcp.servers."notion".remote]
url = "https://mcp.notion.com/mcp"
  
[ mcp.servers . 'notion' . remote.auth ]   # odd spacing
type = "oauth"
scopes = ["read"]
)";

new_server linear() {
  new_server s;
  s.name = "linear";
  s.url = "https://mcp.linear.app/mcp";
  s.headers = {{"X-Team", "platform"}, {"X-Trace", "a \"quoted\" \\ value"}};
  s.auth_type = "oauth";
  s.auth_strings = {{"grant_type", "client_credentials"}};
  s.auth_lists = {{"scopes", {"read", "write"}}};
  secret_value id;
  id.from = secret_value::source::env;
  id.ref = "LINEAR_ID";
  secret_value secret;
  secret.from = secret_value::source::file;
  secret.ref = "/run/secrets/linear";
  s.auth_secrets = {{"client_id", id}, {"client_secret", secret}};
  return s;
}

const std::string linear_text = R"(
[mcp.servers.linear.remote]
url = "https://mcp.linear.app/mcp"
headers = { "X-Team" = "platform", "X-Trace" = "a \"quoted\" \\ value" }

[mcp.servers.linear.remote.auth]
type = "oauth"
grant_type = "client_credentials"
scopes = ["read", "write"]
client_id = { env = "LINEAR_ID" }
client_secret = { file = "/run/secrets/linear" }
)";

new_server simple(std::string name) {
  new_server s;
  s.name = std::move(name);
  s.url = "https://x.example/mcp";
  return s;
}

std::string add_error(std::string_view text, const new_server& s) {
  try {
    (void)with_server_added(text, cfg_path, s);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("with_server_added() did not throw");
  return {};
}

std::string remove_error(std::string_view text, std::string_view name) {
  try {
    (void)with_server_removed(text, cfg_path, name);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("with_server_removed() did not throw");
  return {};
}

}  // namespace

// ---- add ---------------------------------------------------------------------------------------

TEST_CASE("add appends the server after every existing byte, and remove(add(x)) == x") {
  const std::string out = with_server_added(sample, cfg_path, linear());
  CHECK(out == sample + linear_text);
  const config c = parse(out, cfg_path);
  const server* s = c.find("linear");
  REQUIRE(s != nullptr);
  CHECK(s->headers[1].second == "a \"quoted\" \\ value");
  CHECK(s->auth.grant_type == "client_credentials");
  CHECK(s->auth.scopes == std::vector<std::string>{"read", "write"});
  CHECK(s->auth.client_secret->ref == "/run/secrets/linear");
  CHECK(with_server_removed(out, cfg_path, "linear") == sample);
}

TEST_CASE("add to an empty file writes no separator, and removing it gives back an empty file") {
  const std::string out = with_server_added("", cfg_path, simple("a"));
  CHECK(out == "[mcp.servers.a.remote]\nurl = \"https://x.example/mcp\"\n");
  CHECK(with_server_removed(out, cfg_path, "a").empty());
}

TEST_CASE("add to a file without a final newline adds one first") {
  const std::string x = "# no newline at the end";
  const std::string out = with_server_added(x, cfg_path, simple("a"));
  CHECK(out == x + "\n\n[mcp.servers.a.remote]\nurl = \"https://x.example/mcp\"\n");
  CHECK(with_server_removed(out, cfg_path, "a") == x + "\n");
}

TEST_CASE("add after trailing blank lines and comments round-trips exactly") {
  for (const std::string text : {"\n", "# end\n", "# end\n\n\n", "[plugins]\npaths = []\n\n"}) {
    const std::string out = with_server_added(text, cfg_path, simple("zz"));
    CAPTURE(text);
    CHECK(out.substr(0, text.size()) == text);
    CHECK(with_server_removed(out, cfg_path, "zz") == text);
  }
}

TEST_CASE("add keeps CRLF line endings") {
  const std::string x = "# windows\r\n[mcp.servers.a.remote]\r\nurl = \"https://a.example\"\r\n";
  const std::string out = with_server_added(x, cfg_path, simple("b"));
  CHECK(out == x + "\r\n[mcp.servers.b.remote]\r\nurl = \"https://x.example/mcp\"\r\n");
  CHECK(with_server_removed(out, cfg_path, "b") == x);
  CHECK(with_server_removed(out, cfg_path, "a") ==
        "# windows\r\n\r\n[mcp.servers.b.remote]\r\nurl = \"https://x.example/mcp\"\r\n");
}

TEST_CASE("add escapes strings and quotes keys that are not bare") {
  new_server s = simple("p");
  s.auth_type = "my-plugin";
  s.auth_strings = {{"x.y", "tab\there \"q\" back\\slash\nnew \x01 é"}, {"plain_key", "v"}};
  const std::string out = with_server_added("", cfg_path, s);
  CHECK(contains(out, "\"x.y\" = \"tab\\there \\\"q\\\" back\\\\slash\\nnew \\u0001 é\"\n"));
  CHECK(contains(out, "\nplain_key = \"v\"\n"));
  const config c = parse(out, cfg_path);
  CHECK(
      c.servers[0].auth.json ==
      R"({"type":"my-plugin","x.y":"tab\there \"q\" back\\slash\nnew \u0001 é","plain_key":"v"})");
}

TEST_CASE("add writes SecretValues as references") {
  new_server s = simple("b");
  s.auth_type = "bearer";
  secret_value v;
  v.from = secret_value::source::value;
  v.ref = "lit";
  s.auth_secrets = {{"token", v}};
  const std::string out = with_server_added("", cfg_path, s);
  CHECK(contains(
      out, "\n[mcp.servers.b.remote.auth]\ntype = \"bearer\"\ntoken = { value = \"lit\" }\n"));
  CHECK(parse(out, cfg_path).servers[0].auth.token->ref == "lit");
}

TEST_CASE("add refuses a name that exists") {
  const std::string msg = add_error(sample, simple("github"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:8:1: server 'github': mcp.servers.github: a server "
                    "with this name already exists. "));
  CHECK(contains(msg, "Choose another name, or edit or remove the existing one at line 8."));
}

TEST_CASE("add refuses an invalid name") {
  const std::string msg = add_error(sample, simple("my server"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml: mcp.servers.\"my server\": server name must be 1-64 "
                    "characters from [A-Za-z0-9_-]. "));
}

TEST_CASE("add validates the result with parse()") {
  new_server s = simple("bad");
  s.url = "ftp://x.example";
  const std::string msg = add_error(sample, s);
  CHECK(contains(
      msg,
      "server 'bad': mcp.servers.bad.remote.url: must be an absolute http:// or https:// URL."));
  new_server t = simple("cc");
  t.auth_type = "oauth";
  t.auth_strings = {{"grant_type", "client_credentials"}};
  CHECK(contains(add_error(sample, t), "mcp.servers.cc.remote.auth.client_id: missing;"));
}

// ---- remove ------------------------------------------------------------------------------------

TEST_CASE("remove the first server: its comment goes, the next server's comment stays") {
  const std::string expected = R"(# fracta configuration
# maintained by hand

[plugins]
paths = ["/opt/fracta/plugins"]  # site plugins

# Notion, via OAuth
[mcp.servers."notion".remote]
url = "https://mcp.notion.com/mcp"
  
[ mcp.servers . 'notion' . remote.auth ]   # odd spacing
type = "oauth"
scopes = ["read"]
)";
  CHECK(with_server_removed(sample, cfg_path, "github") == expected);
}

TEST_CASE("remove the last server, written with quoted names and odd spacing") {
  const std::string expected = sample.substr(0, sample.find("\n\n# Notion") + 1);
  CHECK(expected.substr(expected.size() - 33) == "token = { env = \"GITHUB_TOKEN\" }\n");
  CHECK(with_server_removed(sample, cfg_path, "notion") == expected);
}

TEST_CASE("remove a server whose tables are split around another server") {
  const std::string text = R"([mcp.servers.a.remote]
url = "https://a.example"

[mcp.servers.b.remote]
url = "https://b.example"

[mcp.servers.b.remote.auth]
type = "my-plugin"
note = """
[mcp.servers.a.remote.auth]
"""
matrix = [
  [1, 2],
]

[mcp.servers.a.remote.auth]
type = "none"
)";
  const std::string expected = R"([mcp.servers.b.remote]
url = "https://b.example"

[mcp.servers.b.remote.auth]
type = "my-plugin"
note = """
[mcp.servers.a.remote.auth]
"""
matrix = [
  [1, 2],
]
)";
  CHECK(with_server_removed(text, cfg_path, "a") == expected);
}

TEST_CASE("remove takes [[array]] tables and the server's own table with it") {
  const std::string text = R"(# top
[mcp.servers.gh]
remote.url = "https://a.example"  # dotted keys inside the server's own table are fine

[mcp.servers.gh.remote.auth]
type = "rules-plugin"

[[mcp.servers.gh.remote.auth.rules]]
path = "/a"

[[ mcp.servers.gh.remote.auth.rules ]]
path = "/b"
# about other
[mcp.servers.other.remote]
url = "https://o.example"
)";
  CHECK(with_server_removed(text, cfg_path, "gh") ==
        "# top\n# about other\n[mcp.servers.other.remote]\nurl = \"https://o.example\"\n");
}

TEST_CASE("remove refuses a server written with dotted keys in a parent table") {
  const std::string text = "[mcp.servers]\ngh.remote.url = \"https://a.example\"\n";
  const std::string msg = remove_error(text, "gh");
  CHECK(starts_with(msg, "/etc/fracta/config.toml:2:"));
  CHECK(contains(msg,
                 ": server 'gh': mcp.servers.gh: is written with dotted keys or an inline table"));
  CHECK(contains(msg, "Edit the file by hand at line 2."));
}

TEST_CASE("remove refuses a server written as an inline table in a parent table") {
  const std::string text =
      "[plugins]\npaths = []\n\n[mcp.servers]\ngh = { remote = { url = \"https://a.example\" } }\n";
  const std::string msg = remove_error(text, "gh");
  CHECK(starts_with(msg, "/etc/fracta/config.toml:5:"));
  CHECK(
      contains(msg, "server 'gh': mcp.servers.gh: is written with dotted keys or an inline table"));
  CHECK(contains(msg, "Edit the file by hand at line 5."));
}

TEST_CASE("remove of an unknown server lists the configured ones") {
  const std::string msg = remove_error(sample, "gitlab");
  CHECK(
      starts_with(msg, "/etc/fracta/config.toml: mcp.servers.gitlab: no server named 'gitlab'. "));
  CHECK(contains(msg, "Use one of the configured servers: github, notion."));
}
