// SPDX-License-Identifier: Apache-2.0
// Actor strands that a thread outside the loop may enter while they are idle, so that a
// provider's create() and destroy() run on their actor even before any thread runs the loop.
#pragma once
#include "core/internal.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/strand.hpp>

#include "core/async.hpp"

namespace fracta::core {

using actor_strand = asio::strand<asio::any_io_executor>;

/// A new strand over `ex` that run_now_on() can enter from any thread. Otherwise it behaves
/// exactly like asio::make_strand(ex). Thread-safe.
actor_strand make_actor_strand(const asio::any_io_executor& ex);

/// True when `s` was made by make_actor_strand(). Thread-safe.
bool is_actor_strand(const actor_strand& s) noexcept;

/// Runs `f` as a handler of `s` before returning. When the strand is idle, or this thread is
/// already running it, `f` runs here and now (no loop thread is needed, so this works before
/// the loop runs and after it stopped). Otherwise `f` is queued and this call waits until it
/// ran, which needs a thread running the loop: use it only where the strand is idle by
/// construction (a new strand) or where the alternative is undefined behaviour. For a strand
/// not made by make_actor_strand(), `f` runs directly on this thread: only for tests that
/// drive a one-thread loop themselves. Thread-safe.
void run_now_on(const actor_strand& s, unique_function f);

/// Like run_now_on(), but never waits: when the strand is busy (a handler running on another
/// thread, or queued on a loop that is not running), `f` is posted to it. Should that handler
/// be destroyed without running (its execution context shut down), `f` runs then, on the
/// destroying thread, when no thread runs the loop any more. Thread-safe.
void run_or_post_on(const actor_strand& s, unique_function f);

}  // namespace fracta::core
