// SPDX-License-Identifier: Apache-2.0
// Specification of auth table parsing: SecretValues and each built-in type's rules and messages.
#include "fracta/config.hpp"
// The header under test comes first, alone: it must compile on its own.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fracta::config;
using namespace fracta::config::test;

// ---- SecretValue -------------------------------------------------------------------------------

TEST_CASE("SecretValue: value source") {
  const config c = parse(with_auth("type = \"bearer\"\ntoken = { value = \"abc\" }\n"), cfg_path);
  REQUIRE(c.servers[0].auth.token.has_value());
  CHECK(c.servers[0].auth.token->from == secret_value::source::value);
  CHECK(c.servers[0].auth.token->ref == "abc");
}

TEST_CASE("SecretValue: env source") {
  const config c =
      parse(with_auth("type = \"bearer\"\ntoken = { env = \"GH_TOKEN\" }\n"), cfg_path);
  CHECK(c.servers[0].auth.token->from == secret_value::source::env);
  CHECK(c.servers[0].auth.token->ref == "GH_TOKEN");
  CHECK(c.servers[0].auth.token->where.line == 6);
}

TEST_CASE("SecretValue: file source, relative paths made absolute") {
  const config c =
      parse(with_auth("type = \"bearer\"\ntoken = { file = \"secrets/gh\" }\n"), cfg_path);
  CHECK(c.servers[0].auth.token->from == secret_value::source::file);
  CHECK(c.servers[0].auth.token->ref == "/etc/fracta/secrets/gh");
  CHECK(c.servers[0].auth.json == R"({"type":"bearer","token":{"file":"/etc/fracta/secrets/gh"}})");
}

TEST_CASE("SecretValue: the table form [....auth.token] works too") {
  const config c = parse(
      with_auth("type = \"bearer\"\n[mcp.servers.gh.remote.auth.token]\nenv = \"T\"\n"), cfg_path);
  CHECK(c.servers[0].auth.token->ref == "T");
}

TEST_CASE("SecretValue failure: a plain string says how to write a reference") {
  const std::string msg =
      parse_error(with_auth("type = \"bearer\"\ntoken = \"ghp_PLAINSECRET\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:9: server 'gh': mcp.servers.gh.remote.auth.token: "
                    "is a plain string, but secrets are written as a SecretValue table. "));
  CHECK(contains(msg, "token = { env = \"NAME\" }"));
  CHECK(contains(msg, "token = { value = \"…\" }"));
  CHECK(contains(msg, "token = { file = \"/path/to/secret\" }"));
  CHECK_FALSE(contains(msg, "ghp_PLAINSECRET"));
}

TEST_CASE("SecretValue failure: another type than a table") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = 1234\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:9: server 'gh': mcp.servers.gh.remote.auth.token: must be a "
      "SecretValue table with exactly one of value, env or file, not an integer. "));
  CHECK(contains(msg, "token = { env = \"NAME\" }"));
}

TEST_CASE("SecretValue failure: no source") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = {}\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:9: server 'gh': mcp.servers.gh.remote.auth.token: "
                    "has no source. "));
  CHECK(contains(msg, "Give exactly one of value, env or file: token = { env = \"NAME\" }."));
}

TEST_CASE("SecretValue failure: two sources") {
  const std::string msg = parse_error(
      with_auth("type = \"bearer\"\ntoken = { value = \"s3cr3t-TWO\", env = \"T\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:33: server 'gh': mcp.servers.gh.remote.auth.token: "
                    "has both 'value' and 'env'; a SecretValue takes exactly one source. "));
  CHECK(contains(msg, "Keep only one of value, env or file."));
  CHECK_FALSE(contains(msg, "s3cr3t-TWO"));
}

TEST_CASE("SecretValue failure: unknown key") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { envv = \"T\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:11: server 'gh': "
                    "mcp.servers.gh.remote.auth.token.envv: unknown key in a SecretValue. "));
  CHECK(contains(msg, "Did you mean 'env'?"));
  CHECK(contains(msg, "exactly one of value, env or file"));
}

TEST_CASE("SecretValue failure: a source that is not a string") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { env = 5 }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:17: server 'gh': "
                    "mcp.servers.gh.remote.auth.token.env: must be a string, not an integer. "));
  CHECK(contains(msg, "Write env = \"VARIABLE_NAME\""));
}

TEST_CASE("SecretValue failure: empty value") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { value = \"\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:19: server 'gh': "
                    "mcp.servers.gh.remote.auth.token.value: is empty. "));
  CHECK(contains(msg, "Put the secret in it"));
}

TEST_CASE("SecretValue failure: empty env") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { env = \"\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:17: server 'gh': "
                    "mcp.servers.gh.remote.auth.token.env: is empty. "));
  CHECK(contains(msg, "Write the name of an environment variable"));
}

TEST_CASE("SecretValue failure: env that is not a variable name") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { env = \"A=B\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:17: server 'gh': mcp.servers.gh.remote.auth.token.env: is not a "
      "valid environment variable name"));
  CHECK(contains(msg, "Write just the variable's name"));
}

TEST_CASE("SecretValue failure: empty file") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { file = \"\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:18: server 'gh': "
                    "mcp.servers.gh.remote.auth.token.file: is empty. "));
  CHECK(contains(msg, "Write the path of a file holding the secret"));
}

TEST_CASE("no error message ever contains a secret literal") {
  const std::string secret = "S3CR3T-literal-42";
  const std::string v = "{ value = \"" + secret + "\" }";
  const std::vector<std::string> bad = {
      with_auth("type = \"bearer\"\ntoken = \"" + secret + "\"\n"),
      with_auth("type = \"bearer\"\ntoken = { value = \"" + secret + "\", file = \"x\" }\n"),
      with_auth("type = \"bearer\"\ntoken = { value = \"" + secret + "\", vaule = \"x\" }\n"),
      with_auth("type = \"bearer\"\ntoken = " + v + "\nextra = 1\n"),
      with_auth("type = \"basic\"\nusername = " + v + "\npassword = \"" + secret + "\"\n"),
      with_auth("type = \"header\"\nheader_name = \"X-Key\"\nheader_value = \"" + secret + "\"\n"),
      with_auth("type = \"header\"\nheader_name = \"X-Key\"\nheader_value = " + v + "\n",
                "headers = { x-key = \"" + secret + "\" }\n"),
      with_auth("type = \"bearer\"\ntoken = " + v + "\n",
                "headers = { Authorization = \"Bearer " + secret + "\" }\n"),
      with_auth("type = \"oauth\"\naccess_token = " + v + "\ntoken_file = \"t.json\"\n"),
      with_auth("type = \"oauth\"\ngrant_type = \"client_credentials\"\nclient_id = " + v + "\n"),
      with_auth("type = \"oauth\"\nclient_secret = \"" + secret + "\"\n"),
      with_auth("type = \"oauth\"\nrefresh_token = { value = \"" + secret +
                "\" }\nexpires_at = 2024-01-01T00:00:00\n"),
      with_auth("type = \"oauth\"\nprivate_key = \"" + secret + "\"\n"),
      "[mcp.servers.gh.remote]\nurl = \"https://user:" + secret + "@a.example:0/\"\n",
      "[mcp.servers.gh.remote]\nurl = \"https://a.example/?token=" + secret + " x\"\n",
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { X-Key = \"" + secret +
          "\\n\" }\n",
      "[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { X-Key = \"" + secret +
          "\", x-key = \"" + secret + "\" }\n",
  };
  for (const auto& text : bad) {
    const std::string msg = parse_error(text);
    CAPTURE(text);
    CHECK_FALSE(msg.empty());
    CHECK_FALSE(contains(msg, secret));
  }
}

// ---- bearer / header / basic -------------------------------------------------------------------

TEST_CASE("rule: bearer requires token") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:4:1: server 'gh': mcp.servers.gh.remote.auth.token: missing. "));
  CHECK(contains(msg, "Add token = { env = \"NAME\" }"));
}

TEST_CASE("rule: header requires header_name") {
  const std::string msg =
      parse_error(with_auth("type = \"header\"\nheader_value = { env = \"K\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:4:1: server 'gh': "
                    "mcp.servers.gh.remote.auth.header_name: missing. "));
  CHECK(contains(msg, "Add header_name = \"X-Api-Key\""));
}

TEST_CASE("rule: header requires header_value") {
  const std::string msg =
      parse_error(with_auth("type = \"header\"\nheader_name = \"X-Api-Key\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:4:1: server 'gh': "
                    "mcp.servers.gh.remote.auth.header_value: missing. "));
  CHECK(contains(msg, "Add header_value = { env = \"NAME\" }"));
}

TEST_CASE("rule: header's header_name must be an RFC 9110 token") {
  const std::string msg = parse_error(with_auth(
      "type = \"header\"\nheader_name = \"X-Api Key:\"\nheader_value = { env = \"K\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:15: server 'gh': "
                    "mcp.servers.gh.remote.auth.header_name: is not a valid HTTP header name. "));
  CHECK(contains(msg, "RFC 9110 tokens"));
}

TEST_CASE("rule: header's header_name must not collide with remote.headers, case-insensitively") {
  const std::string msg = parse_error(
      with_auth("type = \"header\"\nheader_name = \"X-Api-Key\"\nheader_value = { env = \"K\" }\n",
                "headers = { x-api-key = \"other\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:7:15: server 'gh': mcp.servers.gh.remote.auth.header_name: "
      "'X-Api-Key' is also set in remote.headers"));
  CHECK(contains(msg, "Remove 'x-api-key' from remote.headers, or choose another header_name."));
}

TEST_CASE("header auth is parsed") {
  const config c = parse(
      with_auth("type = \"header\"\nheader_name = \"X-Api-Key\"\nheader_value = { env = \"K\" }\n",
                "headers = { Authorization = \"Token abc\" }\n"),
      cfg_path);
  CHECK(c.servers[0].auth.header_name == "X-Api-Key");
  CHECK(c.servers[0].auth.header_value->ref == "K");
}

TEST_CASE("rule: basic requires username") {
  const std::string msg = parse_error(with_auth("type = \"basic\"\npassword = { env = \"P\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:4:1: server 'gh': mcp.servers.gh.remote.auth.username: missing. "));
  CHECK(contains(msg, "Add username = { env = \"NAME\" }"));
}

TEST_CASE("rule: basic requires password") {
  const std::string msg =
      parse_error(with_auth("type = \"basic\"\nusername = { value = \"me\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:4:1: server 'gh': mcp.servers.gh.remote.auth.password: missing. "));
  CHECK(contains(msg, "Add password = { env = \"NAME\" }"));
}

TEST_CASE("rule: remote.headers.Authorization cannot combine with bearer") {
  const std::string msg = parse_error(with_auth("type = \"bearer\"\ntoken = { env = \"T\" }\n",
                                                "headers = { authorization = \"x\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:3:13: server 'gh': mcp.servers.gh.remote.headers.authorization: "
      "cannot be combined with auth type 'bearer', which generates the Authorization header. "));
  CHECK(contains(msg, "Remove the Authorization header, or set auth type = \"none\""));
}

TEST_CASE("rule: remote.headers.Authorization cannot combine with basic") {
  const std::string msg = parse_error(
      with_auth("type = \"basic\"\nusername = { env = \"U\" }\npassword = { env = \"P\" }\n",
                "headers = { AUTHORIZATION = \"x\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:3:13: server 'gh': mcp.servers.gh.remote.headers.AUTHORIZATION: "
      "cannot be combined with auth type 'basic'"));
}

TEST_CASE("rule: remote.headers.Authorization cannot combine with oauth") {
  const std::string msg =
      parse_error(with_auth("type = \"oauth\"\n", "headers = { Authorization = \"x\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:3:13: server 'gh': mcp.servers.gh.remote.headers.Authorization: "
      "cannot be combined with auth type 'oauth'"));
}

TEST_CASE("remote.headers.Authorization is fine without auth or with type none") {
  CHECK(parse("[mcp.servers.gh.remote]\nurl = \"https://a.example\"\nheaders = { Authorization = "
              "\"Bearer x\" }\n",
              cfg_path)
            .servers[0]
            .headers.size() == 1);
  CHECK(parse(with_auth("type = \"none\"\n", "headers = { Authorization = \"x\" }\n"), cfg_path)
            .servers.size() == 1);
}

// ---- oauth -------------------------------------------------------------------------------------

TEST_CASE("oauth defaults: authorization_code, auto store") {
  const config c = parse(with_auth("type = \"oauth\"\n"), cfg_path);
  const auth& a = c.servers[0].auth;
  CHECK(a.grant_type == "authorization_code");
  CHECK(a.token_store == "auto");
  CHECK(a.json == R"({"type":"oauth"})");
}

TEST_CASE("oauth: every key is parsed, and json keeps the table as written") {
  temp_dir dir;
  dir.write("reg/client-registration.json", "{}");
  const std::string text = with_auth(R"(type = "oauth"
grant_type = "device_code"
scopes = ["read", "write"]
token_store = "keyring"
client_id = { value = "cid" }
client_secret = { file = "secret.txt" }
refresh_token = { env = "RT" }
expires_at = 2024-01-01T01:00:00+01:00
access_token = { env = "AT" }
client_registration_file = "reg/client-registration.json"
metadata_url = "https://auth.example.com/.well-known/oauth-authorization-server"
redirect_uri = "http://127.0.0.1:33418/callback"
resource = "https://api.example.com/mcp"
omit_resource = false
authorize_params = { prompt = "consent" }
token_params = { audience = "api" }
token_endpoint_auth_method = "client_secret_post"
client_metadata_url = "https://app.example.com/client.json"
private_key = { file = "key.pem" }
key_id = "k1"
passphrase = { env = "PP" }
)");
  const std::string path = (dir / "config.toml").string();
  const config c = parse(text, path);
  const auth& a = c.servers[0].auth;
  const std::string d = dir.path().string();
  CHECK(a.type == "oauth");
  CHECK(a.grant_type == "device_code");
  CHECK(a.scopes == std::vector<std::string>{"read", "write"});
  CHECK(a.token_store == "keyring");
  CHECK(a.client_id->ref == "cid");
  CHECK(a.client_secret->ref == d + "/secret.txt");
  CHECK(a.refresh_token->ref == "RT");
  CHECK(a.access_token->ref == "AT");
  REQUIRE(a.expires_at.has_value());
  CHECK(*a.expires_at == 1704067200);
  CHECK(a.token_file.empty());
  CHECK(a.client_registration_file == d + "/reg/client-registration.json");
  CHECK(a.metadata_url == "https://auth.example.com/.well-known/oauth-authorization-server");

  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(p.parse(a.json).get(doc) == simdjson::SUCCESS);
  CHECK(std::string_view(doc["grant_type"]) == "device_code");
  CHECK(std::string_view(doc["expires_at"]) == "2024-01-01T01:00:00+01:00");
  CHECK(std::string_view(doc["client_registration_file"]) == d + "/reg/client-registration.json");
  CHECK(std::string_view(doc["client_secret"]["file"]) == d + "/secret.txt");
  CHECK(std::string_view(doc["private_key"]["file"]) == d + "/key.pem");
  CHECK(std::string_view(doc["client_id"]["value"]) == "cid");
  CHECK(std::string_view(doc["scopes"].at(1)) == "write");
  CHECK(bool(doc["omit_resource"]) == false);
  CHECK(std::string_view(doc["token_params"]["audience"]) == "api");
  CHECK(std::string_view(doc["key_id"]) == "k1");
  // Keys as written, in file order.
  CHECK(a.json.find("\"type\"") < a.json.find("\"grant_type\""));
  CHECK(a.json.find("\"key_id\"") < a.json.find("\"passphrase\""));
}

TEST_CASE("oauth: a relative token_file is taken from the config file's directory, in the model and the json") {
  temp_dir dir;
  dir.write("tokens/token.json", "{}");
  const std::string path = (dir / "config.toml").string();
  const config c = parse(with_auth("type = \"oauth\"\ntoken_file = \"tokens/token.json\"\n"), path);
  const std::string want = dir.path().string() + "/tokens/token.json";
  CHECK(c.servers[0].auth.token_file == want);
  CHECK(c.servers[0].auth.json.find("\"token_file\":\"" + want + "\"") != std::string::npos);
}

TEST_CASE("oauth: expires_at as unix seconds stays a JSON number") {
  const config c = parse(
      with_auth("type = \"oauth\"\naccess_token = { env = \"AT\" }\nexpires_at = 1767225600\n"),
      cfg_path);
  CHECK(*c.servers[0].auth.expires_at == 1767225600);
  CHECK(c.servers[0].auth.json ==
        R"({"type":"oauth","access_token":{"env":"AT"},"expires_at":1767225600})");
}

TEST_CASE("rule: oauth expires_at needs an offset when it is a date-time") {
  const std::string msg =
      parse_error(with_auth("type = \"oauth\"\nexpires_at = 2024-01-01T00:00:00\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:14: server 'gh': "
                    "mcp.servers.gh.remote.auth.expires_at: date-time has no UTC offset. "));
  CHECK(contains(msg, "expires_at = 2026-01-01T00:00:00Z"));
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nexpires_at = \"soon\"\n")),
                 "must be an integer or an offset date-time, not a string"));
}

TEST_CASE("rule: oauth grant_type is one of the three") {
  const std::string msg =
      parse_error(with_auth("type = \"oauth\"\ngrant_type = \"client_credential\"\n"));
  CHECK(
      starts_with(msg,
                  "/etc/fracta/config.toml:6:14: server 'gh': "
                  "mcp.servers.gh.remote.auth.grant_type: 'client_credential' is not supported. "));
  CHECK(contains(msg, "Did you mean 'client_credentials'?"));
  CHECK(contains(msg, "Use one of: authorization_code, client_credentials, device_code."));
}

TEST_CASE("rule: client_credentials requires client_id") {
  const std::string msg = parse_error(with_auth(
      "type = \"oauth\"\ngrant_type = \"client_credentials\"\nclient_secret = { env = \"S\" }\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:14: server 'gh': mcp.servers.gh.remote.auth.client_id: missing; "
      "grant_type = \"client_credentials\" requires client_id and client_secret (or private_key "
      "for private_key_jwt). "));
  CHECK(contains(msg, "Add client_id = { env = \"NAME\" } to [mcp.servers.gh.remote.auth]."));
}

TEST_CASE("rule: client_credentials with private_key_jwt needs no client_secret") {
  CHECK_NOTHROW(parse(with_auth("type = \"oauth\"\ngrant_type = \"client_credentials\"\n"
                                "client_id = { env = \"I\" }\nprivate_key = { file = \"/k.pem\" }\n"
                                "token_endpoint_auth_method = \"private_key_jwt\"\n"),
                      cfg_path));
}

TEST_CASE("rule: client_credentials requires client_secret") {
  const std::string msg = parse_error(with_auth(
      "type = \"oauth\"\ngrant_type = \"client_credentials\"\nclient_id = { env = \"I\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:14: server 'gh': "
                    "mcp.servers.gh.remote.auth.client_secret: missing; "));
  CHECK(contains(msg, "Add client_secret = { env = \"NAME\" }"));
}

TEST_CASE("rule: access_token and token_file are mutually exclusive") {
  const std::string msg = parse_error(with_auth(
      "type = \"oauth\"\naccess_token = { env = \"AT\" }\ntoken_file = \"/run/token.json\"\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:7:14: server 'gh': mcp.servers.gh.remote.auth.token_file: "
      "access_token and token_file are mutually exclusive. "));
  CHECK(contains(msg, "Keep only one: token_file for a mounted token (preferred)"));
}

TEST_CASE("rule: token_file must be an existing regular file") {
  temp_dir dir;
  dir.write("d/x", "");
  const std::string path = (dir / "config.toml").string();
  const std::string missing = parse_error(with_auth("type = \"oauth\"\ntoken_file = \"token.json\"\n"), path);
  CHECK(starts_with(missing, path + ":6:14: server 'gh': mcp.servers.gh.remote.auth.token_file: file '"));
  CHECK(contains(missing, "fracta config mcp auth export <server> --format files"));
  const std::string is_dir = parse_error(with_auth("type = \"oauth\"\ntoken_file = \"d\"\n"), path);
  CHECK(contains(is_dir, "is a directory. Point it at the token.json file inside it"));
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  const std::string fifo = parse_error(with_auth("type = \"oauth\"\ntoken_file = \"fifo\"\n"), path);
  CHECK(contains(fifo, "is not a regular file"));
}

TEST_CASE("rule: client_registration_file must exist") {
  temp_dir dir;
  const std::string path = (dir / "config.toml").string();
  const std::string text = with_auth("type = \"oauth\"\nclient_registration_file = \"reg.json\"\n");
  const std::string msg = parse_error(text, path);
  CHECK(starts_with(
      msg, path +
               ":6:28: server 'gh': mcp.servers.gh.remote.auth.client_registration_file: file '" +
               (dir / "reg.json").string() + "' does not exist. "));
  CHECK(contains(msg, "dynamic client registration"));
  dir.write("reg.json", "{}");
  CHECK(parse(text, path).servers[0].auth.client_registration_file == (dir / "reg.json").string());
}

TEST_CASE("rule: oauth token_store is one of the three") {
  const std::string msg = parse_error(with_auth("type = \"oauth\"\ntoken_store = \"keychain\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:15: server 'gh': "
                    "mcp.servers.gh.remote.auth.token_store: 'keychain' is not supported. "));
  CHECK(contains(msg, "Use one of: auto, keyring, file."));
}

TEST_CASE("rule: oauth metadata_url is an absolute http(s) URL") {
  const std::string msg = parse_error(
      with_auth("type = \"oauth\"\nmetadata_url = \"/.well-known/oauth-authorization-server\"\n"));
  CHECK(starts_with(
      msg,
      "/etc/fracta/config.toml:6:16: server 'gh': mcp.servers.gh.remote.auth.metadata_url: must be "
      "an absolute http:// or https:// URL. "));
  CHECK(contains(msg, "Write metadata_url = \"https://"));
}

TEST_CASE("rule: oauth scopes is an array of single scope strings") {
  const std::string msg = parse_error(with_auth("type = \"oauth\"\nscopes = \"read write\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:10: server 'gh': mcp.servers.gh.remote.auth.scopes: "
                    "must be an array of strings, not a string. "));
  CHECK(contains(msg, "Write scopes = [\"read\", \"write\"]"));
  const std::string msg2 = parse_error(with_auth("type = \"oauth\"\nscopes = [\"read write\"]\n"));
  CHECK(starts_with(msg2,
                    "/etc/fracta/config.toml:6:11: server 'gh': "
                    "mcp.servers.gh.remote.auth.scopes[0]: contains a space"));
}

TEST_CASE("rule: oauth SecretValue keys are checked like any SecretValue") {
  const std::string msg = parse_error(with_auth("type = \"oauth\"\nclient_secret = \"hunter2\"\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:17: server 'gh': "
                    "mcp.servers.gh.remote.auth.client_secret: is a plain string"));
  CHECK(contains(msg, "client_secret = { env = \"NAME\" }"));
  CHECK_FALSE(contains(msg, "hunter2"));
}

TEST_CASE("rule: oauth pass-through keys are type-checked") {
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nomit_resource = \"yes\"\n")),
                 "mcp.servers.gh.remote.auth.omit_resource: must be true or false, not a string. "
                 "Write omit_resource = true."));
  CHECK(contains(
      parse_error(with_auth("type = \"oauth\"\ntoken_params = { audience = 1 }\n")),
      "mcp.servers.gh.remote.auth.token_params.audience: must be a string, not an integer."));
  CHECK(contains(parse_error(with_auth("type = \"oauth\"\nredirect_uri = 1\n")),
                 "mcp.servers.gh.remote.auth.redirect_uri: must be a string, not an integer."));
}

TEST_CASE("rule: expires_at goes with an inline access_token; neither it nor refresh_token with token_file") {
  const std::string alone = parse_error(with_auth("type = \"oauth\"\nexpires_at = 1767225600\n"));
  CHECK(starts_with(alone, "/etc/fracta/config.toml:6:14: server 'gh': mcp.servers.gh.remote.auth.expires_at: "
                           "is set without access_token. "));
  const std::string with_file = parse_error(with_auth(
      "type = \"oauth\"\ntoken_file = \"/run/token.json\"\nexpires_at = { env = \"E\" }\n"));
  CHECK(starts_with(with_file, "/etc/fracta/config.toml:7:14: server 'gh': mcp.servers.gh.remote.auth.expires_at: "
                               "token_file already holds the tokens and their expiry. "));
  CHECK_NOTHROW(parse(with_auth("type = \"oauth\"\naccess_token = { env = \"AT\" }\n"
                                "expires_at = { env = \"E\" }\n"),
                      cfg_path));
}

TEST_CASE("rule: client_credentials takes no injected token") {
  const std::string msg = parse_error(with_auth(
      "type = \"oauth\"\ngrant_type = \"client_credentials\"\nclient_id = { env = \"I\" }\n"
      "client_secret = { env = \"S\" }\ntoken_file = \"/run/token.json\"\n"));
  CHECK(contains(msg, "mcp.servers.gh.remote.auth.token_file: grant_type = \"client_credentials\" fetches its own "
                      "tokens"));
}

TEST_CASE("${CREDENTIALS_DIRECTORY} in a path is systemd's directory, and an error when it is unset") {
  temp_dir creds;
  creds.write("token.json", "{}");
  ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
  const auto c = parse(with_auth("type = \"oauth\"\ntoken_file = \"${CREDENTIALS_DIRECTORY}/token.json\"\n"
                                 "client_id = { file = \"$CREDENTIALS_DIRECTORY/client-id\" }\n"),
                       cfg_path);
  const auto& a = c.servers[0].auth;
  CHECK(a.token_file == creds.path().string() + "/token.json");
  CHECK(a.client_id->ref == creds.path().string() + "/client-id");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  const std::string msg = parse_error(with_auth("type = \"oauth\"\ntoken_file = \"${CREDENTIALS_DIRECTORY}/t.json\"\n"));
  CHECK(contains(msg, "mcp.servers.gh.remote.auth.token_file: starts with $CREDENTIALS_DIRECTORY, which is not set"));
}

TEST_CASE("rule: a refresh_token in the config requires issuer or metadata_url") {
  const std::string msg =
      parse_error(with_auth("type = \"oauth\"\nrefresh_token = { env = \"RT\" }\n"));
  CHECK(starts_with(msg,
                    "/etc/fracta/config.toml:6:17: server 'gh': "
                    "mcp.servers.gh.remote.auth.refresh_token: a refresh_token in the config needs "
                    "issuer or metadata_url, so that it is only ever sent to the authorization "
                    "server that issued it. "));
  CHECK(contains(msg,
                 "Add issuer = \"https://auth.example.com\" (the server that issued the token) "
                 "or metadata_url = \"https://auth.example.com/.well-known/"
                 "oauth-authorization-server\" to [mcp.servers.gh.remote.auth]."));
  CHECK_NOTHROW(parse(with_auth("type = \"oauth\"\nrefresh_token = { env = \"RT\" }\n"
                                "metadata_url = \"https://as.example/.well-known/"
                                "oauth-authorization-server\"\n"),
                      cfg_path));
}

TEST_CASE("oauth: issuer is parsed and passed to the provider in the auth JSON") {
  const config c = parse(with_auth("type = \"oauth\"\nrefresh_token = { env = \"RT\" }\n"
                                   "issuer = \"https://auth.example.com/tenant\"\n"),
                         cfg_path);
  const auth& a = c.servers[0].auth;
  CHECK(a.issuer == "https://auth.example.com/tenant");
  CHECK(
      a.json ==
      R"({"type":"oauth","refresh_token":{"env":"RT"},"issuer":"https://auth.example.com/tenant"})");
}
