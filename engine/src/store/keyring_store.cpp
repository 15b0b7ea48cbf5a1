// SPDX-License-Identifier: Apache-2.0
// The Secret Service token store: libsecret calls on a per-call thread, waited for with a
// deadline, in order per item.
#include "store/keyring_store.hpp"

#include <libsecret/secret.h>
#include <sodium.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

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

void take_error(keyring_call& c, GError* err) {
  if (err == nullptr) return;
  c.failed = true;
  c.unreachable = err->domain == G_IO_ERROR || err->domain == G_DBUS_ERROR;
  c.failure = err->message != nullptr ? err->message : "unknown error";
  g_error_free(err);
}

// Every item of the schema whose server attribute belongs to the server `name`.
void erase_server_items(keyring_call& c, GCancellable* cancellable) {
  GError* err = nullptr;
  GList* found = secret_password_search_sync(credential_schema(), SECRET_SEARCH_ALL, cancellable, &err, nullptr);
  if (err != nullptr) return take_error(c, err);
  std::set<std::string> servers;
  for (GList* l = found; l != nullptr; l = l->next) {
    GHashTable* attrs = secret_retrievable_get_attributes(SECRET_RETRIEVABLE(l->data));
    const auto* server = static_cast<const char*>(g_hash_table_lookup(attrs, "server"));
    if (server != nullptr && belongs_to(item_key{server, "", "x"}, c.key.server)) {
      servers.insert(server);
      ++c.erased;
    }
    g_hash_table_unref(attrs);
  }
  g_list_free_full(found, g_object_unref);
  for (const auto& server : servers) {
    secret_password_clear_sync(credential_schema(), cancellable, &err, "server", server.c_str(), nullptr);
    if (err != nullptr) return take_error(c, err);
  }
}

class libsecret_backend final : public keyring_backend {
 public:
  void perform(keyring_call& c, const std::atomic<bool>&, void* g_cancellable) override {
    auto* cancellable = static_cast<GCancellable*>(g_cancellable);
    GError* err = nullptr;
    const char* server = c.key.server.c_str();
    const char* issuer = c.key.issuer.c_str();
    const char* item = c.key.item.c_str();
    switch (c.kind) {
      case keyring_call::op::get: {
        SecretValue* v = secret_password_lookup_binary_sync(credential_schema(), cancellable, &err,
            "server", server, "issuer", issuer, "item", item, nullptr);
        if (v != nullptr) {
          gsize len = 0;
          const gchar* data = secret_value_get(v, &len);
          c.value.assign(data, len);
          c.found = true;
          secret_value_unref(v);
        }
        break;
      }
      case keyring_call::op::put: {
        SecretValue* v = secret_value_new(c.value.data(), static_cast<gssize>(c.value.size()), "text/plain");
        c.found = secret_password_store_binary_sync(credential_schema(), c.collection, c.label.c_str(), v,
                      cancellable, &err, "server", server, "issuer", issuer, "item", item, nullptr) != FALSE;
        secret_value_unref(v);
        break;
      }
      case keyring_call::op::erase:
        secret_password_clear_sync(credential_schema(), cancellable, &err, "server", server, "issuer", issuer,
                                   "item", item, nullptr);
        break;
      case keyring_call::op::erase_server:
        erase_server_items(c, cancellable);
        return;
    }
    take_error(c, err);
  }
};

// Everything one call touches, shared by the waiting caller and the worker thread, so that a
// call abandoned at its deadline finishes against live memory and frees it itself.
struct call_state {
  call_state(keyring_call::op k, item_key key, const char* coll, std::shared_ptr<keyring_backend> b)
      : backend(std::move(b)) {
    call.kind = k;
    call.key = std::move(key);
    call.collection = coll;
  }
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;
  ~call_state() {
    sodium_memzero(call.value.data(), call.value.size());
    g_object_unref(cancellable);
  }

  keyring_call call;
  std::shared_ptr<keyring_backend> backend;
  GCancellable* cancellable = g_cancellable_new();
  std::atomic<bool> cancelled{false};
  std::vector<std::shared_ptr<call_state>> after;  // calls on the same items that go first

  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
};

std::string identity(const item_key& k) { return k.server + '\0' + k.issuer + '\0' + k.item; }

}  // namespace

// The last call made on each item, so that the next one waits for it.
struct keyring_store::sequencer {
  struct entry {
    item_key key;
    std::weak_ptr<call_state> call;
  };
  std::mutex mutex;
  std::map<std::string, entry> last;

  // Records `s` as the latest call on its item(s) and tells it what to wait for.
  void enter(const std::shared_ptr<call_state>& s) {
    const std::lock_guard lock(mutex);
    std::erase_if(last, [](const auto& kv) { return kv.second.call.expired(); });
    if (s->call.kind == keyring_call::op::erase_server) {
      for (auto& [id, e] : last) {
        if (!belongs_to(e.key, s->call.key.server)) continue;
        if (auto prev = e.call.lock()) s->after.push_back(std::move(prev));
        e.call = s;
      }
      return;
    }
    auto& e = last[identity(s->call.key)];
    if (auto prev = e.call.lock()) s->after.push_back(std::move(prev));
    e = entry{s->call.key, s};
  }
};

namespace {

std::string seconds_text(std::chrono::milliseconds t) {
  if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000) + " s";
  return std::to_string(t.count()) + " ms";
}

// Runs the call on a detached thread, after the earlier calls on its items, and waits until it
// finishes or the deadline passes. Then the state holds the outcome (the caller checks
// call.failed); otherwise an errc::unavailable error. A call given up before its turn is
// never performed.
result<void> run(const std::shared_ptr<call_state>& state, keyring_store::sequencer* order,
                 std::chrono::milliseconds timeout) {
  if (order != nullptr) order->enter(state);
  try {
    std::thread([s = state] {
      for (auto& prev : s->after) {
        std::unique_lock lock(prev->mutex);
        prev->cv.wait(lock, [&] { return prev->done; });
      }
      s->after.clear();
      if (!s->cancelled.load()) s->backend->perform(s->call, s->cancelled, s->cancellable);
      const std::lock_guard lock(s->mutex);
      s->done = true;
      s->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return make_error(errc::unavailable, std::string("cannot start a keyring call: ") + e.what());
  }
  std::unique_lock lock(state->mutex);
  if (!state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
    // The worker keeps its own reference; cancelling makes it give up soon (or never start)
    // and free the state.
    state->cancelled.store(true);
    g_cancellable_cancel(state->cancellable);
    return make_error(errc::unavailable, "the keyring did not answer within " + seconds_text(timeout));
  }
  return {};
}

result<void> answered(const call_state& s) {
  if (s.call.failed) return make_error(errc::unavailable, "the keyring is unavailable: " + s.call.failure);
  return {};
}

const char* collection_of(keyring_collection c) noexcept {
  return c == keyring_collection::session ? SECRET_COLLECTION_SESSION : SECRET_COLLECTION_DEFAULT;
}

}  // namespace

keyring_store::keyring_store(keyring_options options)
    : options_(options),
      backend_(options_.backend ? options_.backend : std::make_shared<libsecret_backend>()),
      order_(std::make_shared<sequencer>()) {}

result<std::string> keyring_store::get(const item_key& key) {
  if (auto ok = check_key(key); !ok) return std::move(ok).err();
  auto s = std::make_shared<call_state>(keyring_call::op::get, key, collection_of(options_.collection), backend_);
  if (auto ok = run(s, order_.get(), options_.timeout); !ok) return std::move(ok).err();
  if (auto ok = answered(*s); !ok) return std::move(ok).err();
  if (!s->call.found) {
    return make_error(errc::not_found, "no " + key.item + " stored in the keyring for server '" +
                                           std::string(display_server(key.server)) + "'");
  }
  return std::string(s->call.value);
}

result<void> keyring_store::put(const item_key& key, std::string_view value) {
  if (auto ok = check_key(key); !ok) return ok;
  const std::string who(display_server(key.server));
  if (value.size() > max_value_size) {
    return make_error(errc::too_large, "cannot store " + key.item + " for server '" + who +
        "' in the keyring: keyring items are limited to 64 KiB (this one is " + std::to_string(value.size()) +
        " bytes)");
  }
  auto s = std::make_shared<call_state>(keyring_call::op::put, key, collection_of(options_.collection), backend_);
  const auto newline = key.server.find('\n');
  const std::string where = newline == std::string::npos ? std::string() : " " + key.server.substr(newline + 1);
  s->call.label = "fracta: " + who + where + (key.issuer.empty() ? "" : " (" + key.issuer + ")") + " " + key.item;
  s->call.value.assign(value);
  if (auto ok = run(s, order_.get(), options_.timeout); !ok) return ok;
  if (s->call.unreachable) return answered(*s);
  // It answered, and said no (a locked collection, a dismissed prompt).
  if (s->call.failed || !s->call.found) {
    return make_error(errc::refused, "the keyring refused to store " + key.item + " for server '" + who + "'" +
                                         (s->call.failed ? ": " + s->call.failure : std::string()));
  }
  return {};
}

result<void> keyring_store::erase(const item_key& key) {
  if (auto ok = check_key(key); !ok) return ok;
  auto s = std::make_shared<call_state>(keyring_call::op::erase, key, collection_of(options_.collection), backend_);
  if (auto ok = run(s, order_.get(), options_.timeout); !ok) return ok;
  return answered(*s);
}

result<std::size_t> keyring_store::erase_server(std::string_view name) {
  if (name.empty()) return make_error(errc::bad_key, "a stored item needs a server name");
  auto s = std::make_shared<call_state>(keyring_call::op::erase_server, item_key{std::string(name), "", "*"},
                                        collection_of(options_.collection), backend_);
  if (auto ok = run(s, order_.get(), options_.timeout); !ok) return std::move(ok).err();
  if (auto ok = answered(*s); !ok) return std::move(ok).err();
  return s->call.erased;
}

bool keyring_store::available(std::chrono::milliseconds timeout) {
  auto s = std::make_shared<call_state>(keyring_call::op::get, item_key{"fracta-probe", "", "probe"},
                                        SECRET_COLLECTION_DEFAULT, std::make_shared<libsecret_backend>());
  return run(s, nullptr, timeout).ok() && answered(*s).ok();
}

}  // namespace fracta::store
