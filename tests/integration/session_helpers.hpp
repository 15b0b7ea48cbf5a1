// SPDX-License-Identifier: Apache-2.0
// Helpers the session integration tests share: the loop run until something happened, a
// member of a recorded JSON body, and the engine's log lines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <simdjson.h>

#include "fracta/engine.hpp"

namespace fracta::test {

/// Runs `io` until `done()` holds or 5 s pass (polling with a deadline, never a fixed sleep).
template <class F>
bool run_until(asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return done();
}

/// A member of a JSON text, as minified JSON ("" when absent): `path` names nested members.
inline std::string body_member(const std::string& body, std::initializer_list<const char*> path) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(simdjson::padded_string(body)).get(e)) return "";
  for (const char* key : path) {
    if (e.at_key(key).get(e)) return "";
  }
  return simdjson::minify(e);
}

// Every engine's log lines, from any thread.
struct log_lines {
  std::mutex m;
  std::condition_variable changed;
  std::vector<std::string> lines;
  void add(std::string_view line) {
    {
      std::lock_guard lk(m);
      lines.emplace_back(line);
    }
    changed.notify_all();
  }
  int count(std::string_view needle) {
    std::lock_guard lk(m);
    int n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }
  std::string all() {
    std::lock_guard lk(m);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

inline fracta::engine_options logging_to(log_lines& log) {
  fracta::engine_options o;
  o.log = [&log](fracta::log_level, std::string_view m) { log.add(m); };
  return o;
}

}  // namespace fracta::test
