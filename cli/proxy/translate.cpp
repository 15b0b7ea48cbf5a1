// SPDX-License-Identifier: Apache-2.0
// The bridge's message rewrites (see translate.hpp).
#include "proxy/translate.hpp"

#include <array>

#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"

namespace fracta::proxy {
namespace {

constexpr std::array<std::string_view, 6> cached_methods = {"tools/list",     "prompts/list",
                                                            "resources/list", "resources/templates/list",
                                                            "resources/read", "server/discover"};

bool parse_object(simdjson::dom::parser& parser, std::string_view text, simdjson::dom::element& doc) {
  return !text.empty() && json::parse(parser, text, doc).empty() && doc.is_object();
}

}  // namespace

std::optional<message> read_message(std::string_view text, std::string* why) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = json::parse(parser, text, doc); !e.empty()) {
    if (why != nullptr) *why = "not JSON: " + e;
    return std::nullopt;
  }
  if (!doc.is_object()) {
    if (why != nullptr) *why = doc.is_array() ? "batches are not part of MCP's stdio transport" : "not an object";
    return std::nullopt;
  }
  message m;
  if (auto id = json::get(doc, "id"); id && !id->is_null()) m.id_json = json::to_string(*id);
  m.method = std::string(json::get_string(doc, "method").value_or(""));
  if (auto p = json::get(doc, "params")) m.params_json = json::to_string(*p);
  if (auto r = json::get(doc, "result")) m.result_json = json::to_string(*r);
  if (auto e = json::get(doc, "error")) m.error_json = json::to_string(*e);
  if (m.method.empty() && m.id_json.empty()) {
    if (why != nullptr) *why = "neither a request, a notification nor a response";
    return std::nullopt;
  }
  return m;
}

std::string edit_object(std::string_view object_json,
                        const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::vector<std::pair<std::string, std::string>> members;
  if (parse_object(parser, object_json, doc)) {
    const simdjson::dom::object fields = doc.get_object().value_unsafe();
  for (auto field : fields) {
      members.emplace_back(std::string(field.key), json::to_string(field.value));
    }
  }
  for (const auto& [key, value] : changes) {
    auto it = members.begin();
    while (it != members.end() && it->first != key) ++it;
    if (!value) {
      if (it != members.end()) members.erase(it);
    } else if (it != members.end()) {
      it->second = *value;
    } else {
      members.emplace_back(key, *value);
    }
  }
  json::writer w;
  w.begin_object();
  for (const auto& [key, value] : members) w.key(key).raw(value);
  w.end_object();
  return w.take();
}

std::optional<std::string> member(std::string_view object_json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parse_object(parser, object_json, doc)) return std::nullopt;
  auto v = json::get(doc, key);
  if (!v) return std::nullopt;
  return json::to_string(*v);
}

std::string strip_protocol_meta(std::string_view params_json) {
  if (params_json.empty()) return {};
  auto meta = member(params_json, "_meta");
  if (!meta) return std::string(params_json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::vector<std::pair<std::string, std::optional<std::string>>> drop;
  std::size_t kept = 0;
  if (parse_object(parser, *meta, doc)) {
    const simdjson::dom::object fields = doc.get_object().value_unsafe();
  for (auto field : fields) {
      if (field.key.substr(0, protocol_meta_prefix.size()) == protocol_meta_prefix) {
        drop.emplace_back(std::string(field.key), std::nullopt);
      } else {
        ++kept;
      }
    }
  }
  if (kept == 0) return edit_object(params_json, {{"_meta", std::nullopt}});
  return edit_object(params_json, {{"_meta", edit_object(*meta, drop)}});
}

std::string with_meta_member(std::string_view params_json, std::string_view key, std::string_view raw_value) {
  const std::string meta = member(params_json, "_meta").value_or("{}");
  return edit_object(params_json, {{"_meta", edit_object(meta, {{std::string(key), std::string(raw_value)}})}});
}

std::string as_modern_result(std::string_view result_json, std::string_view method) {
  std::vector<std::pair<std::string, std::optional<std::string>>> add;
  if (!member(result_json, "resultType")) add.emplace_back("resultType", "\"complete\"");
  bool cached = false;
  for (auto m : cached_methods) cached = cached || m == method;
  if (cached) {
    if (!member(result_json, "ttlMs")) add.emplace_back("ttlMs", "0");
    if (!member(result_json, "cacheScope")) add.emplace_back("cacheScope", "\"private\"");
  }
  if (add.empty()) return std::string(result_json);
  return edit_object(result_json, add);
}

std::string as_legacy_result(std::string_view result_json) {
  std::vector<std::pair<std::string, std::optional<std::string>>> changes{
      {"resultType", std::nullopt}, {"ttlMs", std::nullopt}, {"cacheScope", std::nullopt}};
  if (auto meta = member(result_json, "_meta")) {
    const std::string stripped = strip_protocol_meta(edit_object("{}", {{"_meta", *meta}}));
    changes.emplace_back("_meta", member(stripped, "_meta"));
  }
  return edit_object(result_json, changes);
}

std::string initialize_result_from_discover(std::string_view discover_json, std::string_view host_version) {
  json::writer v;
  v.value(host_version);
  std::vector<std::pair<std::string, std::optional<std::string>>> out{{"protocolVersion", v.take()}};
  out.emplace_back("capabilities", member(discover_json, "capabilities").value_or("{}"));
  const std::string meta = member(discover_json, "_meta").value_or("{}");
  auto info = member(meta, "io.modelcontextprotocol/serverInfo");
  if (!info) info = member(discover_json, "serverInfo");
  out.emplace_back("serverInfo", info.value_or(R"({"name":"fracta-proxy","version":")" FRACTA_VERSION "\"}"));
  if (auto instructions = member(discover_json, "instructions")) out.emplace_back("instructions", *instructions);
  return edit_object("{}", out);
}

std::string discover_result_from_initialize(std::string_view initialize_json, std::string_view version) {
  json::writer versions;
  versions.begin_array().value(version).end_array();
  std::vector<std::pair<std::string, std::optional<std::string>>> out{{"supportedVersions", versions.take()}};
  out.emplace_back("capabilities", member(initialize_json, "capabilities").value_or("{}"));
  if (auto instructions = member(initialize_json, "instructions")) out.emplace_back("instructions", *instructions);
  out.emplace_back("resultType", "\"complete\"");
  out.emplace_back("ttlMs", "0");
  out.emplace_back("cacheScope", "\"private\"");
  if (auto info = member(initialize_json, "serverInfo")) {
    out.emplace_back("serverInfo", *info);
    out.emplace_back("_meta", edit_object("{}", {{"io.modelcontextprotocol/serverInfo", *info}}));
  }
  return edit_object("{}", out);
}

std::string json_string(std::string_view s) {
  json::writer w;
  w.value(s);
  return w.take();
}

std::string response(std::string_view id_json, std::string_view result_json) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").raw(id_json).key("result").raw(result_json).end_object();
  return w.take();
}

std::string error_response(std::string_view id_json, int code, std::string_view message, std::string_view data_json) {
  json::writer e;
  e.begin_object().key("code").value(code).key("message").value(message);
  if (!data_json.empty()) e.key("data").raw(data_json);
  e.end_object();
  return error_response_raw(id_json, e.take());
}

std::string error_response_raw(std::string_view id_json, std::string_view error_json) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").raw(id_json.empty() ? "null" : id_json);
  w.key("error").raw(error_json).end_object();
  return w.take();
}

std::string request(std::string_view id_json, std::string_view method, std::string_view params_json) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0");
  if (!id_json.empty()) w.key("id").raw(id_json);
  w.key("method").value(method);
  if (!params_json.empty()) w.key("params").raw(params_json);
  w.end_object();
  return w.take();
}

}  // namespace fracta::proxy
