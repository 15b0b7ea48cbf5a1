// SPDX-License-Identifier: Apache-2.0
// Specification of `config mcp set` as a text edit: only the changed values change.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>

#include <string>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

namespace {

const std::string sample = R"(# fracta configuration, by hand

# Production GitHub
[mcp.servers.github.remote]
url = "https://api.githubcopilot.com/mcp/"   # the Copilot endpoint
headers = { "X-Team" = "platform" }

[mcp.servers.github.remote.auth]
type = "bearer"
token = { env = "GITHUB_TOKEN" }

# Notion, via OAuth
[mcp.servers.notion.remote]
url = "https://mcp.notion.com/mcp"

[mcp.servers.notion.remote.auth]
type = "oauth"
scopes = ["read"]
)";

std::string set(std::string_view text, std::string_view name,
                const std::vector<server_change>& changes) {
  return with_server_changed(text, cfg_path, name, changes).text;
}

std::string set_error(std::string_view text, std::string_view name,
                      const std::vector<server_change>& changes) {
  try {
    (void)with_server_changed(text, cfg_path, name, changes);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("with_server_changed accepted what it should refuse");
  return {};
}

// `text` with the first `from` replaced by `to`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("set url rewrites only the value: the comment after it and every other byte stay") {
  const auto r = with_server_changed(sample, cfg_path, "github", {{"url", "https://example.com/mcp"}});
  CHECK(r.text == replaced(sample, "\"https://api.githubcopilot.com/mcp/\"", "\"https://example.com/mcp\""));
  REQUIRE(r.set.size() == 1);
  CHECK(r.set[0] == "mcp.servers.github.remote.url");
  CHECK(r.unset.empty());
  CHECK(parse(r.text, cfg_path).find("github")->url == "https://example.com/mcp");
}

TEST_CASE("the long forms name the same key: remote.url and mcp.servers.<name>.remote.url") {
  const std::string want = set(sample, "notion", {{"url", "https://b.example/mcp"}});
  CHECK(set(sample, "notion", {{"remote.url", "https://b.example/mcp"}}) == want);
  CHECK(set(sample, "notion", {{"mcp.servers.notion.remote.url", "https://b.example/mcp"}}) == want);
  CHECK(want == replaced(sample, "\"https://mcp.notion.com/mcp\"", "\"https://b.example/mcp\""));
}

TEST_CASE("a new key goes after the last key of its table, before the blank line and the next header") {
  const std::string out = set(sample, "github", {{"timeout_seconds", "2m"}});
  CHECK(out == replaced(sample, "headers = { \"X-Team\" = \"platform\" }\n",
                        "headers = { \"X-Team\" = \"platform\" }\ntimeout_seconds = 120\n"));
  CHECK(parse(out, cfg_path).find("github")->timeout_seconds == 120);
  CHECK(set(sample, "github", {{"request-timeout", "45"}}) == set(sample, "github", {{"timeout_seconds", "45s"}}));
}

TEST_CASE("a header joins an inline headers table, and an existing one gets its new value") {
  const std::string added = set(sample, "github", {{"headers.X-Trace", "on"}});
  CHECK(added == replaced(sample, "{ \"X-Team\" = \"platform\" }", "{ \"X-Team\" = \"platform\", X-Trace = \"on\" }"));
  const std::string changed = set(sample, "github", {{"header.X-Team", "infra"}});
  CHECK(changed == replaced(sample, "\"platform\"", "\"infra\""));
}

TEST_CASE("a header of a server without headers creates [mcp.servers.<name>.remote.headers] after its remote table") {
  const std::string out = set(sample, "notion", {{"remote.headers.X-Team", "docs"}});
  CHECK(out == replaced(sample, "url = \"https://mcp.notion.com/mcp\"\n",
                        "url = \"https://mcp.notion.com/mcp\"\n\n[mcp.servers.notion.remote.headers]\nX-Team = \"docs\"\n"));
  const config cfg = parse(out, cfg_path);
  const auto* s = cfg.find("notion");
  REQUIRE(s->headers.size() == 1);
  CHECK(s->headers[0].second == "docs");
}

TEST_CASE("--unset of the last key of a table set created takes the table with it: the file comes back") {
  const std::string out = set(sample, "notion", {{"headers.X-Team", "docs"}});
  CHECK(set(out, "notion", {{"headers.X-Team", std::nullopt}}) == sample);
  // A table that keeps a comment keeps its header.
  const std::string commented = replaced(out, "X-Team = \"docs\"\n", "# the team\nX-Team = \"docs\"\n");
  CHECK(set(commented, "notion", {{"headers.X-Team", std::nullopt}}) ==
        replaced(commented, "X-Team = \"docs\"\n", ""));
}

TEST_CASE("an auth table is created when the server has none, and must be complete when the command ends") {
  const std::string text = "[mcp.servers.x.remote]\nurl = \"https://x.example/mcp\"\n";
  const std::string out = set(text, "x", {{"auth.type", "bearer"}, {"auth.token", "env:X_TOKEN"}});
  CHECK(out == text + "\n[mcp.servers.x.remote.auth]\ntype = \"bearer\"\ntoken = { env = \"X_TOKEN\" }\n");
  // Alone, type = "bearer" lacks its token: the parser's error, nothing returned.
  const std::string e = set_error(text, "x", {{"auth.type", "bearer"}});
  CHECK(contains(e, "mcp.servers.x.remote.auth.token: missing"));
}

TEST_CASE("values are typed by their key: scopes a list, secrets SecretValues, booleans, durations") {
  const std::string out = set(sample, "notion", {{"auth.scopes", "read,write offline"},
                                                 {"auth.client_id", "value:fracta-cli"},
                                                 {"auth.client_secret", "file:/run/secrets/notion"},
                                                 {"allow_private_network", "true"}});
  CHECK(contains(out, "scopes = [\"read\", \"write\", \"offline\"]\n"));
  CHECK(contains(out, "client_id = { value = \"fracta-cli\" }\n"));
  CHECK(contains(out, "client_secret = { file = \"/run/secrets/notion\" }\n"));
  CHECK(contains(out, "url = \"https://mcp.notion.com/mcp\"\nallow_private_network = true\n"));
  const auto r = with_server_changed(sample, cfg_path, "github", {{"auth.token", "value:ghp-literal"}});
  CHECK(contains(r.text, "token = { value = \"ghp-literal\" }\n"));
  REQUIRE(r.secrets.size() == 1);  // for literal_secret_warning
  CHECK(r.secrets[0].first == "token");
  CHECK(r.secrets[0].second.from == secret_value::source::value);
}

TEST_CASE("a value of the wrong type is refused without quoting a secret") {
  CHECK(contains(set_error(sample, "github", {{"auth.token", "ghp-literal-secret"}}),
                 "mcp.servers.github.remote.auth.token: expected env:NAME, file:PATH or value:TEXT"));
  CHECK_FALSE(contains(set_error(sample, "github", {{"auth.token", "ghp-literal-secret"}}), "ghp-literal"));
  CHECK(contains(set_error(sample, "github", {{"timeout_seconds", "soon"}}), "'soon' is not a duration"));
  CHECK(contains(set_error(sample, "github", {{"allow_insecure_http", "yes"}}), "expected true or false"));
}

TEST_CASE("--unset removes the key's line and nothing else; from an inline table, the entry") {
  const std::string text = sample;
  CHECK(set(text, "notion", {{"auth.scopes", std::nullopt}}) == replaced(text, "scopes = [\"read\"]\n", ""));
  CHECK(set(text, "github", {{"headers.X-Team", std::nullopt}}) == replaced(text, "{ \"X-Team\" = \"platform\" }", "{}"));
  const std::string two = replaced(text, "{ \"X-Team\" = \"platform\" }", "{ \"X-Team\" = \"platform\", X-Trace = \"on\" }");
  CHECK(set(two, "github", {{"headers.X-Team", std::nullopt}}) == replaced(text, "{ \"X-Team\" = \"platform\" }", "{ X-Trace = \"on\" }"));
  CHECK(set(two, "github", {{"headers.X-Trace", std::nullopt}}) == text);
  // A multi-line value goes whole.
  const std::string multi = replaced(text, "scopes = [\"read\"]\n", "scopes = [\n  \"read\",  # first\n  \"write\",\n]\n");
  CHECK(set(multi, "notion", {{"auth.scopes", std::nullopt}}) == replaced(text, "scopes = [\"read\"]\n", ""));
  CHECK(contains(set_error(text, "notion", {{"ca_bundle", std::nullopt}}), "mcp.servers.notion.remote.ca_bundle: is not set"));
}

TEST_CASE("a multi-line value is replaced whole, and the file's CRLF endings are kept") {
  const std::string multi = replaced(sample, "scopes = [\"read\"]\n", "scopes = [\n  \"read\",\n]\n");
  CHECK(set(multi, "notion", {{"auth.scopes", "a"}}) == replaced(sample, "[\"read\"]", "[\"a\"]"));
  const std::string crlf = "[mcp.servers.x.remote]\r\nurl = \"https://x.example/mcp\"\r\n";
  CHECK(set(crlf, "x", {{"ca_bundle", "/etc/ca.pem"}}) ==
        "[mcp.servers.x.remote]\r\nurl = \"https://x.example/mcp\"\r\nca_bundle = \"/etc/ca.pem\"\r\n");
}

TEST_CASE("a file without a final newline gets one before a new line") {
  const std::string text = "[mcp.servers.x.remote]\nurl = \"https://x.example/mcp\"";
  CHECK(set(text, "x", {{"protocol", "2025-06-18"}}) == text + "\nprotocol = \"2025-06-18\"\n");
}

TEST_CASE("non-ASCII text before a value does not shift the edit") {
  const std::string text = "[mcp.servers.x.remote]\nheaders = { \"X-Name\" = \"naïve ✓ é\", B = \"1\" }\nurl = \"https://x.example/mcp\"\n";
  CHECK(set(text, "x", {{"headers.B", "2"}}) == replaced(text, "B = \"1\"", "B = \"2\""));
}

TEST_CASE("a typo in a key gets a did-you-mean naming the right key") {
  CHECK(contains(set_error(sample, "github", {{"ulr", "https://x.example"}}), "unknown key. Did you mean 'url'?"));
  CHECK(contains(set_error(sample, "github", {{"client_id", "value:x"}}), "Did you mean 'auth.client_id'?"));
  CHECK(contains(set_error(sample, "github", {{"auth.tokn", "env:X"}}), "Did you mean 'auth.token'?"));
  CHECK(contains(set_error(sample, "github", {{"timeout_second", "3"}}), "Did you mean 'timeout_seconds'?"));
  CHECK(contains(set_error(sample, "github", {{"headers", "x"}}), "Did you mean 'headers.NAME'?"));
}

TEST_CASE("a plugin type's auth keys are strings") {
  const std::string text = "[mcp.servers.x.remote]\nurl = \"https://x.example/mcp\"\n\n[mcp.servers.x.remote.auth]\ntype = \"hmac-example\"\n";
  CHECK(set(text, "x", {{"auth.key_name", "k1"}}) == text + "key_name = \"k1\"\n");
}

TEST_CASE("an unknown server is named in config::no_such_server's phrasing") {
  const std::string e = set_error(sample, "notoin", {{"url", "https://x.example"}});
  CHECK(starts_with(e, "no server named 'notoin' in " + cfg_path + "; did you mean 'notion'?"));
}

TEST_CASE("a result the parser rejects is refused with the parser's error") {
  const std::string e = set_error(sample, "github", {{"url", "ftp://x.example"}});
  CHECK(starts_with(e, cfg_path + ":5:"));
  CHECK(contains(e, "mcp.servers.github.remote.url"));
  CHECK(contains(set_error(sample, "notion", {{"auth.grant_type", "client_credential"}}),
                 "Did you mean 'client_credentials'?"));
  CHECK(contains(set_error(sample, "github", {{"timeout_seconds", "2h"}}), "mcp.servers.github.remote.timeout_seconds"));
}

TEST_CASE("a server written with dotted keys or inline tables is refused where an edit would rewrite lines") {
  const std::string dotted = "[mcp.servers.x.remote]\nurl = \"https://x.example/mcp\"\nauth.type = \"bearer\"\nauth.token = { env = \"T\" }\n";
  // A value in place is safe; a new key in the dotted table, or removing a dotted key, is not.
  CHECK(set(dotted, "x", {{"auth.token", "env:U"}}) == replaced(dotted, "\"T\"", "\"U\""));
  CHECK(contains(set_error(dotted, "x", {{"auth.type", "oauth"}, {"auth.client_id", "value:c"}}),
                 "is written with dotted keys, not as a [table] of its own, which fracta cannot change without "
                 "rewriting other lines. Edit the file by hand at line "));
  CHECK(contains(set_error(dotted, "x", {{"auth.token", std::nullopt}}), "Edit the file by hand at line 4"));
  const std::string in_parent = "[mcp.servers]\nx = { remote = { url = \"https://x.example/mcp\" } }\n";
  CHECK(contains(set_error(in_parent, "x", {{"headers.A", "b"}}), "Edit the file by hand at line 2"));
  const std::string table_secret = "[mcp.servers.x.remote]\nurl = \"https://x.example/mcp\"\n\n[mcp.servers.x.remote.auth]\ntype = \"bearer\"\n\n[mcp.servers.x.remote.auth.token]\nenv = \"T\"\n";
  CHECK(contains(set_error(table_secret, "x", {{"auth.token", "env:U"}}), "is written as a table of its own"));
}

TEST_CASE("changing the URL of an OAuth server with stored credentials says they are left behind") {
  auto r = with_server_changed(sample, cfg_path, "notion", {{"url", "https://other.example/mcp"}});
  CHECK(r.stored_credentials_left_behind);
  CHECK(r.old_url == "https://mcp.notion.com/mcp");
  // The same canonical URL (host case, default port) keeps them; a bearer server stores nothing.
  CHECK_FALSE(with_server_changed(sample, cfg_path, "notion", {{"url", "https://MCP.notion.com:443/mcp"}})
                  .stored_credentials_left_behind);
  CHECK_FALSE(with_server_changed(sample, cfg_path, "github", {{"url", "https://other.example/mcp"}})
                  .stored_credentials_left_behind);
}

TEST_CASE("secret_from_argument: env, file (made absolute), value; anything else is nothing") {
  CHECK(secret_from_argument("env:TOKEN")->from == secret_value::source::env);
  CHECK(secret_from_argument("env:TOKEN")->ref == "TOKEN");
  CHECK(secret_from_argument("file:/run/s")->ref == "/run/s");
  CHECK(secret_from_argument("file:rel/s")->ref.front() == '/');
  CHECK(secret_from_argument("value:a:b")->ref == "a:b");
  CHECK_FALSE(secret_from_argument("vault:x"));
  CHECK_FALSE(secret_from_argument("plain"));
}

TEST_CASE("secret_from_argument keeps ~/ and $CREDENTIALS_DIRECTORY/ for the config to expand") {
  CHECK(secret_from_argument("file:~/secrets/token")->ref == "~/secrets/token");
  CHECK(secret_from_argument("file:${CREDENTIALS_DIRECTORY}/token")->ref == "${CREDENTIALS_DIRECTORY}/token");
  CHECK(secret_from_argument("file:$CREDENTIALS_DIRECTORY/token")->ref == "$CREDENTIALS_DIRECTORY/token");
  // A ~ elsewhere is an ordinary character of a relative path.
  CHECK(secret_from_argument("file:a~/b")->ref.front() == '/');
}
