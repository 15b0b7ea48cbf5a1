// SPDX-License-Identifier: Apache-2.0
// The OAuth provider actor behind oauth-authcode, oauth-client-credentials and device-code.
#pragma once

/*
 * One class, its member functions spread over files by job:
 *   provider.cpp        the C-facing operations, the job queue, the plugin's entry point
 *   store_io.cpp        the tokens held, what may be used and where, store reads and writes
 *   refresh.cpp         the refresh policy (refresh tokens, token_file, client credentials)
 *   login.cpp           discovery, issuer pinning, the client identity, login and logout
 *   flows_authcode.cpp  the browser login (loopback redirect, PKCE)
 *   flows_device.cpp    the device login (RFC 8628)
 *
 * Every operation that changes the tokens (the store read at create, refresh, login, logout)
 * is a job: jobs run one at a time, in the order they were asked for, so no job sees another
 * one's half-done work across a co_await. apply, on_challenge and status are synchronous and
 * only read.
 */

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fracta/plugin_coro.hpp>
#include <fracta/plugin_sdk.hpp>

#include "flows.hpp"
#include "state.hpp"

namespace fracta::oauth {

inline constexpr std::string_view device_grant = "urn:ietf:params:oauth:grant-type:device_code";

/// Options of login(): {"scopes":[…],"timeout_ms":N,"device":bool}.
struct login_options {
  std::vector<std::string> scopes;
  std::int64_t timeout_ms = 300000;  ///< clamped to 1 s..1 day
  bool device = false;
};

/// Parses login() options. Throws sdk::error(FRACTA_E_INVALID_ARGUMENT) for a non-object.
[[nodiscard]] login_options parse_login_options(std::string_view text);

/// The parts of a Bearer challenge (WWW-Authenticate) the policy uses.
struct bearer_challenge {
  std::string error, scope, resource_metadata, description;
};
[[nodiscard]] bearer_challenge parse_bearer(std::string_view www_authenticate);

/// The provider. Actor-bound: every member runs on the instance's actor.
class oauth_provider {
 public:
  oauth_provider(sdk::host h, std::string_view config_json, grant kind);
  ~oauth_provider();
  oauth_provider(const oauth_provider&) = delete;
  oauth_provider& operator=(const oauth_provider&) = delete;

  std::int32_t apply(sdk::request& req, const sdk::sink& err);
  std::int32_t refresh(sdk::completion& done);
  std::int32_t on_challenge(const sdk::challenge& ch, sdk::completion& done);
  std::int32_t login(std::string_view options, sdk::completion& done);
  std::int32_t logout(sdk::completion& done);
  std::string status() const;
  void cancel();
  std::int32_t export_credentials(sdk::completion& done);

 private:
  // ---- job queue (provider.cpp) ----
  struct job {
    sdk::task<std::string> work;
    sdk::completion done;  ///< empty for internal jobs (the store read at create)
    bool yields_value = false;  ///< the work's text is the outcome's value (a secret), not its message
  };
  void enqueue(sdk::task<std::string> work, sdk::completion done, bool yields_value = false);
  void pump();
  void finish_job(sdk::completion done, sdk::outcome<std::string> o, bool yields_value);
  /// Throws the store error of the read at create, once.
  void take_load_error();
  std::string login_command() const { return "fracta config mcp auth login " + server_; }
  /// Injected tokens (token_file, or inline access_token): no store is read or written, and
  /// what fixes a dead grant is a fresh export from the machine that logged in.
  bool injected() const { return !persist_tokens_; }
  /// For an injected grant that can no longer be used: what to run, and where.
  std::string reexport_hint() const;
  /// The content of a mounted file named by `key` (token_file, client_registration_file),
  /// read now through the host; FRACTA_E_CONFIG when it cannot be. Wipe it when done.
  std::string read_mounted_file(std::string_view key, const std::string& path) const;

  // ---- tokens held and the store (store_io.cpp) ----
  bool usable() const;
  /// Replaces (or drops) the tokens held; every change bumps generation_.
  void hold(token_record rec);
  void forget();
  /// Whether a record from `source` may be used here: issued for this server's resource and
  /// not by another issuer than the configured one. Logs why not.
  bool record_fits(const token_record& rec, std::string_view source) const;
  /// True when `url` belongs to the server the held tokens were issued for.
  bool may_send_to(std::string_view url) const;
  sdk::task<std::string> load_job();
  sdk::task<void> load();
  /// The stored token record: nullopt when absent, unreadable or not fitting; throws on a
  /// store error only when `must_read`.
  sdk::task<std::optional<token_record>> read_stored_tokens(bool must_read);
  /// Persists (when this provider persists tokens) and holds `rec`. A failed write fails a
  /// login (`for_login`), and only warns for a refresh, whose rotated token must be used.
  sdk::task<void> save_tokens(token_record rec, bool for_login);
  sdk::task<void> save_registration(registration_record rec);
  sdk::task<void> drop_tokens();
  sdk::task<void> drop_registration();
  sdk::task<std::string> export_job();

  // ---- refresh policy (refresh.cpp) ----
  sdk::task<std::string> refresh_job(std::uint64_t asked_at);
  sdk::task<bool> adopt_newer_stored_tokens();
  sdk::task<void> adopt_other_login();
  sdk::task<bool> reread_token_file();
  /// A digest of a record's access and refresh tokens (SHA-256): what a token_file held.
  static std::string file_tokens_digest(const token_record& rec);
  sdk::task<void> refresh_grant(bool may_adopt);
  /// After invalid_grant: forget the spent grant, erasing the stored one only if it is still
  /// the one spent; adopts a newer one another process stored. True when it adopted.
  sdk::task<bool> forget_spent_grant(std::string spent_refresh_token);
  sdk::task<void> fetch_client_credentials();
  std::optional<client_identity> refresh_client(const token_record& held) const;

  // ---- discovery, client identity, login (login.cpp) ----
  sdk::task<discovered> discovery(bool fresh);
  sdk::task<void> probe_challenge();
  /// Refuses to send a configured client secret to another issuer than the one the held
  /// tokens came from (when no issuer is configured to pin it).
  void check_client_issuer(const discovered& d) const;
  bool registration_fits(const discovered& d, std::string_view redirect, std::string_view grant_type) const;
  client_identity configured_client(const discovered* d) const;
  client_identity registered_client() const;
  sdk::task<client_identity> ensure_client(const discovered& d, std::string redirect, std::string grant_type);
  std::string scope_for_login(const login_options& o, const discovered& d) const;
  token_record make_record(token_set t, const discovered& d, const std::string& scope,
                           const std::string& client_id) const;
  std::vector<std::pair<std::string, std::string>> with_extras(
      std::vector<std::pair<std::string, std::string>> p,
      const std::vector<std::pair<std::string, std::string>>& extra) const;
  sdk::task<std::string> login_job(login_options o);
  sdk::task<std::string> logout_job();

  // ---- browser login (flows_authcode.cpp) ----
  std::string listen(std::string_view requested, std::int32_t& status);
  void open_url(std::string_view url);
  /// The next redirect that carries `state`; strays are logged (without their query) and
  /// skipped until `timeout_ms` has passed.
  sdk::task<std::string> await_redirect(std::string state, std::int64_t timeout_ms);
  sdk::task<token_record> authcode_flow(const discovered& d, std::string scope, std::int64_t timeout_ms, bool retried);

  // ---- device login (flows_device.cpp) ----
  void show_device_code(const device_authorization& a);
  sdk::task<device_authorization> start_device_authorization(const discovered& d, const client_identity& client,
                                                             const std::string& scope);
  sdk::task<token_record> device_flow(const discovered& d, std::string scope, std::int64_t timeout_ms);

  sdk::host host_;
  sdk::deferred deferred_;
  std::string server_, server_url_;
  bool loopback_http_ok_ = false;  ///< loopback_http_allowed() for this server
  settings cfg_;
  std::optional<std::string> client_id_, client_secret_, private_key_;
  std::optional<auth_method> configured_method_;
  std::optional<token_record> tokens_;
  std::uint64_t generation_ = 0;  ///< bumped by every change of tokens_
  std::optional<registration_record> registration_;
  bool registration_unsaved_ = false;  ///< registered during a login that has not saved yet
  int invalid_client_strikes_ = 0;     ///< invalid_client answers to refreshes in a row
  bool store_behind_ = false;          ///< the last token write failed: the store holds older tokens
  bool persist_tokens_ = true;
  bool persist_registration_ = true;
  bool loaded_ = false;
  bool loading_ = false;
  bool load_only_ = false;
  bool force_refresh_ = false;
  bool reread_store_ = false;  ///< a 401 with nothing to refresh: look for another process's login first
  bool needs_login_ = false;
  std::int64_t token_file_read_at_s_ = 0;  ///< when token_file was last read (unix s, host clock)
  std::string token_file_seen_;            ///< file_tokens_digest of what token_file held when last read
  std::optional<std::pair<std::int32_t, std::string>> load_error_;
  std::optional<discovered> disc_;
  std::optional<std::string> challenge_rm_, challenge_scope_;
  std::string step_up_scope_;
  bool step_up_attempted_ = false;
  std::deque<job> jobs_;
  bool busy_ = false;
  bool pumping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fracta::oauth
