// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp auth login|status|logout` (and their deprecated `fracta mcp …` aliases).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include <simdjson.h>

#include "commands.hpp"
#include "elicit.hpp"
#include "fracta/engine.hpp"
#include "fracta/json_writer.hpp"
#include "output.hpp"

#include <fracta/proto/text.hpp>
#include "run.hpp"

namespace fracta::cli {
namespace {

// ---- shared helpers -------------------------------------------------------------------------

std::string utc(std::int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string relative(std::int64_t delta_s) {
  const bool past = delta_s < 0;
  std::int64_t d = past ? -delta_s : delta_s;
  std::string amount;
  if (d < 90) amount = std::to_string(d) + " s";
  else if (d < 90 * 60) amount = std::to_string((d + 30) / 60) + " min";
  else if (d < 36 * 3600) amount = std::to_string((d + 1800) / 3600) + " h";
  else amount = std::to_string((d + 43200) / 86400) + " days";
  return past ? "expired " + amount + " ago" : "expires in " + amount;
}

std::string expiry_text(std::int64_t expires_at_s) {
  if (expires_at_s <= 0) return "expiry unknown";
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  return relative(expires_at_s - now) + " (" + utc(expires_at_s) + ")";
}

bool is_static_type(const std::string& t) { return t == "bearer" || t == "header" || t == "basic"; }

// Auth status of one server: a JSON object for --json and a line for people.
struct status_entry {
  std::string json;
  std::string line;
  int code = exit_ok;
};

asio::awaitable<std::string> status_of(mcp_session& s) { co_return co_await s.auth_status(); }

status_entry describe(const config::server& srv, engine& eng, asio::io_context& io) {
  status_entry e;
  const auto& type = srv.auth.type;
  if (type == "none" || is_static_type(type)) {
    const std::string kind = type == "none" ? "none" : "static credential";
    json::writer w;
    w.begin_object().key("server").value(srv.name).key("auth").value(type).key("credential").value(kind).end_object();
    e.json = w.take();
    e.line = srv.name + ": " + (type == "none" ? std::string("none (no credential)") : kind + " (" + type + ")");
    return e;
  }
  auto session = eng.open(srv.name);
  if (!session) {
    json::writer w;
    w.begin_object().key("server").value(srv.name).key("auth").value(type).key("error").value(session.err().message)
        .end_object();
    e.json = w.take();
    e.line = srv.name + ": error: " + session.err().message;
    e.code = exit_code_for(session.err());
    return e;
  }
  const std::string doc = run_on_loop(io, status_of(**session));
  simdjson::dom::parser parser;
  simdjson::dom::element d;
  if (parser.parse(doc).get(d) != simdjson::SUCCESS || !d.is_object()) {
    e.json = doc;
    e.line = srv.name + ": status unavailable";
    return e;
  }
  auto str = [&](const char* k) -> std::string {
    std::string_view v;
    if (d[k].get(v) == simdjson::SUCCESS) return std::string(v);
    return {};
  };
  auto boolean = [&](const char* k) -> std::optional<bool> {
    bool v = false;
    if (d[k].get(v) == simdjson::SUCCESS) return v;
    return std::nullopt;
  };
  std::int64_t expires = 0;
  if (d["expires_at"].get(expires) != simdjson::SUCCESS) expires = 0;
  // The JSON: the engine's document with the auth type added.
  {
    json::writer w;
    w.begin_object().key("auth").value(type);
    const simdjson::dom::object fields = d.get_object().value_unsafe();
    for (auto [k, v] : fields) {
      if (k == "auth") continue;
      w.key(k).raw(simdjson::minify(v));
    }
    w.end_object();
    e.json = w.take();
  }
  const auto logged_in = boolean("logged_in");
  const auto needs = boolean("needs_login");
  std::string line = srv.name + ": ";
  const std::string source = str("source");
  const bool injected = source == "inline" || source == "token_file";
  const std::string store_error = injected ? std::string() : str("store_error");
  if (!store_error.empty()) {
    // Not "needs login": a login would not help while the store cannot be read.
    e.line = line + "the stored credentials cannot be read: " + store_error + "\n  store: " + str("store");
    e.code = exit_auth;
    return e;
  }
  if (logged_in.value_or(false)) {
    line += "logged in, " + expiry_text(expires);
  } else if (needs.value_or(false) || logged_in) {
    line += "needs login (run `fracta config mcp auth login " + srv.name + "`)";
  } else {
    line += "credential from the '" + type + "' provider";
  }
  if (const auto scopes = str("scopes"); !scopes.empty()) line += "; scopes: " + scopes;
  if (const auto issuer = str("issuer"); !issuer.empty()) line += "; issuer: " + issuer;
  if (const auto grant = str("grant"); !grant.empty()) line += "; grant: " + grant;
  // Injected tokens (inline, token_file) use no store: say where they come from instead.
  if (const auto store = str("store"); !store.empty() && !injected) line += "; store: " + store;
  if (source == "inline") line += "; source: inline (access_token in the config, refreshed in memory only)";
  if (const auto path = str("source_path"); !path.empty()) {
    std::int64_t read_at = 0;
    if (d["source_read_at"].get(read_at) != simdjson::SUCCESS) read_at = 0;
    line += "\n  source: token_file " + path + (read_at > 0 ? " (read " + utc(read_at) + ")" : std::string());
  }
  e.line = line;
  return e;
}

asio::awaitable<result<void>> logout_of(mcp_session& s) { co_return co_await s.logout(); }

}  // namespace

// ---- run.hpp helpers ----------------------------------------------------------------------------

std::optional<config::config> load_config(const global_options& g) {
  try {
    return config::load(g.config_path.empty() ? config::default_path() : std::filesystem::path(g.config_path));
  } catch (const config::config_error& e) {
    print_error(e.what());
    return std::nullopt;
  }
}

engine_options make_engine_options(const global_options& g, bool interactive, bool no_browser,
                                   std::optional<log_level> shown) {
  engine_options o;
  if (g.verbose > 0) {
    o.log = [min = g.verbose > 1 ? log_level::debug : log_level::info](log_level l, std::string_view m) {
      if (l >= min) std::cerr << "fracta: " << m << "\n";
    };
    o.on_exchange = [](const exchange_info& x) { std::cerr << "fracta: " << exchange_line(x) << "\n"; };
  } else if (shown) {
    o.log = [min = *shown](log_level l, std::string_view m) {
      if (l >= min) std::cerr << "fracta: " << m << "\n";
    };
  }
  if (interactive) {
    o.interactive.enabled = true;
    o.interactive.no_browser = no_browser;
    o.interactive.say = [](std::string_view line) { std::cerr << line << std::endl; };
    // A person watching sees the browser wait count down (not with --no-browser: they may be
    // pasting the redirect address on this terminal).
    if (::isatty(STDERR_FILENO) && !no_browser) {
      o.interactive.countdown = [](std::int64_t left) {
        if (left < 0) {
          std::cerr << "\r\033[K" << std::flush;
          return;
        }
        const std::string secs = std::to_string(left % 60);
        std::cerr << "\rWaiting for the browser: " << left / 60 << ":" << (secs.size() < 2 ? "0" : "") << secs
                  << " left (Ctrl-C to stop) " << std::flush;
      };
    }
    // A tool's progress is shown to a person watching (never mixed into a script's stderr).
    if (::isatty(STDERR_FILENO)) {
      o.interactive.progress = [](std::string_view line) { std::cerr << "fracta: " << line << std::endl; };
    }
    // A server's questions are put to a person at a terminal (stdout may hold --json output).
    if (::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO)) {
      o.interactive.elicit = [](std::string_view params) {
        std::clearerr(stdin);
        return answer_elicitation(params, stdin, stderr);
      };
    }
  }
  return o;
}

std::string login_options_json(const login_options& o) {
  json::writer w;
  w.begin_object();
  if (!o.scopes.empty()) {
    w.key("scopes").begin_array();
    for (const auto& s : o.scopes) w.value(s);
    w.end_array();
  }
  w.key("timeout_ms").value(static_cast<std::int64_t>(o.timeout_seconds) * 1000);
  if (o.device) w.key("device").value(true);
  w.end_object();
  return w.take();
}

// Every awaited call is built in a named local first: the std::string argument copy lives and
// dies outside the co_await expression (GCC 12 rule).
asio::awaitable<result<login_outcome>> login_and_report(mcp_session& s, const std::string& options_json) {
  auto login = s.login(options_json);
  auto r = co_await std::move(login);
  if (r) std::cerr << "Logged in to " << s.server_name() << ": " << r->message << std::endl;
  co_return r;
}

// ---- commands -----------------------------------------------------------------------------------

namespace {
asio::awaitable<result<login_outcome>> login_only(mcp_session& s, const std::string* options_json) {
  auto login = s.login(*options_json);
  auto r = co_await std::move(login);
  co_return r;
}
}  // namespace

int cmd_auth_login(const global_options& g, const std::string& server, const login_options& o, bool json) {
  if (o.timeout_seconds <= 0) {
    print_error("--timeout must be a positive number of seconds");
    return exit_usage;
  }
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  // Types known to have no login are refused before anything is opened (their secrets may
  // not even be set here).
  if (const auto* srv = cfg->find(server); srv != nullptr) {
    const auto& a = srv->auth;
    if (a.type == "none" || is_static_type(a.type) || (a.type == "oauth" && a.grant_type == "client_credentials")) {
      print_error("server '" + server + "' uses auth type '" + a.type + "'" +
                  (a.type == "oauth" ? " with grant_type = \"client_credentials\", which fetches its tokens itself"
                                     : std::string(", which has no interactive login")) +
                  ". Logins are for type = \"oauth\" with grant_type = \"authorization_code\" (the default) or "
                  "\"device_code\", and for plugin types that offer one");
      return exit_usage;
    }
  }
  asio::io_context io(1);
  // Info lines too: where the tokens go is said during a login.
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, true, o.no_browser, log_level::info));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  const std::string options = login_options_json(o);
  auto r = run_on_loop(io, login_only(s, &options));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  if (json) {
    json::writer w;
    w.begin_object().key("server").value(server).key("logged_in").value(true).key("message").value(r->message);
    w.key("expires_at").value(r->expires_at_unix_ms / 1000).end_object();
    std::cout << w.take() << "\n";
  } else {
    std::cout << "Logged in to " << server << ": " << r->message;
    if (r->expires_at_unix_ms > 0) std::cout << " (" << expiry_text(r->expires_at_unix_ms / 1000) << ")";
    std::cout << "\n";
  }
  return exit_ok;
}

int cmd_auth_status(const global_options& g, const std::string& server, bool json) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  std::vector<const config::server*> which;
  if (!server.empty()) {
    const auto* s = cfg->find(server);
    if (s == nullptr) {
      print_error(cfg->no_such_server(server));
      return exit_usage;
    }
    which.push_back(s);
  }
  asio::io_context io(1);
  engine eng(io.get_executor(), *cfg, make_engine_options(g, false));
  if (server.empty()) {
    for (const auto& s : eng.configuration().servers) which.push_back(&s);
  } else {
    which = {eng.configuration().find(server)};
  }
  int code = exit_ok;
  std::vector<status_entry> entries;
  for (const auto* s : which) {
    entries.push_back(describe(*s, eng, io));
    if (entries.back().code != exit_ok) code = entries.back().code;
  }
  if (json) {
    json::writer w;
    w.begin_array();
    for (const auto& e : entries) w.raw(e.json);
    w.end_array();
    std::cout << w.take() << "\n";
  } else if (entries.empty()) {
    std::cout << "no servers configured in " << eng.configuration().path << "\n";
  } else {
    for (const auto& e : entries) std::cout << text::terminal_text(e.line) << "\n";  // issuer, scopes: server text
  }
  return code;
}

int cmd_auth_logout(const global_options& g, const std::string& server) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, false));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto& s = **session;
  // What is stored before: a logout of nothing says so rather than claim it removed something.
  const std::string doc = run_on_loop(io, status_of(s));
  std::string store = "the credential store";
  bool nothing_stored = false;
  simdjson::dom::parser parser;
  simdjson::dom::element d;
  std::string_view v;
  if (parser.parse(doc).get(d) == simdjson::SUCCESS && d.is_object()) {
    if (d["store"].get(v) == simdjson::SUCCESS) store = std::string(v);
    // The OAuth provider's document (it names its "client") gives a token "source" only when
    // it holds tokens, and client "registered" when it holds a dynamic registration. Other
    // providers' documents say nothing of the kind: their logout runs and is reported as is.
    // A store that could not be read is left to logout, which says so.
    const bool oauth_doc = d["client"].get(v) == simdjson::SUCCESS;
    const bool registered = oauth_doc && v == "registered";
    const bool tokens = d["source"].get(v) == simdjson::SUCCESS;
    const bool unreadable = d["store_error"].get(v) == simdjson::SUCCESS;
    nothing_stored = oauth_doc && !tokens && !registered && !unreadable;
  }
  if (nothing_stored) {
    std::cout << "Not logged in to " << server << ": nothing stored in " << store << "\n";
    return exit_ok;
  }
  auto r = run_on_loop(io, logout_of(s));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  std::cout << "Logged out of " << server << "; stored tokens removed from " << store << "\n";
  return exit_ok;
}

}  // namespace fracta::cli
