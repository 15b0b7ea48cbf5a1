// SPDX-License-Identifier: Apache-2.0
// Helpers the session integration tests share: the loop run until something happened, and a
// member of a recorded JSON body.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>

#include <asio/io_context.hpp>
#include <simdjson.h>

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

}  // namespace fracta::test
