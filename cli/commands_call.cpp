// SPDX-License-Identifier: Apache-2.0
// `fracta call` and `fracta tools`: open a session to one server and talk MCP (logging in once when asked).
#include <unistd.h>

#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "commands.hpp"
#include "fracta/engine.hpp"
#include "output.hpp"

#include <fracta/proto/text.hpp>
#include "run.hpp"

namespace fracta::cli {
namespace {

bool needs_login(const error& e) { return e.code == make_error_code(errc::needs_login); }

// A login is tried when --login was given, or when a person is at the terminal.
bool may_login(const retry_login& rl) { return rl.login || (::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO)); }

// Every awaited call is built in a named local first: its std::string argument copies live and
// die outside the co_await expression (GCC 12 rule).
asio::awaitable<result<tool_result>> call_and_close(mcp_session& s, std::string tool, std::string arguments,
                                                    bool login_allowed, std::string login_json) {
  auto call = s.call_tool(tool, arguments);
  auto res = co_await std::move(call);
  if (!res && login_allowed && needs_login(res.err())) {
    print_error(res.err().message);
    auto login = login_and_report(s, login_json);
    auto l = co_await std::move(login);
    if (!l) {
      co_await s.close();
      co_return l.err();
    }
    auto again = s.call_tool(tool, arguments);
    res = co_await std::move(again);
  }
  co_await s.close();
  co_return res;
}

asio::awaitable<result<tool_list>> list_and_close(mcp_session& s, bool login_allowed, std::string login_json) {
  auto res = co_await s.list_tools();
  if (!res && login_allowed && needs_login(res.err())) {
    print_error(res.err().message);
    auto login = login_and_report(s, login_json);
    auto l = co_await std::move(login);
    if (!l) {
      co_await s.close();
      co_return l.err();
    }
    res = co_await s.list_tools();
  }
  co_await s.close();
  co_return res;
}

}  // namespace

int cmd_call(const global_options& g, const std::string& server, const std::string& tool,
             const std::string& args, bool json, const retry_login& rl) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, true, rl.options.no_browser, rl.login ? log_level::info : log_level::warn));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  const std::string arguments = args.empty() ? std::string("{}") : args;
  auto r = run_on_loop(io, call_and_close(s, tool, arguments, may_login(rl), login_options_json(rl.options)));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  if (json) {
    print_output(r->result_json);
  } else if (!r->text.empty()) {
    print_output(r->text);
  }
  if (r->is_error) {
    print_error("tool '" + tool + "' on server '" + server + "' reported an error");
    return exit_remote;
  }
  return exit_ok;
}

int cmd_tools(const global_options& g, const std::string& server, bool json, const retry_login& rl) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, true, rl.options.no_browser, rl.login ? log_level::info : log_level::warn));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  auto r = run_on_loop(io, list_and_close(s, may_login(rl), login_options_json(rl.options)));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  if (json) {
    print_output(r->result_json);
    return exit_ok;
  }
  // Names and descriptions are the server's text: one printable line each.
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 4;
  for (const auto& t : r->tools) {
    rows.emplace_back(text::printable(t.name, 128), text::printable(t.description));
    width = std::max(width, rows.back().first.size());
  }
  for (const auto& [name, description] : rows) {
    std::cout << name << std::string(width - name.size() + 2, ' ') << description << "\n";
  }
  return exit_ok;
}

}  // namespace fracta::cli
