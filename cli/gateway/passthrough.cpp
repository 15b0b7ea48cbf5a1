// SPDX-License-Identifier: Apache-2.0
// `/mcp/<server>`: the pass-through. The client's request goes to the server as it came, with
// the server's credential instead of the client's; the response comes back as it goes,
// streamed (SSE) chunk by chunk. Only each hop's own header fields are left out.
#include <strings.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>

#include <asio/co_spawn.hpp>

#include "gateway/gateway.hpp"
#include "fracta/json_writer.hpp"

namespace fracta::gateway {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Fields that belong to one hop (RFC 9110 §7.6.1), or to the client's own credentials and
// origin: never relayed in either direction.
constexpr std::array hop_fields{"connection", "keep-alive",    "proxy-connection", "proxy-authenticate",
                                "proxy-authorization", "te", "trailer",  "transfer-encoding",
                                "upgrade",    "content-length", "host"};
// Request fields the client's hop alone may carry.
constexpr std::array client_fields{"authorization", "cookie", "origin", "referer", "forwarded",
                                   "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"};

template <std::size_t N>
bool listed(std::string_view name, const std::array<const char*, N>& names) {
  for (const char* n : names) {
    if (iequal(name, n)) return true;
  }
  return false;
}

// A name listed in a Connection field is hop-by-hop too.
bool named_by_connection(std::string_view name, const header_list& headers) {
  for (const auto& [k, v] : headers) {
    if (!iequal(k, "connection")) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view token = rest.substr(0, comma);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (iequal(token, name)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string method_of(const http_request& req) {
  if (req.method != "POST") return req.method;
  if (auto m = req.header("Mcp-Method")) return std::string(*m);
  // The body's "method" member, without parsing the whole message.
  const auto at = req.body.find("\"method\"");
  if (at == std::string::npos) return "POST";
  const auto open = req.body.find('"', req.body.find(':', at) + 1);
  const auto close = open == std::string::npos ? open : req.body.find('"', open + 1);
  if (close == std::string::npos || close - open > 64) return "POST";
  return req.body.substr(open + 1, close - open - 1);
}

// The message's id as written, for an error the gateway answers itself ("null" when none).
std::string id_of(const std::string& body) {
  const auto at = body.find("\"id\"");
  if (at == std::string::npos) return "null";
  auto start = body.find(':', at);
  if (start == std::string::npos) return "null";
  ++start;
  while (start < body.size() && body[start] == ' ') ++start;
  auto end = start;
  if (end < body.size() && body[end] == '"') {
    end = body.find('"', end + 1);
    if (end == std::string::npos) return "null";
    ++end;
  } else {
    while (end < body.size() && (std::isdigit(static_cast<unsigned char>(body[end])) || body[end] == '-')) ++end;
  }
  if (end == start || end - start > 128) return "null";
  return body.substr(start, end - start);
}

constexpr std::size_t max_buffered_body = 1u << 20;

std::optional<std::size_t> content_length(std::string_view v) {
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(std::string(v)));
}

// What the upstream's response callbacks (on the HTTP client's strand) leave for the coroutine,
// which reads it once the exchange has ended.
struct relay_state {
  int status = 0;
  bool buffered = false;        // a whole response, kept until it is complete
  header_list headers;          // buffered: the fields to send
  std::string body;             // buffered: the body so far
  std::atomic<bool> started{false};  // streamed: the status line went out
};

}  // namespace

asio::awaitable<void> gateway::serve_passthrough(std::shared_ptr<gateway> self, std::shared_ptr<upstream> up,
                                                 http_request req, std::shared_ptr<responder> out) {
  const auto started = std::chrono::steady_clock::now();
  const std::string method(method_label(method_of(req)));
  forward_request f;
  f.method = req.method;
  for (auto& [k, v] : req.headers) {
    if (listed(k, hop_fields) || listed(k, client_fields) || named_by_connection(k, req.headers)) continue;
    f.headers.emplace_back(k, v);
  }
  const std::string id = req.method == "POST" ? id_of(req.body) : "null";
  f.body = std::move(req.body);
  f.cancel_key = self->next_key();
  // A whole response (Content-Length, up to 1 MiB) goes back in one write, with its own length;
  // anything else (SSE, chunked, a GET stream) is relayed chunk by chunk as it comes.
  auto st = std::make_shared<relay_state>();
  f.on_headers = [out, st, get = req.method == "GET"](long status, const header_list& headers) {
    header_list kept;
    std::optional<std::size_t> length;
    for (const auto& [k, v] : headers) {
      if (iequal(k, "content-length")) length = content_length(v);
      if (listed(k, hop_fields) || named_by_connection(k, headers)) continue;
      kept.emplace_back(k, v);
    }
    st->status = static_cast<int>(status);
    if (!get && length && *length <= max_buffered_body) {
      st->buffered = true;
      st->headers = std::move(kept);
      st->body.reserve(*length);
      return;
    }
    if (get) out->mark_stream();
    st->started.store(true);
    out->start(st->status, std::move(kept));
  };
  f.on_body = [out, st](std::string_view chunk) {
    if (st->buffered) {
      st->body.append(chunk);
    } else {
      out->write(std::string(chunk));
    }
  };
  // A client that goes away ends the upstream exchange (a 2026 server reads that as a cancel).
  auto session = up->session;
  const std::uint64_t key = f.cancel_key;
  out->on_disconnect([session, key] { session->cancel(key); });
  if (req.method == "GET") self->metrics_.stream_opened(up->name);
  auto forward = session->forward(std::move(f));
  auto r = co_await std::move(forward);
  if (req.method == "GET") self->metrics_.stream_closed(up->name);
  const bool failed = !r || r->status >= 400;
  self->metrics_.record_request(up->name, method, std::chrono::steady_clock::now() - started, failed);
  if (r && st->buffered) {
    out->send(st->status, std::move(st->headers), std::move(st->body));
    co_return;
  }
  if (r || st->started.load()) {
    out->end();  // after an error once relayed, the body was cut: the client sees it end early
    co_return;
  }
  // Nothing was relayed: the gateway answers. A JSON-RPC error the client's SDK can show,
  // naming what fixes it (a login command, a timeout to raise).
  const error& e = r.err();
  const bool login = e.code == make_error_code(errc::needs_login) || e.code == make_error_code(errc::auth_failed);
  json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").raw(id).key("error").begin_object();
  w.key("code").value(login ? -32001 : -32603).key("message").value(e.message);
  w.end_object().end_object();
  const int status = login ? 503 : (e.code == make_error_code(errc::cancelled) ? 499 : 502);
  out->send(status, {{"Content-Type", "application/json"}}, w.take());
}

}  // namespace fracta::gateway
