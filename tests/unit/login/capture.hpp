// SPDX-License-Identifier: Apache-2.0
// Test support: a provider that only captures the fracta_host it is given, so tests can call
// the host services directly, a fixture building provider instances with stores and a user, and
// waiting for the files a detached browser writes.
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include "fracta/auth_plugin.h"
#include "fracta/engine.hpp"
#include "http/client.hpp"
#include "plugin/instance.hpp"
#include "store/select.hpp"

namespace fracta::test {

inline std::string_view view(fracta_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
inline fracta_str str(std::string_view s) { return {s.data(), s.size()}; }

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Polls `p` (a detached browser writes it) until `done(text)` or 10 s; returns its text.
template <class Done>
std::string wait_for_file(const std::filesystem::path& p, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto text = slurp(p);
    if (done(text) || std::chrono::steady_clock::now() >= until) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
/// ... until it holds at least `lines` lines.
inline std::string wait_for_lines(const std::filesystem::path& p, int lines = 1) {
  return wait_for_file(p, [lines](const std::string& t) { return std::count(t.begin(), t.end(), '\n') >= lines; });
}
/// ... until it contains `needle`.
inline std::string wait_for_text(const std::filesystem::path& p, std::string_view needle) {
  return wait_for_file(p, [needle](const std::string& t) { return t.find(needle) != std::string::npos; });
}

struct async_result {
  bool called = false;
  int calls = 0;
  std::int32_t status = 0;
  std::string message, value;
};

inline void record(void* c, std::int32_t st, const fracta_outcome* o) {
  auto* r = static_cast<async_result*>(c);
  r->called = true;
  ++r->calls;
  r->status = st;
  if (o) {
    r->message = std::string(view(o->message));
    r->value = std::string(view(o->value));
  }
}

inline fracta_completion completion(async_result& r) { return fracta_completion{&record, &r}; }

struct string_sink {
  std::string text;
  fracta_sink sink{sizeof(fracta_sink), this,
                   [](void* c, fracta_str s) { static_cast<string_sink*>(c)->text.append(view(s)); }};
};

inline const fracta_host* captured_host = nullptr;
inline int capture_tag = 0;

inline const fracta_provider capturing = {
    sizeof(fracta_provider), "capture", 0,
    [](const fracta_host* h, fracta_str, void** inst, const fracta_sink*) -> std::int32_t {
      captured_host = h;
      *inst = &capture_tag;
      return FRACTA_OK;
    },
    [](void*) {}, [](void*, fracta_request*, const fracta_sink*) -> std::int32_t { return FRACTA_OK; },
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

/// One provider instance with the engine's real pieces: a blocking pool, a store selector and
/// (optionally) a user who hears everything said.
struct host_fixture {
  asio::io_context io;
  http::client http{io.get_executor()};
  config::server server;
  plugin::memory_store memory;
  asio::thread_pool pool{1};
  std::vector<std::string> said;
  std::vector<std::string> logged;
  interactive_options user;
  std::unique_ptr<store::selector> stores;

  explicit host_fixture(bool interactive = false, bool no_browser = false) {
    server.name = "s";
    server.url = "http://127.0.0.1:1/mcp";
    user.enabled = interactive;
    user.no_browser = no_browser;
    user.say = [this](std::string_view l) { said.emplace_back(l); };
    store::selector::options o;
    o.probe_timeout = std::chrono::milliseconds(1500);
    o.log = [this](std::int32_t, std::string_view m) { logged.emplace_back(m); };
    stores = std::make_unique<store::selector>(std::move(o));
  }
  ~host_fixture() { pool.join(); }

  plugin::instance_context ctx() {
    plugin::instance_context c{asio::make_strand(io.get_executor()), &http, core::system_clock(), &server, &memory,
                               {}, pool.get_executor()};
    c.stores = stores.get();
    c.interactive = &user;
    return c;
  }

  /// Runs the loop until `r` completes (answers may come from the pool), at most `max`.
  bool wait(const async_result& r, std::chrono::milliseconds max = std::chrono::seconds(20)) {
    io.restart();  // a loop that ran out of work is stopped until restarted
    auto guard = asio::make_work_guard(io);
    const auto until = std::chrono::steady_clock::now() + max;
    while (!r.called && std::chrono::steady_clock::now() < until) {
      io.run_one_for(std::chrono::milliseconds(50));
    }
    return r.called;
  }
};

}  // namespace fracta::test
