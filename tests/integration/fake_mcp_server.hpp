// SPDX-License-Identifier: Apache-2.0
// An in-process MCP server for fault injection the real peers cannot produce: scripted
// session expiry, repeated 401s, odd content types, JSON-RPC errors, interleaved SSE traffic,
// error pages echoing the request. Any number of sessions may be live at once.
#pragma once

#include <atomic>
#include <chrono>
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
};

class fake_mcp_server final {
 public:
  // Knobs (set before the client runs).
  std::string expected_authorization = "Bearer good";
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

  fake_mcp_server() {
    srv_.Post("/mcp", [this](const httplib::Request& req, httplib::Response& res) { post(req, res); });
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
    return replies_;
  }

 private:
  bool authorized(const httplib::Request& req) const {
    return !reject_everything && req.get_header_value("Authorization") == expected_authorization;
  }

  void record(const httplib::Request& req, std::string rpc_method, int status) {
    std::lock_guard lk(m_);
    seen_.push_back({req.method, std::move(rpc_method), req.get_header_value("Authorization"),
                     req.get_header_value("Mcp-Session-Id"), req.get_header_value("MCP-Protocol-Version"),
                     req.target, status});
  }

  void answer(httplib::Response& res, const std::string& message, bool with_noise) {
    if (!sse) {
      res.set_content(message, "application/json");
      return;
    }
    std::string body;
    if (with_noise) {
      // A progress notification and a server→client ping before the answer.
      body += "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n";
      body += ": keep-alive comment\n\n";
      body += "data: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n";
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
      replies_.push_back(req.body);
      res.status = 202;
      return;
    }
    if (!authorized(req)) {
      record(req, method, reject_status);
      res.status = reject_status;
      res.set_header("WWW-Authenticate", www_authenticate);
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
    if (!live) {
      record(req, method, 404);
      res.status = 404;
      return;
    }
    if (method == "notifications/initialized") {
      record(req, method, 202);
      res.status = 202;
      return;
    }
    if (method == "tools/call" && echo_status != 0) {
      record(req, method, echo_status);
      std::string page = "<h1>Internal error</h1><pre>\n";
      for (const char* k : {"Authorization", "X-Api-Key", "Mcp-Session-Id"}) {
        if (req.has_header(k)) page += std::string(k) + ": " + req.get_header_value(k) + "\n";
      }
      page += "</pre>";
      res.status = echo_status;
      res.set_content(page, "text/html");
      return;
    }
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
    answer(res, w.take(), true);
  }

  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::mutex m_;
  std::vector<seen_request> seen_;
  std::vector<std::string> replies_;
  std::atomic<int> sessions_{0};
  std::set<std::string> live_;  // session ids handed out and not deleted or expired (under m_)
  bool expired_ = false;
};

}  // namespace fracta::test
