// SPDX-License-Identifier: Apache-2.0
// Building and reading MCP messages (no I/O, no coroutines).
#include "mcp/messages.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <simdjson.h>

#include <fracta/proto/fields.hpp>
#include <fracta/proto/json.hpp>
#include "http/sse.hpp"

namespace fracta::mcp {
error make_err(errc c, std::string msg) { return error{make_error_code(c), std::move(msg)}; }

std::string request_body(std::int64_t id, const std::string& method, const std::string& params_json) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").value(id).key("method").value(method);
  if (!params_json.empty()) w.key("params").raw(params_json);
  w.end_object();
  return w.take();
}

std::string notification_body(const std::string& method) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("method").value(method).end_object();
  return w.take();
}

std::string initialize_params() {
  json::writer p;
  p.begin_object()
      .key("protocolVersion").value(supported_versions[0])
      .key("capabilities").begin_object().end_object()
      .key("clientInfo").begin_object().key("name").value("fracta").key("version").value(FRACTA_VERSION).end_object()
      .end_object();
  return p.take();
}

result<std::string> call_params(const std::string& name, const std::string& args) {
  simdjson::dom::parser parser;
  simdjson::dom::element adoc;
  const std::string text = args.empty() ? std::string("{}") : args;
  const std::string e = json::parse(parser, text, adoc);
  if (!e.empty() || !adoc.is_object()) {
    std::string msg = "tool arguments must be a JSON object, e.g. '{\"text\":\"hi\"}'";
    if (!e.empty()) msg += " (" + e + ")";
    return make_err(errc::config, msg);
  }
  json::writer p;
  p.begin_object().key("name").value(name).key("arguments").raw(json::to_string(adoc)).end_object();
  return p.take();
}

tool_result parse_tool_result(const std::string& result_json) {
  tool_result out;
  out.result_json = result_json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, out.result_json, doc).empty()) return out;
  out.is_error = json::get_bool(doc, "isError").value_or(false);
  auto content = json::get(doc, "content");
  if (!content || !content->is_array()) return out;
  const simdjson::dom::array arr = content->get_array().value_unsafe();
  for (auto item : arr) {
    if (json::get_string(item, "type").value_or("") != "text") continue;
    if (!out.text.empty()) out.text += "\n";
    out.text += std::string(json::get_string(item, "text").value_or(""));
  }
  return out;
}

tool_list parse_tool_list(const std::string& result_json) {
  tool_list out;
  out.result_json = result_json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, out.result_json, doc).empty()) return out;
  auto tools = json::get(doc, "tools");
  if (!tools || !tools->is_array()) return out;
  const simdjson::dom::array arr = tools->get_array().value_unsafe();
  for (auto t : arr) {
    out.tools.push_back({std::string(json::get_string(t, "name").value_or("")),
                         std::string(json::get_string(t, "description").value_or(""))});
  }
  return out;
}

result<std::string> read_answer(const http::response& resp, std::int64_t id, std::string_view method,
                                const std::string& where, const secret_list& sent,
                                const std::function<void(const std::string&)>& note) {
  const auto ctype = resp.header("content-type").value_or("");
  std::vector<std::string> messages;
  if (http::istarts_with(ctype, "text/event-stream")) {
    http::sse_decoder dec;
    auto events = dec.feed(resp.body);
    auto tail = dec.feed("\n\n");  // a stream cut without its final blank line
    events.insert(events.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
    for (auto& e : events) {
      if (e.type == "message") messages.push_back(std::move(e.data));
    }
  } else if (http::istarts_with(ctype, "application/json")) {
    messages.push_back(resp.body);
  } else {
    return make_err(errc::protocol, where + " answered " + std::string(method) + " with an unexpected Content-Type '" +
                                        server_text(ctype, sent, 200) + "'");
  }
  simdjson::dom::parser parser;
  for (const auto& m : messages) {
    simdjson::dom::element doc;
    if (auto e = json::parse(parser, m, doc); !e.empty()) {
      return make_err(errc::protocol, where + " sent a message that is not JSON (" + e + ")");
    }
    std::vector<simdjson::dom::element> items;
    if (doc.is_array()) {
      const simdjson::dom::array arr = doc.get_array().value_unsafe();
      for (auto x : arr) items.push_back(x);
    } else {
      items.push_back(doc);
    }
    for (auto msg : items) {
      auto mid = json::get_int(msg, "id");
      if (!mid || *mid != id) {
        if (auto mm = json::get_string(msg, "method"); mm && note) note("ignoring server message " + server_text(*mm, sent, 100));
        continue;
      }
      if (auto err = json::get(msg, "error")) {
        const std::string text = server_text(json::get_string(*err, "message").value_or("no message"), sent);
        auto code = json::get_int(*err, "code");
        return make_err(errc::remote, where + ": " + std::string(method) + " failed: " + text +
                                          (code ? " (JSON-RPC error " + std::to_string(*code) + ")" : ""));
      }
      auto res = json::get(msg, "result");
      if (!res) return make_err(errc::protocol, where + " answered without result or error");
      return json::to_string(*res);
    }
  }
  return make_err(errc::protocol, where + " did not answer " + std::string(method) + " (request id " +
                                      std::to_string(id) + ")");
}

result<std::string> negotiated_version(const std::string& initialize_result_json, const std::string& where,
                                       const secret_list& sent) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, initialize_result_json, doc).empty()) {
    return make_err(errc::protocol, where + ": the initialize result is not JSON");
  }
  const auto v = json::get_string(doc, "protocolVersion");
  if (!v || std::find(supported_versions.begin(), supported_versions.end(), *v) == supported_versions.end()) {
    return make_err(errc::protocol, where + " speaks MCP protocol version '" + server_text(v.value_or("?"), sent, 64) +
                                        "', which fracta does not support (supported: 2025-11-25, 2025-06-18, "
                                        "2025-03-26)");
  }
  return std::string(*v);
}

}  // namespace fracta::mcp
