// SPDX-License-Identifier: Apache-2.0
// Per-request _meta, resultType and MRTR retries, caching hints: pure JSON in, JSON out.
#include "mcp/mrtr.hpp"

#include <simdjson.h>

#include <cmath>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <limits>

namespace fracta::mcp {
namespace {

constexpr std::string_view version_key = "io.modelcontextprotocol/protocolVersion";
constexpr std::string_view capabilities_key = "io.modelcontextprotocol/clientCapabilities";
constexpr std::string_view info_key = "io.modelcontextprotocol/clientInfo";

// The members of `params_json` when it is a JSON object; nullopt otherwise. Empty text is {}.
std::optional<simdjson::dom::element> as_object(simdjson::dom::parser& parser,
                                                std::string_view text) {
  simdjson::dom::element doc;
  if (!json::parse(parser, text.empty() ? std::string_view("{}") : text, doc).empty() ||
      !doc.is_object())
    return std::nullopt;
  return doc;
}

void write_meta(json::writer& w, std::optional<simdjson::dom::element> existing,
                std::string_view version, std::string_view capabilities_json) {
  w.begin_object();
  if (existing && existing->is_object()) {
    const simdjson::dom::object fields = existing->get_object().value_unsafe();
    for (const auto field : fields) {
      if (field.key == version_key || field.key == capabilities_key || field.key == info_key)
        continue;
      w.key(field.key).raw(json::to_string(field.value));
    }
  }
  simdjson::dom::parser caps_parser;
  const auto caps = as_object(caps_parser, capabilities_json);
  w.key(version_key).value(version);
  w.key(capabilities_key).raw(caps ? json::to_string(*caps) : std::string("{}"));
  w.key(info_key)
      .begin_object()
      .key("name")
      .value("fracta")
      .key("version")
      .value(FRACTA_VERSION)
      .end_object();
  w.end_object();
}

std::string invalid(std::string why) { return text::printable(why); }

}  // namespace

std::string with_meta(std::string_view params_json, std::string_view version,
                      std::string_view client_capabilities_json) {
  simdjson::dom::parser parser;
  const auto params = as_object(parser, params_json);
  json::writer w;
  w.begin_object();
  bool meta_done = false;
  if (params) {
    const simdjson::dom::object fields = params->get_object().value_unsafe();
    for (const auto field : fields) {
      if (field.key == "_meta") {
        if (meta_done) continue;  // a duplicate _meta would make the merged one ambiguous
        w.key("_meta");
        write_meta(w, field.value, version, client_capabilities_json);
        meta_done = true;
      } else {
        w.key(field.key).raw(json::to_string(field.value));
      }
    }
  }
  if (!meta_done) {
    w.key("_meta");
    write_meta(w, std::nullopt, version, client_capabilities_json);
  }
  w.end_object();
  return w.take();
}

result_kind classify_result(std::string_view result_json) {
  result_kind out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, result_json, doc).empty() || !doc.is_object()) {
    out.reason = "the result is not a JSON object";
    return out;
  }
  const auto type = json::get(doc, "resultType");
  if (!type) {
    out.what = result_kind::kind::complete;  // a legacy server's result
    return out;
  }
  if (!type->is_string()) {
    out.reason = "resultType is not a string";
    return out;
  }
  const std::string_view type_name = type->get_string().value_unsafe();
  if (type_name == "complete") {
    out.what = result_kind::kind::complete;
    return out;
  }
  if (type_name != "input_required") {
    out.reason = invalid("unknown resultType \"" + std::string(type_name) + "\"");
    return out;
  }
  const auto requests = json::get(doc, "inputRequests");
  const auto state = json::get(doc, "requestState");
  if (!requests && !state) {
    out.reason = "an input_required result has neither inputRequests nor requestState";
    return out;
  }
  if (state) {
    if (!state->is_string()) {
      out.reason = "requestState is not a string";
      return out;
    }
    out.request_state = std::string(state->get_string().value_unsafe());
  }
  if (requests) {
    if (!requests->is_object()) {
      out.reason = "inputRequests is not an object";
      out.request_state.reset();
      return out;
    }
    const simdjson::dom::object fields = requests->get_object().value_unsafe();
    for (const auto field : fields) {
      const auto method = json::get_string(field.value, "method");
      const auto params = json::get(field.value, "params");
      if (!method || (params && !params->is_object())) {
        out.reason =
            invalid("inputRequests[\"" + std::string(field.key) +
                    "\"] is not a request with a method" + (method ? " and object params" : ""));
        out.requests.clear();
        out.request_state.reset();
        return out;
      }
      out.requests.push_back(input_request{std::string(field.key), std::string(*method),
                                           params ? json::to_string(*params) : std::string("{}")});
    }
  }
  out.what = result_kind::kind::input_required;
  return out;
}

std::string retry_params(std::string_view original_params_json,
                         const std::vector<std::pair<std::string, std::string>>& responses,
                         const std::optional<std::string>& request_state) {
  simdjson::dom::parser parser;
  const auto params = as_object(parser, original_params_json);
  json::writer w;
  w.begin_object();
  if (params) {
    const simdjson::dom::object fields = params->get_object().value_unsafe();
    for (const auto field : fields) {
      if (field.key == "inputResponses" || field.key == "requestState")
        continue;  // never from an earlier round
      w.key(field.key).raw(json::to_string(field.value));
    }
  }
  if (!responses.empty()) {
    w.key("inputResponses").begin_object();
    simdjson::dom::parser response_parser;
    for (const auto& [key, response_json] : responses) {
      w.key(key);
      simdjson::dom::element response;
      if (json::parse(response_parser, response_json, response).empty()) {
        w.raw(json::to_string(response));
      } else {
        w.null();
      }
    }
    w.end_object();
  }
  if (request_state) w.key("requestState").value(*request_state);
  w.end_object();
  return w.take();
}

std::optional<cache_hint> read_cache_hint(std::string_view result_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, result_json, doc).empty() || !doc.is_object()) return std::nullopt;
  const auto ttl = json::get(doc, "ttlMs");
  const auto scope = json::get_string(doc, "cacheScope");
  if (!ttl || !scope || (*scope != "public" && *scope != "private")) return std::nullopt;
  cache_hint hint;
  hint.is_public = *scope == "public";
  if (ttl->is_int64()) {
    hint.ttl_ms = ttl->get_int64().value_unsafe();
  } else if (ttl->is_uint64()) {
    hint.ttl_ms = std::numeric_limits<std::int64_t>::max();  // beyond any useful lifetime
  } else if (ttl->is_double()) {
    const double d = ttl->get_double().value_unsafe();
    if (std::trunc(d) != d || d < 0 || d >= 9.2e18) return std::nullopt;  // 1000.0 is an integer
    hint.ttl_ms = static_cast<std::int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (hint.ttl_ms < 0) return std::nullopt;
  return hint;
}

}  // namespace fracta::mcp
