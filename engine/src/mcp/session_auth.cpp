// SPDX-License-Identifier: Apache-2.0
// The session's login, logout and auth status: the cross-process login lock, reuse of another
// process's login, the provider's status document with the store it uses, the export of what
// it holds, and the watch of a mounted token_file.
#include <algorithm>
#include <filesystem>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <simdjson.h>

#include <fracta/proto/json.hpp>
#include "login/lock.hpp"
#include "mcp/messages.hpp"
#include "mcp/session_impl.hpp"
#include "plugin/host_common.hpp"

namespace fracta {
namespace {

using mcp::make_err;

// Blocking work, run on the engine's pool by core::run_on (a plain coroutine function).
// A pointer, not a value: no class temporaries inside the co_await expression (GCC 12).
asio::awaitable<result<store::choice>> open_store_on_pool(store::selector* stores, const config::server* srv) {
  co_return stores->open(*srv);
}

std::int64_t login_timeout_ms(const std::string& options_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (json::parse(parser, options_json, doc).empty() && doc.is_object()) {
    if (auto t = json::get_int(doc, "timeout_ms"); t && *t > 0) return *t;
  }
  return 300'000;
}

// The provider's status document with "server" and "store" first (provider keys of the same
// name are dropped).
std::string merged_status(const std::string& doc_text, const std::string& server, const std::string& store,
                          const std::string& store_error) {
  json::writer w;
  w.begin_object().key("server").value(server).key("store").value(store);
  if (!store_error.empty()) w.key("store_error").value(store_error);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (json::parse(parser, doc_text, doc).empty() && doc.is_object()) {
    const simdjson::dom::object fields = doc.get_object().value_unsafe();
    for (auto [k, v] : fields) {
      // The provider's own store_error (its read of the store failed) stays unless the engine
      // could not even open the store.
      if (k == "server" || k == "store" || (k == "store_error" && !store_error.empty())) continue;
      w.key(k).raw(json::to_string(v));
    }
  }
  w.end_object();
  return w.take();
}

bool status_flag(const std::string& doc_text, const char* name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, doc_text, doc).empty()) return false;
  return json::get_bool(doc, name).value_or(false);
}

constexpr std::int64_t loading_wait_limit_ms = 30'000;

// A file name a provider may export: written into a directory the user named, so nothing
// that could leave it or hide in it.
bool is_export_file_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '.' || n.front() == '-') return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// The provider's {"files":{…},"fields":{…}} document; false when it is malformed.
bool read_export(const std::string& text, exported_credentials& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!json::parse(parser, text, doc).empty() || !doc.is_object()) return false;
  const auto take = [&](const char* key, std::vector<exported_credentials::item>& into, bool files) {
    auto member = json::get(doc, key);
    if (!member) return true;
    simdjson::dom::object obj;
    if (member->get_object().get(obj) != simdjson::SUCCESS) return false;
    for (auto [k, v] : obj) {
      std::string_view value;
      if (v.get_string().get(value) != simdjson::SUCCESS) return false;
      if (files && !is_export_file_name(k)) return false;
      into.push_back({std::string(k), std::string(value)});
    }
    return true;
  };
  return take("files", out.files, true) && take("fields", out.fields, false);
}
constexpr std::chrono::milliseconds lock_poll_interval{250};

}  // namespace

asio::awaitable<std::string> mcp_session::impl::do_auth_status() {
  std::string where_stored = "memory", store_error;
  if (stores != nullptr && store::persists(server)) {
    auto open = core::run_on(blocking, open_store_on_pool(stores, &server));
    auto chosen = co_await std::move(open);
    if (chosen) {
      where_stored = chosen->description;
    } else {
      where_stored = "unavailable";
      store_error = chosen.err().message;
    }
  }
  // The provider's own store calls (its first read starts in create()) land first, and a
  // provider still reading its store says {"loading":true}: wait until its host operations
  // move on (each completion wakes us), not on a timer.
  auto& inst = cred.instance();
  std::string doc = inst.status_json().value_or("{}");
  const std::int64_t give_up_at = clock->monotonic_ms() + loading_wait_limit_ms;
  while ((inst.store_work_pending() || (status_flag(doc, "loading") && inst.host_work_pending())) &&
         clock->monotonic_ms() < give_up_at) {
    auto progress = inst.host_progress();
    co_await std::move(progress);
    doc = inst.status_json().value_or("{}");
  }
  co_return merged_status(doc, server.name, where_stored, store_error);
}

error mcp_session::impl::no_login() const {
  std::string msg = where() + " uses auth type '" + server.auth.type + "'";
  if (server.auth.type == "oauth" && server.auth.grant_type == "client_credentials") {
    msg += " with grant_type = \"client_credentials\", which fetches its tokens itself and needs no login";
  } else {
    msg += ", which has no interactive login";
  }
  msg += ". Logins are for type = \"oauth\" with grant_type = \"authorization_code\" (the default) or "
         "\"device_code\"";
  return make_err(errc::unsupported, msg);
}

error mcp_session::impl::op_error(const plugin::op_result& r, const std::string& what) const {
  if (r.status == FRACTA_E_UNSUPPORTED && what == "login") return no_login();
  std::string msg = where() + ": " + what + " failed";
  msg += ": " + (r.message.empty() ? plugin::status_words(r.status) : r.message);
  return scrubbed(make_err(errc_from_plugin_status(r.status), msg));
}

asio::awaitable<result<login_outcome>> mcp_session::impl::do_login(std::string options) {
  // The lambda captures only pointers: no std::string inside the co_await expression (GCC 12).
  const std::string* opts = &options;
  auto make = [this, opts] { return login_once(*opts); };
  auto run = login_flight.run(make);
  auto r = co_await std::move(run);
  if (r) set_status(server_state::ready);
  co_return r;
}

// Another process held the login lock: if it left a usable credential, use that.
asio::awaitable<std::optional<login_outcome>> mcp_session::impl::reuse_other_login() {
  const std::string doc = cred.instance().status_json().value_or("{}");
  if (status_flag(doc, "logged_in")) {
    co_return login_outcome{"another fracta process logged in to " + server.name + " meanwhile", 0};
  }
  if (cred.instance().has_refresh()) {
    auto refresh = cred.refresh();
    auto r = co_await std::move(refresh);
    if (r.status == FRACTA_OK) {
      co_return login_outcome{"another fracta process logged in to " + server.name + " meanwhile", r.expires_at_ms};
    }
  }
  co_return std::nullopt;
}

asio::awaitable<result<login_outcome>> mcp_session::impl::login_once(const std::string& options) {
  if (!cred.instance().has_login()) co_return no_login();
  const std::int64_t timeout_ms = login_timeout_ms(options);
  // The engine's clock (a fake one in tests) times the wait for another process's login.
  const std::int64_t started = clock->monotonic_ms();
  const auto path = login::lock_path(server.name);
  std::shared_ptr<login::held_lock> held;
  bool waited = false;
  for (;;) {
    auto try_lock = core::run_on(blocking, login::try_lock_on_pool(&path));
    auto attempt = co_await std::move(try_lock);
    if (!attempt.error.empty()) {
      debug("logging in without the cross-process lock: " + attempt.error);
      break;
    }
    if (attempt.held) {
      held = std::move(attempt.held);
      break;
    }
    if (!waited) {
      say("another fracta is logging in to " + server.name + "; waiting…");
      waited = true;
    }
    if (clock->monotonic_ms() - started > timeout_ms) {
      co_return make_err(errc::transport, where() + ": another fracta process is still logging in (lock " +
                                              path.string() + "); try again when it has finished");
    }
    // flock has no event to wait on across processes: try again after a pause.
    auto pause = core::sleep_for(*clock, strand, lock_poll_interval);
    co_await std::move(pause);
  }
  if (waited) {
    auto reuse = reuse_other_login();
    auto reused = co_await std::move(reuse);
    if (reused) co_return std::move(*reused);
  }
  auto login = cred.instance().login(options);
  auto r = co_await std::move(login);
  held.reset();
  if (r.status != FRACTA_OK) co_return op_error(r, "login");
  cred.logged_in(r.expires_at_ms);
  std::string message = r.message.empty() ? std::string("logged in") : r.message;
  co_return login_outcome{std::move(message), r.expires_at_ms};
}

asio::awaitable<result<void>> mcp_session::impl::do_logout() {
  auto logout = cred.instance().logout();
  auto r = co_await std::move(logout);
  if (r.status == FRACTA_OK) co_return result<void>{};
  if (r.status == FRACTA_E_UNSUPPORTED) {
    co_return make_err(errc::unsupported, where() + " uses auth type '" + server.auth.type +
                                              "', which stores no credentials to log out from");
  }
  co_return op_error(r, "logout");
}

asio::awaitable<result<exported_credentials>> mcp_session::impl::do_export() {
  auto exporting = cred.instance().export_credentials();
  plugin::op_result r = co_await std::move(exporting);
  if (r.status == FRACTA_E_UNSUPPORTED) {
    co_return make_err(errc::unsupported, where() + " uses auth type '" + server.auth.type +
                                              "', whose secrets are in the config itself (SecretValues); there is "
                                              "nothing to export: give the other machine the same secret source");
  }
  if (r.status == FRACTA_E_NOT_FOUND) {
    co_return make_err(errc::needs_login, where() + ": nothing to export: " +
                                              (r.message.empty() ? std::string("no credentials are held") : r.message));
  }
  if (r.status != FRACTA_OK) co_return op_error(r, "export");
  exported_credentials out;
  const bool ok = read_export(r.value, out);
  plugin::wipe(r.value);
  if (!ok || out.files.empty()) {
    for (auto& i : out.files) plugin::wipe(i.text);
    for (auto& i : out.fields) plugin::wipe(i.text);
    co_return make_err(errc::protocol, where() + ": the " + server.auth.type +
                                           " provider exported a malformed document (a plugin bug)");
  }
  co_return out;
}

void mcp_session::impl::watch_token_file() {
  core::file_watch::options o;
  if (log) {
    o.log = [lg = log, name = server.name](log_level level, std::string_view m) {
      lg(level, "server '" + name + "': " + std::string(m));
    };
  }
  std::weak_ptr<impl> weak = weak_from_this();
  auto on_change = [weak](std::string_view) {
    if (auto self = weak.lock()) asio::co_spawn(self->strand, token_file_changed(self), asio::detached);
  };
  token_watch = std::make_unique<core::file_watch>(strand, blocking, server.auth.token_file, std::move(on_change),
                                                   std::move(o));
}

// A plain coroutine (GCC 12 rule). Holds the session while the refresh runs, as a background
// refresh does; close() waits for it (credential::settle).
asio::awaitable<void> mcp_session::impl::token_file_changed(std::shared_ptr<impl> self) {
  if (!self->token_watch) co_return;  // closed since the change was seen
  // The provider re-reads the file and adopts what it holds (coalesced with any refresh in
  // flight), without waiting for the old token to be refused.
  auto run = self->cred.refresh();
  auto r = co_await std::move(run);
  if (!self->log) co_return;
  if (r.status == FRACTA_OK) {
    self->log(log_level::info, "token_file of " + self->server.name + " changed; using the new token");
  } else {
    self->log(log_level::warn, "token_file of " + self->server.name +
                                   " changed, but the credential could not be refreshed: " + self->sent.scrub(r.message));
  }
}

}  // namespace fracta
