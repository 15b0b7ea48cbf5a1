// SPDX-License-Identifier: Apache-2.0
// The gateway's metrics registry: recording under one mutex, rendering as Prometheus text.
#include "gateway/metrics.hpp"

#include <algorithm>
#include <cstdlib>

namespace fracta::gateway {

namespace {

// Sorted (byte order), so lookup is a binary search and rendering by index is sorted output.
constexpr std::array<std::string_view, method_label_count> method_labels = {
    "DELETE",
    "GET",
    "POST",
    "completion/complete",
    "elicitation/create",
    "initialize",
    "logging/setLevel",
    "notifications/cancelled",
    "notifications/elicitation/complete",
    "notifications/initialized",
    "notifications/message",
    "notifications/progress",
    "notifications/prompts/list_changed",
    "notifications/resources/list_changed",
    "notifications/resources/updated",
    "notifications/roots/list_changed",
    "notifications/subscriptions/acknowledged",
    "notifications/tasks/status",
    "notifications/tools/list_changed",
    "other",
    "ping",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/templates/list",
    "resources/unsubscribe",
    "roots/list",
    "sampling/createMessage",
    "server/discover",
    "subscriptions/listen",
    "tasks/cancel",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tasks/update",
    "tools/call",
    "tools/list",
};
static_assert(std::is_sorted(method_labels.begin(), method_labels.end()));

constexpr std::size_t other_index = 19;
static_assert(method_labels[other_index] == "other");

// The bucket bounds of duration_bucket_labels, in nanoseconds (exact integer comparison).
constexpr std::array<std::int64_t, duration_bucket_labels.size()> bucket_bounds_ns = {
    1'000'000,   2'500'000,   5'000'000,     10'000'000,    25'000'000,    50'000'000,    100'000'000,
    250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

constexpr std::array<server_state, 5> all_states = {server_state::starting, server_state::ready,
                                                     server_state::refreshing, server_state::needs_login,
                                                     server_state::failing};

std::size_t method_index(std::string_view method) noexcept {
  const auto* it = std::lower_bound(method_labels.begin(), method_labels.end(), method);
  if (it == method_labels.end() || *it != method) return other_index;
  return static_cast<std::size_t>(it - method_labels.begin());
}

std::size_t bucket_index(std::int64_t ns) noexcept {
  const auto* it = std::lower_bound(bucket_bounds_ns.begin(), bucket_bounds_ns.end(), ns);
  return static_cast<std::size_t>(it - bucket_bounds_ns.begin());  // size() = +Inf
}

// `units` / 10^decimals as a decimal number without trailing zeros: (1500, 3) → "1.5".
std::string fixed_point(std::int64_t units, int decimals) {
  std::uint64_t magnitude = units < 0 ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  std::uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string out = units < 0 ? "-" : "";
  out += std::to_string(magnitude / scale);
  std::uint64_t fraction = magnitude % scale;
  if (fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, static_cast<std::size_t>(decimals) - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

// A label value escaped as the text format requires: backslash, double quote, line feed.
void append_label_value(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// One labelled sample: name{server="…"[,method="…"][,<extra_name>="…"]} value.
struct sample_labels {
  std::string_view server;
  std::string_view method;
  std::string_view extra_name;
  std::string_view extra_value;
};

void append_sample(std::string& out, std::string_view name, const sample_labels& l, std::string_view value) {
  out += name;
  out += "{server=";
  append_label_value(out, l.server);
  if (!l.method.empty()) {
    out += ",method=";
    append_label_value(out, l.method);
  }
  if (!l.extra_name.empty()) {
    out += ',';
    out += l.extra_name;
    out += '=';
    append_label_value(out, l.extra_value);
  }
  out += "} ";
  out += value;
  out += '\n';
}

void append_unlabelled(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string_view method_label(std::string_view method) noexcept { return method_labels[method_index(method)]; }

metrics::server_series* metrics::find(std::string_view server) {
  auto it = servers_.find(server);
  return it == servers_.end() ? nullptr : &it->second;
}

void metrics::add_server(std::string_view server) {
  std::lock_guard lock(mutex_);
  if (servers_.find(server) == servers_.end()) servers_.emplace(std::string(server), server_series{});
}

void metrics::forget_server(std::string_view server) {
  std::lock_guard lock(mutex_);
  if (auto it = servers_.find(server); it != servers_.end()) servers_.erase(it);
}

void metrics::record_request(std::string_view server, std::string_view method, std::chrono::nanoseconds duration,
                             bool error) {
  const std::size_t m = method_index(method);
  const std::int64_t ns = std::max<std::int64_t>(duration.count(), 0);
  const std::size_t b = bucket_index(ns);
  std::lock_guard lock(mutex_);
  server_series* s = find(server);
  if (s == nullptr) return;
  request_series& r = s->requests[m];
  ++r.buckets[b];
  ++r.count;
  r.sum_ns += static_cast<std::uint64_t>(ns);
  if (error) ++r.errors;
}

void metrics::record_refresh(std::string_view server, bool ok) {
  std::lock_guard lock(mutex_);
  server_series* s = find(server);
  if (s == nullptr) return;
  ++s->refreshes;
  if (!ok) ++s->refresh_failures;
}

void metrics::set_token_expiry(std::string_view server, std::int64_t expires_at_unix_ms) {
  std::lock_guard lock(mutex_);
  if (server_series* s = find(server)) s->expires_at_unix_ms = expires_at_unix_ms;
}

void metrics::set_server_state(std::string_view server, server_state state) {
  std::lock_guard lock(mutex_);
  auto it = servers_.find(server);
  if (it == servers_.end()) it = servers_.emplace(std::string(server), server_series{}).first;
  it->second.state = state;
}

void metrics::stream_opened(std::string_view server) {
  std::lock_guard lock(mutex_);
  if (server_series* s = find(server)) ++s->open_streams;
}

void metrics::stream_closed(std::string_view server) {
  std::lock_guard lock(mutex_);
  if (server_series* s = find(server)) --s->open_streams;
}

void metrics::connection_opened() noexcept { connections_.fetch_add(1, std::memory_order_relaxed); }
void metrics::connection_closed() noexcept { connections_.fetch_sub(1, std::memory_order_relaxed); }
void metrics::connection_rejected() noexcept { rejected_.fetch_add(1, std::memory_order_relaxed); }

std::string metrics::render(std::int64_t now_unix_ms) const {
  // Copy under the lock, format outside it: a scrape never holds up the request path for long.
  std::map<std::string, server_series, std::less<>> servers;
  {
    std::lock_guard lock(mutex_);
    servers = servers_;
  }
  std::string out;
  out.reserve(1024 + servers.size() * 2048);

  append_family(out, "fracta_gateway_connections", "gauge", "Client connections open now.");
  append_unlabelled(out, "fracta_gateway_connections", std::to_string(connections_.load(std::memory_order_relaxed)));
  append_family(out, "fracta_gateway_connections_rejected_total", "counter",
                "Client connections refused because the connection limit was reached.");
  append_unlabelled(out, "fracta_gateway_connections_rejected_total",
                    std::to_string(rejected_.load(std::memory_order_relaxed)));

  append_family(out, "fracta_gateway_open_streams", "gauge", "SSE streams open now, per server.");
  for (const auto& [name, s] : servers) {
    append_sample(out, "fracta_gateway_open_streams", {name, {}, {}, {}}, std::to_string(s.open_streams));
  }
  append_family(out, "fracta_gateway_refresh_failures_total", "counter", "Token refreshes that failed, per server.");
  for (const auto& [name, s] : servers) {
    append_sample(out, "fracta_gateway_refresh_failures_total", {name, {}, {}, {}},
                  std::to_string(s.refresh_failures));
  }
  append_family(out, "fracta_gateway_refreshes_total", "counter", "Token refreshes attempted, per server.");
  for (const auto& [name, s] : servers) {
    append_sample(out, "fracta_gateway_refreshes_total", {name, {}, {}, {}}, std::to_string(s.refreshes));
  }

  append_family(out, "fracta_gateway_request_duration_seconds", "histogram",
                "Time from a request's arrival to its answer, per server and method.");
  for (const auto& [name, s] : servers) {
    for (std::size_t m = 0; m < method_label_count; ++m) {
      const request_series& r = s.requests[m];
      if (r.count == 0) continue;
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < bucket_count; ++b) {
        cumulative += r.buckets[b];
        const std::string_view le = b < duration_bucket_labels.size() ? duration_bucket_labels[b] : "+Inf";
        append_sample(out, "fracta_gateway_request_duration_seconds_bucket", {name, method_labels[m], "le", le},
                      std::to_string(cumulative));
      }
      append_sample(out, "fracta_gateway_request_duration_seconds_sum", {name, method_labels[m], {}, {}},
                    fixed_point(static_cast<std::int64_t>(r.sum_ns), 9));
      append_sample(out, "fracta_gateway_request_duration_seconds_count", {name, method_labels[m], {}, {}},
                    std::to_string(r.count));
    }
  }
  append_family(out, "fracta_gateway_request_errors_total", "counter",
                "Requests answered with a JSON-RPC error, an HTTP status of 400 or more, or a transport failure.");
  for (const auto& [name, s] : servers) {
    for (std::size_t m = 0; m < method_label_count; ++m) {
      if (s.requests[m].count == 0) continue;
      append_sample(out, "fracta_gateway_request_errors_total", {name, method_labels[m], {}, {}},
                    std::to_string(s.requests[m].errors));
    }
  }
  append_family(out, "fracta_gateway_requests_total", "counter", "Requests answered, per server and method.");
  for (const auto& [name, s] : servers) {
    for (std::size_t m = 0; m < method_label_count; ++m) {
      if (s.requests[m].count == 0) continue;
      append_sample(out, "fracta_gateway_requests_total", {name, method_labels[m], {}, {}},
                    std::to_string(s.requests[m].count));
    }
  }

  append_family(out, "fracta_gateway_server_state", "gauge",
                "1 for the state each server is in, 0 for the other states.");
  for (const auto& [name, s] : servers) {
    if (!s.state) continue;
    std::array<std::string_view, all_states.size()> labels{};
    std::transform(all_states.begin(), all_states.end(), labels.begin(),
                   [](server_state st) { return fracta::to_string(st); });
    std::sort(labels.begin(), labels.end());
    for (std::string_view label : labels) {
      append_sample(out, "fracta_gateway_server_state", {name, {}, "state", label},
                    label == fracta::to_string(*s.state) ? "1" : "0");
    }
  }
  append_family(out, "fracta_gateway_token_expiry_seconds", "gauge",
                "Seconds until each server's access token expires (negative once expired).");
  for (const auto& [name, s] : servers) {
    if (s.expires_at_unix_ms == 0) continue;
    append_sample(out, "fracta_gateway_token_expiry_seconds", {name, {}, {}, {}},
                  fixed_point(s.expires_at_unix_ms - now_unix_ms, 3));
  }
  return out;
}

}  // namespace fracta::gateway
