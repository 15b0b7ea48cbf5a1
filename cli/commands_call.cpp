// SPDX-License-Identifier: Apache-2.0
// `fracta call` and `fracta tools`: open a session to one server and talk MCP (logging in once when asked).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "commands.hpp"
#include "fracta/engine.hpp"
#include "elicit.hpp"
#include "fracta/json_writer.hpp"
#include <fracta/proto/json.hpp>
#include "output.hpp"

#include <fracta/proto/text.hpp>
#include "run.hpp"

namespace fracta::cli {
namespace {

bool needs_login(const error& e) { return e.code == make_error_code(errc::needs_login); }

// A login is tried when --login was given, or when a person is at the terminal.
bool may_login(const request_options& rl) { return rl.login || (::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO)); }

// The two requests these commands make. start() builds the awaitable, so that the request can
// be made again after a login.
struct call_request {
  std::string tool;
  std::string arguments;
  asio::awaitable<result<tool_result>> start(mcp_session& s) const { return s.call_tool(tool, arguments); }
};

// tools/list: the first page, or with `all` every page (bounded: a server that keeps handing
// out cursors, or hands out the same one again, is not followed forever).
constexpr int max_pages = 100;

// Appends the members of `result_json`'s "tools" array, minified, to `out`.
void append_raw_tools(const std::string& result_json, std::vector<std::string>& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array tools;
  if (!json::parse(parser, result_json, doc).empty() || doc["tools"].get(tools) != simdjson::SUCCESS) return;
  for (auto t : tools) out.push_back(json::to_string(t));
}

// {"tools":[every page's tools]}: the result of `tools --all --json`.
std::string joined_result(const std::vector<std::string>& raw) {
  json::writer w;
  w.begin_object().key("tools").begin_array();
  for (const auto& t : raw) w.raw(t);
  w.end_array().end_object();
  return w.take();
}

asio::awaitable<result<tool_list>> list_pages(mcp_session& s, bool all) {
  auto first = s.list_tools();
  auto r = co_await std::move(first);
  if (!r || !all || r->next_cursor.empty()) co_return r;
  tool_list whole = std::move(r).value();
  std::vector<std::string> raw;
  append_raw_tools(whole.result_json, raw);
  std::vector<std::string> seen{whole.next_cursor};
  for (int page = 1; !whole.next_cursor.empty(); ++page) {
    if (page == max_pages) {
      co_return error{make_error_code(errc::protocol),
                      "the server's tool list goes on past " + std::to_string(max_pages) + " pages; stopped there"};
    }
    std::string cursor = whole.next_cursor;
    auto next = s.list_tools(std::move(cursor));
    auto more = co_await std::move(next);
    if (!more) co_return more.err();
    for (auto& t : more->tools) whole.tools.push_back(std::move(t));
    append_raw_tools(more->result_json, raw);
    whole.next_cursor = std::move(more->next_cursor);
    if (std::find(seen.begin(), seen.end(), whole.next_cursor) != seen.end()) {
      co_return error{make_error_code(errc::protocol),
                      "the server's tool list repeats a page (nextCursor " + text::printable(whole.next_cursor, 64) +
                          " again); stopped"};
    }
    seen.push_back(whole.next_cursor);
  }
  whole.result_json = joined_result(raw);
  co_return whole;
}

struct list_request {
  bool all = false;
  asio::awaitable<result<tool_list>> start(mcp_session& s) const { return list_pages(s, all); }
};

// Makes `req` on `s`, once more after a login when the server needs one and a login is allowed,
// then closes the session. Every awaited call is built in a named local first: its std::string
// argument copies live and die outside the co_await expression (GCC 12 rule).
template <class Request>
auto request_and_close(mcp_session& s, Request req, bool login_allowed, std::string login_json)
    -> decltype(req.start(s)) {
  auto first = req.start(s);
  auto res = co_await std::move(first);
  if (!res && login_allowed && needs_login(res.err())) {
    // Not an error yet: the login below may well fix it (its own failure is said if not).
    std::cerr << s.server_name() << " needs a login first; logging in, then retrying the request" << std::endl;
    auto login = login_and_report(s, login_json);
    auto l = co_await std::move(login);
    if (!l) {
      co_await s.close();
      co_return l.err();
    }
    auto again = req.start(s);
    res = co_await std::move(again);
  }
  co_await s.close();
  co_return res;
}

// Opens `server` on a one-thread loop, makes `req` there (request_and_close) and hands the answer
// to `print`, which returns the exit code. Errors are printed and mapped to their exit code.
template <class Request, class Print>
int run_request(const global_options& g, const std::string& server, const request_options& rl, Request req,
                Print print, const std::string& answers = {}) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  if (rl.request_timeout_seconds > 0) {
    for (auto& s : cfg->servers) {
      if (s.name == server) s.timeout_seconds = static_cast<std::uint32_t>(rl.request_timeout_seconds);
    }
  }
  asio::io_context io(1);
  engine_options opts = make_engine_options(g, true, rl.options.no_browser, rl.login ? log_level::info : log_level::warn);
  opts.interactive.timeout_advice = "per command with --request-timeout";
  if (!answers.empty()) {
    // The server's questions are answered from --answers, with or without a terminal.
    opts.interactive.elicit = [answers](std::string_view params) {
      return answer_elicitation_from(params, answers, stderr);
    };
  }
  engine eng(io.get_executor(), std::move(*cfg), std::move(opts));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto r = run_on_loop(io, request_and_close(**session, std::move(req), may_login(rl), login_options_json(rl.options)));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  return print(*r, **session);
}

// The largest tool arguments read from a file or standard input.
constexpr std::size_t max_arguments_bytes = 16u << 20;

// Reads `in` whole, up to max_arguments_bytes. nullopt (and `problem` set) when it fails.
std::optional<std::string> read_bounded(std::istream& in, std::string& problem) {
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_arguments_bytes) {
      problem = "is larger than " + std::to_string(max_arguments_bytes >> 20) + " MiB";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    problem = "cannot be read";
    return std::nullopt;
  }
  return out;
}

// The tool arguments: as given, or from a file (@PATH; ~/ is the home directory) or standard
// input (-). The error printed and nullopt when they cannot be read.
std::optional<std::string> arguments_text(const std::string& given) {
  if (given.empty()) return std::string("{}");
  std::string problem;
  if (given == "-") {
    auto text = read_bounded(std::cin, problem);
    if (!text) print_error("the tool arguments on standard input " + problem);
    return text;
  }
  if (given.front() != '@') return given;
  const std::string path = config::expand_home(std::string_view(given).substr(1));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    print_error("arguments file '" + path + "' is a directory; give a file holding a JSON object");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    print_error("cannot read the arguments file '" + path + "': " + std::generic_category().message(errno));
    return std::nullopt;
  }
  auto text = read_bounded(in, problem);
  if (!text) print_error("the arguments file '" + path + "' " + problem);
  return text;
}

bool is_json_object(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return json::parse(parser, text, doc).empty() && doc.is_object();
}

// `{"protocol":{"version":…,"era":…}, <the result's members>}`: the MCP version and era spoken.
std::string with_protocol(const std::string& result_json, const mcp_session& s) {
  json::writer w;
  w.begin_object().key("version").value(s.protocol_version()).key("era").value(s.era()).end_object();
  const std::string member = "{\"protocol\":" + w.take();
  const bool empty = result_json.size() <= 2 || result_json.front() != '{';
  return member + (empty ? std::string("}") : "," + result_json.substr(1));
}

}  // namespace

int cmd_call(const global_options& g, const std::string& server, const std::string& tool,
             const std::string& args, bool json, const request_options& rl, const std::string& answers) {
  if (!answers.empty() && !is_json_object(answers)) {
    print_error("--answers must be a JSON object of field values, e.g. --answers '{\"confirmed\":true}' ('{}' takes "
                "every default)");
    return exit_usage;
  }
  auto arguments = arguments_text(args);
  if (!arguments) return exit_usage;
  if (args != arguments && !is_json_object(*arguments)) {
    print_error("the tool arguments from " + (args == "-" ? std::string("standard input") : "'" + args.substr(1) + "'") +
                " are not a JSON object; write one, e.g. {\"text\":\"hi\"}");
    return exit_usage;
  }
  call_request req{tool, std::move(*arguments)};
  return run_request(g, server, rl, std::move(req), [&](const tool_result& r, const mcp_session&) {
    if (json) {
      print_output(r.result_json);
    } else if (!r.text.empty()) {
      print_output(r.text);
    }
    if (r.is_error) {
      print_error("tool '" + tool + "' on server '" + server + "' reported an error");
      return exit_remote;
    }
    return exit_ok;
  }, answers);
}

int cmd_tools(const global_options& g, const std::string& server, bool json, bool all, const request_options& rl) {
  return run_request(g, server, rl, list_request{all}, [&](const tool_list& r, const mcp_session& s) {
    if (!r.next_cursor.empty()) {
      // Said on stderr, so --json's stdout stays the server's page.
      print_error("the server has more tools than this page; `fracta tools " + server + " --all` lists them all");
    }
    if (json) {
      print_output(with_protocol(r.result_json, s));
      return exit_ok;
    }
    // Names and descriptions are the server's text: one printable line each.
    std::vector<std::pair<std::string, std::string>> rows;
    std::size_t width = 4;
    for (const auto& t : r.tools) {
      rows.emplace_back(text::printable(t.name, 128), text::printable(t.description));
      width = std::max(width, rows.back().first.size());
    }
    for (const auto& [name, description] : rows) {
      std::cout << name << std::string(width - name.size() + 2, ' ') << description << "\n";
    }
    return exit_ok;
  });
}

}  // namespace fracta::cli
