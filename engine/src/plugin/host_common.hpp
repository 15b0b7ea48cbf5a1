// SPDX-License-Identifier: Apache-2.0
// What the provider instance's files share: fracta_str/sink helpers and a host operation in flight.
#pragma once
#include "core/internal.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/cancellation_signal.hpp>
#include <sodium.h>

#include "core/clock.hpp"
#include "fracta/auth_plugin.h"
#include "plugin/instance.hpp"

namespace fracta::plugin {

inline std::string_view view(fracta_str s) noexcept {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}
inline fracta_str str(std::string_view s) noexcept { return fracta_str{s.data(), s.size()}; }

inline bool sink_usable(const fracta_sink* s) noexcept {
  return FRACTA_HAS_FIELD(s, fracta_sink, write) && s->write != nullptr;
}
inline void write_sink(const fracta_sink* s, std::string_view text) {
  if (sink_usable(s)) s->write(s->ctx, str(text));
}

/// A sink that appends into a std::string.
struct string_sink {
  std::string text;
  fracta_sink sink{sizeof(fracta_sink), this, [](void* ctx, fracta_str s) {
                     static_cast<string_sink*>(ctx)->text.append(view(s));
                   }};
};

/// Overwrites a string holding a secret before its memory is released.
inline void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

inline void call_completion(const fracta_completion& c, const op_result& r) {
  if (c.fn == nullptr) return;
  fracta_outcome o{sizeof(fracta_outcome), str(r.message), r.expires_at_ms, str(r.value)};
  c.fn(c.ctx, r.status, &o);
}

/// A host operation in flight on behalf of the plugin (http, timer, store, posted completion…).
struct provider_instance::host_op {
  fracta_completion done{};
  fracta_http_completion http_done{};
  bool is_http = false;
  asio::cancellation_signal signal;
  std::unique_ptr<core::timer> timer;
  op_result posted;                 // for completions queued with complete_later
  std::function<void()> on_cancel;  // stops the host-side work (redirect_await)
};

}  // namespace fracta::plugin
