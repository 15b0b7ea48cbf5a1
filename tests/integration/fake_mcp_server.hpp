// SPDX-License-Identifier: Apache-2.0
// An in-process MCP server for fault injection the real peers cannot produce: scripted
// session expiry, repeated 401s, odd content types, JSON-RPC errors, interleaved SSE traffic,
// error pages echoing the request, streams held open, primed and cut; and (knob `modern`) the
// stateless 2026-07-28 wire, strict about its headers, with -32022 refusals, input_required
// rounds and cache hints. Any number of sessions may be live at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <simdjson.h>

#include "fracta/json_writer.hpp"

namespace fracta::test {

struct seen_request {
  std::string http_method;
  std::string rpc_method;  // "" for GET/DELETE
  std::string authorization;
  std::string session_id;
  std::string protocol_version;
  std::string target;  // path + query as received
  int status = 0;
  std::string body;           // the request body as received
  httplib::Headers headers;   // every request header as received
  std::string header(const std::string& name) const {
    auto it = headers.find(name);  // httplib compares header names case-insensitively
    return it == headers.end() ? std::string() : it->second;
  }
};

class fake_mcp_server final {
 public:
  // Knobs (set before the client runs).
  std::string expected_authorization = "Bearer good";
  std::string also_accepted;  // a second Authorization value accepted (a credential switched mid-test)
  std::string www_authenticate = R"(Bearer error="invalid_token", error_description="token not accepted here")";
  bool sse = true;                     // answer requests with text/event-stream
  bool reject_everything = false;      // 401 every request, whatever its credential
  int reject_status = 401;
  bool expire_session_once = false;    // 404 the first tools/call that carries a session id
  std::string answer_version = "2025-11-25";
  bool html_answers = false;           // tools/call answered with text/html
  bool jsonrpc_error = false;          // tools/call answered with a JSON-RPC error
  int delay_ms = 0;                    // before answering tools/call
  int echo_status = 0;                 // answer tools/call with this status and a page echoing the request headers
  bool expire_session_always = false;  // 404 every tools/call that carries a session id
  std::string jsonrpc_error_message = "unknown tool: nope";
  std::string stream_request = R"({"jsonrpc":"2.0","id":"srv-1","method":"ping"})";  // on every SSE answer
  bool sdk_refusals = false;  // requests outside a live session refused with a JSON-RPC error body (else a bare 404)
  // The 2025 wire's streams.
  bool hold_stream_open = false;  // tools/call's SSE answer, then the stream stays open until ~fake_mcp_server
  bool prime_then_close = false;  // tools/call's stream: a priming event (id, retry: 50), closed without
                                  // the answer; a GET with its Last-Event-ID gets the answer
  bool withhold_answer = false;   // tools/call's stream: a progress notification, then held open, never answered
  std::string get_stream_message;  // a GET in a live session: this message on its stream, held open

  // The stateless 2026-07-28 wire instead of sessions: server/discover answered, initialize
  // refused, MCP-Protocol-Version (= _meta's), Mcp-Method and Mcp-Name required on every POST.
  std::atomic<bool> modern{false};  // may change between calls: the server turns legacy
  std::vector<std::string> supported = {"2026-07-28"};  // discover's supportedVersions, -32022's supported
  int unsupported_discovers = 0;  // this many server/discover answered 400 -32022 naming `supported`
  int unsupported_calls = 0;      // this many tools/call answered 400 -32022 naming `supported`
  int input_rounds = 0;           // tools/call answered input_required this many rounds (-1: always)
  bool input_elicit = false;      // input_required asks elicitation/create (key "confirm"), not only requestState
  std::string result_type = "complete";  // tools/call's resultType when complete
  std::string tools_json;         // tools/list's tools array (JSON); "" for the echo tool
  std::int64_t tools_ttl_ms = 0;  // tools/list's ttlMs
  int cut_streams = 0;            // this many tools/call SSE streams cut (connection dropped) before the answer
  bool cut_cleanly = false;       // …or ended (the body complete) before the answer

  fake_mcp_server() {
    srv_.Post("/mcp", [this](const httplib::Request& req, httplib::Response& res) { post(req, res); });
    srv_.Get("/mcp", [this](const httplib::Request& req, httplib::Response& res) { get(req, res); });
    srv_.Delete("/mcp", [this](const httplib::Request& req, httplib::Response& res) {
      record(req, "", authorized(req) ? 200 : 401);
      res.status = authorized(req) ? 200 : 401;
      if (authorized(req)) {
        std::lock_guard lk(m_);
        live_.erase(req.get_header_value("Mcp-Session-Id"));
      }
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~fake_mcp_server() {
    {
      std::lock_guard lk(m_);
      release_ = true;  // held streams end
    }
    released_.notify_all();
    srv_.stop();
    thread_.join();
  }
  fake_mcp_server(const fake_mcp_server&) = delete;
  fake_mcp_server& operator=(const fake_mcp_server&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

  std::vector<seen_request> seen() {
    std::lock_guard lk(m_);
    return seen_;
  }
  /// The JSON-RPC responses clients posted (answers to the server's own requests, e.g. ping).
  std::vector<std::string> replies() {
    std::lock_guard lk(m_);
    std::vector<std::string> out;
    for (const auto& r : replies_) out.push_back(r.body);
    return out;
  }
  /// The same, with their headers.
  std::vector<seen_request> reply_requests() {
    std::lock_guard lk(m_);
    return replies_;
  }
  /// The requests seen with this JSON-RPC method.
  std::vector<seen_request> seen(const std::string& rpc_method) {
    std::vector<seen_request> out;
    for (auto& r : seen()) {
      if (r.rpc_method == rpc_method) out.push_back(std::move(r));
    }
    return out;
  }

 private:
  bool authorized(const httplib::Request& req) const {
    const std::string got = req.get_header_value("Authorization");
    return !reject_everything && (got == expected_authorization || (!also_accepted.empty() && got == also_accepted));
  }

  static seen_request seen_of(const httplib::Request& req, std::string rpc_method, int status) {
    return {req.method, std::move(rpc_method), req.get_header_value("Authorization"),
            req.get_header_value("Mcp-Session-Id"), req.get_header_value("MCP-Protocol-Version"),
            req.target, status, req.body, req.headers};
  }

  void record(const httplib::Request& req, std::string rpc_method, int status) {
    std::lock_guard lk(m_);
    seen_.push_back(seen_of(req, std::move(rpc_method), status));
  }

  static std::string error_message(std::int64_t id, int code, const std::string& message,
                                   const std::vector<std::string>* supported = nullptr, std::string_view requested = {}) {
    json::writer w;
    w.begin_object().key("jsonrpc").value("2.0").key("id").value(id).key("error").begin_object()
        .key("code").value(code).key("message").value(message);
    if (supported != nullptr) {
      w.key("data").begin_object().key("supported").begin_array();
      for (const auto& v : *supported) w.value(v);
      w.end_array().key("requested").value(std::string(requested)).end_object();
    }
    w.end_object().end_object();
    return w.take();
  }

  void refuse(const httplib::Request& req, httplib::Response& res, const std::string& method, int status,
              const std::string& message) {
    record(req, method, status);
    res.status = status;
    res.set_content(message, "application/json");
  }

  // An error page (echo_status) quoting the request's credentials back.
  void echo_page(const httplib::Request& req, httplib::Response& res, const std::string& method) {
    record(req, method, echo_status);
    std::string page = "<h1>Internal error</h1><pre>\n";
    for (const char* k : {"Authorization", "X-Api-Key", "Mcp-Session-Id"}) {
      if (req.has_header(k)) page += std::string(k) + ": " + req.get_header_value(k) + "\n";
    }
    page += "</pre>";
    res.status = echo_status;
    res.set_content(page, "text/html");
  }

  void get(const httplib::Request& req, httplib::Response& res) {
    if (!get_stream_message.empty() && authorized(req)) {
      std::lock_guard lk(m_);
      if (live_.count(req.get_header_value("Mcp-Session-Id")) != 0) {
        seen_.push_back(seen_of(req, "", 200));
        hold_open(res, "event: message\ndata: " + get_stream_message + "\n\n");
        return;
      }
    }
    const bool resumable = prime_then_close && authorized(req) &&
                           req.get_header_value("Last-Event-ID") == "prime-1" && primed_id_ >= 0;
    record(req, "", resumable ? 200 : 405);
    if (!resumable) {
      res.status = 405;
      return;
    }
    json::writer w;
    w.begin_object().key("jsonrpc").value("2.0").key("id").value(primed_id_.load()).key("result").begin_object()
        .key("content").begin_array().begin_object().key("type").value("text").key("text").value("echo: resumed")
        .end_object().end_array().end_object().end_object();
    res.set_content("id: prime-2\nevent: message\ndata: " + w.take() + "\n\n", "text/event-stream");
  }

  // withhold_answer's stream: a progress notification, never the answer.
  static constexpr const char* withheld_stream =
      "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
      "\"params\":{\"progressToken\":\"t\",\"progress\":1}}\n\n";

  // SSE `body` written at once, then the stream stays open until the server is destroyed.
  void hold_open(httplib::Response& res, std::string body) {
    res.set_chunked_content_provider("text/event-stream", [this, body](std::size_t, httplib::DataSink& sink) {
      sink.write(body.data(), body.size());
      std::unique_lock lk(m_);
      released_.wait(lk, [this] { return release_; });
      return false;
    });
  }

  // A progress event, then the connection dropped in the middle of the chunked body (or, when
  // `cleanly`, the body ended).
  static void cut(httplib::Response& res, bool cleanly) {
    res.set_chunked_content_provider("text/event-stream", [cleanly](std::size_t, httplib::DataSink& sink) {
      const std::string ev = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                             "\"params\":{\"progress\":1}}\n\n";
      sink.write(ev.data(), ev.size());
      if (cleanly) sink.done();
      return cleanly;
    });
  }

  void post_modern(const httplib::Request& req, httplib::Response& res, simdjson::dom::element doc,
                   const std::string& method, std::int64_t id);

  void answer(httplib::Response& res, const std::string& message, bool with_noise) {
    if (!sse) {
      res.set_content(message, "application/json");
      return;
    }
    std::string body;
    if (with_noise) {
      // A progress notification and a server→client request (a ping) before the answer.
      body += "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n";
      body += ": keep-alive comment\n\n";
      body += "data: " + stream_request + "\n\n";
    }
    body += "event: message\r\nid: 7\r\ndata: " + message + "\r\n\r\n";
    res.set_content(body, "text/event-stream");
  }

  void post(const httplib::Request& req, httplib::Response& res) {
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    std::string method;
    std::int64_t id = -1;
    if (!p.parse(simdjson::padded_string(req.body)).get(doc)) {
      std::string_view m;
      if (!doc["method"].get(m)) method = std::string(m);
      std::int64_t i;
      if (!doc["id"].get(i)) id = i;
    }
    if (method.empty() && id == -1 && req.body.find("\"id\"") != std::string::npos) {
      // A response to a request of ours (its id is a string): kept apart from the requests.
      std::lock_guard lk(m_);
      replies_.push_back(seen_of(req, "", 202));
      res.status = 202;
      return;
    }
    if (!authorized(req)) {
      record(req, method, reject_status);
      res.status = reject_status;
      res.set_header("WWW-Authenticate", www_authenticate);
      return;
    }
    if (modern) {
      post_modern(req, res, doc, method, id);
      return;
    }
    const std::string sid = req.get_header_value("Mcp-Session-Id");
    if (method == "initialize") {
      const std::string session = "sess-" + std::to_string(++sessions_);
      {
        std::lock_guard lk(m_);
        live_.insert(session);
      }
      record(req, method, 200);
      res.set_header("Mcp-Session-Id", session);
      json::writer w;
      w.begin_object().key("jsonrpc").value("2.0").key("id").value(id).key("result").begin_object()
          .key("protocolVersion").value(answer_version).key("capabilities").begin_object().end_object()
          .key("serverInfo").begin_object().key("name").value("fake").key("version").value("1").end_object()
          .end_object().end_object();
      answer(res, w.take(), false);
      return;
    }
    bool live = false;
    {
      std::lock_guard lk(m_);
      live = live_.count(sid) != 0;
    }
    if (!live && sdk_refusals) {
      // As the TypeScript SDK's 2025 server: 400 without a session id, 404 for an unknown one.
      return sid.empty() ? refuse(req, res, method, 400, error_message(-1, -32000, "Bad Request: No valid session ID provided"))
                         : refuse(req, res, method, 404, error_message(-1, -32001, "Session not found"));
    }
    if (!live) {
      record(req, method, 404);
      res.status = 404;
      return;
    }
    if (method.rfind("notifications/", 0) == 0) {  // any client notification is accepted
      record(req, method, 202);
      res.status = 202;
      return;
    }
    if (method == "tools/call" && echo_status != 0) return echo_page(req, res, method);
    if (method == "tools/call" && expire_session_always) {
      record(req, method, 404);
      res.status = 404;
      return;
    }
    if (method == "tools/call" && expire_session_once && !expired_) {
      expired_ = true;
      {
        std::lock_guard lk(m_);
        live_.erase(sid);
      }
      record(req, method, 404);
      res.status = 404;
      return;
    }
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    record(req, method, 200);
    json::writer w;
    w.begin_object().key("jsonrpc").value("2.0").key("id").value(id);
    if (method == "tools/list") {
      w.key("result").begin_object().key("tools").begin_array().begin_object().key("name").value("echo")
          .key("description").value("Echo").end_object().end_array().end_object();
    } else if (method == "tools/call" && jsonrpc_error) {
      w.key("error").begin_object().key("code").value(-32602).key("message").value(jsonrpc_error_message).end_object();
    } else if (method == "tools/call") {
      std::string_view text;
      if (doc["params"]["arguments"]["text"].get(text)) text = "";
      w.key("result").begin_object().key("content").begin_array().begin_object().key("type").value("text")
          .key("text").value("echo: " + std::string(text)).end_object().end_array().end_object();
    } else {
      w.key("error").begin_object().key("code").value(-32601).key("message").value("method not found").end_object();
    }
    w.end_object();
    if (method == "tools/call" && html_answers) {
      res.set_content("<html>maintenance</html>", "text/html");
      return;
    }
    if (method == "tools/call" && prime_then_close) {
      primed_id_ = id;
      res.set_content("id: prime-1\nretry: 50\ndata:\n\n", "text/event-stream");
      return;
    }
    if (method == "tools/call" && withhold_answer) return hold_open(res, withheld_stream);
    if (method == "tools/call" && hold_stream_open) {
      hold_open(res, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
                     "event: message\ndata: " + w.take() + "\n\n");
      return;
    }
    answer(res, w.take(), true);
  }

  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::mutex m_;
  std::vector<seen_request> seen_;
  std::vector<seen_request> replies_;
  std::atomic<int> sessions_{0};
  std::set<std::string> live_;  // session ids handed out and not deleted or expired (under m_)
  bool expired_ = false;
  std::atomic<std::int64_t> primed_id_{-1};  // the request whose stream was primed and closed
  std::condition_variable released_;
  bool release_ = false;  // under m_
};

inline void fake_mcp_server::post_modern(const httplib::Request& req, httplib::Response& res,
                                         simdjson::dom::element doc, const std::string& method, std::int64_t id) {
  if (method == "initialize") {
    // A modern-only server names the versions it speaks in any error to initialize.
    return refuse(req, res, method, 400, error_message(id, -32022, "Unsupported protocol version", &supported, ""));
  }
  std::string_view version, name;
  if (doc["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].get(version) ||
      !doc["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"].is_object()) {
    return refuse(req, res, method, 400, error_message(id, -32602, "missing _meta"));
  }
  const bool named = method == "tools/call";
  if (named && doc["params"]["name"].get(name)) name = "";
  if (req.get_header_value("MCP-Protocol-Version") != version || req.get_header_value("Mcp-Method") != method ||
      (named && req.get_header_value("Mcp-Name") != name)) {
    return refuse(req, res, method, 400, error_message(id, -32020, "header mismatch"));
  }
  bool known = false;
  for (const auto& v : supported) known = known || v == version;
  bool refused = !known;
  if (known && (method == "server/discover" || method == "tools/call")) {
    std::lock_guard lk(m_);
    int& refusals = method == "server/discover" ? unsupported_discovers : unsupported_calls;
    refused = refusals > 0;
    if (refused) --refusals;
  }
  if (refused) {
    return refuse(req, res, method, 400,
                  error_message(id, -32022, "Unsupported protocol version", &supported, version));
  }
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").value(id).key("result").begin_object();
  if (method == "server/discover") {
    w.key("resultType").value("complete").key("supportedVersions").begin_array();
    for (const auto& v : supported) w.value(v);
    w.end_array().key("capabilities").begin_object().key("tools").begin_object().end_object().end_object()
        .key("ttlMs").value(0).key("cacheScope").value("private");
  } else if (method == "tools/list") {
    w.key("resultType").value("complete").key("tools");
    if (tools_json.empty()) {
      w.begin_array().begin_object().key("name").value("echo").key("description").value("Echo")
          .key("inputSchema").raw(R"({"type":"object","properties":{"text":{"type":"string"}}})")
          .end_object().end_array();
    } else {
      w.raw(tools_json);
    }
    w.key("ttlMs").value(tools_ttl_ms).key("cacheScope").value("private");
  } else if (method == "tools/call" && echo_status != 0) {
    return echo_page(req, res, method);
  } else if (method == "tools/call") {
    bool cut_now = false;
    {
      std::lock_guard lk(m_);
      cut_now = cut_streams > 0;
      if (cut_now) --cut_streams;
    }
    if (cut_now) {
      record(req, method, 200);
      return cut(res, cut_cleanly);
    }
    if (withhold_answer) {
      record(req, method, 200);
      return hold_open(res, withheld_stream);
    }
    // The round is the one requestState names ("round-N"); none: the first.
    constexpr std::string_view prefix = "opaque \"round\"=";
    std::string_view state;
    int round = 0;
    if (!doc["params"]["requestState"].get(state) && state.substr(0, prefix.size()) == prefix) {
      round = std::stoi(std::string(state.substr(prefix.size())));
    }
    if (input_rounds < 0 || round < input_rounds) {
      w.key("resultType").value("input_required");
      if (input_elicit) {
        w.key("inputRequests").begin_object().key("confirm").begin_object().key("method").value("elicitation/create")
            .key("params").raw(R"({"mode":"form","message":"Proceed?","requestedSchema":{"type":"object","properties":{"ok":{"type":"boolean"}}}})")
            .end_object().end_object();
      }
      w.key("requestState").value(std::string(prefix) + std::to_string(round + 1));
    } else {
      std::string_view text;
      if (doc["params"]["arguments"]["text"].get(text)) text = "";
      w.key("resultType").value(result_type).key("content").begin_array().begin_object().key("type").value("text")
          .key("text").value("echo: " + std::string(text)).end_object().end_array();
    }
  } else {
    return refuse(req, res, method, 404, error_message(id, -32601, "method not found"));
  }
  w.key("_meta").begin_object().key("io.modelcontextprotocol/serverInfo").begin_object().key("name").value("fake")
      .key("version").value("1").end_object().end_object();
  w.end_object().end_object();
  record(req, method, 200);
  answer(res, w.take(), false);
}

}  // namespace fracta::test
