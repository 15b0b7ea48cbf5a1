// SPDX-License-Identifier: Apache-2.0
// The Secret Service token store: libsecret calls on a per-call thread, waited for with a deadline.
#include "store/keyring_store.hpp"

#include <libsecret/secret.h>
#include <sodium.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace fracta::store {
namespace {

const SecretSchema* credential_schema() noexcept {
  static const SecretSchema schema = [] {
    SecretSchema s{};
    s.name = "dev.fracta.Credential";
    s.flags = SECRET_SCHEMA_NONE;
    s.attributes[0] = {"server", SECRET_SCHEMA_ATTRIBUTE_STRING};
    s.attributes[1] = {"issuer", SECRET_SCHEMA_ATTRIBUTE_STRING};
    s.attributes[2] = {"item", SECRET_SCHEMA_ATTRIBUTE_STRING};
    s.attributes[3] = {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING};
    return s;
  }();
  return &schema;
}

enum class op { get, put, erase };

// Everything one call touches, shared by the waiting caller and the worker thread, so that a
// call abandoned at its deadline finishes against live memory and frees it itself.
struct call_state {
  call_state(op k, item_key key_in, const char* coll) : kind(k), key(std::move(key_in)), collection(coll) {}
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;
  ~call_state() {
    sodium_memzero(value.data(), value.size());
    g_object_unref(cancellable);
  }

  const op kind;
  const item_key key;
  const char* const collection;  // a libsecret constant (static storage)
  std::string label;
  std::string value;  // put: the input; get: the output
  GCancellable* cancellable = g_cancellable_new();

  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool found = false;
  bool failed = false;
  std::string failure;  // a GError message: D-Bus and keyring wording, never the value
};

void perform(call_state& s) {
  GError* err = nullptr;
  const char* server = s.key.server.c_str();
  const char* issuer = s.key.issuer.c_str();
  const char* item = s.key.item.c_str();
  switch (s.kind) {
    case op::get: {
      SecretValue* v = secret_password_lookup_binary_sync(credential_schema(), s.cancellable, &err,
          "server", server, "issuer", issuer, "item", item, nullptr);
      if (v != nullptr) {
        gsize len = 0;
        const gchar* data = secret_value_get(v, &len);
        s.value.assign(data, len);
        s.found = true;
        secret_value_unref(v);
      }
      break;
    }
    case op::put: {
      SecretValue* v = secret_value_new(s.value.data(), static_cast<gssize>(s.value.size()), "text/plain");
      s.found = secret_password_store_binary_sync(credential_schema(), s.collection, s.label.c_str(), v,
                    s.cancellable, &err, "server", server, "issuer", issuer, "item", item, nullptr) != FALSE;
      secret_value_unref(v);
      break;
    }
    case op::erase:
      s.found = secret_password_clear_sync(credential_schema(), s.cancellable, &err, "server", server,
                    "issuer", issuer, "item", item, nullptr) != FALSE;
      break;
  }
  if (err != nullptr) {
    s.failed = true;
    s.failure = err->message != nullptr ? err->message : "unknown error";
    g_error_free(err);
  }
}

std::string seconds_text(std::chrono::milliseconds t) {
  if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000) + " s";
  return std::to_string(t.count()) + " ms";
}

// Runs the call on a detached thread and waits until it finishes or the deadline passes.
// On success of the wait, the state holds the outcome; otherwise an errc::unavailable error.
result<void> run(const std::shared_ptr<call_state>& state, std::chrono::milliseconds timeout) {
  try {
    std::thread([s = state] {
      perform(*s);
      const std::lock_guard lock(s->mutex);
      s->done = true;
      s->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return make_error(errc::unavailable, std::string("cannot start a keyring call: ") + e.what());
  }
  std::unique_lock lock(state->mutex);
  if (!state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
    // The worker keeps its own reference; cancelling makes it give up soon and free the state.
    g_cancellable_cancel(state->cancellable);
    return make_error(errc::unavailable, "the keyring did not answer within " + seconds_text(timeout));
  }
  if (state->failed) return make_error(errc::unavailable, "the keyring is unavailable: " + state->failure);
  return {};
}

const char* collection_of(keyring_collection c) noexcept {
  return c == keyring_collection::session ? SECRET_COLLECTION_SESSION : SECRET_COLLECTION_DEFAULT;
}

}  // namespace

keyring_store::keyring_store(keyring_options options) : options_(options) {}

result<std::string> keyring_store::get(const item_key& key) {
  if (auto ok = check_key(key); !ok) return std::move(ok).err();
  auto s = std::make_shared<call_state>(op::get, key, collection_of(options_.collection));
  if (auto ok = run(s, options_.timeout); !ok) return std::move(ok).err();
  if (!s->found) {
    return make_error(errc::not_found, "no " + key.item + " stored in the keyring for server '" + key.server + "'");
  }
  return std::string(s->value);
}

result<void> keyring_store::put(const item_key& key, std::string_view value) {
  if (auto ok = check_key(key); !ok) return ok;
  if (value.size() > max_value_size) {
    return make_error(errc::too_large, "cannot store " + key.item + " for server '" + key.server +
        "' in the keyring: keyring items must stay under 2 KiB (this one is " + std::to_string(value.size()) +
        " bytes); use token_store = \"file\" for larger values");
  }
  auto s = std::make_shared<call_state>(op::put, key, collection_of(options_.collection));
  s->label = "fracta: " + key.server + " (" + key.issuer + ") " + key.item;
  s->value.assign(value);
  if (auto ok = run(s, options_.timeout); !ok) return ok;
  if (!s->found) return make_error(errc::unavailable, "the keyring refused to store " + key.item + " for server '" + key.server + "'");
  return {};
}

result<void> keyring_store::erase(const item_key& key) {
  if (auto ok = check_key(key); !ok) return ok;
  auto s = std::make_shared<call_state>(op::erase, key, collection_of(options_.collection));
  return run(s, options_.timeout);
}

bool keyring_store::available(std::chrono::milliseconds timeout) {
  auto s = std::make_shared<call_state>(op::get, item_key{"fracta-probe", "", "probe"}, SECRET_COLLECTION_DEFAULT);
  return run(s, timeout).ok();
}

}  // namespace fracta::store
