// SPDX-License-Identifier: Apache-2.0
// Classifying a server/discover answer into modern, renegotiate, legacy, auth or failure.
#include "mcp/era.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>

namespace fracta::mcp {
namespace {

constexpr std::int64_t unsupported_protocol_version = -32022;

// The strings of `e` when it is an array of strings only.
std::optional<std::vector<std::string>> string_array(std::optional<simdjson::dom::element> e) {
  if (!e || !e->is_array()) return std::nullopt;
  std::vector<std::string> out;
  const simdjson::dom::array items = e->get_array().value_unsafe();
  for (const auto item : items) {
    if (!item.is_string()) return std::nullopt;
    out.emplace_back(item.get_string().value_unsafe());
  }
  return out;
}

std::string joined(const std::vector<std::string>& list) {
  if (list.empty()) return "none";
  std::string out;
  for (const auto& s : list) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

probe_verdict verdict(probe_verdict::kind what, const std::string& reason,
                      const std::vector<std::string>& supported = {},
                      const std::string& version = {}) {
  probe_verdict v;
  v.what = what;
  v.version = version;
  v.supported = supported;
  v.reason = text::printable(reason);
  return v;
}

// What the answer held, for reasons: " (JSON-RPC error -32601: Method not found)" or "".
struct answer {
  std::optional<simdjson::dom::element> result;
  std::optional<simdjson::dom::element> error;
  std::optional<std::int64_t> code;
  std::string detail;
};

answer read_message(simdjson::dom::parser& parser, const std::optional<std::string>& message_json) {
  answer a;
  simdjson::dom::element doc;
  if (!message_json) return a;
  if (!json::parse(parser, *message_json, doc).empty() || !doc.is_object()) {
    a.detail = " (the body is not a JSON-RPC message)";
    return a;
  }
  a.result = json::get(doc, "result");
  a.error = json::get(doc, "error");
  if (a.error) {
    a.code = json::get_int(*a.error, "code");
    a.detail =
        " (JSON-RPC error " + (a.code ? std::to_string(*a.code) : std::string("without a code"));
    if (const auto msg = json::get_string(*a.error, "message"))
      a.detail += ": " + std::string(*msg);
    a.detail += ")";
  }
  return a;
}

std::string no_common_version(const std::vector<std::string>& theirs,
                              const std::vector<std::string>& ours) {
  return "no common version: the server supports " + joined(theirs) + "; fracta speaks " +
         joined(ours);
}

}  // namespace

probe_verdict classify_probe(long http_status, const std::optional<std::string>& message_json,
                             std::string_view asked, const std::vector<std::string>& ours) {
  using kind = probe_verdict::kind;
  const std::string status = "HTTP " + std::to_string(http_status);
  if (http_status == 401 || http_status == 403)
    return verdict(kind::auth, "server/discover needs authorization (" + status + ")");

  simdjson::dom::parser parser;
  const answer a = read_message(parser, message_json);
  const std::string asked_text(asked);

  if (a.error && a.code == unsupported_protocol_version) {
    auto data = json::get(*a.error, "data");
    if (auto supported = string_array(data ? json::get(*data, "supported") : std::nullopt)) {
      for (const auto& v : ours) {
        if (v != asked && contains(*supported, v))
          return verdict(
              kind::renegotiate,
              "the server does not speak " + asked_text + "; it supports " + joined(*supported),
              *supported, v);
      }
      // The refused version listed as supported (a server that always refuses the first
      // request, as the conformance suite's does): one more try at it; the caller bounds it.
      if (contains(*supported, asked_text) && contains(ours, asked_text))
        return verdict(kind::renegotiate, "the server refused " + asked_text + " but lists it", *supported,
                       asked_text);
      return verdict(kind::failure, no_common_version(*supported, ours), *supported);
    }
  }
  if (http_status >= 500 && http_status <= 599)
    return verdict(kind::failure, "server/discover failed with " + status + a.detail);

  if (http_status >= 200 && http_status <= 299 && a.result && !a.error) {
    if (auto supported = string_array(json::get(*a.result, "supportedVersions"))) {
      if (contains(*supported, asked))
        return verdict(kind::modern, "the server speaks " + asked_text, *supported, asked_text);
      for (const auto& v : ours) {
        if (contains(*supported, v))
          return verdict(kind::renegotiate,
                         "the server supports " + joined(*supported) + ", not " + asked_text,
                         *supported, v);
      }
      // The refused version listed as supported (a server that always refuses the first
      // request, as the conformance suite's does): one more try at it; the caller bounds it.
      if (contains(*supported, asked_text) && contains(ours, asked_text))
        return verdict(kind::renegotiate, "the server refused " + asked_text + " but lists it", *supported,
                       asked_text);
      return verdict(kind::failure, no_common_version(*supported, ours), *supported);
    }
  }
  std::string why = "server/discover answered " + status;
  why += a.detail.empty() && !a.result ? std::string(" without a JSON-RPC answer") : a.detail;
  if (a.result && !a.error) why += " with a result that is not a DiscoverResult";
  return verdict(kind::legacy, why);
}

}  // namespace fracta::mcp
