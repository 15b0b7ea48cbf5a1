// SPDX-License-Identifier: Apache-2.0
// The OAuth provider's tokens: which records may be used and where, and their store reads and writes.
#include <fracta/proto/url.hpp>
#include "provider.hpp"

namespace fracta::oauth {

bool oauth_provider::usable() const {
  if (!tokens_ || tokens_->access_token.empty() || needs_login_) return false;
  return tokens_->expires_at_s == 0 || host_.wall_clock_ms() < tokens_->expiry_ms();
}

void oauth_provider::hold(token_record rec) {
  tokens_ = std::move(rec);
  needs_login_ = false;
  ++generation_;
}

void oauth_provider::forget() {
  tokens_.reset();
  ++generation_;
}

bool oauth_provider::record_fits(const token_record& rec, std::string_view source) const {
  if (!cfg_.issuer.empty() && !rec.issuer.empty() && rec.issuer != cfg_.issuer) {
    host_.log_warn("the " + std::string(source) + " for " + server_ + " come from " + redacted_url(rec.issuer) +
                   ", not from the configured issuer " + redacted_url(cfg_.issuer) + "; ignoring them (run " +
                   login_command() + ")");
    return false;
  }
  // A resource override names something else than the server URL, by design.
  if (rec.resource.empty() || (!cfg_.resource.empty() && rec.resource == cfg_.resource)) return true;
  const auto server = http::url::parse(server_url_);
  if (server && resource_covers(rec.resource, *server)) return true;
  host_.log_warn("the " + std::string(source) + " for " + server_ + " were issued for another server (" +
                 redacted_url(rec.resource) + ", not " + redacted_url(server_url_) + "); ignoring them (run " +
                 login_command() + ")");
  return false;
}

bool oauth_provider::may_send_to(std::string_view url) const {
  const auto target = http::url::parse(url);
  if (!target) return false;
  // The record's resource when it is a URL of this server (record_fits checked), else the
  // server URL itself.
  const std::string& resource = tokens_ ? tokens_->resource : server_url_;
  const bool resource_is_url = !resource.empty() && resource != cfg_.resource && http::url::parse(resource);
  return resource_covers(resource_is_url ? resource : server_url_, *target);
}

// ---- store ----

sdk::task<std::string> oauth_provider::load_job() {
  bool cancelled = false;
  try {
    auto l = load();
    co_await l;
  } catch (const sdk::error& e) {
    if (e.status() == FRACTA_E_CANCELLED) cancelled = true;
    else load_error_ = std::make_pair(e.status(), std::string(e.what()));
  }
  loading_ = false;
  loaded_ = true;
  if (cancelled) fail(FRACTA_E_CANCELLED, "cancelled");
  co_return std::string();
}

sdk::task<std::optional<token_record>> oauth_provider::read_stored_tokens(bool must_read) {
  auto g = sdk::store_get(host_, "tokens");
  sdk::host_result r = co_await g;
  if (!r.ok()) {
    if (must_read && r.status != FRACTA_E_NOT_FOUND && r.status != FRACTA_E_UNSUPPORTED)
      fail(r.status == FRACTA_E_CONFIG ? FRACTA_E_CONFIG : FRACTA_E_UNAVAILABLE,
           "reading the stored tokens failed: " + r.message);
    co_return std::nullopt;
  }
  auto rec = parse_token_record(r.value);
  sdk::secure_wipe(r.value);
  if (!rec) {
    host_.log_warn("the stored tokens for " + server_ + " are unreadable (" + rec.err().message + "); ignoring them");
    co_return std::nullopt;
  }
  if (!record_fits(*rec, "stored tokens")) co_return std::nullopt;
  co_return std::move(*rec);
}

sdk::task<void> oauth_provider::load() {
  if (persist_tokens_) {
    auto t = read_stored_tokens(true);
    std::optional<token_record> rec = co_await t;
    if (rec) hold(std::move(*rec));
  }
  if (persist_registration_) {
    auto g = sdk::store_get(host_, "registration");
    sdk::host_result r = co_await g;
    if (r.ok()) {
      auto rec = parse_registration_record(r.value);
      sdk::secure_wipe(r.value);
      if (rec) registration_ = std::move(*rec);
    } else if (r.status != FRACTA_E_NOT_FOUND && r.status != FRACTA_E_UNSUPPORTED) {
      fail(r.status == FRACTA_E_CONFIG ? FRACTA_E_CONFIG : FRACTA_E_UNAVAILABLE,
           "reading the stored client registration failed: " + r.message);
    }
  }
}

sdk::task<void> oauth_provider::save_tokens(token_record rec, bool for_login) {
  if (persist_tokens_) {
    std::string text = to_json(rec);
    auto p = sdk::store_put(host_, "tokens", text);
    sdk::secure_wipe(text);
    sdk::host_result r = co_await p;
    if (!r.ok() && r.status != FRACTA_E_UNSUPPORTED) {
      // A login whose tokens live only in memory would look like success and be gone with
      // this process: fail it, and keep what was held before.
      if (for_login)
        fail(r.status == FRACTA_E_CONFIG ? FRACTA_E_CONFIG : FRACTA_E_UNAVAILABLE,
             "the authorization server granted access, but the tokens could not be stored (" + r.message +
                 "); nothing was changed: fix the token store (token_store in the auth table) and log in again");
      host_.log_warn("could not store the new tokens for " + server_ + " (" + r.message +
                     "); they are kept in memory for this process only");
    }
    store_behind_ = !r.ok() && r.status != FRACTA_E_UNSUPPORTED;
  }
  hold(std::move(rec));
}

sdk::task<void> oauth_provider::save_registration(registration_record rec) {
  if (persist_registration_) {
    std::string text = to_json(rec);
    auto p = sdk::store_put(host_, "registration", text);
    sdk::secure_wipe(text);
    sdk::host_result r = co_await p;
    if (!r.ok() && r.status != FRACTA_E_UNSUPPORTED)
      host_.log_warn("could not store the client registration for " + server_ + " (" + r.message + ")");
  }
  registration_ = std::move(rec);
  registration_unsaved_ = false;
}

sdk::task<void> oauth_provider::drop_tokens() {
  forget();
  needs_login_ = true;
  if (persist_tokens_) {
    auto e = sdk::store_erase(host_, "tokens");
    co_await e;
  }
}

sdk::task<void> oauth_provider::drop_registration() {
  registration_.reset();
  registration_unsaved_ = false;
  if (persist_registration_) {
    auto e = sdk::store_erase(host_, "registration");
    co_await e;
  }
}

// ---- export ----

std::string oauth_provider::reexport_hint() const {
  const std::string where = cfg_.token_file.empty() ? std::string("the inline tokens (access_token, refresh_token)")
                                                    : "the mounted token_file " + cfg_.token_file;
  const std::string format = cfg_.token_file.empty() ? "env --stdout" : "files --out DIR (or --format k8s-secret)";
  return "replace " + where + " with a fresh export: on the machine that logged in, run " + login_command() +
         " then fracta config mcp auth export " + server_ + " --format " + format +
         (cfg_.token_file.empty() ? std::string(", and restart with the new values")
                                  : std::string("; a replaced token_file is picked up without a restart"));
}

sdk::task<std::string> oauth_provider::export_job() {
  take_load_error();
  if (!tokens_) {
    fail(FRACTA_E_NOT_FOUND, injected() ? "the configured tokens of " + server_ + " could not be read"
                                        : "no OAuth tokens are stored for " + server_ + "; run " + login_command() +
                                              " first (on a machine with a browser, or with --device)");
  }
  sdk::json_object files;
  std::string token = to_json(*tokens_);
  files.add_string("token.json", token);
  sdk::secure_wipe(token);
  // A dynamic registration travels with the tokens; a configured client is the config's.
  const bool registered = registration_ && !client_id_;
  if (registered) {
    std::string reg = to_json(*registration_);
    files.add_string("client-registration.json", reg);
    sdk::secure_wipe(reg);
  }
  sdk::json_object fields;
  fields.add_string("access_token", tokens_->access_token);
  if (tokens_->refresh_token) fields.add_string("refresh_token", *tokens_->refresh_token);
  if (tokens_->expires_at_s > 0) fields.add_string("expires_at", std::to_string(tokens_->expires_at_s));
  if (!client_id_) {
    const std::string id = registered ? registration_->client_id : tokens_->client_id;
    if (!id.empty()) fields.add_string("client_id", id);
    if (registered && registration_->client_secret) fields.add_string("client_secret", *registration_->client_secret);
  }
  if (!tokens_->issuer.empty()) fields.add_string("issuer", tokens_->issuer);
  std::string files_json = files.str(), fields_json = fields.str();
  std::string out = "{\"files\":" + files_json + ",\"fields\":" + fields_json + "}";
  sdk::secure_wipe(files_json);
  sdk::secure_wipe(fields_json);
  co_return out;
}

}  // namespace fracta::oauth
