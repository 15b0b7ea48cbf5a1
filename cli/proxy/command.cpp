// SPDX-License-Identifier: Apache-2.0
// `fracta proxy`: a configured server, or an implicit one named by its URL (mcp-remote's
// one-liner), bridged to stdin/stdout until the host closes stdin.
#include <signal.h>
#include <unistd.h>

#include <strings.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "commands.hpp"
#include "fracta/engine.hpp"
#include "output.hpp"
#include "proxy/bridge.hpp"
#include "proxy/stdio.hpp"
#include "run.hpp"

namespace fracta::cli {
namespace {

// A host message may carry a large tool result or file: lines up to this size are read.
constexpr std::size_t max_line_bytes = 64 * 1024 * 1024;

bool is_url(const std::string& s) { return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0; }

// ${VAR} in a header value, from the environment; an unset variable is an error (a header
// silently sent empty would fail far from its cause).
std::optional<std::string> expand(const std::string& value, std::string* why) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '{') {
      const auto end = value.find('}', i + 2);
      if (end == std::string::npos) {
        *why = "an unclosed ${ in a header value";
        return std::nullopt;
      }
      const std::string name = value.substr(i + 2, end - i - 2);
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) {
        *why = "the environment variable " + name + " used in a header is not set";
        return std::nullopt;
      }
      out += v;
      i = end;
      continue;
    }
    out += value[i];
  }
  return out;
}

// A stable name for an implicit server: its host, and a hash of the whole URL (the store
// keys its tokens by name and URL, so the next run finds them).
std::string implicit_name(const std::string& url) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : url) h = (h ^ c) * 1099511628211ull;
  std::string host = url.substr(url.find("//") + 2);
  host = host.substr(0, host.find_first_of("/?#"));
  std::string name = "url-";
  for (char c : host) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffull));
  return name + "-" + buf;
}

// The config with the implicit server added to whatever the config file holds ([plugins],
// other servers), validated by the same rules as a file; nullopt after printing why.
std::optional<config::config> with_implicit_server(const global_options& g, const proxy_options& o,
                                                   std::string* name) {
  const std::filesystem::path path = g.config_path.empty() ? config::default_path() : std::filesystem::path(g.config_path);
  try {
    const std::string text = config::read_text(path).value_or("");
    config::new_server s;
    s.name = *name = implicit_name(o.target);
    s.url = o.target;
    bool has_authorization = false;
    for (const auto& h : o.headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0) {
        // Never the text itself: without a colon, it may be nothing but the secret.
        print_error("a --header must be written 'Name: value' (one has no header name before a colon)");
        return std::nullopt;
      }
      std::string header = h.substr(0, colon), value = h.substr(colon + 1), why;
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      auto expanded = expand(value, &why);
      if (!expanded) {
        print_error("--header " + header + ": " + why);
        return std::nullopt;
      }
      has_authorization = has_authorization || strcasecmp(header.c_str(), "authorization") == 0;
      s.headers.emplace_back(header, *expanded);
    }
    if (!has_authorization) {
      // No credential given: OAuth, discovered when the server asks for it.
      s.auth_type = "oauth";
      if (!o.oauth_client_id.empty()) {
        s.auth_secrets.emplace_back("client_id", config::secret_value{config::secret_value::source::value,
                                                                      o.oauth_client_id, "client_id", {}});
      }
      if (!o.scopes.empty()) s.auth_lists.emplace_back("scopes", o.scopes);
    }
    const std::string shown = path.string() + " + the command line";
    auto cfg = config::parse(config::with_server_added(text, shown, s), shown);
    cfg.path = path.string();
    return cfg;
  } catch (const config::config_error& e) {
    print_error(e.what());
    return std::nullopt;
  }
}

asio::awaitable<void> close_then(mcp_session& s, std::function<void()> after) {
  auto c = s.close();
  co_await std::move(c);
  after();
}

}  // namespace

int cmd_proxy(const global_options& g, const proxy_options& o) {
  ::signal(SIGPIPE, SIG_IGN);  // a host that went away is seen as a failed write
  std::string name = o.target;
  std::optional<config::config> cfg = is_url(o.target) ? with_implicit_server(g, o, &name) : load_config(g);
  if (!cfg) return exit_usage;
  if (!is_url(o.target) && (!o.headers.empty() || !o.oauth_client_id.empty() || !o.scopes.empty())) {
    print_error("--header, --oauth-client-id and --scope are for a server given by URL; '" + o.target +
                "' is configured: change it with `fracta config mcp add` instead");
    return exit_usage;
  }
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, true, o.no_browser, log_level::warn));
  auto session = eng.open(name);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  proxy::line_writer out(io, STDOUT_FILENO);
  proxy::bridge_options bo;
  bo.server = name;
  bo.login_hint = is_url(o.target) ? "fracta proxy " + o.target : "fracta config mcp auth login " + name;
  bo.may_login = !o.no_login;
  bo.login_json = login_options_json(o.login);
  bo.say = [](std::string_view line) { std::cerr << "fracta: " << line << std::endl; };
  proxy::bridge b(io, **session, out, std::move(bo));
  mcp_session& s = **session;
  bool finished = false;
  auto on_done = [&] {
    asio::co_spawn(io, close_then(s, [&] {
      out.when_drained([&] {
        finished = true;
        work.reset();
        io.stop();
      });
    }), asio::detached);
  };
  // Callbacks on the loop's thread.
  proxy::line_reader in(
      io, STDIN_FILENO, max_line_bytes, [&b](std::string line) { b.on_line(std::move(line)); },
      [&b](std::size_t n) { b.on_oversize(n); }, [&] { b.on_eof(on_done); });
  io.run();
  out.finish();
  return finished ? exit_ok : exit_transport;
}

}  // namespace fracta::cli
