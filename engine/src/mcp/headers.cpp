// SPDX-License-Identifier: Apache-2.0
// SEP-2243 request headers: sentinel encoding, standard headers, x-mcp-header checks and values.
#include "mcp/headers.hpp"

#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <fracta/proto/base64.hpp>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <utility>

namespace fracta::mcp {
namespace {

constexpr std::string_view sentinel_prefix = "=?base64?";
constexpr std::string_view sentinel_suffix = "?=";
constexpr std::string_view annotation = "x-mcp-header";

bool is_safe(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;  // controls, DEL, every non-ASCII byte
  }
  if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) return false;
  const bool looks_encoded = http::istarts_with(text, sentinel_prefix) &&
                             text.size() >= sentinel_suffix.size() &&
                             text.substr(text.size() - sentinel_suffix.size()) == sentinel_suffix;
  return !looks_encoded;
}

// Keywords whose values are instances, not schemas: an "x-mcp-header" key inside them is data.
bool is_value_keyword(std::string_view k) {
  constexpr std::array<std::string_view, 4> keys = {"const", "default", "enum", "examples"};
  for (const auto key : keys)
    if (k == key) return true;
  return false;
}

// Keywords whose values map names to schemas: their keys are names, not keywords.
bool is_schema_map(std::string_view k) {
  constexpr std::array<std::string_view, 5> keys = {"properties", "patternProperties", "$defs",
                                                    "definitions", "dependentSchemas"};
  for (const auto key : keys)
    if (k == key) return true;
  return false;
}

std::string child(const std::string& pointer, std::string_view step) {
  std::string out = pointer;
  out += '/';
  out += step;
  return out;
}

// The pointer of the first x-mcp-header under `e`, a schema (or a keyword value) that is off
// the pure `properties` chain.
std::optional<std::string> find_off_chain(simdjson::dom::element e, const std::string& pointer) {
  if (e.is_array()) {
    std::size_t i = 0;
    const simdjson::dom::array items = e.get_array().value_unsafe();
    for (const auto item : items) {
      if (auto found = find_off_chain(item, child(pointer, std::to_string(i++)))) return found;
    }
    return std::nullopt;
  }
  if (!e.is_object()) return std::nullopt;
  const simdjson::dom::object obj = e.get_object().value_unsafe();
  for (const auto field : obj) {
    if (field.key == annotation) return pointer.empty() ? std::string("/") : pointer;
  }
  for (const auto field : obj) {
    if (is_value_keyword(field.key)) continue;
    const std::string here = child(pointer, field.key);
    if (is_schema_map(field.key) && field.value.is_object()) {
      const simdjson::dom::object members = field.value.get_object().value_unsafe();
      for (const auto member : members) {
        if (auto found = find_off_chain(member.value, child(here, member.key))) return found;
      }
    } else if (auto found = find_off_chain(field.value, here)) {
      return found;
    }
  }
  return std::nullopt;
}

struct mirrored {
  std::string name;                     // the x-mcp-header value
  std::vector<std::string> properties;  // the chain of property names from the root
};

struct walk {
  std::vector<mirrored> found;
  std::optional<std::string> problem;

  void fail(std::string why) {
    if (!problem) problem = text::printable(why);
  }

  void check(simdjson::dom::element value, simdjson::dom::element schema,
             const std::string& pointer, const std::vector<std::string>& chain) {
    const std::string at = "x-mcp-header at " + pointer;
    if (chain.empty()) return fail(at + ": it is on the schema root, not on a property");
    if (!value.is_string()) return fail(at + ": the value is not a string");
    const std::string_view name = value.get_string().value_unsafe();
    if (!http::is_token(name))
      return fail(at + ": \"" + std::string(name) + "\" is not an HTTP token");
    for (const auto& m : found) {
      if (http::iequals(m.name, name))
        return fail(at + ": \"" + std::string(name) + "\" is used twice (ignoring case)");
    }
    const std::string_view type = json::get_string(schema, "type").value_or("");
    if (type != "string" && type != "integer" && type != "boolean")
      return fail(at + ": the property's type must be string, integer or boolean");
    found.push_back(mirrored{std::string(name), chain});
  }

  // `schema` is reached from the root through `properties` alone.
  void on_chain(simdjson::dom::element schema, const std::string& pointer,
                const std::vector<std::string>& chain) {
    if (!schema.is_object()) return;
    const simdjson::dom::object fields = schema.get_object().value_unsafe();
    for (const auto field : fields) {
      if (problem) return;
      if (field.key == annotation) {
        check(field.value, schema, pointer.empty() ? std::string("/") : pointer, chain);
      } else if (field.key == "properties" && field.value.is_object()) {
        const std::string here = child(pointer, field.key);
        const simdjson::dom::object members = field.value.get_object().value_unsafe();
        for (const auto member : members) {
          std::vector<std::string> next = chain;
          next.emplace_back(member.key);
          on_chain(member.value, child(here, member.key), next);
          if (problem) return;
        }
      } else if (!is_value_keyword(field.key)) {
        if (auto where = find_off_chain(field.value, child(pointer, field.key)))
          fail("x-mcp-header at " + *where +
               ": only properties reached through `properties` alone may have one");
      }
    }
  }
};

walk walk_schema(std::string_view input_schema_json) {
  walk w;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string err = json::parse(parser, input_schema_json, doc);
  if (!err.empty()) {
    w.fail("the inputSchema is not JSON (" + err + ")");
  } else if (!doc.is_object()) {
    w.fail("the inputSchema is not a JSON object");
  } else {
    w.on_chain(doc, "", {});
  }
  return w;
}

// Header text of a mirrored argument value; nullopt for null, objects and arrays.
std::optional<std::string> argument_text(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::STRING:
      return header_value(v.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return std::to_string(v.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return std::to_string(v.get_uint64().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return std::string(v.get_bool().value_unsafe() ? "true" : "false");
    case simdjson::dom::element_type::DOUBLE: {
      const double d = v.get_double().value_unsafe();
      // 42.0 is the integer 42; the server compares integers numerically.
      if (std::trunc(d) == d && std::fabs(d) < 9.2e18)
        return std::to_string(static_cast<std::int64_t>(d));
      return json::to_string(v);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string header_value(std::string_view text) {
  if (is_safe(text)) return std::string(text);
  std::string out(sentinel_prefix);
  out += fracta::text::base64_encode(text);
  out += sentinel_suffix;
  return out;
}

std::vector<http::header> standard_headers(std::string_view version, std::string_view method,
                                           std::string_view params_json) {
  std::vector<http::header> out;
  out.push_back(http::header{"MCP-Protocol-Version", std::string(version)});
  out.push_back(http::header{"Mcp-Method", std::string(method)});
  std::string_view name_member;
  if (method == "tools/call" || method == "prompts/get") name_member = "name";
  if (method == "resources/read") name_member = "uri";
  if (name_member.empty()) return out;
  simdjson::dom::parser parser;
  simdjson::dom::element params;
  if (!json::parse(parser, params_json.empty() ? std::string_view("{}") : params_json, params)
           .empty())
    return out;
  if (const auto name = json::get_string(params, name_member))
    out.push_back(http::header{"Mcp-Name", header_value(*name)});
  return out;
}

std::optional<std::string> invalid_x_mcp_header(std::string_view input_schema_json) {
  return walk_schema(input_schema_json).problem;
}

std::vector<http::header> param_headers(std::string_view input_schema_json,
                                        std::string_view arguments_json) {
  std::vector<http::header> out;
  const walk w = walk_schema(input_schema_json);
  if (w.problem || w.found.empty()) return out;
  simdjson::dom::parser parser;
  simdjson::dom::element args;
  if (!json::parse(parser, arguments_json, args).empty()) return out;
  for (const auto& m : w.found) {
    std::optional<simdjson::dom::element> at = args;
    for (const auto& key : m.properties) {
      at = json::get(*at, key);
      if (!at) break;
    }
    if (!at) continue;
    if (auto value = argument_text(*at))
      out.push_back(http::header{"Mcp-Param-" + m.name, std::move(*value)});
  }
  return out;
}

}  // namespace fracta::mcp
