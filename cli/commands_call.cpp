// SPDX-License-Identifier: Apache-2.0
// `fracta call` and `fracta tools`: open a session to one server and talk MCP.
#include <iostream>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "commands.hpp"
#include "fracta/engine.hpp"
#include "output.hpp"

namespace fracta::cli {
namespace {

template <class T>
asio::awaitable<void> store(asio::awaitable<T> aw, std::optional<T>& out) {
  out.emplace(co_await std::move(aw));
}

// Runs `aw` on a fresh single-threaded loop until it finishes.
template <class T>
T run_on_loop(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(io, store(std::move(aw), out), [&](std::exception_ptr e) {
    failure = e;
    io.stop();
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

asio::awaitable<result<tool_result>> call_and_close(mcp_session& s, const std::string& tool,
                                                    const std::string& arguments) {
  auto res = co_await s.call_tool(tool, arguments);
  co_await s.close();
  co_return res;
}

asio::awaitable<result<tool_list>> list_and_close(mcp_session& s) {
  auto res = co_await s.list_tools();
  co_await s.close();
  co_return res;
}

engine_options engine_opts(const global_options& g) {
  engine_options o;
  if (g.verbose) {
    o.log = [](log_level, std::string_view m) { std::cerr << "fracta: " << m << "\n"; };
  }
  return o;
}

std::optional<config::config> load(const global_options& g) {
  try {
    return config::load(g.config_path.empty() ? config::default_path() : std::filesystem::path(g.config_path));
  } catch (const config::config_error& e) {
    print_error(e.what());
    return std::nullopt;
  }
}

}  // namespace

int cmd_call(const global_options& g, const std::string& server, const std::string& tool,
             const std::string& args, bool json) {
  auto cfg = load(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), engine_opts(g));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  const std::string arguments = args.empty() ? std::string("{}") : args;
  auto r = run_on_loop(io, call_and_close(s, tool, arguments));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  if (json) {
    std::cout << r->result_json << "\n";
  } else if (!r->text.empty()) {
    std::cout << r->text << "\n";
  }
  if (r->is_error) {
    print_error("tool '" + tool + "' on server '" + server + "' reported an error");
    return exit_remote;
  }
  return exit_ok;
}

int cmd_tools(const global_options& g, const std::string& server, bool json) {
  auto cfg = load(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), engine_opts(g));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  auto r = run_on_loop(io, list_and_close(s));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  if (json) {
    std::cout << r->result_json << "\n";
    return exit_ok;
  }
  std::size_t width = 4;
  for (const auto& t : r->tools) width = std::max(width, t.name.size());
  for (const auto& t : r->tools) {
    std::cout << t.name << std::string(width - t.name.size() + 2, ' ') << t.description << "\n";
  }
  return exit_ok;
}

}  // namespace fracta::cli
