// SPDX-License-Identifier: Apache-2.0
// The export formats, byte for byte (golden texts), and the names they derive from a server's.
#include <doctest/doctest.h>

#include <fracta/proto/base64.hpp>

#include "export/format.hpp"

namespace ex = fracta::cli::exporting;
using fracta::exported_credentials;

namespace {

exported_credentials sample(bool registration) {
  exported_credentials c;
  c.files.push_back({"token.json", R"({"access_token":"at-1","refresh_token":"rt-1"})"});
  if (registration) c.files.push_back({"client-registration.json", R"({"client_id":"cid"})"});
  c.fields = {{"access_token", "at-1"},
              {"refresh_token", "r't $(x)"},
              {"expires_at", "1767225600"},
              {"client_id", "cid"},
              {"issuer", "https://as.example.com"}};
  return c;
}

}  // namespace

TEST_CASE("environment variable names are the server's name upper-cased, other characters as _") {
  CHECK(ex::env_name("notion", "access_token") == "FRACTA_MCP_NOTION_ACCESS_TOKEN");
  CHECK(ex::env_name("my-server_2", "expires_at") == "FRACTA_MCP_MY_SERVER_2_EXPIRES_AT");
}

TEST_CASE("the Secret's name is a DNS-1123 name derived from the server's") {
  CHECK(ex::k8s_secret_name("notion") == "fracta-mcp-notion");
  CHECK(ex::k8s_secret_name("My_Server-") == "fracta-mcp-my-server");
  CHECK(ex::k8s_secret_name("__") == "fracta-mcp");
  CHECK(ex::is_k8s_namespace("tools-1"));
  CHECK_FALSE(ex::is_k8s_namespace("Tools"));
  CHECK_FALSE(ex::is_k8s_namespace("-x"));
  CHECK_FALSE(ex::is_k8s_namespace(std::string(64, 'a')));
  CHECK_FALSE(ex::is_k8s_namespace(""));
}

TEST_CASE("env: export lines, quoted for the shell, after the auth table that reads them back") {
  CHECK(ex::env_lines("my-api", sample(false)) ==
        "# The credentials of the MCP server \"my-api\", exported by fracta. They are secrets.\n"
        "# Read them back with this auth table in the other machine's fracta config:\n"
        "#   [mcp.servers.my-api.remote.auth]\n"
        "#   type = \"oauth\"\n"
        "#   access_token = { env = \"FRACTA_MCP_MY_API_ACCESS_TOKEN\" }\n"
        "#   refresh_token = { env = \"FRACTA_MCP_MY_API_REFRESH_TOKEN\" }\n"
        "#   expires_at = { env = \"FRACTA_MCP_MY_API_EXPIRES_AT\" }\n"
        "#   client_id = { env = \"FRACTA_MCP_MY_API_CLIENT_ID\" }\n"
        "#   issuer = \"https://as.example.com\"\n"
        "export FRACTA_MCP_MY_API_ACCESS_TOKEN=at-1\n"
        "export FRACTA_MCP_MY_API_REFRESH_TOKEN='r'\\''t $(x)'\n"
        "export FRACTA_MCP_MY_API_EXPIRES_AT=1767225600\n"
        "export FRACTA_MCP_MY_API_CLIENT_ID=cid\n");
}

TEST_CASE("env: an issuer that could break out of its comment is left out") {
  auto c = sample(false);
  c.fields.back().text = "https://as.example.com/\"\nexport X=1";
  const std::string out = ex::env_lines("s", c);
  CHECK(out.find("issuer") == std::string::npos);
  CHECK(out.find("export X") == std::string::npos);
}

TEST_CASE("k8s-secret: a v1 Opaque Secret with the files as base64 data keys") {
  const auto c = sample(true);
  CHECK(ex::k8s_secret_yaml("My_Server", "tools", c) ==
        "# The credentials of the MCP server \"My_Server\", exported by fracta (kubectl apply -f -). They are "
        "secrets.\n"
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: fracta-mcp-my-server\n"
        "  namespace: tools\n"
        "  labels:\n"
        "    app.kubernetes.io/managed-by: fracta\n"
        "type: Opaque\n"
        "data:\n"
        "  token.json: " + fracta::text::base64_encode(c.files[0].text) + "\n"
        "  client-registration.json: " + fracta::text::base64_encode(c.files[1].text) + "\n");
  CHECK(ex::k8s_secret_yaml("s", "", sample(false)).find("namespace") == std::string::npos);
}

TEST_CASE("files: the auth-table keys that read each file back") {
  CHECK(ex::auth_table_for_files("/run/secrets/s", sample(true)) ==
        "token_file = \"/run/secrets/s/token.json\"\n"
        "client_registration_file = \"/run/secrets/s/client-registration.json\"\n");
}
