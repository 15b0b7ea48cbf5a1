// SPDX-License-Identifier: Apache-2.0
// The provider's store services: items filed under the server's name and canonical URL, kept
// in memory on the actor or in the persistent store on the blocking pool.
#include <utility>

#include <asio/post.hpp>

#include "fracta/errors.hpp"
#include "plugin/host_common.hpp"
#include "store/select.hpp"

namespace fracta::plugin {
namespace {

// Store errors for the plugin: "not found" and "unavailable" apart, permanent problems as
// FRACTA_E_CONFIG; the message is the store's (it never contains a stored value), with the
// internal server key shown as the server's name.
op_result store_failure(const error& e, const std::string& server_key, const std::string& server_name) {
  int32_t st = FRACTA_E_INTERNAL;
  if (e.code.category() == store::category()) {
    switch (static_cast<store::errc>(e.code.value())) {
      case store::errc::not_found: st = FRACTA_E_NOT_FOUND; break;
      case store::errc::unavailable:
      case store::errc::locked:
      case store::errc::io:
      case store::errc::refused: st = FRACTA_E_UNAVAILABLE; break;
      case store::errc::corrupt:
      case store::errc::bad_key:
      case store::errc::too_large: st = FRACTA_E_CONFIG; break;
    }
  } else if (e.code == make_error_code(errc::config)) {
    st = FRACTA_E_CONFIG;
  }
  std::string msg = e.message;
  for (auto pos = msg.find(server_key); !server_key.empty() && pos != std::string::npos;
       pos = msg.find(server_key, pos + server_name.size())) {
    msg.replace(pos, server_key.size(), server_name);
  }
  if (e.code == make_error_code(store::errc::too_large)) {
    msg += "; set token_store = \"file\" to keep this server's tokens in the encrypted file instead";
  }
  return op_result{st, std::move(msg), 0, {}};
}

}  // namespace

int32_t provider_instance::h_store_get(void* ctx, fracta_str key, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::get, key, {nullptr, 0}, done);
}

int32_t provider_instance::h_store_put(void* ctx, fracta_str key, fracta_str value, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::put, key, value, done);
}

int32_t provider_instance::h_store_erase(void* ctx, fracta_str key, fracta_completion done) {
  return static_cast<provider_instance*>(ctx)->start_store_op(store_kind::erase, key, {nullptr, 0}, done);
}

bool provider_instance::persistent_store() const noexcept {
  return ctx_.stores != nullptr && store::persists(*ctx_.server);
}

int32_t provider_instance::start_store_op(store_kind kind, fracta_str key_in, fracta_str value_in,
                                          fracta_completion done) {
  if (done.fn == nullptr) return FRACTA_E_INVALID_ARGUMENT;
  std::string key(view(key_in));
  if (key.empty()) return FRACTA_E_INVALID_ARGUMENT;
  if (!persistent_store()) {
    // In memory, on the actor: no I/O.
    if (kind == store_kind::get) {
      auto v = ctx_.store->get(key);
      complete_later(done, v ? op_result{FRACTA_OK, {}, 0, std::move(*v)}
                             : op_result{FRACTA_E_NOT_FOUND, "not stored", 0, {}});
    } else {
      if (kind == store_kind::put) ctx_.store->put(key, std::string(view(value_in)));
      else ctx_.store->erase(key);
      complete_later(done, op_result{FRACTA_OK, {}, 0, {}});
    }
    return FRACTA_PENDING;
  }
  const auto id = next_op_id();
  auto op = std::make_shared<host_op>();
  op->done = done;
  ops_[id] = op;
  // On the blocking pool, after this instance's earlier store calls: pick (once) and call the
  // store. The pool thread touches neither `this` nor its members, only what it was given (the
  // selector is the engine's, whose pool is joined before it goes);
  // the answer goes back to the actor. Items are filed under the server's name and canonical
  // URL (COMMON interface 6), so a re-added name with another URL starts empty.
  std::string value(view(value_in));
  // The server's settings travel by value: the instance may be gone when the pool runs this.
  queue_store_job([self = this, id, raw = op.get(), alive = alive_, strand = ctx_.strand, stores = ctx_.stores,
                   server = std::make_shared<const config::server>(*ctx_.server), kind, key = std::move(key),
                   value = std::move(value)]() mutable {
    op_result out{FRACTA_OK, {}, 0, {}};
    const store::item_key ik{store::server_key(*server), "", key};
    auto chosen = stores->open(*server);
    if (!chosen) {
      out = store_failure(chosen.err(), ik.server, server->name);
    } else {
      auto& backend = *chosen->store;
      if (kind == store_kind::get) {
        auto r = backend.get(ik);
        if (r) out.value = std::move(r).value();
        else out = store_failure(r.err(), ik.server, server->name);
      } else {
        auto r = kind == store_kind::put ? backend.put(ik, value) : backend.erase(ik);
        if (!r) out = store_failure(r.err(), ik.server, server->name);
      }
    }
    wipe(value);
    asio::post(strand, [self, id, raw, alive, out = std::move(out)]() mutable {
      if (alive->load()) {
        if (auto o = self->take_op(id, raw)) self->deliver(*o, out);
        self->store_job_done();
      }
      wipe(out.value);
    });
  });
  return FRACTA_PENDING;
}

void provider_instance::queue_store_job(core::unique_function job) {
  store_jobs_.push_back(std::move(job));
  if (!store_job_running_) store_job_done();
}

void provider_instance::store_job_done() {
  store_job_running_ = !store_jobs_.empty();
  if (!store_job_running_) return;
  auto next = std::move(store_jobs_.front());
  store_jobs_.pop_front();
  asio::post(blocking_executor(), std::move(next));
}

}  // namespace fracta::plugin
