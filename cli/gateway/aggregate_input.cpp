// SPDX-License-Identifier: Apache-2.0
// A 2026-07-28 server's `input_required` put to a 2025 client of /mcp: each of its
// inputRequests becomes a request of the gateway's own on the call's event stream, and the
// client's answers (POSTed back) become the inputResponses of the call's next round.
#include <chrono>

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "gateway/aggregate_detail.hpp"

namespace fracta::gateway {

namespace {

// How long a person may take to answer, and how often the wait looks whether the client left.
constexpr std::chrono::minutes answer_deadline{10};
constexpr std::chrono::seconds recheck{1};

// One round's questions. Touched on the call's executor only (the answers are posted there).
struct round_answers {
  explicit round_answers(asio::any_io_executor ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer wake;
  std::size_t outstanding = 0;
  std::vector<std::pair<std::string, std::string>> got;  // inputRequests key → the answer's result
  std::string failed;                                     // the first error the client answered
};

}  // namespace

asio::awaitable<std::optional<std::string>> gateway::ask_client(call_context& c, std::string input_required_json,
                                                                std::shared_ptr<std::vector<std::string>> asked,
                                                                std::string* why) {
  const std::string requests = proxy::member(input_required_json, "inputRequests").value_or("");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (requests.empty() || !json::parse(parser, requests, doc).empty() || !doc.is_object()) {
    *why = "the server asked for input without inputRequests";
    co_return std::nullopt;
  }
  if (!c.accepts_sse) {
    *why = "the server asked for input, and this client does not accept the event stream questions need";
    co_return std::nullopt;
  }
  const simdjson::dom::object fields = doc.get_object().value_unsafe();
  for (auto field : fields) {
    const std::string method(json::get_string(field.value, "method").value_or(""));
    const auto capability = capability_for(method);
    if (capability.empty() || !proxy::member(c.capabilities, capability)) {
      *why = "the server asked for " + method.substr(0, 64) + ", which this client did not declare";
      co_return std::nullopt;
    }
  }
  auto ex = co_await asio::this_coro::executor;
  auto round = std::make_shared<round_answers>(ex);
  std::vector<std::string> messages;
  for (auto field : fields) {
    const std::string key(field.key);
    const std::string method(json::get_string(field.value, "method").value_or(""));
    auto params = json::get(field.value, "params");
    const std::string ours = proxy::json_string("gw-" + std::to_string(next_key()));
    relayed_question q;
    q.local = [round, key, ex](std::string result, std::string error) {
      asio::post(ex, [round, key, result = std::move(result), error = std::move(error)] {
        if (!error.empty() && round->failed.empty()) round->failed = error;
        if (error.empty()) round->got.emplace_back(key, result);
        if (--round->outstanding == 0) round->wake.cancel();
      });
    };
    {
      std::unique_lock lk(mutex_);
      questions_[c.session_id + "\n" + ours] = std::move(q);
      asked->push_back(c.session_id + "\n" + ours);
    }
    ++round->outstanding;
    messages.push_back(proxy::request(ours, method, params ? json::to_string(*params) : std::string("{}")));
  }
  open_event_stream(*c.out, *c.streaming, c.session_id);
  for (const auto& m : messages) c.out->write(sse_event(m));

  const auto until = std::chrono::steady_clock::now() + answer_deadline;
  while (round->outstanding > 0 && !c.abandoned->load() && !c.out->disconnected() &&
         std::chrono::steady_clock::now() < until) {
    round->wake.expires_after(recheck);
    std::error_code ec;
    co_await round->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (round->outstanding > 0) {
    *why = c.abandoned->load() || c.out->disconnected() ? "the client left before it answered the server's questions"
                                                        : "the client did not answer the server's questions in time";
    co_return std::nullopt;
  }
  if (!round->failed.empty()) {
    *why = "the client refused the server's question: " + proxy::member(round->failed, "message").value_or("an error");
    co_return std::nullopt;
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> responses;
  for (auto& [key, result] : round->got) responses.emplace_back(key, std::move(result));
  co_return proxy::edit_object("{}", responses);
}

}  // namespace fracta::gateway
