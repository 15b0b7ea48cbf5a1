// SPDX-License-Identifier: Apache-2.0
// `fracta gateway`: the config's servers behind one HTTP endpoint until SIGTERM; SIGHUP
// re-reads the config and adds, changes or removes servers without touching the others.
#include <signal.h>

#include <iostream>
#include <mutex>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/ssl/context.hpp>

#include <fracta/proto/url.hpp>

#include "commands.hpp"
#include "gateway/gateway.hpp"
#include "gateway/http_server.hpp"
#include "output.hpp"
#include "run.hpp"

namespace fracta::cli {
namespace {

constexpr std::chrono::seconds drain_deadline{30};

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<endpoint> split_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  endpoint e;
  e.host = s.substr(0, colon);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  const std::string port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const long p = std::stol(port);
  if (p > 65535) return std::nullopt;
  e.port = static_cast<std::uint16_t>(p);
  return e;
}

// The front-end tokens, read now (a secret that cannot be read stops the start, or the reload).
std::optional<std::vector<std::string>> read_tokens(const config::config& cfg, std::string* why) {
  std::vector<std::string> out;
  for (const auto& t : cfg.gateway.tokens) {
    auto v = config::resolve(t);
    if (!v) {
      *why = v.err().message;
      return std::nullopt;
    }
    if (v->empty()) {
      *why = t.key + ": the token is empty; a gateway token must be a non-empty secret";
      return std::nullopt;
    }
    out.push_back(std::move(*v));
  }
  return out;
}

// The URL of /mcp as clients reach it: gateway.resource (a URL without a path means its /mcp),
// else the listen address's.
std::string resource_url(const std::string& configured, const std::string& listen_base) {
  if (configured.empty()) return listen_base + "/mcp";
  auto u = http::url::parse(configured);
  if (u && u->path == "/" && !u->query) return u->origin() + "/mcp";
  return configured;
}

std::mutex say_mutex;
void say(const std::string& line) {
  std::lock_guard lk(say_mutex);
  std::cerr << "fracta gateway: " << line << std::endl;
}

asio::awaitable<void> warm(std::shared_ptr<gateway::gateway> gw) {
  auto w = gw->warm_up();
  auto lines = co_await std::move(w);
  for (const auto& l : lines) say(l);
  say("ready: " + std::to_string(gw->all().size()) + " server(s)");
}

asio::awaitable<void> finish(std::shared_ptr<gateway::gateway> gw, asio::io_context* io) {
  auto c = gw->close_all();
  co_await std::move(c);
  io->stop();
}

}  // namespace

int cmd_gateway(const global_options& g, const gateway_options& o) {
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  const std::string listen = o.listen.empty() ? cfg->gateway.listen : o.listen;
  const auto ep = split_listen(listen);
  if (!ep) {
    print_error("--listen " + listen + ": not address:port; write e.g. --listen 127.0.0.1:8710 or [::1]:8710");
    return exit_usage;
  }
  std::string why;
  auto tokens = read_tokens(*cfg, &why);
  if (!tokens) {
    print_error(why);
    return exit_usage;
  }
  const bool loopback = gateway::is_loopback_host(ep->host);
  if (!loopback && tokens->empty() && cfg->gateway.jwt_issuer.empty()) {
    print_error("refusing to listen on " + listen + " without front-end authentication: anyone who reaches it "
                "would use your servers' credentials. Add [gateway.auth] tokens = [{ env = \"GATEWAY_TOKEN\" }] "
                "(or a [gateway.auth.jwt] issuer) to " + cfg->path + ", or listen on 127.0.0.1");
    return exit_usage;
  }
  if (!loopback && gateway::served_hosts(ep->host, cfg->gateway.resource, cfg->gateway.allowed_hosts).empty()) {
    print_error("refusing to listen on " + listen + ": it would refuse every request, whose Host names no host it "
                "knows to serve (DNS rebinding guard). Name the host clients use in " + cfg->path +
                ": gateway.allowed_hosts = [\"mcp.example.com\"], or gateway.resource = \"https://mcp.example.com/mcp\"");
    return exit_usage;
  }
  if (cfg->servers.empty()) {
    print_error(cfg->path + " defines no server; add one with `fracta config mcp add <name> --url https://…`");
    return exit_usage;
  }

  const unsigned threads = o.threads > 0 ? o.threads
                         : cfg->gateway.threads > 0 ? cfg->gateway.threads
                                                     : std::max(2u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  engine_options eo = make_engine_options(g, false, false, log_level::warn);
  std::shared_ptr<engine> eng;
  try {
    eng = std::make_shared<engine>(io.get_executor(), *cfg, eo);
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_usage;
  }

  std::shared_ptr<asio::ssl::context> tls;
  if (!cfg->gateway.tls_cert.empty()) {
    tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    std::error_code ec;
    tls->use_certificate_chain_file(cfg->gateway.tls_cert, ec);
    if (!ec) tls->use_private_key_file(cfg->gateway.tls_key, asio::ssl::context::pem, ec);
    if (ec) {
      print_error(cfg->path + ": gateway.tls_cert / gateway.tls_key: " + ec.message() +
                  " (both must be PEM files: the certificate chain and its private key)");
      return exit_usage;
    }
  }
  const std::string scheme = tls ? "https" : "http";
  const std::string shown_host = ep->host.find(':') != std::string::npos ? "[" + ep->host + "]" : ep->host;

  gateway::gateway_settings settings;
  settings.config_path = cfg->path;
  settings.listen_host = ep->host;
  auto gw = std::make_shared<gateway::gateway>(io, settings, *cfg, *tokens);
  try {
    gw->adopt(*cfg, eng, *tokens);
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_usage;
  }

  gateway::server_limits limits;
  auto server_ptr = std::make_unique<gateway::http_server>(
      io, limits, [gw](gateway::http_request req, std::shared_ptr<gateway::responder> out) {
        gw->handle(std::move(req), std::move(out));
      });
  gateway::http_server& server = *server_ptr;
  server.on_connection_count([gw](int delta) {
    if (delta > 0) gw->stats().connection_opened();
    if (delta < 0) gw->stats().connection_closed();
    if (delta == 0) gw->stats().connection_rejected();
  });
  try {
    server.listen(ep->host, ep->port, tls);
  } catch (const std::system_error& e) {
    print_error(std::string(e.what()) + "; choose another with --listen or gateway.listen in " + cfg->path);
    return exit_transport;
  }
  const std::string base = scheme + "://" + shown_host + ":" + std::to_string(server.port());
  gw->set_resource_url(resource_url(cfg->gateway.resource, base));
  say("listening on " + base + "/mcp (aggregated) and " + base + "/mcp/<server> (pass-through), " +
      std::to_string(threads) + " threads");

  // Signals: SIGTERM / SIGINT drain, SIGHUP reloads. The reload's blocking part (the file,
  // the plugins) runs on a thread of its own; its result is adopted on the loop.
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::vector<std::thread> reloaders;
  std::mutex reloaders_mutex;
  bool stopping = false;
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](const std::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        say("SIGHUP: reading " + cfg->path + " again");
        std::lock_guard lk(reloaders_mutex);
        reloaders.emplace_back([&io, gw, path = cfg->path, eo, loopback, host = ep->host] {
          try {
            auto next = config::load(path);
            std::string why;
            auto t = read_tokens(next, &why);
            if (!t) throw std::runtime_error(why);
            if (!loopback && t->empty() && next.gateway.jwt_issuer.empty()) {
              throw std::runtime_error("the new config has no front-end authentication ([gateway.auth])");
            }
            if (!loopback && gateway::served_hosts(host, next.gateway.resource, next.gateway.allowed_hosts).empty()) {
              throw std::runtime_error("the new config names no gateway.allowed_hosts (every request would get 403)");
            }
            auto fresh = std::make_shared<engine>(io.get_executor(), next, eo);
            asio::post(io, [gw, next, fresh, tokens = *t] {
              try {
                gw->adopt(next, fresh, tokens);
                asio::co_spawn(gw->io(), warm(gw), asio::detached);
              } catch (const std::exception& e) {
                say("reload failed, the running servers are kept: " + std::string(e.what()));
              }
            });
          } catch (const std::exception& e) {
            say("reload failed, the running servers are kept: " + std::string(e.what()));
          }
        });
        wait_signal();
        return;
      }
      if (stopping) return;
      stopping = true;
      say(std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": finishing the requests in flight (at most " +
          std::to_string(drain_deadline.count()) + " s)");
      server.drain(drain_deadline, [gw, &io] { asio::co_spawn(io, finish(gw, &io), asio::detached); });
    });
  };
  wait_signal();
  asio::co_spawn(io, warm(gw), asio::detached);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  {
    std::lock_guard lk(reloaders_mutex);
    for (auto& t : reloaders) t.join();
  }
  // The sessions go before the engines that opened them: their teardown runs now, on idle
  // strands; then whatever the loop still holds is let go.
  server_ptr.reset();
  gw->release_all();
  gw.reset();
  io.restart();
  io.poll();
  say("stopped");
  return exit_ok;
}

}  // namespace fracta::cli
