// SPDX-License-Identifier: Apache-2.0
// The session's pass-through: one HTTP request relayed as the client sent it, with the server's
// credential added, its response streamed back as it arrives.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fracta/proto/text.hpp>

#include "mcp/messages.hpp"
#include "mcp/session_impl.hpp"

namespace fracta {

using mcp::make_err;

namespace {

// A stream relayed for as long as the client holds it: close or cancel ends it, not a deadline.
constexpr std::chrono::hours stream_deadline{24};

// What one relayed exchange has shown its client. Shared by the attempts' callbacks, which run
// on the HTTP client's strand one at a time.
struct relay_state {
  std::function<void(long, const std::vector<std::pair<std::string, std::string>>&)> on_headers;
  std::function<void(std::string_view)> on_body;
  bool held = false;  // the attempt's response is a 401/403 that fracta handles
  long status = 0;    // relayed
};

}  // namespace

asio::awaitable<result<forward_outcome>> mcp_session::impl::do_forward(forward_request request) {
  if (request.method != "POST" && request.method != "GET" && request.method != "DELETE") {
    co_return make_err(errc::protocol, where() + ": only POST, GET and DELETE are relayed, not " +
                                           text::printable(request.method, 16));
  }
  auto state = std::make_shared<relay_state>();
  state->on_headers = std::move(request.on_headers);
  state->on_body = std::move(request.on_body);

  http::request req;
  req.method = request.method;
  req.url = server.url;
  req.timeout = req.method == "GET" ? std::chrono::milliseconds(stream_deadline)
                                    : std::chrono::milliseconds(std::chrono::seconds(server.timeout_seconds));
  for (const auto& [k, v] : server.headers) req.headers.push_back({k, v});
  for (auto& [k, v] : request.headers) req.headers.push_back({std::move(k), std::move(v)});
  req.body = std::move(request.body);
  req.discard_body = true;
  req.on_headers = [state](long status, const std::vector<http::header>& headers) {
    state->held = status == 401 || status == 403;
    if (state->held) return;
    state->status = status;
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(headers.size());
    for (const auto& h : headers) out.emplace_back(h.name, h.value);
    if (state->on_headers) state->on_headers(status, out);
  };
  req.on_body_chunk = [state](std::string_view chunk) {
    if (!state->held && state->on_body) state->on_body(chunk);
  };

  auto raw = std::make_shared<raw_request>();
  raw->key = request.cancel_key;
  const key_registration registered(this, raw);

  auto send = send_authorized(std::move(req), 0, nullptr, raw);
  auto resp = co_await std::move(send);
  if (!resp) {
    if (!raw->cancelled) note_outcome(&resp.err());
    co_return scrubbed(std::move(resp).err());
  }
  if (state->status == 0) {
    // The response ended before its header block was complete (curl reports no status).
    co_return make_err(errc::protocol, where() + " answered without a complete response (HTTP " +
                                           std::to_string(resp->status) + ")");
  }
  note_outcome(nullptr);
  co_return forward_outcome{state->status};
}

asio::awaitable<result<forward_outcome>> mcp_session::forward(forward_request request) {
  return core::run_on(impl_->strand, impl_->do_forward(std::move(request)), impl_);
}

}  // namespace fracta
