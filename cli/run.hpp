// SPDX-License-Identifier: Apache-2.0
// Shared by the commands that talk to servers: the config, the engine options, the one-thread loop.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include "commands.hpp"
#include "fracta/engine.hpp"

namespace fracta::cli {

template <class T>
asio::awaitable<void> store_result(asio::awaitable<T> aw, std::optional<T>& out) {
  out.emplace(co_await std::move(aw));
}

/// Runs `aw` on a fresh single-threaded loop until it finishes.
template <class T>
T run_on_loop(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(io, store_result(std::move(aw), out), [&](std::exception_ptr e) {
    failure = e;
    io.stop();
  });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

/// The config, or the error printed and nullopt (exit_usage).
std::optional<config::config> load_config(const global_options& g);

/// Log lines to stderr: with -v everything, else those at `shown` and above (none when unset).
/// Interactive: the user is told things on stderr and may be sent to a browser.
engine_options make_engine_options(const global_options& g, bool interactive, bool no_browser = false,
                                   std::optional<log_level> shown = std::nullopt);

/// {"scopes":[…],"timeout_ms":…,"device":…} for mcp_session::login.
std::string login_options_json(const login_options& o);

/// Runs the interactive login on `s` and prints "Logged in to <server>: …" to stderr.
/// Used by `call --login` / `tools --login`.
asio::awaitable<result<login_outcome>> login_and_report(mcp_session& s, const std::string& options_json);

}  // namespace fracta::cli
