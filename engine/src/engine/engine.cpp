// SPDX-License-Identifier: Apache-2.0
// The engine: the plugin registry, one HTTP client per CA bundle, the per-server stores, the
// blocking pool, and opening sessions (a new actor with its provider instance).
#include "fracta/engine.hpp"

#include <map>
#include <mutex>

#include <asio/thread_pool.hpp>

#include "core/actor.hpp"
#include "core/async.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"
#include <fracta/proto/url.hpp>
#include "login/lock.hpp"
#include "mcp/session_impl.hpp"
#include "plugin/instance.hpp"
#include "store/select.hpp"

namespace fracta {
namespace {

// Blocking threads: one slow keyring call or Argon2id run must not hold up every server.
constexpr std::size_t blocking_threads = 4;

error store_error(const config::server& srv, const std::string& what, const error& e) {
  errc code = errc::transport;  // unavailable, locked, io
  if (e.code.category() == fracta::category()) {
    code = static_cast<errc>(e.code.value());
  } else if (e.code == store::make_error_code(store::errc::corrupt) ||
             e.code == store::make_error_code(store::errc::bad_key) ||
             e.code == store::make_error_code(store::errc::too_large) ||
             e.code == store::make_error_code(store::errc::refused)) {
    code = errc::config;
  }
  const std::string prefix = "server '" + srv.name + "': ";
  std::string detail = e.message;
  if (detail.rfind(prefix, 0) == 0) detail.erase(0, prefix.size());  // said once is enough
  return error{make_error_code(code), prefix + what + ": " + detail};
}

// On the blocking pool (a plain coroutine: GCC 12 rule).
asio::awaitable<result<forgotten_credentials>> forget_on_pool(store::selector* stores, const config::server* srv) {
  auto chosen = stores->open(*srv);
  if (!chosen) co_return store_error(*srv, "cannot open its credential store", chosen.err());
  if (!chosen->store) co_return forgotten_credentials{chosen->description, 0};
  auto erased = chosen->store->erase_server(srv->name);
  if (!erased) {
    co_return store_error(*srv, "erasing its stored credentials from the " + chosen->description + " failed",
                          erased.err());
  }
  co_return forgotten_credentials{chosen->description, *erased};
}

// engine::fetch's bounds: a JWKS or metadata document is small and its server close by.
constexpr std::size_t fetch_max_bytes = 1u << 20;
constexpr std::chrono::milliseconds fetch_timeout{10'000};

error fetch_error(const std::string& shown, const std::string& why) {
  return error{make_error_code(errc::transport), "fetching " + shown + ": " + why};
}

}  // namespace

struct engine::impl {
  asio::any_io_executor ex;
  config::config cfg;
  engine_options opts;
  plugin_registry registry;
  std::shared_ptr<const core::clock> clock = core::system_clock();
  // Shared with the sessions (see session_resources).
  std::mutex clients_mutex;
  std::map<std::string, std::shared_ptr<http::client>> clients;  // by CA bundle
  // Per-server stores, kept for the engine's lifetime so sessions reopened see them.
  std::mutex stores_mutex;
  std::map<std::string, std::shared_ptr<plugin::memory_store>> stores;
  // Persistent token stores (keyring / encrypted file), decided once per server.
  std::unique_ptr<store::selector> selector;
  // The era each endpoint speaks, found by the first session that asked.
  std::shared_ptr<era_cache> eras = std::make_shared<era_cache>();
  // Blocking work (secret files, store calls) off the event loop. Last member: joined first on
  // destruction. Only plain executor copies of it are handed out (an asio strand over it could
  // outlive it in a handler the io_context destroys late).
  asio::thread_pool blocking{blocking_threads};

  std::shared_ptr<plugin::memory_store> store_for(const std::string& server) {
    std::lock_guard lk(stores_mutex);
    auto& s = stores[server];
    if (!s) s = std::make_shared<plugin::memory_store>();
    return s;
  }

  std::shared_ptr<http::client> client_for(const std::string& ca_bundle) {
    std::lock_guard lk(clients_mutex);
    auto& c = clients[ca_bundle];
    if (!c) {
      http::client_options o;
      o.ca_bundle = ca_bundle;
      c = std::make_shared<http::client>(ex, o);
    }
    return c;
  }

};

namespace {

// Replaces the sink `f` (when set) by one that calls it under `m`.
template <class... Args>
void serialise(std::function<void(Args...)>& f, const std::shared_ptr<std::mutex>& m) {
  if (!f) return;
  f = [m, inner = std::move(f)](Args... args) {
    const std::lock_guard lk(*m);
    inner(std::forward<Args>(args)...);
  };
}

}  // namespace

engine::engine(asio::any_io_executor ex, config::config cfg, engine_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->ex = std::move(ex);
  impl_->cfg = std::move(cfg);
  impl_->opts = std::move(opts);
  // The sinks hear from the loop threads and the blocking pool: one call at a time.
  auto sink_mutex = std::make_shared<std::mutex>();
  serialise(impl_->opts.log, sink_mutex);
  serialise(impl_->opts.on_exchange, sink_mutex);
  serialise(impl_->opts.interactive.countdown, sink_mutex);
  serialise(impl_->opts.interactive.say, sink_mutex);
  impl_->registry = plugin_registry::load(plugin_search_path(&impl_->cfg));
  store::selector::options so;
  if (impl_->opts.log) {
    so.log = [log = impl_->opts.log](std::int32_t level, std::string_view m) { log(static_cast<log_level>(level), m); };
  }
  impl_->selector = std::make_unique<store::selector>(std::move(so));
}

engine::~engine() = default;

const config::config& engine::configuration() const noexcept { return impl_->cfg; }
const plugin_registry& engine::plugins() const noexcept { return impl_->registry; }

result<std::unique_ptr<mcp_session>> engine::open(std::string_view server_name) {
  const config::server* srv = impl_->cfg.find(server_name);
  if (srv == nullptr) return error{make_error_code(errc::config), impl_->cfg.no_such_server(server_name)};
  const std::string type = provider_type_for(srv->auth);
  const fracta_provider* prov = impl_->registry.find(type);
  if (prov == nullptr) return error{make_error_code(errc::config), missing_provider_message(*srv, impl_->registry)};
  // The actor. provider_instance::create runs the plugin's create() on it, from this thread,
  // so whatever create() starts completes on the actor after it returned, even when other
  // threads run the loop already.
  auto strand = core::make_actor_strand(impl_->ex);
  const asio::any_io_executor blocking = impl_->blocking.get_executor();
  session_resources res{impl_->client_for(srv->ca_bundle), std::make_shared<const config::server>(*srv),
                        impl_->store_for(srv->name), impl_->eras};
  plugin::instance_context ctx{strand, res.http.get(), impl_->clock, res.server.get(), res.memory.get(), {}, blocking,
                               impl_->selector.get(), &impl_->opts.interactive};
  if (impl_->opts.log) {
    ctx.log = [log = impl_->opts.log, name = srv->name, type](std::int32_t level, std::string_view m) {
      log(static_cast<log_level>(level), "server '" + name + "': " + type + ": " + std::string(m));
    };
  }
  if (impl_->opts.on_exchange) {
    ctx.on_exchange = [heard = impl_->opts.on_exchange, name = srv->name, type](exchange_info x) {
      x.server = name;
      x.purpose = type;
      heard(x);
    };
  }
  auto inst = plugin::provider_instance::create(*prov, std::move(ctx));
  if (!inst) return std::move(inst).err();
  // The selector, the blocking pool and the interactive options stay the engine's: sessions must
  // not outlive the engine that opened them (only a teardown posted by ~mcp_session may).
  auto p = std::make_shared<mcp_session::impl>(strand, std::move(res), std::move(inst).value(), impl_->clock,
                                               impl_->opts.log);
  p->cred.set_owner(p);
  p->cred.on_refresh = [raw = p.get()](const plugin::op_result* r) { raw->on_refresh(r); };
  if (store::persists(*srv)) {
    // Tokens in a store other processes share (keyring or encrypted file): refreshes take the
    // server's cross-process lock. The in-memory store is this engine's alone.
    const mcp_session::impl* self = p.get();  // the credential dies with the session
    p->cred.set_refresh_lock({login::refresh_lock_path(*srv), blocking,
                              [self](const std::string& m) { self->debug(m); }});
  }
  p->blocking = blocking;
  p->stores = impl_->selector.get();
  p->interactive = &impl_->opts.interactive;
  p->on_exchange = impl_->opts.on_exchange;
  if (!srv->auth.token_file.empty()) p->watch_token_file();
  return std::unique_ptr<mcp_session>(new mcp_session(std::move(p)));
}

asio::awaitable<result<forgotten_credentials>> engine::forget_credentials(std::string server_name) {
  const config::server* srv = impl_->cfg.find(server_name);
  if (srv == nullptr) {
    co_return error{make_error_code(errc::config), impl_->cfg.no_such_server(server_name)};
  }
  if (!store::persists(*srv)) co_return forgotten_credentials{"memory", impl_->store_for(srv->name)->clear()};
  auto on_pool = core::run_on(impl_->blocking.get_executor(), forget_on_pool(impl_->selector.get(), srv));
  auto r = co_await std::move(on_pool);
  co_return r;
}

asio::awaitable<result<fetched_document>> engine::fetch(std::string url) {
  auto parsed = http::url::parse(url);
  if (!parsed) co_return error{make_error_code(errc::config), parsed.err().message};
  const std::string shown = parsed->redacted();
  if (parsed->scheme != "https" && !parsed->is_loopback_host()) {
    co_return error{make_error_code(errc::config), shown + ": only https URLs (or http to a loopback address) are fetched"};
  }
  http::request req;
  req.url = parsed->str();
  req.timeout = fetch_timeout;
  req.max_response_bytes = fetch_max_bytes;
  req.headers.push_back({"Accept", "application/json"});
  auto client = impl_->client_for("");
  auto sent = client->send(std::move(req));
  auto r = co_await std::move(sent);
  if (!r) co_return fetch_error(shown, r.err().message);
  fetched_document doc;
  doc.status = r->status;
  doc.content_type = std::string(r->header("Content-Type").value_or(""));
  doc.cache_control = std::string(r->header("Cache-Control").value_or(""));
  doc.body = std::move(r->body);
  co_return doc;
}

}  // namespace fracta
