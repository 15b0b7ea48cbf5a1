// SPDX-License-Identifier: Apache-2.0
// fake_host.hpp plus the services the OAuth providers need: scripted HTTP, a credential store
// with an op log, the loopback redirect, open_url and the device-code prompt.
#pragma once

#include "../fake_host.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fracta/proto/url.hpp>

namespace fracta::test {

/// One HTTP request the plugin sent, as it sent it.
struct recorded_request {
  std::string method, url, body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return v;
    }
    return std::nullopt;
  }
  /// Every header, name and value, one a line (for "does this secret appear anywhere").
  std::string everything() const {
    std::string out = method + ' ' + url + '\n';
    for (const auto& [n, v] : headers) out += n + ": " + v + '\n';
    return out + body;
  }
};

/// A scripted answer: an HTTP response, or (error != FRACTA_OK) a network failure.
struct http_reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  std::int32_t error = FRACTA_OK;
  std::string message;

  static http_reply json(int status, std::string body) {
    http_reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static http_reply text(int status, std::string body) {
    http_reply r = json(status, std::move(body));
    r.headers = {{"Content-Type", "text/plain"}};
    return r;
  }
  static http_reply network(std::int32_t error, std::string message) {
    http_reply r;
    r.error = error;
    r.message = std::move(message);
    return r;
  }
};

/// The parameters of a query string or form body, decoded.
inline std::vector<std::pair<std::string, std::string>> form_params(std::string_view text) {
  return http::parse_query(text);
}
/// The query parameters of a URL, decoded.
inline std::vector<std::pair<std::string, std::string>> url_params(std::string_view url) {
  const auto q = url.find('?');
  return q == std::string_view::npos ? decltype(form_params("")){} : form_params(url.substr(q + 1));
}
/// The value of `name` in decoded parameters, or nullopt.
inline std::optional<std::string> param(const std::vector<std::pair<std::string, std::string>>& ps,
                                        std::string_view name) {
  for (const auto& [k, v] : ps)
    if (k == name) return v;
  return std::nullopt;
}
inline std::size_t count_param(const std::vector<std::pair<std::string, std::string>>& ps, std::string_view name) {
  std::size_t n = 0;
  for (const auto& [k, v] : ps) n += k == name ? 1 : 0;
  return n;
}

/// fake_host (included, unchanged) with the OAuth services filled in. Every completion is
/// queued on the base host's queue, in call order, and runs when the test runs the queue:
/// never inside the call that started it.
///
/// HTTP: `handler` is asked first; else `routes["METHOD URL"]` (URL without its query)
/// answers from its queue, popping all but the last answer (which repeats); else 404 "{}".
/// `hold(route)` parks the next request to that route: its answer is delivered only when the
/// test calls release() (so a test can interleave other operations with it).
/// Store: `store` holds the items; `ops` logs every store call, open_url, redirect and HTTP
/// request in order ("get tokens", "put tokens", "erase registration", "http POST <url>",
/// "open_url", "redirect"), and "done put tokens" etc. when a store completion is delivered;
/// tests may append their own markers. `store_fail["put tokens"]`
/// makes that operation complete with the given status instead.
/// Timers: every delay is recorded in `timer_delays`, and a timer that fires moves both fake
/// clocks forward by its delay (time passes only through timers).
/// Redirects: with `redirect_sequence` empty, every redirect_await answers `redirect_for`;
/// otherwise each one answers the next function of the sequence, then FRACTA_E_TIMEOUT.
class oauth_fake_host final {
 public:
  static constexpr std::string_view redirect_uri = "http://127.0.0.1:53123/callback";

  oauth_fake_host() {
    registry()[&base] = this;
    fracta_host& t = base.table();
    t.http_send = &on_http_send;
    t.store_get = &on_store_get;
    t.store_put = &on_store_put;
    t.store_erase = &on_store_erase;
    t.open_url = &on_open_url;
    t.show_device_code = &on_show_device_code;
    t.redirect_listen = &on_redirect_listen;
    t.redirect_await = &on_redirect_await;
    t.timer_start = &on_timer_start;
    // The default redirect: the browser came back with a code, the right state and iss.
    redirect_for = [this](const std::string& authorize_url) {
      return callback_url({{"code", "the-code"}, {"state", state_of(authorize_url)}, {"iss", issuer}});
    };
  }
  ~oauth_fake_host() { registry().erase(&base); }
  oauth_fake_host(const oauth_fake_host&) = delete;
  oauth_fake_host& operator=(const oauth_fake_host&) = delete;

  const fracta_host* get() const { return base.get(); }

  /// Adds an answer to the route "METHOD URL".
  void on(const std::string& method, const std::string& url, http_reply reply) {
    routes[method + ' ' + url].push_back(std::move(reply));
  }

  /// Requests sent to `url` (without its query) with `method`.
  std::vector<recorded_request> sent(std::string_view method, std::string_view url) const {
    std::vector<recorded_request> out;
    for (const auto& r : requests)
      if (r.method == method && strip_query(r.url) == url) out.push_back(r);
    return out;
  }

  /// Parks the next request to "METHOD URL" until release().
  void hold(const std::string& method, const std::string& url) { held_routes.push_back(method + ' ' + url); }
  /// Delivers the parked answers (queued, in order; run() then runs them).
  void release() {
    for (auto& p : parked) base.queue.push_back(std::move(p));
    parked.clear();
  }

  /// Runs every queued operation (completions, posts, timers) until none is left.
  void run() {
    for (int guard = 0; guard < 10000 && base.run_next(); ++guard) {
    }
    REQUIRE_MESSAGE(base.queue.empty(), "the queue never drained (a polling loop?)");
  }
  /// What a host tearing the instance down does: every pending operation completes with
  /// FRACTA_E_CANCELLED (and whatever that queues, too).
  void teardown() {
    release();
    for (int guard = 0; guard < 10000 && base.run_next(FRACTA_E_CANCELLED); ++guard) {
    }
  }

  /// The index of the first op-log entry starting with `prefix`, or -1.
  int op_index(std::string_view prefix) const {
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (ops[i].starts_with(prefix)) return static_cast<int>(i);
    return -1;
  }
  int op_count(std::string_view prefix) const {
    int n = 0;
    for (const auto& o : ops) n += o.starts_with(prefix) ? 1 : 0;
    return n;
  }

  /// The state parameter of an authorize URL.
  static std::string state_of(const std::string& authorize_url) {
    return param(url_params(authorize_url), "state").value_or("");
  }
  /// The loopback callback URL with these (encoded) query parameters.
  static std::string callback_url(const std::vector<std::pair<std::string, std::string>>& ps) {
    return std::string(redirect_uri) + "?" + http::build_query(ps);
  }

  fake_host base;
  std::string issuer = "https://as.example.com";  // the iss the default redirect carries

  // HTTP
  std::function<std::optional<http_reply>(const recorded_request&)> handler;
  std::map<std::string, std::deque<http_reply>> routes;
  std::vector<recorded_request> requests;

  // store
  std::map<std::string, std::string> store;
  std::map<std::string, std::int32_t> store_fail;  // "put tokens" → status
  std::vector<std::string> ops;
  std::vector<std::string> held_routes;  // "METHOD URL": the next request to each is parked
  std::deque<std::pair<fracta_op_id, std::function<void(std::int32_t)>>> parked;

  // timers
  std::vector<std::int64_t> timer_delays;

  // interactive services
  std::vector<std::string> opened_urls;
  std::vector<std::string> listen_requests;  // requested_uri of each redirect_listen
  std::int32_t listen_status = FRACTA_OK;
  std::function<std::string(const std::string& authorize_url)> redirect_for;
  std::vector<std::function<std::string(const std::string& authorize_url)>> redirect_sequence;
  std::size_t redirects_delivered = 0;
  std::vector<std::int64_t> redirect_timeouts;  // timeout_ms of each redirect_await
  std::int32_t redirect_status = FRACTA_OK;
  struct device_prompt {
    std::string uri, user_code, complete;
  };
  std::vector<device_prompt> device_prompts;

 private:
  static std::map<const void*, oauth_fake_host*>& registry() {
    static std::map<const void*, oauth_fake_host*> r;
    return r;
  }
  static oauth_fake_host& self(void* ctx) {
    const auto it = registry().find(ctx);
    REQUIRE(it != registry().end());
    return *it->second;
  }
  static std::string_view strip_query(std::string_view url) { return url.substr(0, url.find('?')); }

  void enqueue(fracta_op_id op, std::function<void(std::int32_t)> fn) {
    base.queue.push_back({op, std::move(fn)});
  }
  fracta_op_id next_op() { return ++next_op_; }

  http_reply answer(const recorded_request& r) {
    if (handler) {
      if (auto a = handler(r)) return std::move(*a);
    }
    const auto it = routes.find(r.method + ' ' + std::string(strip_query(r.url)));
    if (it == routes.end() || it->second.empty()) return http_reply::json(404, "{}");
    http_reply a = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return a;
  }

  static std::int32_t on_http_send(void* ctx, const fracta_http_request* req, fracta_http_completion done,
                                   fracta_op_id* op) {
    oauth_fake_host& h = self(ctx);
    REQUIRE(req != nullptr);
    recorded_request r{std::string(view(req->method)), std::string(view(req->url)), std::string(view(req->body)), {}};
    for (std::size_t i = 0; i < req->header_count; ++i)
      r.headers.emplace_back(std::string(view(req->headers[i].name)), std::string(view(req->headers[i].value)));
    h.requests.push_back(r);
    const std::string route = r.method + ' ' + std::string(strip_query(r.url));
    h.ops.push_back("http " + route);
    *op = h.next_op();
    const auto held = std::find(h.held_routes.begin(), h.held_routes.end(), route);
    const bool park = held != h.held_routes.end();
    if (park) h.held_routes.erase(held);
    auto& into = park ? h.parked : h.base.queue;
    into.push_back({*op, [reply = h.answer(r), done](std::int32_t st) {
      if (st != FRACTA_OK) {
        done.fn(done.ctx, st, nullptr, str("cancelled"));
        return;
      }
      if (reply.error != FRACTA_OK) {
        done.fn(done.ctx, reply.error, nullptr, str(reply.message));
        return;
      }
      std::vector<fracta_http_header> hs;
      for (const auto& [n, v] : reply.headers) hs.push_back({str(n), str(v)});
      const fracta_http_response resp{sizeof(fracta_http_response), reply.status, hs.data(), hs.size(),
                                      str(reply.body)};
      done.fn(done.ctx, FRACTA_OK, &resp, fracta_str{nullptr, 0});
    }});
    return FRACTA_PENDING;
  }

  static std::int32_t on_timer_start(void* ctx, std::int64_t delay_ms, fracta_completion done, fracta_op_id* op) {
    oauth_fake_host& h = self(ctx);
    h.timer_delays.push_back(delay_ms);
    *op = h.next_op();
    h.enqueue(*op, [&h, delay_ms, done](std::int32_t st) {
      if (st == FRACTA_OK) {
        h.base.mono_ms += delay_ms;
        h.base.wall_ms += delay_ms;
      }
      done.fn(done.ctx, st, nullptr);
    });
    return FRACTA_PENDING;
  }

  // Runs `done` later with `status` (or the queue's teardown status) and `value`, logging
  // "done <what>" when it is delivered.
  void complete_later(std::string what, fracta_completion done, std::int32_t status, std::string value = {}) {
    enqueue(0, [this, what = std::move(what), done, status, value = std::move(value)](std::int32_t st) {
      ops.push_back("done " + what);
      const std::int32_t final_status = st == FRACTA_OK ? status : st;
      const std::string message = final_status == FRACTA_OK ? "" : "store says no";
      const std::string payload = final_status == FRACTA_OK ? value : std::string();
      const fracta_outcome o{sizeof(fracta_outcome), str(message), 0, str(payload)};
      done.fn(done.ctx, final_status, &o);
    });
  }

  std::optional<std::int32_t> injected(const std::string& op) const {
    const auto it = store_fail.find(op);
    if (it == store_fail.end()) return std::nullopt;
    return it->second;
  }

  static std::int32_t on_store_get(void* ctx, fracta_str key, fracta_completion done) {
    oauth_fake_host& h = self(ctx);
    const std::string op = "get " + std::string(view(key));
    h.ops.push_back(op);
    if (auto st = h.injected(op)) {
      h.complete_later(op, done, *st);
    } else if (const auto it = h.store.find(std::string(view(key))); it != h.store.end()) {
      h.complete_later(op, done, FRACTA_OK, it->second);
    } else {
      h.complete_later(op, done, FRACTA_E_NOT_FOUND);
    }
    return FRACTA_PENDING;
  }
  static std::int32_t on_store_put(void* ctx, fracta_str key, fracta_str value, fracta_completion done) {
    oauth_fake_host& h = self(ctx);
    const std::string op = "put " + std::string(view(key));
    h.ops.push_back(op);
    if (auto st = h.injected(op)) {
      h.complete_later(op, done, *st);
    } else {
      h.store[std::string(view(key))] = std::string(view(value));  // the host copies during the call
      h.complete_later(op, done, FRACTA_OK);
    }
    return FRACTA_PENDING;
  }
  static std::int32_t on_store_erase(void* ctx, fracta_str key, fracta_completion done) {
    oauth_fake_host& h = self(ctx);
    const std::string op = "erase " + std::string(view(key));
    h.ops.push_back(op);
    if (auto st = h.injected(op)) {
      h.complete_later(op, done, *st);
    } else {
      h.store.erase(std::string(view(key)));
      h.complete_later(op, done, FRACTA_OK);
    }
    return FRACTA_PENDING;
  }

  static std::int32_t on_open_url(void* ctx, fracta_str url) {
    oauth_fake_host& h = self(ctx);
    h.ops.push_back("open_url");
    h.opened_urls.emplace_back(view(url));
    return FRACTA_OK;
  }
  static std::int32_t on_show_device_code(void* ctx, fracta_str uri, fracta_str code, fracta_str complete) {
    oauth_fake_host& h = self(ctx);
    h.ops.push_back("show_device_code");
    h.device_prompts.push_back({std::string(view(uri)), std::string(view(code)), std::string(view(complete))});
    return FRACTA_OK;
  }
  static std::int32_t on_redirect_listen(void* ctx, fracta_str requested, const fracta_sink* actual) {
    oauth_fake_host& h = self(ctx);
    h.listen_requests.emplace_back(view(requested));
    if (h.listen_status != FRACTA_OK) return h.listen_status;
    actual->write(actual->ctx, str(redirect_uri));
    return FRACTA_OK;
  }
  // Completes later with the URL redirect_for builds from the last authorize URL opened.
  static std::int32_t on_redirect_await(void* ctx, std::int64_t timeout_ms, fracta_completion done, fracta_op_id* op) {
    oauth_fake_host& h = self(ctx);
    h.redirect_timeouts.push_back(timeout_ms);
    *op = h.next_op();
    h.enqueue(*op, [&h, done](std::int32_t st) {
      h.ops.push_back("redirect");
      if (st == FRACTA_OK) st = h.redirect_status;
      const bool scripted = !h.redirect_sequence.empty();
      if (st == FRACTA_OK && scripted && h.redirects_delivered >= h.redirect_sequence.size()) st = FRACTA_E_TIMEOUT;
      std::string url;
      if (st == FRACTA_OK) {
        REQUIRE_MESSAGE(!h.opened_urls.empty(), "redirect_await completed before any open_url");
        const auto& answer = scripted ? h.redirect_sequence[h.redirects_delivered++] : h.redirect_for;
        url = answer(h.opened_urls.back());
      }
      const fracta_outcome o{sizeof(fracta_outcome), str(st == FRACTA_OK ? "" : "no redirect"), 0, str(url)};
      done.fn(done.ctx, st, &o);
    });
    return FRACTA_PENDING;
  }

  fracta_op_id next_op_ = 1'000'000;  // far from the base host's ids
};

/// An OAuth provider instance created through the C table. Teardown follows the ABI: every
/// pending host operation completes with FRACTA_E_CANCELLED, then cancel(), then destroy().
class oauth_instance final {
 public:
  oauth_instance(oauth_fake_host& host, std::string_view type, std::string_view config)
      : host_(host), p_(provider(type)) {
    status = p_.create(host.get(), str(config), &ptr, error.get());
  }
  oauth_instance(const oauth_instance&) = delete;
  oauth_instance& operator=(const oauth_instance&) = delete;
  ~oauth_instance() { destroy(); }

  void destroy() {
    if (ptr == nullptr) return;
    host_.teardown();
    if (p_.cancel != nullptr) p_.cancel(ptr);
    host_.teardown();
    p_.destroy(ptr);
    ptr = nullptr;
  }

  std::int32_t apply(fake_request& r, collecting_sink& err) { return p_.apply(ptr, r.get(), err.get()); }
  /// apply() on a fresh request; returns the Authorization header it set ("" for none).
  std::string authorization() { return authorization_for("https://mcp.example.com/mcp"); }
  /// apply() on a fresh request to `url`; the Authorization header it set ("" for none), or
  /// "(status N)".
  std::string authorization_for(const std::string& url) {
    fake_request r("POST", url, "{}");
    collecting_sink err;
    const std::int32_t st = apply(r, err);
    if (st != FRACTA_OK) return "(status " + std::to_string(st) + ")";
    return r.header("Authorization").value_or("");
  }
  std::int32_t refresh(completion_probe& done) { return p_.refresh(ptr, done.get()); }
  std::int32_t logout(completion_probe& done) {
    REQUIRE(present(p_.logout));
    return p_.logout(ptr, done.get());
  }
  std::int32_t login(std::string_view options, completion_probe& done) {
    REQUIRE(present(p_.login));
    return p_.login(ptr, str(options), done.get());
  }
  std::int32_t on_challenge(int http_status, std::string_view www_authenticate, completion_probe& done) {
    const fracta_challenge ch{sizeof(fracta_challenge), http_status, str(www_authenticate),
                              str("https://mcp.example.com/mcp"), str("")};
    return p_.on_challenge(ptr, &ch, done.get());
  }
  std::string status_json() {
    collecting_sink out;
    REQUIRE(present(p_.status));
    CHECK(p_.status(ptr, out.get()) == FRACTA_OK);
    return out.text;
  }

  std::int32_t status = 12345;
  void* ptr = nullptr;
  collecting_sink error;

 private:
  oauth_fake_host& host_;
  const fracta_provider& p_;
};

}  // namespace fracta::test
