// SPDX-License-Identifier: Apache-2.0
// The 2025 wire: initialize and its session, requests in it, streams resumed with Last-Event-ID,
// and the requests a server sends on a stream (ping, elicitation) answered.
#include <string>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>

#include "core/async.hpp"
#include "mcp/messages.hpp"
#include "mcp/session_impl.hpp"

namespace fracta {

using mcp::make_err;

namespace {

// A cut stream is resumed at most this many times, waiting what the server asked (capped).
constexpr int max_resumes = 3;
constexpr std::uint64_t default_retry_ms = 1000, max_retry_ms = 10'000;
// The GET stream lives until close(); the first request waits this long at most for it.
constexpr std::chrono::hours listen_deadline{24};
constexpr std::chrono::milliseconds listen_wait{3000};

// On the blocking pool: the user answers (a plain coroutine: GCC 12 rule).
asio::awaitable<std::string> elicit_on_pool(const interactive_options* who, std::string params) {
  co_return who->elicit(params);
}

}  // namespace

asio::awaitable<void> mcp_session::impl::stream_message_on_actor(std::shared_ptr<impl> self, std::string message,
                                                                 std::int64_t stream_id) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, message, doc).empty()) co_return;
  const std::string method(json::get_string(doc, "method").value_or(""));
  // A response is never a message for anyone: an answer of ours is read by the exchange (a
  // server's error with id null, say, to a probe it could not parse).
  if (method.empty()) co_return;
  // The raw face's listeners first: the request whose stream it came on, else the session's.
  if (auto it = self->raw_by_id.find(stream_id); it != self->raw_by_id.end() && it->second->on_message) {
    it->second->on_message(std::move(message));
    co_return;
  }
  if (self->message_handler) {
    self->message_handler(std::move(message));
    co_return;
  }
  if (json::get(doc, "id") && !method.empty()) {
    if (self->era == wire::modern) {
      // The stateless wire has no server-to-client requests (it asks through input_required).
      self->debug("ignoring a server request on a stateless stream: " + mcp::server_text(method, self->sent, 64));
      co_return;
    }
    auto answer = self->answer_server_request(std::move(message));
    co_await std::move(answer);
    co_return;
  }
  if (method == "notifications/progress") {
    auto params = json::get(doc, "params");
    std::string line = "progress";
    if (params) {
      if (auto p = json::get(*params, "progress")) line += " " + json::to_string(*p);
      if (auto t = json::get(*params, "total")) line += "/" + json::to_string(*t);
      if (auto m = json::get_string(*params, "message")) line += ": " + mcp::server_text(*m, self->sent, 200);
    }
    if (self->interactive != nullptr && self->interactive->progress) self->interactive->progress(line);
    else self->debug(line);
    co_return;
  }
  self->debug("server message " + mcp::server_text(method, self->sent, 100));
}

void mcp_session::impl::on_stream_message(std::string message, std::int64_t stream_id) {
  stream_tasks.enter();  // before the post: a close that starts meanwhile waits for this message
  asio::co_spawn(strand, stream_task(shared_from_this(), std::move(message), stream_id), asio::detached);
}

asio::awaitable<void> mcp_session::impl::stream_task(std::shared_ptr<impl> self, std::string message,
                                                     std::int64_t stream_id) {
  try {
    auto handled = stream_message_on_actor(self, std::move(message), stream_id);
    co_await std::move(handled);
  } catch (...) {
    self->debug("a server message could not be handled");
  }
  self->stream_tasks.leave();
}

asio::awaitable<result<std::string>> mcp_session::impl::elicit(const std::string& params_json) {
  auto run = core::run_on(blocking, elicit_on_pool(interactive, params_json));
  std::string answer = co_await std::move(run);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, answer, doc).empty() || !json::get_string(doc, "action")) {
    co_return make_err(errc::unsupported, where() + ": the answer to the server's question is not an ElicitResult");
  }
  co_return answer;
}

asio::awaitable<void> mcp_session::impl::answer_server_request(std::string message) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, message, doc).empty()) co_return;
  const std::string id = json::to_string(json::get(doc, "id").value());
  const std::string method(json::get_string(doc, "method").value_or(""));
  std::optional<std::string> answer;
  std::string refusal = "fracta does not offer " + method;
  if (method == "ping") {
    answer = "{}";
  } else if (method == "elicitation/create" && can_elicit()) {
    auto params = json::get(doc, "params");
    const std::string p = params ? json::to_string(*params) : std::string("{}");
    auto e = elicit(p);
    auto r = co_await std::move(e);
    if (r) answer = std::move(r).value();
    else refusal = "the question could not be put to the user";
  }
  debug("answering the server's " + mcp::server_text(method, sent, 64) + " request");
  const std::string body = mcp::response_body(id, answer, -32601, refusal);
  const std::string verb = "POST";
  auto req = make_request(verb, body);
  auto send = send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) debug("answering the server's request failed: " + scrubbed(resp.err()).message);
}

asio::awaitable<void> mcp_session::impl::listen(std::shared_ptr<impl> self, std::shared_ptr<core::async_event> ready,
                                                std::shared_ptr<core::async_event> done) {
  const std::string verb = "GET", body;
  auto req = self->make_request(verb, body);
  req.timeout = listen_deadline;  // ended by close(), not by the exchange deadline
  const auto strand = self->strand;
  req.on_headers = [strand, ready](long, const std::vector<http::header>&) {
    asio::post(strand, [ready] { ready->set(); });
  };
  auto stream = self->make_stream(-1);  // no answer ends it
  req.complete_when = [stream](std::string_view chunk) { return stream->feed(chunk); };
  auto send = self->send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) {
    self->debug("the session's GET stream ended: " + self->scrubbed(resp.err()).message);
  } else {
    self->debug("the session's GET stream ended (HTTP " + std::to_string(resp->status) + ")");
  }
  ready->set();
  done->set();
}

asio::awaitable<void> mcp_session::impl::ensure_listening() {
  const bool active = listen_done && !listen_done->is_set();
  const bool wanted = can_elicit() || message_handler;
  if (active || era != wire::legacy || session_id.empty() || !wanted) co_return;
  // A finished listener's signal is no longer bound to anything: replacing it is safe.
  listen_cancel = std::make_shared<asio::cancellation_signal>();
  listen_done = std::make_shared<core::async_event>();
  auto ready = std::make_shared<core::async_event>();
  asio::co_spawn(strand, listen(shared_from_this(), ready, listen_done),
                 asio::bind_cancellation_slot(listen_cancel->slot(), asio::detached));
  // A server that never answers the GET must not hold the call: wait a few seconds at most
  // (real time: this bounds a connection, not protocol time). The timer's handler holds only
  // the event, so nothing is kept alive by it.
  auto timer = std::make_shared<asio::steady_timer>(strand, listen_wait);
  timer->async_wait([ready](const std::error_code&) { ready->set(); });
  auto wait = ready->wait();
  co_await std::move(wait);
  timer->cancel();
}

void mcp_session::impl::stop_listening() {
  // The signal stays: the listener's coroutine is bound to it until it has finished.
  if (listen_done && !listen_done->is_set()) listen_cancel->emit(asio::cancellation_type::terminal);
}

asio::awaitable<result<std::string>> mcp_session::impl::initialize(std::string version) {
  const std::string method = "initialize", params = mcp::initialize_params(version, client_capabilities());
  bool expired = false;
  auto c = legacy_rpc(method, params, expired);
  auto r = co_await std::move(c);
  if (!r) co_return r.err();
  auto negotiated = mcp::negotiated_version(*r, where(), sent);
  if (!negotiated) co_return scrubbed(negotiated.err());
  set_version(wire::legacy, std::move(negotiated).value());
  const std::string note = "notifications/initialized";
  auto notification = notify(note);
  auto n = co_await std::move(notification);
  if (!n) {
    set_version(wire::unknown, "");
    co_return n.err();
  }
  opened = true;
  open_result = *r;
  co_return open_result;
}

asio::awaitable<result<std::string>> mcp_session::impl::legacy_rpc(const std::string& method,
                                                                  const std::string& params, bool& expired) {
  auto exchange = legacy_exchange(method, params, expired);
  auto message = co_await std::move(exchange);
  if (!message) co_return message.err();
  co_return finish(mcp::answer_result(*message, method, where(), sent));
}

asio::awaitable<result<std::string>> mcp_session::impl::legacy_exchange(const std::string& method,
                                                                       const std::string& params, bool& expired,
                                                                       std::shared_ptr<raw_request> raw) {
  const std::int64_t id = next_id++;
  const std::string verb = "POST", body = mcp::request_body(id, method, params);
  const std::string sent_session = session_id;
  auto req = make_request(verb, body);
  std::shared_ptr<mcp::answer_stream> stream;
  // Registered until the answer is in, resumed streams included.
  struct registration {
    impl* self = nullptr;
    std::int64_t id = 0;
    ~registration() {
      if (self != nullptr) self->raw_by_id.erase(id);
    }
  } registered;
  if (raw) {
    raw->upstream_id = id;
    raw_by_id[id] = raw;
    registered.self = this;
    registered.id = id;
  }
  auto send = send_authorized(std::move(req), id, &stream, raw);
  auto resp = co_await std::move(send);
  if (!resp) co_return scrubbed(resp.err());
  expired = resp->status == 404 && !sent_session.empty() && method != "initialize";
  if (expired) {
    co_return make_err(errc::protocol, where() + " no longer knows the session it gave out (HTTP 404)");
  }
  if (auto ok = check_accepted(*resp, method); !ok) co_return scrubbed(ok.err());
  if (method == "initialize") {
    if (auto sid = resp->header("mcp-session-id")) {
      session_id = std::string(*sid);
      sent.add(session_id);  // a capability: never in an error or a log line
    }
  }
  auto m = mcp::answer_message(*resp, *stream, method, where(), sent);
  if (!m) co_return scrubbed(m.err());
  std::optional<std::string> message = std::move(m).value();
  if (!message && stream->is_stream() && !stream->last_event_id().empty()) {
    auto r = resume(stream, method);
    auto resumed = co_await std::move(r);
    if (!resumed) co_return resumed.err();
    message = stream->answer();
  }
  if (!message) {
    co_return make_err(errc::protocol, where() + " did not answer " + method + " (request id " + std::to_string(id) +
                                           ")");
  }
  co_return std::move(*message);
}

asio::awaitable<result<void>> mcp_session::impl::resume(std::shared_ptr<mcp::answer_stream> stream,
                                                       const std::string& method) {
  for (int attempt = 0; attempt < max_resumes && !stream->answer(); ++attempt) {
    const std::uint64_t wait = std::min(stream->retry_ms().value_or(default_retry_ms), max_retry_ms);
    debug(method + ": the stream ended before its answer; resuming it in " + std::to_string(wait) + " ms");
    auto pause = core::sleep_for(*clock, strand, std::chrono::milliseconds(wait));
    co_await std::move(pause);
    const std::string verb = "GET", body, last = stream->last_event_id();
    const std::vector<http::header> extra{{"Last-Event-ID", last}};
    auto req = make_request(verb, body, extra);
    req.complete_when = [stream](std::string_view chunk) { return stream->feed(chunk); };
    stream->resume();
    auto send = send_authorized(std::move(req), 0, nullptr);
    auto resp = co_await std::move(send);
    if (!resp) co_return scrubbed(resp.err());
    if (auto ok = check_accepted(*resp, method); !ok) co_return scrubbed(ok.err());
    stream->feed("\n\n");
  }
  co_return result<void>{};
}

asio::awaitable<result<void>> mcp_session::impl::notify(const std::string& method) {
  const std::string verb = "POST", body = mcp::notification_body(method);
  auto req = make_request(verb, body);
  auto send = send_authorized(std::move(req), 0, nullptr);
  auto resp = co_await std::move(send);
  if (!resp) co_return scrubbed(resp.err());
  co_return finish(check_accepted(*resp, method));
}

}  // namespace fracta
