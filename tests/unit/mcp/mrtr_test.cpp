// SPDX-License-Identifier: Apache-2.0
// Per-request _meta, resultType and the multi-round-trip retry, and a result's caching hints.
#include "mcp/mrtr.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <string>
#include <utility>
#include <vector>

using fracta::mcp::cache_hint;
using fracta::mcp::classify_result;
using fracta::mcp::read_cache_hint;
using fracta::mcp::result_kind;
using fracta::mcp::retry_params;
using fracta::mcp::with_meta;
using kind = result_kind::kind;

namespace {

const std::string client_info = R"({"name":"fracta","version":")" FRACTA_VERSION R"("})";

std::string meta_of(const std::string& version, const std::string& caps) {
  return R"({"io.modelcontextprotocol/protocolVersion":")" + version +
         R"(","io.modelcontextprotocol/clientCapabilities":)" + caps +
         R"(,"io.modelcontextprotocol/clientInfo":)" + client_info + "}";
}

// The decoded requestState of a params text, as a server would read it.
std::string state_in(const std::string& params) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(fracta::json::parse(parser, params, doc).empty());
  const auto s = fracta::json::get_string(doc, "requestState");
  REQUIRE(s);
  return std::string(*s);
}

}  // namespace

TEST_CASE("with_meta adds the three _meta keys to params without _meta") {
  CHECK(with_meta(R"({"name":"echo","arguments":{"a":1}})", "2026-07-28", "{}") ==
        R"({"name":"echo","arguments":{"a":1},"_meta":)" + meta_of("2026-07-28", "{}") + "}");
}

TEST_CASE("with_meta on empty params gives params holding _meta only") {
  CHECK(with_meta("{}", "2026-07-28", "{}") == R"({"_meta":)" + meta_of("2026-07-28", "{}") + "}");
  CHECK(with_meta("", "2026-07-28", "{}") == R"({"_meta":)" + meta_of("2026-07-28", "{}") + "}");
}

TEST_CASE("with_meta carries the client capabilities as given") {
  const std::string caps = R"({"elicitation":{"form":{}},"extensions":{"io.example/x":{}}})";
  CHECK(with_meta("{}", "2026-07-28", caps) == R"({"_meta":)" + meta_of("2026-07-28", caps) + "}");
  CHECK(with_meta("{}", "2026-07-28", "[1]") == R"({"_meta":)" + meta_of("2026-07-28", "{}") + "}");
  CHECK(with_meta("{}", "2026-07-28", "") == R"({"_meta":)" + meta_of("2026-07-28", "{}") + "}");
}

TEST_CASE("with_meta keeps other _meta keys and replaces ours") {
  const std::string params =
      R"({"cursor":"c","_meta":{"progressToken":7,"io.modelcontextprotocol/protocolVersion":"2025-01-01",)"
      R"("io.modelcontextprotocol/clientInfo":{"name":"other"},"io.modelcontextprotocol/logLevel":"info"},"z":true})";
  CHECK(
      with_meta(params, "2026-07-28", "{}") ==
      R"({"cursor":"c","_meta":{"progressToken":7,"io.modelcontextprotocol/logLevel":"info",)"
      R"("io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},)"
      R"("io.modelcontextprotocol/clientInfo":)" +
          client_info + R"(},"z":true})");
}

TEST_CASE("with_meta replaces a _meta that is not an object") {
  CHECK(with_meta(R"({"_meta":null})", "2026-07-28", "{}") ==
        R"({"_meta":)" + meta_of("2026-07-28", "{}") + "}");
}

TEST_CASE("a result without resultType is complete (a legacy server's)") {
  CHECK(classify_result(R"({"content":[]})").what == kind::complete);
}

TEST_CASE("a result with resultType complete is complete") {
  const auto r = classify_result(R"({"resultType":"complete","tools":[]})");
  CHECK(r.what == kind::complete);
  CHECK(r.requests.empty());
  CHECK_FALSE(r.request_state);
}

TEST_CASE("an unknown resultType is invalid") {
  const auto r = classify_result(R"({"resultType":"partial"})");
  CHECK(r.what == kind::invalid);
  CHECK(r.reason.find("partial") != std::string::npos);
  CHECK(classify_result(R"({"resultType":7})").what == kind::invalid);
  CHECK(classify_result(R"({"resultType":"Complete"})").what == kind::invalid);
}

TEST_CASE("a result that is not an object is invalid") {
  CHECK(classify_result("[]").what == kind::invalid);
  CHECK(classify_result("nope").what == kind::invalid);
  CHECK_FALSE(classify_result("1").reason.empty());
}

TEST_CASE("input_required gives its requests in document order and its state") {
  const auto r = classify_result(R"({"resultType":"input_required","inputRequests":{
      "zeta":{"method":"elicitation/create","params":{"mode":"form","message":"Name?"}},
      "alpha":{"method":"roots/list"},
      "mid":{"method":"sampling/createMessage","params":{"maxTokens":10}}},
      "requestState":"opaque"})");
  REQUIRE(r.what == kind::input_required);
  REQUIRE(r.requests.size() == 3);
  CHECK(r.requests[0].key == "zeta");
  CHECK(r.requests[0].method == "elicitation/create");
  CHECK(r.requests[0].params_json == R"({"mode":"form","message":"Name?"})");
  CHECK(r.requests[1].key == "alpha");
  CHECK(r.requests[1].method == "roots/list");
  CHECK(r.requests[1].params_json == "{}");
  CHECK(r.requests[2].key == "mid");
  CHECK(r.request_state == "opaque");
}

TEST_CASE("input_required with only requestState, or only inputRequests, is valid") {
  const auto state_only = classify_result(R"({"resultType":"input_required","requestState":"s"})");
  CHECK(state_only.what == kind::input_required);
  CHECK(state_only.requests.empty());
  CHECK(state_only.request_state == "s");
  const auto requests_only = classify_result(
      R"({"resultType":"input_required","inputRequests":{"k":{"method":"roots/list"}}})");
  CHECK(requests_only.what == kind::input_required);
  CHECK_FALSE(requests_only.request_state);
}

TEST_CASE("input_required with neither inputRequests nor requestState is invalid") {
  const auto r = classify_result(R"({"resultType":"input_required"})");
  CHECK(r.what == kind::invalid);
  CHECK(r.reason.find("neither") != std::string::npos);
}

TEST_CASE("input_required with malformed requests or state is invalid") {
  CHECK(classify_result(R"({"resultType":"input_required","inputRequests":[]})").what ==
        kind::invalid);
  CHECK(classify_result(R"({"resultType":"input_required","inputRequests":{"k":"roots/list"}})")
            .what == kind::invalid);
  CHECK(classify_result(R"({"resultType":"input_required","inputRequests":{"k":{"params":{}}}})")
            .what == kind::invalid);
  CHECK(classify_result(R"({"resultType":"input_required","inputRequests":{"k":{"method":1}}})")
            .what == kind::invalid);
  CHECK(
      classify_result(
          R"({"resultType":"input_required","inputRequests":{"k":{"method":"roots/list","params":3}}})")
          .what == kind::invalid);
  CHECK(classify_result(R"({"resultType":"input_required","requestState":{"a":1}})").what ==
        kind::invalid);
}

TEST_CASE("the requestState is decoded from its JSON escapes") {
  const auto r = classify_result(
      R"({"resultType":"input_required","requestState":"a\"b\\c\n\u00e9\ud83d\ude00\/"})");
  REQUIRE(r.request_state);
  CHECK(*r.request_state == "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST_CASE("retry_params adds inputResponses and the state to the original params") {
  const std::string original = R"({"name":"t","arguments":{"x":1},"_meta":{"k":"v"}})";
  const std::vector<std::pair<std::string, std::string>> responses = {
      {"login", R"({"action":"accept","content":{"name":"octocat"}})"},
      {"roots", R"({"roots":[]})"}};
  CHECK(
      retry_params(original, responses, std::string("s1")) ==
      R"({"name":"t","arguments":{"x":1},"_meta":{"k":"v"},"inputResponses":{"login":{"action":"accept",)"
      R"("content":{"name":"octocat"}},"roots":{"roots":[]}},"requestState":"s1"})");
}

TEST_CASE("retry_params echoes the state exactly, escapes and unicode included") {
  const std::string result =
      R"({"resultType":"input_required","requestState":"eyJ\"q\"\\\/\n\t\u0001\u00e9\u4e16\ud83d\ude00=="})";
  const auto r = classify_result(result);
  REQUIRE(r.request_state);
  const std::string params = retry_params(R"({"name":"t"})", {}, r.request_state);
  CHECK(state_in(params) == *r.request_state);
  CHECK(state_in(params) == "eyJ\"q\"\\/\n\t\x01\xc3\xa9\xe4\xb8\x96\xf0\x9f\x98\x80==");
}

TEST_CASE("retry_params adds no state when the server sent none") {
  const std::string params = retry_params(R"({"name":"t"})", {{"k", "{}"}}, std::nullopt);
  CHECK(params == R"({"name":"t","inputResponses":{"k":{}}})");
  CHECK(params.find("requestState") == std::string::npos);
}

TEST_CASE("retry_params replaces the fields of an earlier round, never accumulates them") {
  const std::string round1 =
      retry_params(R"({"name":"t"})", {{"a", R"({"x":1})"}}, std::string("s1"));
  const std::string round2 = retry_params(round1, {{"b", R"({"y":2})"}}, std::string("s2"));
  CHECK(round2 == R"({"name":"t","inputResponses":{"b":{"y":2}},"requestState":"s2"})");
  const std::string round3 = retry_params(round2, {{"c", "{}"}}, std::nullopt);
  CHECK(round3 == R"({"name":"t","inputResponses":{"c":{}}})");
}

TEST_CASE("retry_params with neither responses nor state gives the original params") {
  CHECK(retry_params(R"({"name":"t","requestState":"old","inputResponses":{"a":{}}})", {},
                     std::nullopt) == R"({"name":"t"})");
}

TEST_CASE("retry_params writes a response that is not JSON as null") {
  CHECK(retry_params("{}", {{"k", "not json"}}, std::nullopt) ==
        R"({"inputResponses":{"k":null}})");
}

TEST_CASE("cache hints: ttlMs and cacheScope are read") {
  const auto pub = read_cache_hint(R"({"tools":[],"ttlMs":300000,"cacheScope":"public"})");
  REQUIRE(pub);
  CHECK(pub->ttl_ms == 300000);
  CHECK(pub->is_public);
  const auto priv = read_cache_hint(R"({"contents":[],"ttlMs":0,"cacheScope":"private"})");
  REQUIRE(priv);
  CHECK(priv->ttl_ms == 0);
  CHECK_FALSE(priv->is_public);
  const auto integral = read_cache_hint(R"({"ttlMs":1000.0,"cacheScope":"private"})");
  REQUIRE(integral);
  CHECK(integral->ttl_ms == 1000);
}

TEST_CASE("cache hints: absent fields mean do not cache") {
  CHECK_FALSE(read_cache_hint(R"({"tools":[]})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":5})"));
  CHECK_FALSE(read_cache_hint(R"({"cacheScope":"public"})"));
}

TEST_CASE("cache hints: malformed fields mean do not cache") {
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":-1,"cacheScope":"public"})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":1.5,"cacheScope":"public"})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":"100","cacheScope":"public"})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":100,"cacheScope":"shared"})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":100,"cacheScope":"PUBLIC"})"));
  CHECK_FALSE(read_cache_hint(R"({"ttlMs":100,"cacheScope":true})"));
  CHECK_FALSE(read_cache_hint("[]"));
}
