// SPDX-License-Identifier: Apache-2.0
// The interactive host services, lent only when a user is attached: open a browser, show a
// device code, and the loopback redirect listener.
#include <cstdlib>

#include "login/browser.hpp"
#include "login/redirect.hpp"
#include "plugin/host_common.hpp"

namespace fracta::plugin {

void provider_instance::say(std::string_view line) const {
  if (ctx_.interactive != nullptr && ctx_.interactive->say) ctx_.interactive->say(line);
}

void provider_instance::open_in_browser(std::string_view url, bool browser_env_only) {
  const char* env = std::getenv("BROWSER");
  const std::string browser = env != nullptr ? env : "";
  if (browser_env_only && browser.empty()) return;
  const auto commands = login::browser_commands(browser, url, !browser_env_only);
  std::string why;
  const std::string started = login::launch(url, commands, why);
  if (started.empty()) {
    say("Could not start a browser (" + why + "); open the URL above yourself.");
  } else if (ctx_.log) {
    ctx_.log(FRACTA_LOG_DEBUG, "started " + started + " for the login page");
  }
}

int32_t provider_instance::h_open_url(void* ctx, fracta_str url) {
  auto* self = static_cast<provider_instance*>(ctx);
  const std::string u(view(url));
  if (u.empty()) return FRACTA_E_INVALID_ARGUMENT;
  const bool no_browser = self->ctx_.interactive->no_browser;
  self->say((no_browser ? "Open this URL in a browser: " : "Opening your browser at: ") + u);
  if (!no_browser) self->open_in_browser(u, false);
  return FRACTA_OK;
}

int32_t provider_instance::h_show_device_code(void* ctx, fracta_str uri, fracta_str user_code,
                                              fracta_str complete_uri) {
  auto* self = static_cast<provider_instance*>(ctx);
  const std::string u(view(uri)), code(view(user_code)), complete(view(complete_uri));
  if (u.empty() || code.empty()) return FRACTA_E_INVALID_ARGUMENT;
  self->say("To sign in, open " + u + " and enter the code " + code);
  if (!complete.empty()) {
    self->say("(or open " + complete + ", which carries the code)");
    if (!self->ctx_.interactive->no_browser) self->open_in_browser(complete, true);
  }
  return FRACTA_OK;
}

int32_t provider_instance::h_redirect_listen(void* ctx, fracta_str requested_uri, const fracta_sink* actual_uri) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (!sink_usable(actual_uri)) return FRACTA_E_INVALID_ARGUMENT;
  // A new listener replaces the previous one (and ends a wait on it).
  if (self->listener_ && self->listener_->awaiting()) return FRACTA_E_INVALID_ARGUMENT;
  if (self->listener_) self->listener_->close();
  self->listener_.reset();
  int32_t status = FRACTA_OK;
  std::string why;
  auto l = login::redirect_listener::listen(self->ctx_.strand, view(requested_uri), status, why);
  if (!l) {
    if (self->ctx_.log) self->ctx_.log(FRACTA_LOG_DEBUG, why);
    return status;
  }
  self->listener_ = l;
  write_sink(actual_uri, l->uri());
  return FRACTA_OK;
}

int32_t provider_instance::h_redirect_await(void* ctx, int64_t timeout_ms, fracta_completion done,
                                            fracta_op_id* op_out) {
  auto* self = static_cast<provider_instance*>(ctx);
  if (done.fn == nullptr || !self->listener_ || self->listener_->awaiting()) return FRACTA_E_INVALID_ARGUMENT;
  const auto id = self->next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  auto listener = self->listener_;
  op->on_cancel = [listener] { listener->close(); };
  self->ops_[id] = op;
  if (op_out) *op_out = id;
  const bool no_browser = self->ctx_.interactive->no_browser;
  if (no_browser) {
    self->say("After you approve, your browser is sent to " + listener->uri() +
              "?…; if that page does not load (a browser on another machine), paste its whole address here "
              "and press Enter.");
  }
  login::redirect_listener::say_fn say;
  if (self->ctx_.interactive->say) say = self->ctx_.interactive->say;
  const auto timeout = std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 300'000);
  listener->set_countdown(self->ctx_.interactive->countdown);
  listener->await(timeout, no_browser, std::move(say), self->blocking_executor(),
                  [self, id, raw = op.get(), alive = self->alive_](login::redirect_listener::outcome o) {
                    if (!alive->load()) return;
                    auto taken = self->take_op(id, raw);
                    if (!taken) return;
                    self->deliver(*taken, op_result{o.status, std::move(o.message), 0, std::move(o.value)});
                  });
  return FRACTA_PENDING;
}

}  // namespace fracta::plugin
