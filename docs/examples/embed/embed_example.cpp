// SPDX-License-Identifier: Apache-2.0
// A service embedding fracta: an engine from a config file or built in code, one server's
// status watched, tools/list and tools/call through request(), its notifications, a post().
#include <csignal>
#include <iostream>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <simdjson.h>

#include <fracta/engine.hpp>
#include <fracta/json_writer.hpp>
#include <fracta/proto/json.hpp>

namespace {

constexpr std::uint64_t call_key = 1;  // the tools/call's cancel key (Ctrl-C cancels it)

const char* const usage =
    "usage: fracta-embed-example --config FILE SERVER [TOOL [ARGS_JSON]]\n"
    "       fracta-embed-example --url URL [TOOL [ARGS_JSON]]   (a server without auth, configured in code)\n"
    "       fracta-embed-example --offline                      (builds everything, sends nothing)\n";

struct app {
  fracta::mcp_session& session;
  std::string tool, args = "{}";
  int exit_code = 0;
};

// A server configured in code: validated by the same rules as a config file.
fracta::config::config config_for_url(const std::string& url) {
  fracta::config::new_server s;
  s.name = "remote";
  s.url = url;  // no auth_type: no auth table, type "none"
  const std::string where = "(built in code)";
  return fracta::config::parse(fracta::config::with_server_added("", where, s), where);
}

// Answers a request the server sent outside ours (from a 2025 server: here roots/list).
void answer_server_request(asio::any_io_executor ex, fracta::mcp_session& s, simdjson::dom::element msg,
                           std::string_view method) {
  fracta::json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("id").raw(fracta::json::to_string(*fracta::json::get(msg, "id")));
  if (method == "roots/list") {
    w.key("result").begin_object().key("roots").begin_array().end_array().end_object();
  } else {
    w.key("error").begin_object().key("code").value(-32601).key("message").value("not offered").end_object();
  }
  asio::co_spawn(ex, s.post(w.end_object().take()), asio::detached);  // the answer goes back with post()
}

std::string tool_names(const std::string& result_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string names;
  if (!fracta::json::parse(parser, result_json, doc).empty()) return names;
  simdjson::dom::array tools;
  if (doc["tools"].get(tools)) return names;
  for (simdjson::dom::element t : tools) {
    names += (names.empty() ? "" : ", ") + std::string(fracta::json::get_string(t, "name").value_or("?"));
  }
  return names;
}

// tools/call params: the name, the arguments, and a progressToken asking for progress.
std::string call_params(const app& a) {
  fracta::json::writer w;
  w.begin_object().key("name").value(a.tool).key("arguments").raw(a.args);
  w.key("_meta").begin_object().key("progressToken").value("embed-1").end_object();
  return w.end_object().take();
}

std::string notification(std::string_view method) {
  fracta::json::writer w;
  w.begin_object().key("jsonrpc").value("2.0").key("method").value(method).end_object();
  return w.take();
}

// The conversation. A plain coroutine (no capturing lambda) whose awaitables are named locals,
// as GCC 12 needs.
asio::awaitable<void> converse(app& a) {
  const std::string list_method = "tools/list", no_params = "{}";
  auto list = a.session.request(list_method, no_params);
  auto listed = co_await std::move(list);
  if (!listed) {
    std::cout << "failed: " << listed.err().message << "\n";
    a.exit_code = 1;
  } else {
    std::cout << "era: " << a.session.era() << " (" << a.session.protocol_version() << ")\n";
    std::cout << (listed->is_error ? "tools/list error: " + listed->json : "tools: " + tool_names(listed->json)) << "\n";
  }
  if (a.exit_code == 0 && !a.tool.empty()) {
    fracta::request_options opts;
    opts.on_message = [](std::string m) { std::cout << "stream: " << m << "\n"; };  // progress, logs
    opts.cancel_key = call_key;
    const std::string call_method = "tools/call", params = call_params(a);
    auto call = a.session.request(call_method, params, std::move(opts));
    auto called = co_await std::move(call);
    if (!called) std::cout << "failed: " << called.err().message << "\n";
    else std::cout << (called->is_error ? "error: " : "result: ") << called->json << "\n";
    a.exit_code = called && !called->is_error ? 0 : 1;
  }
  // A client notification: a 2025 server receives it, a 2026-07-28 server has none (dropped).
  auto post = a.session.post(notification("notifications/roots/list_changed"));
  auto posted = co_await std::move(post);
  std::cout << (posted ? "posted notifications/roots/list_changed" : "post failed: " + posted.err().message) << "\n";
  auto close = a.session.close();
  co_await std::move(close);
  std::cout << "closed\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "--help";
  const int first_extra = mode == "--config" ? 4 : 3;
  if ((mode != "--config" && mode != "--url" && mode != "--offline") || (mode == "--config" && argc < 4) ||
      (mode == "--url" && argc < 3)) {
    std::cout << usage;
    return mode == "--help" ? 0 : 2;
  }
  fracta::config::config cfg;
  std::string server = "remote";
  try {
    if (mode == "--config") {
      cfg = fracta::config::load(argv[2]);  // throws config_error: file, line, server, key, fix
      server = argv[3];
    } else {
      cfg = config_for_url(mode == "--url" ? argv[2] : "http://127.0.0.1:9/mcp");
    }
  } catch (const fracta::config::config_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }

  asio::io_context io;  // run by this thread only; the engine would take more
  fracta::engine_options eo;
  eo.log = [](fracta::log_level l, std::string_view line) {
    if (l >= fracta::log_level::warn) std::cerr << "fracta: " << line << "\n";
  };
  fracta::engine eng(io.get_executor(), std::move(cfg), std::move(eo));
  auto opened = eng.open(server);  // no network yet: the provider is created, secrets resolved
  if (!opened) {
    std::cerr << opened.err().message << "\n";
    return 2;
  }
  fracta::mcp_session& s = **opened;
  // Before the first operation: the watcher, the handler and the capabilities.
  std::cout << "status: " << fracta::to_string(s.status().state) << "\n";
  s.watch_status([](const fracta::server_status& st) {
    std::cout << "status: " << fracta::to_string(st.state) << (st.detail.empty() ? "" : " (" + st.detail + ")") << "\n";
  });
  s.set_message_handler([&s, ex = io.get_executor()](std::string m) {
    std::cout << "message: " << m << "\n";  // e.g. list_changed on a 2025 session's GET stream
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!fracta::json::parse(parser, m, doc).empty() || !fracta::json::get(doc, "id")) return;
    if (auto method = fracta::json::get_string(doc, "method")) answer_server_request(ex, s, doc, *method);
  });
  s.set_client_capabilities(R"({"roots":{"listChanged":true}})");
  if (mode == "--offline") {
    std::cout << "engine built, session to '" << s.server_name() << "' opened; nothing sent\n";
    return 0;
  }

  app a{s, argc > first_extra ? argv[first_extra] : "", argc > first_extra + 1 ? argv[first_extra + 1] : "{}"};
  simdjson::dom::parser parser;
  simdjson::dom::element args;
  if (!fracta::json::parse(parser, a.args, args).empty() || !args.is_object()) {
    std::cerr << "ARGS_JSON must be a JSON object\n";
    return 2;
  }
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&s](const std::error_code& e, int) {
    if (!e) s.cancel(call_key);  // the call ends with errc::cancelled; the server is told
  });
  asio::co_spawn(io, converse(a), [&](std::exception_ptr e) {
    if (e) a.exit_code = 1;
    stop.cancel();
    io.stop();  // whatever the engine still runs (a refresh timer) ends with the loop
  });
  io.run();
  return a.exit_code;
}
