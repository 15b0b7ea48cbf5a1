// SPDX-License-Identifier: Apache-2.0
// The session's raw face, for bridges and embedders: any JSON-RPC request on either wire with
// its answer as the server gave it, notifications and responses posted, requests cancelled.
#include <string>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "mcp/headers.hpp"
#include "mcp/messages.hpp"
#include "mcp/session_impl.hpp"

namespace fracta {

using mcp::make_err;

namespace {

result<rpc_answer> read_answer(const std::string& message, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = json::parse(parser, message, doc); !e.empty()) {
    return make_err(errc::protocol, where + " sent a message that is not JSON (" + e + ")");
  }
  if (auto err = json::get(doc, "error")) return rpc_answer{true, json::to_string(*err)};
  if (auto res = json::get(doc, "result")) return rpc_answer{false, json::to_string(*res)};
  return make_err(errc::protocol, where + " answered without result or error");
}

std::string tool_name_of(const std::string& params) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, params, doc).empty()) return {};
  return std::string(json::get_string(doc, "name").value_or(""));
}

}  // namespace

asio::awaitable<result<rpc_answer>> mcp_session::impl::do_request(std::string method, std::string params,
                                                                  request_options opts) {
  auto raw = std::make_shared<raw_request>();
  raw->on_message = std::move(opts.on_message);
  raw->capabilities = std::move(opts.client_capabilities_json);
  raw->key = opts.cancel_key;
  const key_registration registered(this, raw);
  for (int attempt = 0;; ++attempt) {
    auto open = do_open();
    auto opened_r = co_await std::move(open);
    if (raw->cancelled) co_return make_err(errc::cancelled, where() + ": the request was cancelled");
    if (!opened_r) co_return opened_r.err();
    if (era == wire::legacy) {
      // Notifications and requests outside any request come on the GET stream.
      auto listening = ensure_listening();
      co_await std::move(listening);
    } else if (method == "tools/call" && !tool_schemas.count(tool_name_of(params))) {
      // Its schema names the Mcp-Param-* headers the call carries: list first (best effort;
      // the server judges a call to a tool it does not have).
      auto find = find_tool_schema(tool_name_of(params));
      auto l = co_await std::move(find);
      if (!l) debug("tools/call: listing the tools first failed: " + l.err().message);
    }
    const std::string sent_session = session_id;
    bool again = false;
    auto once = raw_once(method, params, raw, again);
    auto r = co_await std::move(once);
    if (!again || attempt == 1 || raw->cancelled) co_return r;
    if (session_id == sent_session) {
      debug(era == wire::modern ? "the server no longer speaks " + protocol_version + "; asking it again"
                                : "the session expired; starting a new one");
      forget_session(era == wire::modern);
    }
  }
}

asio::awaitable<result<rpc_answer>> mcp_session::impl::raw_once(const std::string& method, const std::string& params,
                                                                std::shared_ptr<raw_request> raw, bool& again) {
  result<std::string> message = error{};
  const bool modern = era == wire::modern;
  if (modern) {
    auto e = modern_exchange(method, params, again, raw);
    message = co_await std::move(e);
  } else {
    auto e = legacy_exchange(method, params, again, raw);
    message = co_await std::move(e);
  }
  if (!message) {
    if (!again) note_outcome(&message.err());
    co_return message.err();
  }
  note_outcome(nullptr);
  auto answer = read_answer(*message, where());
  if (!answer || answer->is_error || !modern || method != "tools/list") co_return answer;
  // A tool whose x-mcp-header annotations are invalid cannot be called on this wire.
  auto drop = [](std::string_view schema) { return mcp::invalid_x_mcp_header(schema); };
  auto note = [this](const std::string& line) {
    if (log) log(log_level::warn, "server '" + server.name + "': " + line);
  };
  tool_list list = mcp::parse_tool_list(answer->json, drop, note);
  for (const auto& t : list.tools) tool_schemas[t.name] = t.input_schema_json;
  answer->json = std::move(list.result_json);
  co_return answer;
}

asio::awaitable<result<void>> mcp_session::impl::do_post(std::string message) {
  auto open = do_open();
  auto opened_r = co_await std::move(open);
  if (!opened_r) co_return opened_r.err();
  if (era == wire::modern) {
    // No client notifications and no server requests on this wire.
    debug("not sending a message to a stateless server (it has no client notifications)");
    co_return result<void>{};
  }
  const std::string verb = "POST";
  auto req = make_request(verb, std::move(message));
  auto send = send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) co_return scrubbed(resp.err());
  const std::string what = "a message";
  co_return finish(check_accepted(*resp, what));
}

void mcp_session::impl::do_cancel(std::uint64_t key) {
  auto it = raw_by_key.find(key);
  if (it == raw_by_key.end() || it->second->cancelled) return;
  auto raw = it->second;
  raw->cancelled = true;
  raw->cancel->emit(asio::cancellation_type::terminal);
  // A 2025 server reads a closed stream as a disconnection only: tell it.
  if (era == wire::legacy && raw->upstream_id != 0) {
    asio::co_spawn(strand, send_cancelled(shared_from_this(), raw->upstream_id), asio::detached);
  }
}

asio::awaitable<void> mcp_session::impl::send_cancelled(std::shared_ptr<impl> self, std::int64_t upstream_id) {
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("method").value("notifications/cancelled");
  w.key("params").begin_object().key("requestId").value(upstream_id).key("reason").value("cancelled by the client");
  w.end_object().end_object();
  const std::string verb = "POST";
  auto req = self->make_request(verb, w.take());
  auto send = self->send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) self->debug("sending notifications/cancelled failed: " + self->scrubbed(resp.err()).message);
}

// ---- mcp_session's raw face ------------------------------------------------------------------

asio::awaitable<result<rpc_answer>> mcp_session::request(std::string method, std::string params_json,
                                                         request_options options) {
  return core::run_on(impl_->strand, impl_->do_request(std::move(method), std::move(params_json), std::move(options)),
                      impl_);
}

asio::awaitable<result<void>> mcp_session::post(std::string message_json) {
  return core::run_on(impl_->strand, impl_->do_post(std::move(message_json)), impl_);
}

void mcp_session::cancel(std::uint64_t key) {
  asio::post(impl_->strand, [p = impl_, key] { p->do_cancel(key); });
}

void mcp_session::set_message_handler(std::function<void(std::string message_json)> handler) {
  impl_->message_handler = std::move(handler);
}

void mcp_session::set_client_capabilities(std::string capabilities_json) {
  impl_->declared_capabilities = std::move(capabilities_json);
}

}  // namespace fracta
