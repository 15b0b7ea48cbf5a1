// SPDX-License-Identifier: Apache-2.0
// A 2025 server's questions (elicitation, sampling, roots) during a 2026-07-28 client's call on
// /mcp. A 2026 client takes no requests, so the upstream call is parked: it goes on, and the
// client gets an input_required result whose requestState names the parked call. The client's
// retry carries the answers; they go to the server as its requests' responses, and the wait for
// the call's answer goes on (more questions make another round).
//
// The requestState is a handle of 128 random bits: it cannot be forged or guessed, and it is
// honoured only for the principal that the front end admitted for the first request, for the
// same method and name, once, and within ten minutes.
#include <chrono>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "fracta/json_writer.hpp"
#include "gateway/aggregate_detail.hpp"

namespace fracta::gateway {

using proxy::edit_object;
using proxy::error_response;
using proxy::member;

namespace {

constexpr std::chrono::minutes parked_deadline{10};  // a person's time to answer
constexpr std::size_t max_parked = 10000;
constexpr std::string_view state_prefix = "fracta-gw.";

// What a wait on a parked call came to: questions for the client, or the server's answer.
struct parked_event {
  std::string input_requests;  // an inputRequests object, when questions came first
  std::optional<result<rpc_answer>> answer;
};

// On the call's strand: the next thing to tell the client. The questions asked so far are
// given keys and kept under them, for the retry.
asio::awaitable<parked_event> next_event(std::shared_ptr<parked_call> p) {
  for (;;) {
    if (p->answer) co_return parked_event{{}, std::move(p->answer)};  // a late question is moot
    if (!p->queued.empty()) {
      std::vector<std::pair<std::string, std::optional<std::string>>> requests;
      for (auto& q : p->queued) {
        const std::string key = "q" + std::to_string(p->next_key++);
        json::writer r;
        r.begin_object().key("method").value(q.method).key("params").raw(q.params).end_object();
        requests.emplace_back(key, r.take());
        p->asked[key] = std::move(q.upstream_id);
      }
      p->queued.clear();
      co_return parked_event{edit_object("{}", requests), std::nullopt};
    }
    p->wake.expires_at(asio::steady_timer::time_point::max());
    std::error_code ec;
    co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// On the call's strand: the client's answers go to the server's requests (an unanswered one
// gets an error, so the server does not wait for it), and the expiry is called off.
asio::awaitable<void> deliver_answers(std::shared_ptr<parked_call> p, std::string responses) {
  ++p->generation;
  p->expiry.cancel();
  auto asked = std::move(p->asked);
  p->asked.clear();
  for (const auto& [key, upstream_id] : asked) {
    const auto value = member(responses, key);
    std::string text = value && value->front() == '{'
                           ? proxy::response(upstream_id, *value)
                           : error_response(upstream_id, -32602, "the client gave no answer to this request");
    auto post = p->up->session->post(std::move(text));
    auto posted = co_await std::move(post);
    (void)posted;  // a server that went away: the call's answer says so
  }
}

}  // namespace

std::shared_ptr<parked_call> gateway::new_parked_call(call_context& c, const std::shared_ptr<upstream>& up) {
  auto p = std::make_shared<parked_call>(io_);
  p->up = up;
  p->principal = c.req.principal;
  p->method = c.msg.method;
  const std::string params = c.msg.params_json.empty() ? "{}" : c.msg.params_json;
  p->name = unquoted(member(params, c.msg.method == "resources/read" ? "uri" : "name"));
  return p;
}

void gateway::park_question(const std::shared_ptr<parked_call>& p, std::string id_json, std::string method,
                            std::string params_json) {
  if (params_json.empty()) params_json = "{}";
  asio::post(p->strand, [p, q = parked_call::question{std::move(id_json), std::move(method), std::move(params_json)}]() mutable {
    p->queued.push_back(std::move(q));
    p->wake.cancel();
  });
}

asio::awaitable<void> gateway::run_parked(std::shared_ptr<parked_call> p, std::string method, std::string params,
                                          request_options opts) {
  auto send = p->up->session->request(std::move(method), std::move(params), std::move(opts));
  auto answer = co_await std::move(send);
  // Back on the call's strand (this coroutine runs there).
  p->answer = std::move(answer);
  p->wake.cancel();
}

asio::awaitable<std::string> gateway::wait_parked(call_context& c, std::shared_ptr<parked_call> p) {
  auto next = asio::co_spawn(p->strand, next_event(p), asio::use_awaitable);
  parked_event e = co_await std::move(next);
  if (e.answer) co_return call_answer(c, *p->up, *e.answer, "", p->started);
  const std::string token = std::string(state_prefix) + random_id();
  bool kept = false;
  {
    std::unique_lock lk(mutex_);
    if (parked_.size() < max_parked) {
      parked_[token] = p;
      kept = true;
    }
  }
  if (!kept) {
    p->up->session->cancel(p->cancel_key);
    co_return error_response(c.msg.id_json, -32603, "too many calls are waiting for their clients' answers");
  }
  asio::co_spawn(p->strand, expire_parked(weak_from_this(), token, p), asio::detached);
  const std::string result = edit_object("{}", {{"resultType", "\"input_required\""},
                                                {"inputRequests", e.input_requests},
                                                {"requestState", proxy::json_string(token)}});
  co_return proxy::response(c.msg.id_json, result);
}

asio::awaitable<std::string> gateway::resume_parked(call_context& c, std::shared_ptr<upstream> up) {
  const std::string params = c.msg.params_json.empty() ? "{}" : c.msg.params_json;
  const std::string token = unquoted(member(params, "requestState"));
  const std::string name = unquoted(member(params, c.msg.method == "resources/read" ? "uri" : "name"));
  std::shared_ptr<parked_call> p;
  bool too_many = false;
  {
    std::unique_lock lk(mutex_);
    auto it = parked_.find(token);
    // Only for the caller it was issued to, and the same call: another's handle is unknown here.
    if (it != parked_.end() && it->second->principal == c.req.principal && it->second->method == c.msg.method &&
        it->second->name == name && it->second->up == up) {
      p = it->second;
      parked_.erase(it);
      too_many = ++p->rounds > max_input_rounds;
    }
  }
  if (!p) {
    co_return error_response(c.msg.id_json, -32602,
                             "requestState is not one this gateway issued for this call, or it expired: make the call "
                             "again without inputResponses and requestState");
  }
  if (too_many) {
    p->up->session->cancel(p->cancel_key);
    co_return call_answer(c, *up, result<rpc_answer>(rpc_answer{}),
                          "server '" + up->name + "' asked for input too many times in a row", p->started);
  }
  c.out->on_disconnect([p] { p->up->session->cancel(p->cancel_key); });
  auto deliver = asio::co_spawn(p->strand, deliver_answers(p, member(params, "inputResponses").value_or("{}")),
                                asio::use_awaitable);
  co_await std::move(deliver);
  auto wait = wait_parked(c, p);
  co_return co_await std::move(wait);
}

asio::awaitable<void> gateway::expire_parked(std::weak_ptr<gateway> weak, std::string token,
                                             std::shared_ptr<parked_call> p) {
  const std::uint64_t generation = p->generation;
  p->expiry.expires_after(parked_deadline);
  std::error_code ec;
  co_await p->expiry.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (p->generation != generation) co_return;  // the client came back
  if (auto self = weak.lock()) {
    std::unique_lock lk(self->mutex_);
    auto it = self->parked_.find(token);
    if (it == self->parked_.end() || it->second != p) co_return;
    self->parked_.erase(it);
  }
  p->up->session->cancel(p->cancel_key);  // the client did not come back: the server's call ends
}

}  // namespace fracta::gateway
