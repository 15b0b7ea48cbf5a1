// SPDX-License-Identifier: Apache-2.0
// SDK provider table: borrowed request and challenge views, and the C table for a provider class.
#pragma once

#include <fracta/sdk/host.hpp>

#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace fracta::sdk {

// ---- what the host lends to provider operations -------------------------------------------

namespace detail {

/// `s->*field` when the struct `s` points at is large enough to have the field (as
/// FRACTA_SDK_FIELD_OR checks), else empty. Thread-safe.
template <class S>
[[nodiscard]] std::string_view str_field(const S* s, fracta_str S::*field) noexcept {
  static constexpr S layout{};  // a whole S, to measure where `field` ends
  const auto* base = reinterpret_cast<const char*>(&layout);
  const auto end = static_cast<std::size_t>(reinterpret_cast<const char*>(&(layout.*field)) - base) +
                   sizeof(fracta_str);
  if (s == nullptr || s->struct_size < end) return {};
  return to_str(s->*field);
}

}  // namespace detail

/// A borrowed fracta_request, valid for the duration of apply(). Actor-bound.
class request final {
 public:
  explicit request(fracta_request* r) noexcept : r_(r) {}

  [[nodiscard]] std::string_view method() const noexcept { return text(&fracta_request::method); }
  [[nodiscard]] std::string_view url() const noexcept { return text(&fracta_request::url); }
  [[nodiscard]] std::string_view body() const noexcept { return text(&fracta_request::body); }
  /// Sets a header, replacing any of the same name; the host copies both views.
  [[nodiscard]] std::int32_t set_header(std::string_view name, std::string_view value) const noexcept {
    if (!FRACTA_HAS_FIELD(r_, fracta_request, set_header) || r_->set_header == nullptr)
      return FRACTA_E_UNSUPPORTED;
    return r_->set_header(r_->host_ctx, from_str(name), from_str(value));
  }
  /// A header's value (case-insensitive name), borrowed until the next call on this request.
  [[nodiscard]] std::optional<std::string_view> get_header(std::string_view name) const noexcept {
    if (!FRACTA_HAS_FIELD(r_, fracta_request, get_header) || r_->get_header == nullptr)
      return std::nullopt;
    fracta_str value{nullptr, 0};
    if (r_->get_header(r_->host_ctx, from_str(name), &value) != FRACTA_OK) return std::nullopt;
    return to_str(value);
  }
  [[nodiscard]] fracta_request* get() const noexcept { return r_; }

 private:
  std::string_view text(fracta_str fracta_request::*field) const noexcept {
    return detail::str_field(r_, field);
  }

  fracta_request* r_;
};

/// A borrowed fracta_challenge (a 401/403 answer), valid for the duration of on_challenge().
class challenge final {
 public:
  explicit challenge(const fracta_challenge* c) noexcept : c_(c) {}
  [[nodiscard]] std::int32_t http_status() const noexcept {
    return FRACTA_SDK_FIELD_OR(c_, fracta_challenge, http_status, 0);
  }
  [[nodiscard]] std::string_view www_authenticate() const noexcept {
    return text(&fracta_challenge::www_authenticate);
  }
  [[nodiscard]] std::string_view resource_url() const noexcept {
    return text(&fracta_challenge::resource_url);
  }
  [[nodiscard]] std::string_view body() const noexcept { return text(&fracta_challenge::body); }
  [[nodiscard]] const fracta_challenge* get() const noexcept { return c_; }

 private:
  std::string_view text(fracta_str fracta_challenge::*field) const noexcept {
    return detail::str_field(c_, field);
  }

  const fracta_challenge* c_;
};

// ---- the provider table ---------------------------------------------------------------------

namespace detail {

// Detection of the optional operations. A member that exists under the right name but with
// another signature is a mistake worth a compile error (make_table checks the name), not a
// silently NULL entry.
template <class I>
concept has_refresh = requires(I& i, completion& c) {
  { i.refresh(c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_on_challenge = requires(I& i, const challenge& ch, completion& c) {
  { i.on_challenge(ch, c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_login = requires(I& i, std::string_view options, completion& c) {
  { i.login(options, c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_logout = requires(I& i, completion& c) {
  { i.logout(c) } -> std::same_as<std::int32_t>;
};
template <class I>
concept has_status = requires(I& i) {
  { i.status() } -> std::convertible_to<std::string>;
};
template <class I>
concept has_cancel = requires(I& i) { i.cancel(); };
template <class I>
concept has_export = requires(I& i, completion& c) {
  { i.export_credentials(c) } -> std::same_as<std::int32_t>;
};

// What an instance pointer points at: the provider plus the host it was created with, so
// that operations without an error sink can still report an exception through the log.
template <class Impl>
struct holder final {
  holder(const fracta_host* h, std::string_view config) : host_(h), impl_(host_, config) {}
  host host_;
  Impl impl_;
};

inline std::int32_t error_status(std::int32_t status) noexcept {
  return status < 0 ? status : FRACTA_E_INTERNAL;
}

// Runs f() → status, turning exceptions into a status and reporting their text through
// report(std::string_view).
template <class F, class R>
std::int32_t guarded(F&& f, R&& report) noexcept {
  try {
    return f();
  } catch (const error& e) {
    report(e.what());
    return error_status(e.status());
  } catch (const std::exception& e) {
    report(e.what());
    return FRACTA_E_INTERNAL;
  } catch (...) {
    report("unknown exception (not derived from std::exception)");
    return FRACTA_E_INTERNAL;
  }
}

template <class Impl>
struct trampolines final {
  using box = holder<Impl>;

  static void log_failure(const host& h, const char* op, std::string_view what) noexcept {
    try {
      h.log_error(std::string(Impl::type) + " provider: " + op + " failed: " + std::string(what));
    } catch (...) {
      h.log_error("a provider operation failed, and reporting it ran out of memory");
    }
  }

  static std::int32_t create(const fracta_host* h, fracta_str config, void** instance,
                             const fracta_sink* error_sink) noexcept {
    const sink err(error_sink);
    if (instance == nullptr || h == nullptr) {
      err.write("create: host and instance must not be NULL");
      return FRACTA_E_INVALID_ARGUMENT;
    }
    *instance = nullptr;
    return guarded(
        [&] {
          *instance = new box(h, to_str(config));
          return FRACTA_OK;
        },
        [&](std::string_view what) { err.write(what); });
  }

  static void destroy(void* instance) noexcept { delete static_cast<box*>(instance); }

  static std::int32_t apply(void* instance, fracta_request* r, const fracta_sink* error_sink) noexcept {
    const sink err(error_sink);
    if (instance == nullptr || r == nullptr) {
      err.write("apply: instance and request must not be NULL");
      return FRACTA_E_INVALID_ARGUMENT;
    }
    box& b = *static_cast<box*>(instance);
    return guarded(
        [&]() -> std::int32_t {
          request req(r);
          const std::int32_t st = b.impl_.apply(req, err);
          if (st == FRACTA_OK || st == FRACTA_NEED_REFRESH || st < 0) return st;
          err.write("apply() is synchronous: it returns FRACTA_OK, FRACTA_NEED_REFRESH or an error");
          return FRACTA_E_INTERNAL;
        },
        [&](std::string_view what) { err.write(what); });
  }

  // The completion protocol for an async operation, applied after Impl returns `st`:
  //  - Impl still holds `done` untouched: `st` is the final status and `done` is released
  //    (PENDING without a kept completion would never complete: reported as INTERNAL).
  //  - Impl moved `done` away or called it: whoever holds it will complete it exactly once,
  //    so the host is told FRACTA_PENDING whatever Impl returned.
  template <class F>
  static std::int32_t run_async(void* instance, const char* op, fracta_completion c, F&& f) noexcept {
    if (instance == nullptr || c.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    box& b = *static_cast<box*>(instance);
    completion done(c);
    const std::int32_t st = guarded([&] { return f(b.impl_, done); },
                                    [&](std::string_view what) { log_failure(b.host_, op, what); });
    if (!done.armed()) return FRACTA_PENDING;
    done.release();
    if (st == FRACTA_PENDING) {
      log_failure(b.host_, op, "returned FRACTA_PENDING without keeping its completion");
      return FRACTA_E_INTERNAL;
    }
    return st;
  }

  static std::int32_t refresh(void* instance, fracta_completion c) noexcept {
    return run_async(instance, "refresh", c, [](Impl& i, completion& d) { return i.refresh(d); });
  }
  static std::int32_t on_challenge(void* instance, const fracta_challenge* ch,
                                   fracta_completion c) noexcept {
    if (ch == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    return run_async(instance, "on_challenge", c,
                     [ch](Impl& i, completion& d) { return i.on_challenge(challenge(ch), d); });
  }
  static std::int32_t login(void* instance, fracta_str options, fracta_completion c) noexcept {
    return run_async(instance, "login", c,
                     [options](Impl& i, completion& d) { return i.login(to_str(options), d); });
  }
  static std::int32_t logout(void* instance, fracta_completion c) noexcept {
    return run_async(instance, "logout", c, [](Impl& i, completion& d) { return i.logout(d); });
  }
  static std::int32_t status(void* instance, const fracta_sink* json_out) noexcept {
    if (instance == nullptr) return FRACTA_E_INVALID_ARGUMENT;
    box& b = *static_cast<box*>(instance);
    return guarded(
        [&] {
          const std::string json = b.impl_.status();
          sink(json_out).write(json);
          return FRACTA_OK;
        },
        [&](std::string_view what) { log_failure(b.host_, "status", what); });
  }
  static std::int32_t export_credentials(void* instance, fracta_completion c) noexcept {
    return run_async(instance, "export_credentials", c, [](Impl& i, completion& d) { return i.export_credentials(d); });
  }
  static void cancel(void* instance) noexcept {
    if (instance == nullptr) return;
    box& b = *static_cast<box*>(instance);
    (void)guarded(
        [&] {
          b.impl_.cancel();
          return FRACTA_OK;
        },
        [&](std::string_view what) { log_failure(b.host_, "cancel", what); });
  }
};

template <class Impl>
constexpr fracta_provider make_table() noexcept {
  static_assert(std::is_convertible_v<decltype(Impl::type), const char*>,
                "a provider declares `static constexpr const char* type = \"...\";`");
  static_assert(std::is_constructible_v<Impl, host, std::string_view>,
                "a provider is constructible from (fracta::sdk::host, std::string_view config_json)");
  static_assert(requires(Impl& i, request& r, const sink& e) {
    { i.apply(r, e) } -> std::same_as<std::int32_t>;
  }, "a provider has `std::int32_t apply(sdk::request&, const sdk::sink& error)`");
  static_assert(has_refresh<Impl> || !requires { &Impl::refresh; },
                "refresh must be `std::int32_t refresh(sdk::completion&)`");
  static_assert(has_on_challenge<Impl> || !requires { &Impl::on_challenge; },
                "on_challenge must be `std::int32_t on_challenge(const sdk::challenge&, sdk::completion&)`");
  static_assert(has_login<Impl> || !requires { &Impl::login; },
                "login must be `std::int32_t login(std::string_view, sdk::completion&)`");
  static_assert(has_logout<Impl> || !requires { &Impl::logout; },
                "logout must be `std::int32_t logout(sdk::completion&)`");
  static_assert(has_status<Impl> || !requires { &Impl::status; }, "status must be `std::string status()`");
  static_assert(has_cancel<Impl> || !requires { &Impl::cancel; }, "cancel must be `void cancel()`");
  static_assert(has_export<Impl> || !requires { &Impl::export_credentials; },
                "export_credentials must be `std::int32_t export_credentials(sdk::completion&)`");

  using t = trampolines<Impl>;
  std::uint32_t flags = 0;
  if constexpr (requires { Impl::flags; })
    flags = Impl::flags;
  else if constexpr (has_login<Impl>)
    flags = FRACTA_PROVIDER_INTERACTIVE;

  fracta_provider p{};
  p.struct_size = sizeof(fracta_provider);
  p.type = Impl::type;
  p.flags = flags;
  p.create = &t::create;
  p.destroy = &t::destroy;
  p.apply = &t::apply;
  if constexpr (has_refresh<Impl>) p.refresh = &t::refresh;
  if constexpr (has_on_challenge<Impl>) p.on_challenge = &t::on_challenge;
  if constexpr (has_login<Impl>) p.login = &t::login;
  if constexpr (has_logout<Impl>) p.logout = &t::logout;
  if constexpr (has_status<Impl>) p.status = &t::status;
  if constexpr (has_cancel<Impl>) p.cancel = &t::cancel;
  if constexpr (has_export<Impl>) p.export_credentials = &t::export_credentials;
  return p;
}

template <class Impl>
inline constexpr fracta_provider provider_table_v = make_table<Impl>();

}  // namespace detail

/// The static provider table for `Impl`: C entry points that call Impl, optional ones NULL
/// unless Impl defines them. Thread-safe.
template <class Impl>
[[nodiscard]] constexpr const fracta_provider* provider_table() noexcept {
  return &detail::provider_table_v<Impl>;
}

}  // namespace fracta::sdk

/// Defines the plugin's one exported symbol, fracta_plugin_entry_v1, returning a static
/// descriptor with the given name, version (string literals) and provider tables.
#define FRACTA_SDK_DEFINE_PLUGIN(plugin_name, plugin_version, ...)                               \
  extern "C" FRACTA_PLUGIN_EXPORT const fracta_plugin* FRACTA_PLUGIN_ENTRY_V1(std::uint32_t) { \
    static const fracta_provider* const providers[] = {__VA_ARGS__};                            \
    static const fracta_plugin plugin = {sizeof(fracta_plugin),                                  \
                                         FRACTA_ABI_MAJOR,                                       \
                                         FRACTA_ABI_MINOR,                                       \
                                         plugin_name,                                            \
                                         plugin_version,                                         \
                                         sizeof(providers) / sizeof(providers[0]),               \
                                         providers};                                             \
    return &plugin;                                                                              \
  }
