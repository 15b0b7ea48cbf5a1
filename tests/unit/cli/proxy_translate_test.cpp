// SPDX-License-Identifier: Apache-2.0
// The proxy's rewrites between the MCP eras: messages read, objects edited, protocol _meta
// dropped for a 2025 server, results made modern for a 2026 host, handshakes synthesised.
#include "proxy/translate.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fracta::proxy;

namespace {

constexpr const char* pv = "io.modelcontextprotocol/protocolVersion";

std::string get(const std::string& json, const char* key) { return member(json, key).value_or("<absent>"); }

}  // namespace

TEST_CASE("read_message keeps the id as written: a string \"1\" and a number 1 stay apart") {
  auto s = read_message(R"({"jsonrpc":"2.0","id":"1","method":"tools/list"})", nullptr);
  auto n = read_message(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", nullptr);
  REQUIRE(s);
  REQUIRE(n);
  CHECK(s->id_json == R"("1")");
  CHECK(n->id_json == "1");
  CHECK(s->is_request());
  CHECK(s->method == "tools/list");
  CHECK(s->params_json.empty());
}

TEST_CASE("read_message tells requests, notifications and responses apart") {
  auto note = read_message(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}})", nullptr);
  REQUIRE(note);
  CHECK(note->is_notification());
  CHECK(note->params_json == R"({"requestId":3})");
  auto ok = read_message(R"({"jsonrpc":"2.0","id":"a","result":{"x":1}})", nullptr);
  REQUIRE(ok);
  CHECK(ok->is_response());
  CHECK(ok->result_json == R"({"x":1})");
  CHECK(ok->error_json.empty());
  auto bad = read_message(R"({"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"m"}})", nullptr);
  REQUIRE(bad);
  CHECK(bad->is_response());
  CHECK(get(bad->error_json, "code") == "-1");
}

TEST_CASE("read_message refuses what is not one JSON-RPC message, saying why") {
  std::string why;
  CHECK_FALSE(read_message("not json", &why));
  CHECK(why.find("not JSON") != std::string::npos);
  CHECK_FALSE(read_message(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", &why));
  CHECK(why.find("batches") != std::string::npos);
  CHECK_FALSE(read_message("42", &why));
  CHECK(why == "not an object");
  CHECK_FALSE(read_message(R"({"jsonrpc":"2.0"})", &why));
  CHECK(why.find("neither") != std::string::npos);
}

TEST_CASE("edit_object replaces in place, removes, appends, and keeps the other members' order and text") {
  CHECK(edit_object(R"({"a":1,"b":[1, 2],"c":"x"})", {{"a", "true"}, {"c", std::nullopt}, {"d", "{}"}}) ==
        R"({"a":true,"b":[1,2],"d":{}})");
  CHECK(edit_object(R"({"a":1})", {{"zz", std::nullopt}}) == R"({"a":1})");
}

TEST_CASE("edit_object treats anything but an object as {}") {
  CHECK(edit_object("", {{"k", "1"}}) == R"({"k":1})");
  CHECK(edit_object("[1]", {{"k", "1"}}) == R"({"k":1})");
  CHECK(edit_object("not json", {}) == "{}");
}

TEST_CASE("strip_protocol_meta drops the protocol's own _meta keys and keeps the host's") {
  const std::string params =
      R"({"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
      R"("io.modelcontextprotocol/clientCapabilities":{},"progressToken":7}})";
  const std::string out = strip_protocol_meta(params);
  CHECK(get(out, "name") == R"("t")");
  CHECK(get(out, "_meta") == R"({"progressToken":7})");
}

TEST_CASE("strip_protocol_meta removes a _meta left empty, and leaves other params alone") {
  CHECK(strip_protocol_meta(R"({"a":1,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}})") ==
        R"({"a":1})");
  CHECK(strip_protocol_meta(R"({"a":1})") == R"({"a":1})");
  CHECK(strip_protocol_meta("").empty());
  // A key that only resembles the prefix is the host's.
  CHECK(get(strip_protocol_meta(R"({"_meta":{"io.modelcontextprotocolX":1}})"), "_meta") ==
        R"({"io.modelcontextprotocolX":1})");
}

TEST_CASE("with_meta_member sets one _meta key, creating _meta when needed") {
  CHECK(with_meta_member("{}", pv, R"("2026-07-28")") == R"({"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}})");
  const std::string out = with_meta_member(R"({"x":1,"_meta":{"progressToken":"p"}})", "io.modelcontextprotocol/logLevel", R"("info")");
  CHECK(get(out, "x") == "1");
  CHECK(get(out, "_meta") == R"({"progressToken":"p","io.modelcontextprotocol/logLevel":"info"})");
}

TEST_CASE("as_modern_result adds resultType complete, and caching hints on lists only") {
  const std::string list = as_modern_result(R"({"tools":[]})", "tools/list");
  CHECK(get(list, "resultType") == R"("complete")");
  CHECK(get(list, "ttlMs") == "0");
  CHECK(get(list, "cacheScope") == R"("private")");
  for (const char* m : {"prompts/list", "resources/list", "resources/templates/list", "resources/read", "server/discover"}) {
    CAPTURE(m);
    CHECK(get(as_modern_result("{}", m), "ttlMs") == "0");
  }
  const std::string call = as_modern_result(R"({"content":[]})", "tools/call");
  CHECK(get(call, "resultType") == R"("complete")");
  CHECK(get(call, "ttlMs") == "<absent>");
  CHECK(get(call, "cacheScope") == "<absent>");
}

TEST_CASE("as_modern_result keeps what the server already said") {
  CHECK(as_modern_result(R"({"resultType":"input_required","requestState":"s"})", "tools/call") ==
        R"({"resultType":"input_required","requestState":"s"})");
  const std::string list = as_modern_result(R"({"tools":[],"ttlMs":5000,"cacheScope":"public"})", "tools/list");
  CHECK(get(list, "ttlMs") == "5000");
  CHECK(get(list, "cacheScope") == R"("public")");
}

TEST_CASE("as_legacy_result drops resultType, the caching hints and the protocol's _meta keys") {
  const std::string out = as_legacy_result(
      R"({"tools":[],"resultType":"complete","ttlMs":0,"cacheScope":"private",)"
      R"("_meta":{"io.modelcontextprotocol/serverInfo":{"name":"up"},"vendor/x":1}})");
  CHECK(out == R"({"tools":[],"_meta":{"vendor/x":1}})");
  CHECK(as_legacy_result(R"({"content":[],"_meta":{"io.modelcontextprotocol/serverInfo":{}}})") == R"({"content":[]})");
  CHECK(as_legacy_result(R"({"content":[]})") == R"({"content":[]})");
}

TEST_CASE("initialize_result_from_discover gives a 2025 host its version, the capabilities and serverInfo") {
  const std::string discover =
      R"({"supportedVersions":["2026-07-28"],"capabilities":{"tools":{"listChanged":true}},"instructions":"be nice",)"
      R"("resultType":"complete","ttlMs":0,"cacheScope":"private",)"
      R"("_meta":{"io.modelcontextprotocol/serverInfo":{"name":"up","version":"2"}}})";
  const std::string init = initialize_result_from_discover(discover, "2025-06-18");
  CHECK(get(init, "protocolVersion") == R"("2025-06-18")");
  CHECK(get(init, "capabilities") == R"({"tools":{"listChanged":true}})");
  CHECK(get(init, "serverInfo") == R"({"name":"up","version":"2"})");
  CHECK(get(init, "instructions") == R"("be nice")");
  // Nothing of the 2026 wire leaks into the 2025 handshake.
  for (const char* k : {"supportedVersions", "resultType", "ttlMs", "cacheScope", "_meta"}) {
    CAPTURE(k);
    CHECK(get(init, k) == "<absent>");
  }
}

TEST_CASE("initialize_result_from_discover names fracta when the server gives no serverInfo") {
  const std::string init = initialize_result_from_discover(R"({"capabilities":{}})", "2025-11-25");
  CHECK(get(get(init, "serverInfo"), "name") == R"("fracta-proxy")");
  CHECK(get(init, "instructions") == "<absent>");
}

TEST_CASE("discover_result_from_initialize gives a 2026 host a complete DiscoverResult") {
  const std::string init =
      R"({"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"old","version":"1"},)"
      R"("instructions":"hi"})";
  const std::string d = discover_result_from_initialize(init, "2026-07-28");
  CHECK(get(d, "supportedVersions") == R"(["2026-07-28"])");
  CHECK(get(d, "capabilities") == R"({"tools":{}})");
  CHECK(get(d, "instructions") == R"("hi")");
  CHECK(get(d, "resultType") == R"("complete")");
  CHECK(get(d, "ttlMs") == "0");
  CHECK(get(d, "cacheScope") == R"("private")");
  CHECK(get(get(d, "_meta"), "io.modelcontextprotocol/serverInfo") == R"({"name":"old","version":"1"})");
  CHECK(get(d, "protocolVersion") == "<absent>");
}

TEST_CASE("responses, errors and requests are well-formed JSON-RPC") {
  CHECK(response("\"a\"", "{}") == R"({"jsonrpc":"2.0","id":"a","result":{}})");
  CHECK(error_response("7", -32601, "no such method") ==
        R"({"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no such method"}})");
  CHECK(error_response("", -32700, "bad", R"({"x":1})") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"x":1}}})");
  CHECK(request("", "notifications/cancelled", R"({"requestId":1})") ==
        R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
  CHECK(request("3", "ping", "") == R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  CHECK(json_string("a\"b") == R"("a\"b")");
}
