// SPDX-License-Identifier: Apache-2.0
// Building and reading MCP messages (no I/O, no coroutines).
#include "mcp/messages.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <simdjson.h>

#include <fracta/proto/fields.hpp>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>

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

bool is_modern_version(std::string_view v) {
  return std::find(modern_versions.begin(), modern_versions.end(), v) != modern_versions.end();
}

std::string initialize_params(std::string_view version, std::string_view capabilities_json) {
  json::writer p;
  p.begin_object()
      .key("protocolVersion").value(version)
      .key("capabilities").raw(capabilities_json)
      .key("clientInfo").begin_object().key("name").value("fracta").key("version").value(FRACTA_VERSION).end_object()
      .end_object();
  return p.take();
}

std::string response_body(std::string_view id_json, const std::optional<std::string>& result_json, int code,
                          std::string_view message) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").raw(id_json);
  if (result_json) {
    w.key("result").raw(*result_json);
  } else {
    w.key("error").begin_object().key("code").value(static_cast<std::int64_t>(code)).key("message").value(message).end_object();
  }
  w.end_object();
  return w.take();
}

result<std::string> call_params(const std::string& name, const std::string& args,
                                const std::string& progress_token) {
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
  p.begin_object().key("name").value(name).key("arguments").raw(json::to_string(adoc));
  if (!progress_token.empty()) p.key("_meta").begin_object().key("progressToken").value(progress_token).end_object();
  p.end_object();
  return p.take();
}

namespace {

// Calls `each` for every element of the array `key` of the object in `result_json`.
void for_each_item(const std::string& result_json, std::string_view key,
                   const std::function<void(simdjson::dom::element)>& each) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, result_json, doc).empty()) return;
  auto items = json::get(doc, key);
  if (!items || !items->is_array()) return;
  const simdjson::dom::array arr = items->get_array().value_unsafe();
  for (auto item : arr) each(item);
}

}  // namespace

tool_result parse_tool_result(const std::string& result_json) {
  tool_result out;
  out.result_json = result_json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (json::parse(parser, out.result_json, doc).empty()) out.is_error = json::get_bool(doc, "isError").value_or(false);
  for_each_item(out.result_json, "content", [&](simdjson::dom::element item) {
    if (json::get_string(item, "type").value_or("") != "text") return;
    if (!out.text.empty()) out.text += "\n";
    out.text += std::string(json::get_string(item, "text").value_or(""));
  });
  return out;
}

tool_list parse_tool_list(const std::string& result_json,
                          const std::function<std::optional<std::string>(std::string_view schema)>& drop,
                          const std::function<void(const std::string&)>& note) {
  tool_list out;
  out.result_json = result_json;
  std::vector<std::string> kept;  // minified tool objects, when some are dropped
  bool dropped = false;
  for_each_item(out.result_json, "tools", [&](simdjson::dom::element t) {
    tool_list::tool tool{std::string(json::get_string(t, "name").value_or("")),
                         std::string(json::get_string(t, "description").value_or("")), "{}"};
    if (auto schema = json::get(t, "inputSchema")) tool.input_schema_json = json::to_string(*schema);
    if (drop) {
      if (auto why = drop(tool.input_schema_json)) {
        dropped = true;
        if (note) note("leaving out tool '" + text::printable(tool.name, 64) + "': " + *why);
        return;
      }
      kept.push_back(json::to_string(t));
    }
    out.tools.push_back(std::move(tool));
  });
  {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (json::parse(parser, result_json, doc).empty() && doc.is_object()) {
      out.next_cursor = std::string(json::get_string(doc, "nextCursor").value_or(""));
    }
  }
  if (!dropped) return out;
  // The same result without the dropped tools: every other member kept as it was.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, result_json, doc).empty() || !doc.is_object()) return out;
  json::writer w;
  w.begin_object();
  const simdjson::dom::object obj = doc.get_object().value_unsafe();
  for (auto field : obj) {
    w.key(field.key);
    if (field.key != "tools") {
      w.raw(json::to_string(field.value));
      continue;
    }
    w.begin_array();
    for (const auto& k : kept) w.raw(k);
    w.end_array();
  }
  w.end_object();
  out.result_json = w.take();
  return out;
}

result<std::optional<std::string>> answer_message(const http::response& resp, answer_stream& stream,
                                                  std::string_view method, const std::string& where,
                                                  const secret_list& sent) {
  if (stream.answer()) return stream.answer();
  const auto ctype = resp.header("content-type").value_or("");
  if (http::istarts_with(ctype, "text/event-stream")) {
    if (stream.fed() == 0) stream.feed(resp.body);  // not read while it arrived
    stream.feed("\n\n");  // a stream cut without its final blank line
    return stream.answer();
  }
  if (!http::istarts_with(ctype, "application/json")) {
    return make_err(errc::protocol, where + " answered " + std::string(method) + " with an unexpected Content-Type '" +
                                        server_text(ctype, sent, 200) + "'");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = json::parse(parser, resp.body, doc); !e.empty()) {
    return make_err(errc::protocol, where + " sent a message that is not JSON (" + e + ")");
  }
  stream.take_body(resp.body);
  return stream.answer();
}

std::optional<std::int64_t> error_code(const std::string& message) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, message, doc).empty()) return std::nullopt;
  auto err = json::get(doc, "error");
  if (!err) return std::nullopt;
  return json::get_int(*err, "code");
}

result<std::string> answer_result(const std::string& message, std::string_view method, const std::string& where,
                                  const secret_list& sent) {
  simdjson::dom::parser parser;
  simdjson::dom::element msg;
  if (auto e = json::parse(parser, message, msg); !e.empty()) {
    return make_err(errc::protocol, where + " sent a message that is not JSON (" + e + ")");
  }
  if (auto err = json::get(msg, "error")) {
    const std::string text = server_text(json::get_string(*err, "message").value_or("no message"), sent);
    auto code = json::get_int(*err, "code");
    if (method == "resources/read" && code && (*code == -32602 || *code == -32002)) {
      return make_err(errc::remote, where + ": resource not found: " + text);
    }
    return make_err(errc::remote, where + ": " + std::string(method) + " failed: " + text +
                                      (code ? " (JSON-RPC error " + std::to_string(*code) + ")" : ""));
  }
  auto res = json::get(msg, "result");
  if (!res) return make_err(errc::protocol, where + " answered without result or error");
  return json::to_string(*res);
}

result<std::string> negotiated_version(const std::string& initialize_result_json, const std::string& where,
                                       const secret_list& sent) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, initialize_result_json, doc).empty()) {
    return make_err(errc::protocol, where + ": the initialize result is not JSON");
  }
  const auto v = json::get_string(doc, "protocolVersion");
  if (!v || std::find(legacy_versions.begin(), legacy_versions.end(), *v) == legacy_versions.end()) {
    return make_err(errc::protocol, where + " speaks MCP protocol version '" + server_text(v.value_or("?"), sent, 64) +
                                        "', which fracta does not support (supported: 2025-11-25, 2025-06-18, "
                                        "2025-03-26)");
  }
  return std::string(*v);
}

}  // namespace fracta::mcp
