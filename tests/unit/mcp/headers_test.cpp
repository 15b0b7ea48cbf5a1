// SPDX-License-Identifier: Apache-2.0
// SEP-2243 request headers: the base64 sentinel, standard headers, x-mcp-header rules and values.
#include "mcp/headers.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

#include <string>
#include <string_view>
#include <vector>

using fracta::http::header;
using fracta::mcp::header_value;
using fracta::mcp::invalid_x_mcp_header;
using fracta::mcp::param_headers;
using fracta::mcp::standard_headers;

namespace {

// The text an encoded value carries, decoded by libsodium (an independent decoder).
std::string decoded(std::string_view value) {
  const std::string_view prefix = "=?base64?";
  const std::string_view suffix = "?=";
  REQUIRE(value.substr(0, prefix.size()) == prefix);
  REQUIRE(value.substr(value.size() - suffix.size()) == suffix);
  const std::string_view b64 =
      value.substr(prefix.size(), value.size() - prefix.size() - suffix.size());
  std::string out(b64.size() + 1, '\0');
  std::size_t len = 0;
  REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(),
                            b64.size(), nullptr, &len, nullptr,
                            sodium_base64_VARIANT_ORIGINAL) == 0);
  out.resize(len);
  return out;
}

std::string reason_for(std::string_view schema) {
  return invalid_x_mcp_header(schema).value_or("(valid)");
}

}  // namespace

TEST_CASE("header_value keeps plain ASCII text as it is") {
  CHECK(header_value("us-west1") == "us-west1");
  CHECK(header_value("get_weather") == "get_weather");
  CHECK(header_value("file:///projects/myapp/config.json") == "file:///projects/myapp/config.json");
  CHECK(header_value("inner space ok") == "inner space ok");
  CHECK(header_value("=?base64?") == "=?base64?");  // the prefix alone is no sentinel
  CHECK(header_value("x?=") == "x?=");
}

TEST_CASE("header_value keeps the empty text empty") { CHECK(header_value("") == ""); }

TEST_CASE("header_value encodes non-ASCII text as the spec's example does") {
  CHECK(header_value("Hello, 世界") == "=?base64?SGVsbG8sIOS4lueVjA==?=");
  CHECK(header_value("é") == "=?base64?w6k=?=");
}

TEST_CASE("header_value encodes CR, LF, TAB and every other control character") {
  CHECK(header_value("line1\nline2") == "=?base64?bGluZTEKbGluZTI=?=");
  CHECK(header_value("a\rb") == "=?base64?YQ1i?=");
  CHECK(header_value("a\tb") == "=?base64?YQli?=");
  CHECK(header_value("x\x01y") == "=?base64?eAF5?=");
  CHECK(header_value("x\x7fy") == "=?base64?eH95?=");
  CHECK(header_value(std::string_view("x\0y", 3)) == "=?base64?eAB5?=");
}

TEST_CASE("header_value encodes leading or trailing spaces and tabs") {
  CHECK(header_value(" padded ") == "=?base64?IHBhZGRlZCA=?=");
  CHECK(header_value("trail ") == "=?base64?dHJhaWwg?=");
  CHECK(header_value(" lead") == "=?base64?IGxlYWQ=?=");
  CHECK(header_value("\ttab") == "=?base64?CXRhYg==?=");
}

TEST_CASE("header_value encodes text that looks like the sentinel, in any case") {
  CHECK(header_value("=?base64?literal?=") == "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
  CHECK(header_value("=?BASE64?x?=") == "=?base64?PT9CQVNFNjQ/eD89?=");
  CHECK(header_value("=?base64?=") == "=?base64?PT9iYXNlNjQ/PQ==?=");
}

TEST_CASE("the base64 part of an encoded value decodes back to the original text") {
  for (const std::string_view text :
       {"Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?=", "Ünïcödé/名前", "\x1b[31m",
        "a\tb\r\n"}) {
    CAPTURE(text);
    CHECK(decoded(header_value(text)) == text);
  }
}

TEST_CASE("standard_headers: version and method on every request, no Mcp-Name for other methods") {
  const std::vector<header> h =
      standard_headers("2026-07-28", "tools/list", R"({"cursor":"c1","name":"x"})");
  REQUIRE(h.size() == 2);
  CHECK(h[0].name == "MCP-Protocol-Version");
  CHECK(h[0].value == "2026-07-28");
  CHECK(h[1].name == "Mcp-Method");
  CHECK(h[1].value == "tools/list");
  CHECK(standard_headers("2026-07-28", "server/discover", "{}").size() == 2);
  CHECK(standard_headers("2026-07-28", "server/discover", "").size() == 2);
}

TEST_CASE("standard_headers: tools/call names the tool in Mcp-Name") {
  const auto h =
      standard_headers("2026-07-28", "tools/call", R"({"name":"get_weather","arguments":{}})");
  REQUIRE(h.size() == 3);
  CHECK(h[1].value == "tools/call");
  CHECK(h[2].name == "Mcp-Name");
  CHECK(h[2].value == "get_weather");
}

TEST_CASE("standard_headers: prompts/get names the prompt in Mcp-Name") {
  const auto h = standard_headers("2026-07-28", "prompts/get", R"({"name":"greet"})");
  REQUIRE(h.size() == 3);
  CHECK(h[2].name == "Mcp-Name");
  CHECK(h[2].value == "greet");
}

TEST_CASE("standard_headers: resources/read puts the URI in Mcp-Name") {
  const auto h =
      standard_headers("2026-07-28", "resources/read", R"({"uri":"file:///a/b.json","name":"no"})");
  REQUIRE(h.size() == 3);
  CHECK(h[2].name == "Mcp-Name");
  CHECK(h[2].value == "file:///a/b.json");
}

TEST_CASE("standard_headers: an unsafe name is base64-encoded") {
  const auto h = standard_headers("2026-07-28", "tools/call", R"({"name":"h\u00e9llo"})");
  REQUIRE(h.size() == 3);
  CHECK(h[2].value == "=?base64?aMOpbGxv?=");
}

TEST_CASE("standard_headers: no Mcp-Name when the name is missing or not a string") {
  CHECK(standard_headers("2026-07-28", "tools/call", R"({"arguments":{}})").size() == 2);
  CHECK(standard_headers("2026-07-28", "resources/read", R"({"uri":7})").size() == 2);
  CHECK(standard_headers("2026-07-28", "prompts/get", "not json").size() == 2);
}

TEST_CASE("x-mcp-header: a schema without any annotation is valid") {
  CHECK_FALSE(invalid_x_mcp_header(R"({"type":"object","properties":{"q":{"type":"string"}}})"));
  CHECK_FALSE(invalid_x_mcp_header(R"({"type":"object"})"));
}

TEST_CASE(
    "x-mcp-header: string, integer and boolean properties, nested through properties, are valid") {
  CHECK_FALSE(invalid_x_mcp_header(R"({"type":"object","properties":{
      "region":{"type":"string","x-mcp-header":"Region"},
      "limit":{"type":"integer","x-mcp-header":"Limit"},
      "dry":{"type":"boolean","x-mcp-header":"Dry-Run"},
      "options":{"type":"object","properties":{
        "tenant":{"type":"object","properties":{"id":{"type":"string","x-mcp-header":"Tenant"}}}}}}})"));
}

TEST_CASE("x-mcp-header: annotations inside instance values are data, not annotations") {
  CHECK_FALSE(invalid_x_mcp_header(R"({"type":"object","properties":{
      "o":{"type":"object","default":{"x-mcp-header":"A"},"examples":[{"x-mcp-header":"B"}],
           "const":{"x-mcp-header":"C"},"enum":[{"x-mcp-header":"D"}]}}})"));
}

TEST_CASE("x-mcp-header: a property merely named x-mcp-header is not an annotation") {
  CHECK_FALSE(
      invalid_x_mcp_header(R"({"type":"object","properties":{"x-mcp-header":{"type":"object"}},
      "required":["x-mcp-header"]})"));
}

TEST_CASE("x-mcp-header: an empty value is invalid") {
  CHECK(reason_for(R"({"properties":{"a":{"type":"string","x-mcp-header":""}}})")
            .find("/properties/a") != std::string::npos);
}

TEST_CASE("x-mcp-header: a value that is not an RFC 9110 token is invalid") {
  CHECK(
      invalid_x_mcp_header(R"({"properties":{"a":{"type":"string","x-mcp-header":"Has Space"}}})"));
  CHECK(invalid_x_mcp_header(R"({"properties":{"a":{"type":"string","x-mcp-header":"Colon:"}}})"));
  CHECK(invalid_x_mcp_header(
      R"({"properties":{"a":{"type":"string","x-mcp-header":"Line\r\nBreak"}}})"));
  CHECK(invalid_x_mcp_header(R"({"properties":{"a":{"type":"string","x-mcp-header":"Régión"}}})"));
  CHECK(invalid_x_mcp_header(R"({"properties":{"a":{"type":"string","x-mcp-header":7}}})"));
}

TEST_CASE("x-mcp-header: the same value twice, ignoring case, is invalid") {
  const std::string why = reason_for(R"({"properties":{
      "a":{"type":"string","x-mcp-header":"Region"},
      "b":{"type":"object","properties":{"c":{"type":"string","x-mcp-header":"REGION"}}}}})");
  CHECK(why.find("/properties/b/properties/c") != std::string::npos);
  CHECK(why.find("twice") != std::string::npos);
}

TEST_CASE(
    "x-mcp-header: a number, object, array or null property, or one without a type, is invalid") {
  for (const std::string_view type :
       {R"("type":"number",)", R"("type":"object",)", R"("type":"array",)", R"("type":"null",)", "",
        R"("type":["string","null"],)"}) {
    CAPTURE(type);
    const std::string schema =
        R"({"properties":{"n":{)" + std::string(type) + R"("x-mcp-header":"N"}}})";
    const std::string why = reason_for(schema);
    CHECK(why.find("/properties/n") != std::string::npos);
    CHECK(why.find("type") != std::string::npos);
  }
}

TEST_CASE("x-mcp-header: on the schema root it is invalid") {
  CHECK(invalid_x_mcp_header(R"({"type":"string","x-mcp-header":"Root"})"));
}

TEST_CASE("x-mcp-header: under items (or prefixItems) it is invalid") {
  const std::string why = reason_for(R"({"properties":{"list":{"type":"array",
      "items":{"type":"object","properties":{"id":{"type":"string","x-mcp-header":"Id"}}}}}})");
  CHECK(why.find("/properties/list/items/properties/id") != std::string::npos);
  CHECK(invalid_x_mcp_header(R"({"properties":{"t":{"type":"array",
      "prefixItems":[{"type":"string","x-mcp-header":"First"}]}}})"));
}

TEST_CASE("x-mcp-header: under oneOf, anyOf, allOf or not it is invalid") {
  for (const std::string_view kw : {"oneOf", "anyOf", "allOf"}) {
    CAPTURE(kw);
    const std::string schema = R"({"properties":{"a":{")" + std::string(kw) +
                               R"(":[{"type":"string"},{"type":"string","x-mcp-header":"A"}]}}})";
    CHECK(reason_for(schema).find("/properties/a/" + std::string(kw) + "/1") != std::string::npos);
  }
  CHECK(
      invalid_x_mcp_header(R"({"not":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})"));
}

TEST_CASE("x-mcp-header: under if, then or else it is invalid") {
  for (const std::string_view kw : {"if", "then", "else"}) {
    CAPTURE(kw);
    const std::string schema = R"({")" + std::string(kw) +
                               R"(":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})";
    CHECK(reason_for(schema).find("/" + std::string(kw) + "/properties/a") != std::string::npos);
  }
}

TEST_CASE("x-mcp-header: under $defs (reached by $ref) it is invalid") {
  CHECK(invalid_x_mcp_header(R"({"properties":{"a":{"$ref":"#/$defs/r"}},
      "$defs":{"r":{"type":"string","x-mcp-header":"R"}}})"));
  CHECK(invalid_x_mcp_header(R"({"properties":{"a":{"$ref":"#/definitions/r"}},
      "definitions":{"r":{"type":"string","x-mcp-header":"R"}}})"));
}

TEST_CASE("x-mcp-header: under additionalProperties or patternProperties it is invalid") {
  CHECK(invalid_x_mcp_header(R"({"additionalProperties":{"type":"string","x-mcp-header":"X"}})"));
  CHECK(
      invalid_x_mcp_header(R"({"patternProperties":{"^a":{"type":"string","x-mcp-header":"X"}}})"));
  CHECK(invalid_x_mcp_header(R"({"properties":{"o":{"type":"object",
      "additionalProperties":{"type":"integer","x-mcp-header":"X"}}}})"));
}

TEST_CASE("x-mcp-header: a schema that is not a JSON object is invalid") {
  CHECK(invalid_x_mcp_header("not json"));
  CHECK(invalid_x_mcp_header("[]"));
}

TEST_CASE("x-mcp-header: the reason is printable server text") {
  const std::string why =
      reason_for(R"({"properties":{"a\u001b[31m":{"type":"number","x-mcp-header":"A"}}})");
  CHECK(why.find('\x1b') == std::string::npos);
  CHECK(why.find("/properties/a") != std::string::npos);
}

TEST_CASE("param_headers mirrors string, integer and boolean arguments") {
  const std::string schema = R"({"type":"object","properties":{
      "region":{"type":"string","x-mcp-header":"Region"},
      "limit":{"type":"integer","x-mcp-header":"Limit"},
      "dry":{"type":"boolean","x-mcp-header":"Dry"},
      "off":{"type":"boolean","x-mcp-header":"Off"},
      "query":{"type":"string"}}})";
  const auto h = param_headers(
      schema, R"({"query":"SELECT 1","off":false,"dry":true,"limit":-7,"region":"us-west1"})");
  REQUIRE(h.size() == 4);
  CHECK(h[0].name == "Mcp-Param-Region");
  CHECK(h[0].value == "us-west1");
  CHECK(h[1].name == "Mcp-Param-Limit");
  CHECK(h[1].value == "-7");
  CHECK(h[2].name == "Mcp-Param-Dry");
  CHECK(h[2].value == "true");
  CHECK(h[3].name == "Mcp-Param-Off");
  CHECK(h[3].value == "false");
}

TEST_CASE("param_headers writes integers in decimal, large ones and 42.0 included") {
  const std::string schema = R"({"properties":{"n":{"type":"integer","x-mcp-header":"N"}}})";
  CHECK(param_headers(schema, R"({"n":9007199254740991})").at(0).value == "9007199254740991");
  CHECK(param_headers(schema, R"({"n":42.0})").at(0).value == "42");
  CHECK(param_headers(schema, R"({"n":0})").at(0).value == "0");
}

TEST_CASE("param_headers omits absent and null arguments") {
  const std::string schema = R"({"properties":{
      "a":{"type":"string","x-mcp-header":"A"},
      "b":{"type":"string","x-mcp-header":"B"}}})";
  const auto h = param_headers(schema, R"({"b":null})");
  CHECK(h.empty());
  CHECK(param_headers(schema, "{}").empty());
}

TEST_CASE("param_headers follows the properties path into nested arguments") {
  const std::string schema = R"({"properties":{"options":{"type":"object","properties":{
      "tenant":{"type":"object","properties":{"id":{"type":"string","x-mcp-header":"Tenant"}}}}}}})";
  const auto h = param_headers(schema, R"({"options":{"tenant":{"id":"acme"}}})");
  REQUIRE(h.size() == 1);
  CHECK(h[0].name == "Mcp-Param-Tenant");
  CHECK(h[0].value == "acme");
  CHECK(param_headers(schema, R"({"options":{"tenant":"acme"}})").empty());
  CHECK(param_headers(schema, R"({"options":null})").empty());
  CHECK(param_headers(schema, R"({"id":"acme"})").empty());
}

TEST_CASE("param_headers base64-encodes an unsafe string") {
  const std::string schema = R"({"properties":{"g":{"type":"string","x-mcp-header":"Greeting"}}})";
  const auto h = param_headers(schema, R"({"g":"Hello, \u4e16\u754c"})");
  REQUIRE(h.size() == 1);
  CHECK(h[0].value == "=?base64?SGVsbG8sIOS4lueVjA==?=");
  CHECK(param_headers(schema, R"({"g":" padded "})").at(0).value == "=?base64?IHBhZGRlZCA=?=");
}

TEST_CASE("param_headers gives nothing for a schema invalid_x_mcp_header refuses") {
  const std::string schema = R"({"properties":{"n":{"type":"number","x-mcp-header":"N"}}})";
  CHECK(param_headers(schema, R"({"n":1})").empty());
}
