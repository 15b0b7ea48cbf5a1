// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp auth export`'s output formats: pure functions from exported credentials to text.
#include "export/format.hpp"

#include <algorithm>
#include <cctype>

#include <fracta/proto/base64.hpp>
#include <fracta/proto/text.hpp>

namespace fracta::cli::exporting {
namespace {

std::string upper_word(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) != 0 ? static_cast<char>(std::toupper(u)) : '_');
  }
  return out;
}

// The auth-table key that reads back the file `name` ("<k>.json" → "<k with - as _>_file").
std::string key_for_file(std::string_view name) {
  std::string k(name.substr(0, name.rfind(".json")));
  std::replace(k.begin(), k.end(), '-', '_');
  return k + "_file";
}

// Text safe inside a TOML basic string and a shell comment as it is: printable ASCII without
// quotes or backslashes (a URL).
bool plain_text(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::string env_name(std::string_view server, std::string_view field) {
  return "FRACTA_MCP_" + upper_word(server) + "_" + upper_word(field);
}

std::string k8s_secret_name(std::string_view server) {
  std::string name;
  for (char c : server) {
    const auto u = static_cast<unsigned char>(c);
    name.push_back(std::isalnum(u) != 0 ? static_cast<char>(std::tolower(u)) : '-');
  }
  const auto first = name.find_first_not_of('-');
  if (first == std::string::npos) return "fracta-mcp";
  name = name.substr(first, name.find_last_not_of('-') - first + 1);
  return "fracta-mcp-" + name;
}

bool is_k8s_namespace(std::string_view ns) {
  if (ns.empty() || ns.size() > 63 || ns.front() == '-' || ns.back() == '-') return false;
  return std::all_of(ns.begin(), ns.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string env_lines(std::string_view server, const exported_credentials& c) {
  std::string head = "# The credentials of the MCP server \"" + std::string(server) +
                     "\", exported by fracta. They are secrets.\n"
                     "# Read them back with this auth table in the other machine's fracta config:\n"
                     "#   [mcp.servers." + std::string(server) + ".remote.auth]\n"
                     "#   type = \"oauth\"\n";
  std::string body;
  for (const auto& f : c.fields) {
    if (f.name == "issuer") {
      if (plain_text(f.text)) head += "#   issuer = " + toml_string(f.text) + "\n";
      continue;
    }
    const std::string var = env_name(server, f.name);
    head += "#   " + f.name + " = { env = \"" + var + "\" }\n";
    body += "export " + var + "=" + text::shell_word(f.text) + "\n";
  }
  return head + body;
}

std::string k8s_secret_yaml(std::string_view server, std::string_view ns, const exported_credentials& c) {
  std::string out = "# The credentials of the MCP server \"" + std::string(server) +
                    "\", exported by fracta (kubectl apply -f -). They are secrets.\n"
                    "apiVersion: v1\n"
                    "kind: Secret\n"
                    "metadata:\n"
                    "  name: " + k8s_secret_name(server) + "\n";
  if (!ns.empty()) out += "  namespace: " + std::string(ns) + "\n";
  out += "  labels:\n"
         "    app.kubernetes.io/managed-by: fracta\n"
         "type: Opaque\n"
         "data:\n";
  for (const auto& f : c.files) out += "  " + f.name + ": " + text::base64_encode(f.text) + "\n";
  return out;
}

std::string auth_table_for_files(const std::string& dir, const exported_credentials& c) {
  std::string out;
  for (const auto& f : c.files) {
    const std::string path = dir + "/" + f.name;
    out += key_for_file(f.name) + " = " + toml_string(path) + "\n";
  }
  return out;
}

}  // namespace fracta::cli::exporting
