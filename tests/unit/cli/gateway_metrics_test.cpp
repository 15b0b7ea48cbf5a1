// SPDX-License-Identifier: Apache-2.0
// The gateway's metrics registry: exact Prometheus text, cumulative buckets, escaping, bounded
// method labels, forgotten servers and concurrent recording.
#include "gateway/metrics.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace fracta::gateway;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t now_ms = 1'800'000'000'000;

// The value of the sample whose text before the value is `series`, or "<absent>".
std::string sample(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const auto at = text.find(needle);
  if (at == std::string::npos) return "<absent>";
  const auto begin = at + needle.size();
  return text.substr(begin, text.find('\n', begin) - begin);
}

}  // namespace

TEST_CASE("render gives the exact Prometheus text for a scripted sequence of events") {
  metrics m;
  m.add_server("b");
  m.add_server("a");
  m.record_request("a", "tools/call", milliseconds(2), false);
  m.record_request("a", "tools/call", milliseconds(30), true);
  m.record_request("a", "no/such/method", milliseconds(1), false);
  m.record_refresh("a", true);
  m.record_refresh("a", false);
  m.set_token_expiry("a", now_ms + 90'500);
  m.set_server_state("a", server_state::ready);
  m.stream_opened("a");
  m.stream_opened("a");
  m.stream_closed("a");
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  m.connection_rejected();

  const std::string expected = R"(# HELP fracta_gateway_connections Client connections open now.
# TYPE fracta_gateway_connections gauge
fracta_gateway_connections 1
# HELP fracta_gateway_connections_rejected_total Client connections refused because the connection limit was reached.
# TYPE fracta_gateway_connections_rejected_total counter
fracta_gateway_connections_rejected_total 1
# HELP fracta_gateway_open_streams SSE streams open now, per server.
# TYPE fracta_gateway_open_streams gauge
fracta_gateway_open_streams{server="a"} 1
fracta_gateway_open_streams{server="b"} 0
# HELP fracta_gateway_refresh_failures_total Token refreshes that failed, per server.
# TYPE fracta_gateway_refresh_failures_total counter
fracta_gateway_refresh_failures_total{server="a"} 1
fracta_gateway_refresh_failures_total{server="b"} 0
# HELP fracta_gateway_refreshes_total Token refreshes attempted, per server.
# TYPE fracta_gateway_refreshes_total counter
fracta_gateway_refreshes_total{server="a"} 2
fracta_gateway_refreshes_total{server="b"} 0
# HELP fracta_gateway_request_duration_seconds Time from a request's arrival to its answer, per server and method.
# TYPE fracta_gateway_request_duration_seconds histogram
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.001"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.0025"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.005"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.01"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.025"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.05"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.1"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.25"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="0.5"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="1"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="2.5"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="5"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="10"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="other",le="+Inf"} 1
fracta_gateway_request_duration_seconds_sum{server="a",method="other"} 0.001
fracta_gateway_request_duration_seconds_count{server="a",method="other"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.001"} 0
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.0025"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.005"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.01"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.025"} 1
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.05"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.1"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.25"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="0.5"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="1"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="2.5"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="5"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="10"} 2
fracta_gateway_request_duration_seconds_bucket{server="a",method="tools/call",le="+Inf"} 2
fracta_gateway_request_duration_seconds_sum{server="a",method="tools/call"} 0.032
fracta_gateway_request_duration_seconds_count{server="a",method="tools/call"} 2
# HELP fracta_gateway_request_errors_total Requests answered with a JSON-RPC error, an HTTP status of 400 or more, or a transport failure.
# TYPE fracta_gateway_request_errors_total counter
fracta_gateway_request_errors_total{server="a",method="other"} 0
fracta_gateway_request_errors_total{server="a",method="tools/call"} 1
# HELP fracta_gateway_requests_total Requests answered, per server and method.
# TYPE fracta_gateway_requests_total counter
fracta_gateway_requests_total{server="a",method="other"} 1
fracta_gateway_requests_total{server="a",method="tools/call"} 2
# HELP fracta_gateway_server_state 1 for the state each server is in, 0 for the other states.
# TYPE fracta_gateway_server_state gauge
fracta_gateway_server_state{server="a",state="failing"} 0
fracta_gateway_server_state{server="a",state="needs_login"} 0
fracta_gateway_server_state{server="a",state="ready"} 1
fracta_gateway_server_state{server="a",state="refreshing"} 0
fracta_gateway_server_state{server="a",state="starting"} 0
# HELP fracta_gateway_token_expiry_seconds Seconds until each server's access token expires (negative once expired).
# TYPE fracta_gateway_token_expiry_seconds gauge
fracta_gateway_token_expiry_seconds{server="a"} 90.5
)";
  CHECK(m.render(now_ms) == expected);
}

TEST_CASE("histogram buckets are cumulative, bounds inclusive, and +Inf counts every observation") {
  metrics m;
  m.add_server("s");
  for (auto d : {milliseconds(0), milliseconds(1), milliseconds(3), milliseconds(3), milliseconds(400),
                 milliseconds(10'000), milliseconds(11'000)}) {
    m.record_request("s", "tools/list", d, false);
  }
  m.record_request("s", "tools/list", std::chrono::nanoseconds(-5), false);  // a clock step: counted as 0
  const std::string text = m.render(now_ms);
  const std::string b = R"(fracta_gateway_request_duration_seconds_bucket{server="s",method="tools/list",le=)";
  CHECK(sample(text, b + R"("0.001"})") == "3");
  CHECK(sample(text, b + R"("0.0025"})") == "3");
  CHECK(sample(text, b + R"("0.005"})") == "5");
  CHECK(sample(text, b + R"("0.25"})") == "5");
  CHECK(sample(text, b + R"("0.5"})") == "6");
  CHECK(sample(text, b + R"("10"})") == "7");
  CHECK(sample(text, b + R"("+Inf"})") == "8");
  CHECK(sample(text, R"(fracta_gateway_request_duration_seconds_count{server="s",method="tools/list"})") == "8");
  CHECK(sample(text, R"(fracta_gateway_request_duration_seconds_sum{server="s",method="tools/list"})") == "21.407");
}

TEST_CASE("label values escape backslash, double quote and line feed") {
  metrics m;
  m.add_server("we\"ird\\na\nme");
  const std::string text = m.render(now_ms);
  CHECK(sample(text, R"(fracta_gateway_open_streams{server="we\"ird\\na\nme"})") == "0");
  CHECK(text.find("a\nme") == std::string::npos);
}

TEST_CASE("method_label keeps known MCP and HTTP methods and turns everything else into other") {
  CHECK(method_label("tools/call") == "tools/call");
  CHECK(method_label("resources/templates/list") == "resources/templates/list");
  CHECK(method_label("server/discover") == "server/discover");
  CHECK(method_label("subscriptions/listen") == "subscriptions/listen");
  CHECK(method_label("notifications/cancelled") == "notifications/cancelled");
  CHECK(method_label("GET") == "GET");
  CHECK(method_label("DELETE") == "DELETE");
  CHECK(method_label("PATCH") == "other");
  CHECK(method_label("notifications/made_up") == "other");
  CHECK(method_label("TOOLS/CALL") == "other");
  CHECK(method_label("tools/call/") == "other");
  CHECK(method_label("") == "other");
  CHECK(method_label(std::string(10'000, 'x')) == "other");
}

TEST_CASE("forget_server removes every series of the server and late events do not bring them back") {
  metrics m;
  m.add_server("gone");
  m.add_server("kept");
  m.record_request("gone", "tools/call", milliseconds(5), true);
  m.record_refresh("gone", false);
  m.set_token_expiry("gone", now_ms + 1000);
  m.set_server_state("gone", server_state::failing);
  m.stream_opened("gone");
  m.forget_server("gone");
  m.record_request("gone", "tools/call", milliseconds(5), false);
  m.stream_closed("gone");
  m.record_refresh("gone", true);
  m.set_token_expiry("gone", now_ms + 1000);
  const std::string text = m.render(now_ms);
  CHECK(text.find("\"gone\"") == std::string::npos);
  CHECK(sample(text, R"(fracta_gateway_open_streams{server="kept"})") == "0");
}

TEST_CASE("events naming a server never added are ignored, and set_server_state adds one") {
  metrics m;
  m.record_request("stranger", "tools/call", milliseconds(5), false);
  CHECK(m.render(now_ms).find("stranger") == std::string::npos);
  m.set_server_state("late", server_state::needs_login);
  m.record_request("late", "ping", milliseconds(5), false);
  const std::string text = m.render(now_ms);
  CHECK(sample(text, R"(fracta_gateway_server_state{server="late",state="needs_login"})") == "1");
  CHECK(sample(text, R"(fracta_gateway_server_state{server="late",state="ready"})") == "0");
  CHECK(sample(text, R"(fracta_gateway_requests_total{server="late",method="ping"})") == "1");
}

TEST_CASE("token expiry is absent while unknown and counts down past zero once expired") {
  metrics m;
  m.add_server("s");
  CHECK(sample(m.render(now_ms), R"(fracta_gateway_token_expiry_seconds{server="s"})") == "<absent>");
  m.set_token_expiry("s", now_ms - 2'250);
  CHECK(sample(m.render(now_ms), R"(fracta_gateway_token_expiry_seconds{server="s"})") == "-2.25");
  m.set_token_expiry("s", now_ms + 60'000);
  CHECK(sample(m.render(now_ms), R"(fracta_gateway_token_expiry_seconds{server="s"})") == "60");
  m.set_token_expiry("s", 0);
  CHECK(sample(m.render(now_ms), R"(fracta_gateway_token_expiry_seconds{server="s"})") == "<absent>");
}

TEST_CASE("concurrent recording from four threads loses no increment") {
  metrics m;
  m.add_server("s");
  constexpr int per_thread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < per_thread; ++i) {
        m.record_request("s", "tools/call", milliseconds(1), (i % 4) == t);
        m.record_refresh("s", true);
        m.connection_opened();
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = m.render(now_ms);
  CHECK(sample(text, R"(fracta_gateway_requests_total{server="s",method="tools/call"})") == "80000");
  CHECK(sample(text, R"(fracta_gateway_request_errors_total{server="s",method="tools/call"})") == "20000");
  CHECK(sample(text, R"(fracta_gateway_request_duration_seconds_sum{server="s",method="tools/call"})") == "80");
  CHECK(sample(text, R"(fracta_gateway_refreshes_total{server="s"})") == "80000");
  CHECK(sample(text, "fracta_gateway_connections") == "80000");
}
