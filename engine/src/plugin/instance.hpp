// SPDX-License-Identifier: Apache-2.0
// One provider instance and the host services lent to it: the C callback ↔ coroutine bridge.
#pragma once
#include "core/internal.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/strand.hpp>

#include "core/async.hpp"
#include "core/clock.hpp"
#include "fracta/auth_plugin.h"
#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "fracta/result.hpp"
#include "http/client.hpp"
#include "store/select.hpp"

namespace fracta::login {
class redirect_listener;
}

namespace fracta::plugin {

/// What a provider's async operation ended with.
struct op_result {
  std::int32_t status = FRACTA_OK;
  std::string message;
  std::int64_t expires_at_ms = 0;
  std::string value;
};

/// A small key/value store for one server's credentials (store_get/put/erase) when nothing
/// persists them. Shared by the sessions one engine opens to that server (each on its own
/// strand), hence thread-safe.
class memory_store final {
 public:
  std::optional<std::string> get(const std::string& key) const;
  void put(const std::string& key, std::string value);
  void erase(const std::string& key);
  /// Forgets every item; returns how many there were.
  std::size_t clear();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> items_;
};

/// Where a provider's HTTP requests for server `s` may connect (its http_send): loopback only
/// when the server's host is loopback; private addresses only when the server's host is one,
/// or with allow_private_network; link-local (cloud metadata) never. Thread-safe.
http::egress_policy egress_policy_for(const config::server& s);

/// Everything an instance needs from the engine. The pointers outlive the instance.
/// What a provider's status means, for a message when the provider gave no words of its own:
/// "it reported a temporary failure (FRACTA_E_TRANSIENT) without saying more". Thread-safe.
std::string status_words(std::int32_t status);

struct instance_context {
  /// The actor. With a strand from core::make_actor_strand (the engine's), create() and
  /// destroy() run on it whatever thread creates or destroys the instance; with a plain
  /// strand they run on that thread (tests that drive a one-thread loop themselves).
  asio::strand<asio::any_io_executor> strand;
  http::client* http = nullptr;
  /// Time and timers for the provider (wall_clock_ms, monotonic_ms, timer_start).
  std::shared_ptr<const core::clock> clock;
  const config::server* server = nullptr;
  memory_store* store = nullptr;
  /// Receives the provider's log lines (level, text). Never gets secrets from fracta's side.
  std::function<void(std::int32_t, std::string_view)> log;
  /// Where blocking work (file reads, store calls) runs, off the event loop; empty → a shared
  /// fallback pool.
  asio::any_io_executor blocking;
  /// Persistent token stores. When set and the server persists its credentials (oauth
  /// authorization_code / device_code), store_get/put/erase go there, on `blocking`;
  /// otherwise to `store`.
  store::selector* stores = nullptr;
  /// The user, for interactive logins; null or disabled → the interactive services stay NULL.
  const interactive_options* interactive = nullptr;
  /// Hears each of the provider's HTTP exchanges as it ends (method, url, status, timing,
  /// error; the engine names the server and purpose). Unset: nobody listens.
  std::function<void(exchange_info)> on_exchange{};
};

/// A created provider instance. Actor-bound: every member runs on the context's strand, and
/// the plugin's callbacks into the host are only honoured there. The plugin's create() and
/// destroy() run on the strand too (see instance_context::strand).
class provider_instance final {
 public:
  /// Calls the provider's create() with the server's auth table. Errors: errc::config with the
  /// provider's message, or errc::plugin.
  static result<std::unique_ptr<provider_instance>> create(const fracta_provider& provider,
                                                          instance_context ctx);
  ~provider_instance();
  provider_instance(const provider_instance&) = delete;
  provider_instance& operator=(const provider_instance&) = delete;

  const fracta_provider& provider() const noexcept { return provider_; }
  std::string_view type() const noexcept { return provider_.type; }

  /// apply(): returns FRACTA_OK, FRACTA_NEED_REFRESH or an error status with `message` set.
  std::int32_t apply(http::request& req, std::string& message);

  bool has_refresh() const noexcept;
  bool has_on_challenge() const noexcept;
  bool has_login() const noexcept;

  /// Optional operations; FRACTA_E_UNSUPPORTED when the provider lacks them.
  asio::awaitable<op_result> refresh();
  asio::awaitable<op_result> on_challenge(int status, std::string_view www_authenticate,
                                          std::string_view body);
  asio::awaitable<op_result> login(const std::string& options_json);
  asio::awaitable<op_result> logout();
  /// The credentials held, for another machine (ABI 1.1): `value` is the provider's
  /// {"files":{…},"fields":{…}} document. Holds secrets.
  asio::awaitable<op_result> export_credentials();
  /// The provider's status document, or nullopt when it offers none.
  std::optional<std::string> status_json();

  /// True while a host operation started by the plugin (HTTP, timer, store, …) is pending.
  bool host_work_pending() const noexcept { return !ops_.empty(); }
  /// True while a call to the persistent store is running or queued.
  bool store_work_pending() const noexcept { return store_job_running_ || !store_jobs_.empty(); }
  /// Resumes after the next host operation has been delivered to the plugin (and the plugin's
  /// completion has returned). For callers waiting until the provider has read its store.
  asio::awaitable<void> host_progress();

 private:
  struct host_op;
  provider_instance(const fracta_provider& provider, instance_context ctx);
  template <class Invoke>
  asio::awaitable<op_result> call_async(Invoke invoke);
  std::optional<error> run_create();
  void teardown() noexcept;

  // Host services (static C trampolines; host_ctx is `this`). Defined in host_services.cpp,
  // host_store.cpp and host_interactive.cpp.
  static void h_log(void* ctx, int32_t level, fracta_str msg);
  static int64_t h_wall(void* ctx);
  static int64_t h_mono(void* ctx);
  static int32_t h_resolve_secret(void* ctx, fracta_str key, fracta_str json, const fracta_sink* out,
                                  const fracta_sink* err);
  static int32_t h_http_send(void* ctx, const fracta_http_request* req, fracta_http_completion done,
                             fracta_op_id* op);
  static int32_t h_timer_start(void* ctx, int64_t delay_ms, fracta_completion done, fracta_op_id* op);
  static void h_cancel(void* ctx, fracta_op_id op);
  static void h_post(void* ctx, fracta_completion done);
  static int32_t h_store_get(void* ctx, fracta_str key, fracta_completion done);
  static int32_t h_store_put(void* ctx, fracta_str key, fracta_str value, fracta_completion done);
  static int32_t h_store_erase(void* ctx, fracta_str key, fracta_completion done);
  static int32_t h_open_url(void* ctx, fracta_str url);
  static int32_t h_show_device_code(void* ctx, fracta_str uri, fracta_str user_code, fracta_str complete_uri);
  static int32_t h_redirect_listen(void* ctx, fracta_str requested_uri, const fracta_sink* actual_uri);
  static int32_t h_redirect_await(void* ctx, int64_t timeout_ms, fracta_completion done, fracta_op_id* op);
  static int32_t h_resolve_secret_async(void* ctx, fracta_str key, fracta_str json, fracta_completion done,
                                        fracta_op_id* op);
  /// The typed SecretValue behind a provider's JSON reference; nullopt and `why` on mistakes.
  std::optional<config::secret_value> secret_from_json(std::string_view key, std::string_view json,
                                                       std::string& why) const;
  static int32_t h_json_get_raw(void* ctx, fracta_str json, fracta_str pointer, const fracta_sink* out);
  static int32_t h_json_get_string(void* ctx, fracta_str json, fracta_str pointer,
                                   const fracta_sink* out);

  using alive_flag = std::shared_ptr<std::atomic<bool>>;
  static asio::awaitable<void> run_http_op(provider_instance* self, fracta_op_id id, std::shared_ptr<host_op> op,
                                           alive_flag alive, http::request r);
  static void deliver_http(const host_op& op, const result<http::response>& res);

  enum class store_kind { get, put, erase };
  int32_t start_store_op(store_kind kind, fracta_str key, fracta_str value, fracta_completion done);
  /// Store calls run on the blocking pool one at a time, in the order the plugin made them.
  void queue_store_job(core::unique_function job);
  void store_job_done();
  bool persistent_store() const noexcept;
  void say(std::string_view line) const;
  void open_in_browser(std::string_view url, bool browser_env_only);

  asio::any_io_executor blocking_executor();
  fracta_op_id next_op_id() noexcept { return ++last_op_; }
  void complete_later(fracta_completion done, op_result r);
  /// Takes the pending op `id` (nullptr when it was cancelled or replaced meanwhile).
  std::shared_ptr<host_op> take_op(fracta_op_id id, const host_op* expected);
  /// Calls a plugin completion and then wakes host_progress() waiters.
  void deliver(const host_op& op, const op_result& r);
  void progressed();

  const fracta_provider& provider_;
  instance_context ctx_;
  fracta_host host_{};
  void* instance_ = nullptr;
  fracta_op_id last_op_ = 0;
  std::map<fracta_op_id, std::shared_ptr<host_op>> ops_;
  std::shared_ptr<login::redirect_listener> listener_;  // the latest redirect_listen
  std::deque<core::unique_function> store_jobs_;          // not yet started
  bool store_job_running_ = false;
  std::shared_ptr<core::async_event> progress_ = std::make_shared<core::async_event>();
  // Shared with callbacks in flight so they can tell the instance is gone. Written and read on
  // the strand; atomic so that a read elsewhere (a test's plain strand) is still well defined.
  alive_flag alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace fracta::plugin
