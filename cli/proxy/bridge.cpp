// SPDX-License-Identifier: Apache-2.0
// The stdio bridge: the host's messages, the open, local answers and forwarding (see bridge.hpp).
#include "proxy/bridge.hpp"

#include <array>
#include <chrono>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>

#include "fracta/json_writer.hpp"

namespace fracta::proxy {
namespace {

// A server may ask for input this many times in a row for one request.
constexpr int max_input_rounds = 8;
// JSON-RPC error codes the bridge answers with.
constexpr int login_needed_code = -32001, internal_code = -32603, parse_code = -32700, invalid_code = -32600;

bool is_legacy_version(std::string_view v) {
  for (auto known : config::legacy_protocol_versions) {
    if (known == v) return true;
  }
  return v == "2024-11-05";
}

}  // namespace

bridge::bridge(asio::io_context& io, mcp_session& session, line_writer& out, bridge_options options)
    : io_(io), session_(session), out_(out), opts_(std::move(options)) {
  session_.set_message_handler([this](std::string text) { on_session_message(std::move(text)); });
}

void bridge::on_oversize(std::size_t bytes) {
  write(error_response("", invalid_code, "fracta proxy: a message of " + std::to_string(bytes) +
                                             " bytes is over the limit and was dropped"));
}

void bridge::on_line(std::string line) {
  std::string why;
  auto m = read_message(line, &why);
  if (!m) {
    write(error_response("", parse_code, "fracta proxy: the message is " + why));
    return;
  }
  if (m->is_response()) {
    on_host_answer(*m);
    return;
  }
  if (host_ == era::unknown) decide_era(*m);
  if (m->is_notification()) {
    on_notification(*m);
    return;
  }
  if (eof_) return;
  ++running_;
  asio::co_spawn(io_, handle(this, std::move(*m)), asio::detached);
}

void bridge::decide_era(const message& m) {
  // The host's first message decides: initialize is the 2025 handshake; server/discover or a
  // request carrying the protocol's _meta is the 2026 wire.
  const auto meta = member(m.params_json, "_meta");
  const bool modern_meta = meta && member(*meta, "io.modelcontextprotocol/protocolVersion");
  host_ = (m.method == "server/discover" || (m.method != "initialize" && modern_meta)) ? era::modern : era::legacy;
  if (m.method == "initialize") {
    host_capabilities_ = member(m.params_json, "capabilities").value_or("{}");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (json::parse(parser, m.params_json, doc).empty()) {
      host_version_ = std::string(json::get_string(doc, "protocolVersion").value_or(""));
    }
  } else if (meta) {
    host_capabilities_ = member(*meta, "io.modelcontextprotocol/clientCapabilities").value_or("{}");
  }
}

void bridge::on_notification(const message& m) {
  if (m.method == "notifications/initialized") return;  // the engine sent its own
  if (m.method == "notifications/cancelled") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!json::parse(parser, m.params_json, doc).empty()) return;
    auto id = json::get(doc, "requestId");
    if (!id) return;
    const std::string key = json::to_string(*id);
    if (auto it = calls_.find(key); it != calls_.end()) {
      auto c = it->second;
      c->cancelled = true;
      abandon(c);
      return;
    }
    end_local_listen(key);
    return;
  }
  if (upstream_modern()) return;  // a 2026 server takes no client notifications
  auto post = session_.post(request("", m.method, m.params_json));
  asio::co_spawn(io_, std::move(post), asio::detached);
}

void bridge::on_host_answer(const message& m) {
  auto it = asked_.find(m.id_json);
  if (it == asked_.end()) return;  // not a question of ours (or answered already)
  auto handler = std::move(it->second);
  asked_.erase(it);
  handler(m);
}

std::string bridge::new_host_facing_id() { return json_string("fracta-" + std::to_string(next_out_id_++)); }

std::optional<std::string> bridge::refusal(const message& m) const {
  if (host_ != era::modern) return std::nullopt;
  // The bridge is the host's 2026 server: every request names a version it speaks.
  const auto meta = member(m.params_json, "_meta");
  const auto version = meta ? member(*meta, "io.modelcontextprotocol/protocolVersion") : std::nullopt;
  if (!version) {
    return error_response(m.id_json, -32602, "params._meta must carry io.modelcontextprotocol/protocolVersion");
  }
  for (auto v : config::modern_protocol_versions) {
    if (json_string(v) == *version) return std::nullopt;
  }
  json::writer data;
  data.begin_object().key("supported").begin_array();
  for (auto v : config::modern_protocol_versions) data.value(v);
  data.end_array().key("requested").raw(*version).end_object();
  return error_response(m.id_json, -32022, "Unsupported protocol version", data.take());
}

asio::awaitable<void> bridge::handle(bridge* self, message m) {
  if (auto refused = self->refusal(m)) {
    self->write(std::move(*refused));
    self->finished_one();
    co_return;
  }
  auto open = self->ensure_open(m);
  const bool opened = co_await std::move(open);
  if (opened) {
    auto work = self->local_or_forward(m);
    co_await std::move(work);
  }
  self->finished_one();
}

void bridge::finished_one() {
  if (--running_ > 0 || !eof_ || !done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done();
}

asio::awaitable<bool> bridge::ensure_open(const message& m) {
  if (!capabilities_set_) {
    // The server hears the host's capabilities: the bridge relays what it asks.
    session_.set_client_capabilities(host_capabilities_);
    capabilities_set_ = true;
  }
  for (int attempt = 0;; ++attempt) {
    auto init = session_.initialize();
    auto r = co_await std::move(init);
    if (r) {
      if (open_result_.empty()) open_result_ = *r;
      co_return true;
    }
    const bool login = r.err().code == make_error_code(errc::needs_login);
    // The handshake waits for the login (the host can do nothing before it); requests later
    // get the hint at once while the login runs.
    const bool handshake = m.method == "initialize" || m.method == "server/discover";
    if (login && handshake && opts_.may_login && attempt == 0) {
      if (opts_.say) opts_.say(r.err().message + "; logging in");
      auto l = session_.login(opts_.login_json);
      auto logged = co_await std::move(l);
      if (logged) continue;
      reply_error(m.id_json, logged.err());
      co_return false;
    }
    reply_error(m.id_json, r.err());
    co_return false;
  }
}

asio::awaitable<void> bridge::local_or_forward(const message& m) {
  const bool modern_up = upstream_modern();
  if (m.method == "initialize") {
    std::string result;
    std::string version = is_legacy_version(host_version_) ? host_version_ : std::string(config::legacy_protocol_versions[0]);
    if (modern_up) {
      std::string discover = open_result_;
      if (discover.size() <= 2) {
        auto d = session_.request("server/discover", "{}");
        auto got = co_await std::move(d);
        if (got && !got->is_error) discover = got->json;
      }
      result = initialize_result_from_discover(discover, version);
      // A 2025 host hears list changes on its session: the bridge listens for it.
      restart_upstream_listen();
    } else {
      result = edit_object(open_result_, {{"protocolVersion", json_string(version)}});
    }
    write(response(m.id_json, result));
    co_return;
  }
  if (m.method == "server/discover" && !modern_up) {
    write(response(m.id_json, discover_result_from_initialize(open_result_, config::modern_protocol_versions[0])));
    co_return;
  }
  if (m.method == "ping" && modern_up) {  // removed from the 2026 wire: the bridge answers
    write(response(m.id_json, host_ == era::modern ? R"({"resultType":"complete"})" : "{}"));
    co_return;
  }
  if (m.method == "logging/setLevel" && modern_up) {  // becomes _meta.logLevel per request
    log_level_ = member(m.params_json, "level");
    write(response(m.id_json, "{}"));
    co_return;
  }
  if (m.method == "subscriptions/listen" && !modern_up) {
    auto l = listen_locally(m);
    co_await std::move(l);
    co_return;
  }
  if ((m.method == "resources/subscribe" || m.method == "resources/unsubscribe") && modern_up) {
    if (auto uri = member(m.params_json, "uri")) {
      if (m.method == "resources/subscribe") subscribed_.insert(*uri);
      else subscribed_.erase(*uri);
      restart_upstream_listen();
    }
    write(response(m.id_json, "{}"));
    co_return;
  }
  if (host_ == era::modern && !modern_up && shim_retry(m)) co_return;
  auto c = std::make_shared<call>();
  c->host_id = m.id_json;
  c->method = m.method;
  c->params = m.params_json;
  c->is_listen = m.method == "subscriptions/listen";
  auto f = forward(c);
  co_await std::move(f);
}

asio::awaitable<void> bridge::forward(std::shared_ptr<call> c) {
  const bool modern_up = upstream_modern();
  std::string params = c->params;
  if (host_ == era::modern && !modern_up) params = strip_protocol_meta(params);
  if (modern_up && log_level_) params = with_meta_member(params, "io.modelcontextprotocol/logLevel", *log_level_);
  c->key = next_key_++;
  calls_[c->host_id] = c;
  request_options o;
  o.cancel_key = c->key;
  // Called on the loop's one thread, in the stream's order, before the answer resumes us.
  o.on_message = [this, c](std::string text) { on_call_message(c, std::move(text)); };
  if (host_ == era::modern && modern_up) {
    const auto meta = member(params, "_meta");
    if (meta) o.client_capabilities_json = member(*meta, "io.modelcontextprotocol/clientCapabilities").value_or("");
  }
  for (int round = 0;; ++round) {
    auto req = session_.request(c->method, params, o);
    auto r = co_await std::move(req);
    if (!r) {
      if (r.err().code == make_error_code(errc::cancelled)) break;  // the host asked for it: no answer
      reply_error(c->host_id, r.err());
      break;
    }
    if (r->is_error) {
      reply(c, error_response_raw(c->host_id, r->json));
      break;
    }
    std::string result = std::move(r->json);
    if (host_ == era::modern && !modern_up) result = as_modern_result(result, c->method);
    const bool legacy_host_input = host_ == era::legacy && modern_up &&
                                   member(result, "resultType") == std::optional<std::string>("\"input_required\"");
    if (host_ == era::legacy && modern_up && !legacy_host_input) result = as_legacy_result(result);
    if (legacy_host_input) {
      // A 2025 host is asked the server's questions as requests of its own, then the request
      // is made again with the answers.
      if (round + 1 >= max_input_rounds) {
        reply(c, error_response(c->host_id, internal_code, "the server asked for input too many times in a row"));
        break;
      }
      auto ask = ask_host(c, result);
      auto answers = co_await std::move(ask);
      if (c->cancelled || eof_) break;  // the host cancelled the call (or went away): no answer
      if (!answers) {
        const std::string why = c->refused_input.empty()
                                    ? std::string("the server's questions could not be answered")
                                    : "the server asked for " + c->refused_input + ", which the host did not declare";
        reply(c, error_response(c->host_id, internal_code, why));
        break;
      }
      std::vector<std::pair<std::string, std::optional<std::string>>> retry{{"inputResponses", *answers}};
      retry.emplace_back("requestState", member(result, "requestState"));
      params = edit_object(params, retry);
      continue;
    }
    if (c->is_listen) {
      if (auto meta = member(result, "_meta")) {
        result = edit_object(result, {{"_meta", edit_object(*meta, {{std::string(subscription_id_key), c->host_id}})}});
      }
    }
    reply(c, response(c->host_id, result));
    break;
  }
  if (auto it = calls_.find(c->host_id); it != calls_.end() && it->second == c) calls_.erase(it);
}

asio::awaitable<std::optional<std::string>> bridge::ask_host(std::shared_ptr<call> c,
                                                            const std::string& input_required_json) {
  auto q = std::make_shared<host_questions>(io_);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string requests = member(input_required_json, "inputRequests").value_or("{}");
  if (!json::parse(parser, requests, doc).empty() || !doc.is_object()) co_return std::nullopt;
  const simdjson::dom::object fields = doc.get_object().value_unsafe();
  // Nothing is put to the host that it did not declare a capability for.
  for (auto field : fields) {
    const std::string method(json::get_string(field.value, "method").value_or(""));
    const std::string area = method.substr(0, method.find('/'));
    const bool known = method == "elicitation/create" || method == "sampling/createMessage" || method == "roots/list";
    if (!known || !member(host_capabilities_, area)) {
      c->refused_input = method;
      co_return std::nullopt;
    }
  }
  for (auto field : fields) {
    const std::string key(field.key);
    const std::string method(json::get_string(field.value, "method").value_or(""));
    auto params = json::get(field.value, "params");
    const std::string id = new_host_facing_id();
    ++q->outstanding;
    q->ids.push_back(id);
    asked_[id] = [q, key](const message& answer) {
      if (answer.error_json.empty()) q->answers.emplace_back(key, answer.result_json);
      else q->failed = true;
      if (--q->outstanding == 0) q->wake.cancel();
    };
    write(request(id, method, params ? json::to_string(*params) : std::string("{}")));
  }
  c->asking = q;
  if (q->outstanding > 0) {
    std::error_code ec;
    auto wait = q->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  c->asking.reset();
  if (q->failed || q->abandoned) co_return std::nullopt;
  std::vector<std::pair<std::string, std::optional<std::string>>> members;
  for (auto& [k, v] : q->answers) members.emplace_back(k, v);
  co_return edit_object("{}", members);
}

void bridge::abandon(const std::shared_ptr<call>& c) {
  session_.cancel(c->key);
  if (auto q = c->asking) {
    q->abandoned = true;
    for (const auto& id : q->ids) {
      if (asked_.erase(id) == 0) continue;
      // The host may drop its dialogue: the question is void.
      write(request("", "notifications/cancelled",
                    edit_object("{}", {{"requestId", id}, {"reason", json_string("the call was cancelled")}})));
    }
    q->wake.cancel();
  }
}

void bridge::reply(const std::shared_ptr<call>& c, std::string text) {
  if (c->awaiting_retry) {
    // The host was told to answer questions first: the answer waits for its retry.
    c->final_reply = std::move(text);
    return;
  }
  if (!c->state_token.empty()) {
    // Answering the retry: the answer carries the retry's id.
    auto m = read_message(text, nullptr);
    if (m && !m->error_json.empty()) text = error_response_raw(c->host_id, m->error_json);
    else if (m) text = response(c->host_id, m->result_json);
  }
  write(std::move(text));
}

void bridge::reply_error(const std::string& id, const error& e) {
  if (e.code == make_error_code(errc::needs_login)) {
    start_login();
    json::writer data;
    data.begin_object().key("command").value(opts_.login_hint).end_object();
    std::string text = "server '" + opts_.server + "' needs a login: run `" + opts_.login_hint + "`";
    if (login_running_) text += " (fracta opened a browser window for it)";
    write(error_response(id, login_needed_code, text, data.take()));
    return;
  }
  write(error_response(id, internal_code, e.message));
}

void bridge::start_login() {
  if (!opts_.may_login || login_running_ || !session_.can_login()) return;
  login_running_ = true;
  asio::co_spawn(io_, login_task(this), asio::detached);
}

asio::awaitable<void> bridge::login_task(bridge* self) {
  if (self->opts_.say) self->opts_.say("server '" + self->opts_.server + "' needs a login; opening a browser");
  auto l = self->session_.login(self->opts_.login_json);
  auto r = co_await std::move(l);
  if (self->opts_.say) self->opts_.say(r ? "logged in: " + r->message : "the login failed: " + r.err().message);
  self->login_running_ = false;
}

void bridge::on_eof(std::function<void()> done) {
  eof_ = true;
  done_ = std::move(done);
  // Calls in flight still get their answers (a script piping requests in reads them); what
  // only the host could end is ended: questions put to it, and subscriptions.
  std::vector<std::shared_ptr<call>> ending;
  for (auto& [id, c] : calls_) {
    if (c->asking || c->is_listen || c->awaiting_retry) ending.push_back(c);
  }
  for (auto& c : ending) abandon(c);
  listens_.clear();
  if (upstream_listen_key_ != 0) session_.cancel(upstream_listen_key_);
  ++running_;
  finished_one();
}

}  // namespace fracta::proxy
