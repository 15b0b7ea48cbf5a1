// SPDX-License-Identifier: Apache-2.0
// Which era a server speaks (server/discover first, initialize for a 2025 server), and the
// stateless 2026-07-28 wire: _meta and the Mcp-* headers on every request, resultType, and the
// multi-round-trip retries of an input_required result.
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>

#include "mcp/era.hpp"
#include "mcp/headers.hpp"
#include "mcp/messages.hpp"
#include "mcp/session_impl.hpp"

namespace fracta {

using mcp::make_err;

namespace {

// An input_required result may ask again this many times before fracta gives up.
constexpr int max_input_rounds = 8;
constexpr std::chrono::hours listen_deadline{24};  // a subscriptions/listen ends when cancelled

std::vector<std::string> ours() { return {mcp::modern_versions.begin(), mcp::modern_versions.end()}; }

}  // namespace

asio::awaitable<result<std::string>> mcp_session::impl::open_once() {
  const bool pinned = server.protocol != "auto";
  std::optional<era_cache::verdict> known;
  if (pinned) {
    const bool modern = mcp::is_modern_version(server.protocol);
    known = era_cache::verdict{modern ? wire::modern : wire::legacy, server.protocol};
  } else {
    known = resources.eras->find(server.url);
  }
  if (known && known->era == wire::legacy) {
    debug("speaking MCP " + (pinned ? known->version : std::string(mcp::legacy_versions[0])) + " (initialize)" +
          (pinned ? ", as remote.protocol says" : ", as this server did before"));
    auto init = initialize(pinned ? known->version : std::string(mcp::legacy_versions[0]));
    co_return co_await std::move(init);
  }
  if (known && !pinned) {
    // Known to be stateless: nothing to open.
    set_version(wire::modern, known->version);
    opened = true;
    open_result = "{}";
    co_return open_result;
  }
  auto p = probe(pinned);
  co_return co_await std::move(p);
}

asio::awaitable<result<std::string>> mcp_session::impl::probe(bool pinned) {
  std::string asked = pinned ? server.protocol : std::string(mcp::modern_versions[0]);
  for (int round = 0;; ++round) {
    set_version(wire::modern, asked);
    const std::int64_t id = next_id++;
    const std::string method = "server/discover", params = "{}";
    const std::string body = mcp::request_body(id, method, mcp::with_meta(params, asked, client_capabilities()));
    const std::string verb = "POST";
    auto req = make_request(verb, body, mcp::standard_headers(asked, method, params));
    std::shared_ptr<mcp::answer_stream> stream;
    auto send = send_authorized(std::move(req), id, &stream);
    auto resp = co_await std::move(send);
    if (!resp) {
      set_version(wire::unknown, "");
      co_return scrubbed(resp.err());
    }
    std::optional<std::string> message;
    if (auto m = mcp::answer_message(*resp, *stream, method, where(), sent); m) message = std::move(m).value();
    const auto v = mcp::classify_probe(resp->status, message, asked, ours());
    using kind = mcp::probe_verdict::kind;
    if (v.what == kind::modern) {
      debug("speaking MCP " + asked + " (stateless: " + v.reason + ")");
      if (!pinned) resources.eras->put(server.url, {wire::modern, asked});
      auto res = mcp::answer_result(*message, method, where(), sent);
      opened = true;
      open_result = res ? std::move(res).value() : "{}";
      co_return open_result;
    }
    if (v.what == kind::renegotiate && round == 0 && (!pinned || v.version == asked)) {
      debug("the server does not speak " + asked + "; asking again with " + v.version);
      asked = v.version;
      continue;
    }
    set_version(wire::unknown, "");
    if (v.what == kind::legacy && !pinned) {
      debug("the server answered server/discover the 2025 way (" + v.reason + "): speaking MCP " +
            std::string(mcp::legacy_versions[0]) + " with initialize");
      resources.eras->put(server.url, {wire::legacy, std::string(mcp::legacy_versions[0])});
      auto init = initialize(std::string(mcp::legacy_versions[0]));
      co_return co_await std::move(init);
    }
    if (pinned) {
      co_return make_err(errc::protocol, where() + " does not speak MCP " + asked +
                                             ", which remote.protocol pins (" + v.reason +
                                             "). Set protocol = \"auto\" to let fracta ask the server");
    }
    co_return make_err(errc::protocol, where() + ": no MCP version in common (" + v.reason + ")");
  }
}

asio::awaitable<result<std::string>> mcp_session::impl::modern_exchange(const std::string& method,
                                                                       const std::string& params, bool& stale,
                                                                       std::shared_ptr<raw_request> raw) {
  const std::string caps = raw && !raw->capabilities.empty() ? raw->capabilities : client_capabilities();
  std::vector<http::header> headers = mcp::standard_headers(protocol_version, method, params);
  if (method == "tools/call") {
    // Mcp-Param-* mirror the arguments the tool's schema names (do_call_tool listed it first).
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (json::parse(parser, params, doc).empty()) {
      const std::string name(json::get_string(doc, "name").value_or(""));
      auto args = json::get(doc, "arguments");
      if (auto it = tool_schemas.find(name); it != tool_schemas.end() && args) {
        for (auto& h : mcp::param_headers(it->second, json::to_string(*args))) headers.push_back(std::move(h));
      }
    }
  }
  // A stream that breaks before its answer loses the request: send it again, with a new id.
  for (int attempt = 0;; ++attempt) {
    const std::int64_t id = next_id++;
    const std::string body = mcp::request_body(id, method, mcp::with_meta(params, protocol_version, caps));
    const std::string verb = "POST";
    auto req = make_request(verb, body, headers);
    // A listen stream lasts until it is cancelled, not for the exchange deadline.
    if (method == "subscriptions/listen") req.timeout = listen_deadline;
    std::shared_ptr<mcp::answer_stream> stream;
    if (raw) {
      raw->upstream_id = id;
      raw_by_id[id] = raw;
    }
    auto send = send_authorized(std::move(req), id, &stream, raw);
    auto resp = co_await std::move(send);
    if (raw) raw_by_id.erase(id);
    if (!resp) {
      if (raw && raw->cancelled) co_return scrubbed(resp.err());
      const bool cut = last_transport_error == http::make_error_code(http::errc::receive_failed);
      if (cut && attempt == 0 && stream && stream->fed() > 0) {
        debug(method + ": the stream broke before its answer; sending the request again");
        continue;
      }
      co_return scrubbed(resp.err());
    }
    // An error status may come without a JSON body (a bare 404, an HTML page): only a success
    // must carry a readable one.
    const bool success = resp->status >= 200 && resp->status <= 299;
    auto m = mcp::answer_message(*resp, *stream, method, where(), sent);
    if (!m && success) co_return scrubbed(m.err());
    std::optional<std::string> message;
    if (m) message = std::move(m).value();
    if (success) {
      if (!message) {
        if (attempt == 0 && stream->is_stream()) {
          debug(method + ": the stream ended before its answer; sending the request again");
          continue;
        }
        co_return make_err(errc::protocol, where() + " did not answer " + method);
      }
      co_return std::move(*message);
    }
    // An error status: a -32022, or a 2025-style refusal, means the version no longer holds.
    const auto code = message ? mcp::error_code(*message) : std::nullopt;
    const bool modern_error = code && (*code == -32020 || *code == -32021 || *code == -32601 || *code == -32602);
    if (!modern_error && (resp->status == 400 || resp->status == 404 || resp->status == 405)) stale = true;
    if (code && *code == -32022) stale = true;
    if (message) co_return std::move(*message);  // the caller reads the JSON-RPC error
    co_return scrubbed(check_accepted(*resp, method).err());
  }
}

asio::awaitable<result<std::string>> mcp_session::impl::modern_call(const std::string& method,
                                                                   const std::string& params, bool& stale) {
  std::string current = params;
  for (int round = 0;; ++round) {
    auto exchange = modern_exchange(method, current, stale);
    auto message = co_await std::move(exchange);
    if (!message) co_return message.err();
    auto res = mcp::answer_result(*message, method, where(), sent);
    if (!res) co_return res.err();
    auto kind = mcp::classify_result(*res);
    using k = mcp::result_kind::kind;
    if (kind.what == k::complete) co_return res;
    if (kind.what == k::invalid) {
      co_return make_err(errc::protocol, where() + " answered " + method + " with a result fracta cannot read (" +
                                             mcp::server_text(kind.reason, sent, 200) + ")");
    }
    if (round + 1 >= max_input_rounds) {
      co_return make_err(errc::protocol, where() + " asked for input " + std::to_string(max_input_rounds) +
                                             " times in a row for one " + method + "; giving up");
    }
    auto answers = fulfil(kind.requests);
    auto responses = co_await std::move(answers);
    if (!responses) co_return responses.err();
    debug(method + ": answering the server's " + std::to_string(responses->size()) + " input request(s)");
    current = mcp::retry_params(params, *responses, kind.request_state);
  }
}

asio::awaitable<result<std::vector<std::pair<std::string, std::string>>>> mcp_session::impl::fulfil(
    const std::vector<mcp::input_request>& requests) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : requests) {
    // Only what fracta declared: form elicitation, when someone can answer.
    if (r.method != "elicitation/create" || !can_elicit()) {
      co_return make_err(errc::unsupported, where() + " asked for " + text::printable(r.method, 64) +
                                                ", which fracta did not offer" +
                                                (r.method == "elicitation/create"
                                                     ? " (it asks the user only when a terminal is attached)"
                                                     : ""));
    }
    auto e = elicit(r.params_json);
    auto answer = co_await std::move(e);
    if (!answer) co_return answer.err();
    out.emplace_back(r.key, std::move(answer).value());
  }
  co_return out;
}

}  // namespace fracta
