// SPDX-License-Identifier: Apache-2.0
// Store selection without a keyring (the test runs with a dead session bus): auto falls back to
// the encrypted file and says so; the file key comes from the passphrase or
// FRACTA_STORE_PASSPHRASE, else a clear error; host store services reach the file on the pool.
// With a scripted keyring: what it refuses goes to the file, erase_server forgets a server
// everywhere, and decisions for different servers do not wait on each other.
#include "store/select.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "../login/capture.hpp"
#include "core/async.hpp"
#include "fracta/errors.hpp"
#include "store/file_store.hpp"

using namespace fracta;
using fracta::test::async_result;
using fracta::test::completion;
using fracta::test::str;

namespace {

namespace fs = std::filesystem;

// A private XDG_STATE_HOME for each test.
struct state_home {
  fs::path dir;
  state_home() {
    dir = fs::temp_directory_path() / ("fracta-select-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
    ::unsetenv("FRACTA_STORE_PASSPHRASE");
  }
  ~state_home() { fs::remove_all(dir); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

config::server oauth_server(const std::string& extra = {}) {
  const std::string text = "[mcp.servers.s.remote]\nurl = \"https://mcp.example.com/mcp\"\n"
                           "[mcp.servers.s.remote.auth]\ntype = \"oauth\"\n" + extra;
  auto cfg = config::parse(text, "/virtual/config.toml");
  return cfg.servers.at(0);
}

store::selector make_selector(std::vector<std::string>& logged) {
  store::selector::options o;
  o.probe_timeout = std::chrono::milliseconds(1500);
  o.log = [&logged](std::int32_t, std::string_view m) { logged.emplace_back(m); };
  return store::selector(std::move(o));
}

}  // namespace

TEST_CASE("only oauth authorization_code and device_code servers persist their tokens") {
  CHECK(store::persists(oauth_server()));
  CHECK(store::persists(oauth_server("grant_type = \"device_code\"\n")));
  CHECK_FALSE(store::persists(oauth_server(
      "grant_type = \"client_credentials\"\nclient_id = { value = \"a\" }\nclient_secret = { value = \"b\" }\n")));
  config::server bearer;
  bearer.auth.type = "bearer";
  CHECK_FALSE(store::persists(bearer));
}

TEST_CASE("state_dir follows XDG_STATE_HOME, else ~/.local/state") {
  state_home h;
  CHECK(store::state_dir() == h.dir / "fracta");
  CHECK(store::default_file_path() == h.dir / "fracta" / "tokens.enc");
  ::unsetenv("XDG_STATE_HOME");
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  CHECK(store::state_dir() == fs::path(home) / ".local" / "state" / "fracta");
  CHECK(store::display_path(fs::path(home) / ".local/state/fracta/tokens.enc") == "~/.local/state/fracta/tokens.enc");
}

TEST_CASE("auto without a Secret Service falls back to the file store and says so") {
  state_home h;
  ::setenv("FRACTA_STORE_PASSPHRASE", "correct horse", 1);
  std::vector<std::string> logged;
  auto sel = make_selector(logged);
  CHECK_FALSE(sel.keyring_available());
  auto c = sel.open(oauth_server());
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.err().message));
  CHECK(c->description == "file " + (h.dir / "fracta" / "tokens.enc").string());
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("no Secret Service answered on the session bus; tokens go to the encrypted file") !=
        std::string::npos);
  // Decided once: the same answer, and no second log line.
  auto again = sel.open(oauth_server());
  REQUIRE(again.ok());
  CHECK(again->description == c->description);
  CHECK(logged.size() == 1);
}

TEST_CASE("memory for servers that do not persist") {
  state_home h;
  std::vector<std::string> logged;
  auto sel = make_selector(logged);
  config::server bearer;
  bearer.name = "b";
  bearer.auth.type = "bearer";
  auto c = sel.open(bearer);
  REQUIRE(c.ok());
  CHECK(c->description == "memory");
  CHECK(c->store == nullptr);
}

TEST_CASE("no key for the file store is a config error that says what to set") {
  state_home h;
  std::vector<std::string> logged;
  auto sel = make_selector(logged);
  auto c = sel.open(oauth_server("token_store = \"file\"\n"));
  REQUIRE_FALSE(c.ok());
  CHECK(c.err().code == errc::config);
  CHECK(c.err().message.find("passphrase = { env = ") != std::string::npos);
  CHECK(c.err().message.find("FRACTA_STORE_PASSPHRASE") != std::string::npos);
  CHECK_FALSE(fs::exists(h.dir / "fracta" / "tokens.enc"));  // never plaintext, never anything
}

TEST_CASE("token_store = file with a configured passphrase: host store services reach the file") {
  state_home h;
  ::setenv("FRACTA_TEST_PASSPHRASE", "open sesame", 1);
  test::host_fixture f;
  f.server = oauth_server("token_store = \"file\"\npassphrase = { env = \"FRACTA_TEST_PASSPHRASE\" }\n");
  auto inst = plugin::provider_instance::create(test::capturing, f.ctx());
  REQUIRE(inst.ok());
  const fracta_host* h0 = test::captured_host;
  REQUIRE(static_cast<bool>(h0->store_put));

  async_result missing;
  CHECK(h0->store_get(h0->host_ctx, str("tokens"), completion(missing)) == FRACTA_PENDING);
  CHECK_FALSE(missing.called);  // never inline
  REQUIRE(f.wait(missing));
  CHECK(missing.status == FRACTA_E_NOT_FOUND);

  async_result put;
  CHECK(h0->store_put(h0->host_ctx, str("tokens"), str("{\"access_token\":\"t1\"}"), completion(put)) ==
        FRACTA_PENDING);
  REQUIRE(f.wait(put));
  CHECK(put.status == FRACTA_OK);
  CHECK(fs::exists(h.dir / "fracta" / "tokens.enc"));

  async_result got;
  CHECK(h0->store_get(h0->host_ctx, str("tokens"), completion(got)) == FRACTA_PENDING);
  REQUIRE(f.wait(got));
  CHECK(got.status == FRACTA_OK);
  CHECK(got.value == "{\"access_token\":\"t1\"}");

  // The file is really encrypted with that passphrase, under (name + "\n" + canonical URL, "", item).
  {
    auto key = store::file_key::passphrase("open sesame");
    REQUIRE(key.ok());
    store::file_store direct(h.dir / "fracta" / "tokens.enc", std::move(key).value());
    auto v = direct.get(store::item_key{"s\nhttps://mcp.example.com/mcp", "", "tokens"});
    REQUIRE(v.ok());
    CHECK(*v == "{\"access_token\":\"t1\"}");
  }

  async_result erased;
  CHECK(h0->store_erase(h0->host_ctx, str("tokens"), completion(erased)) == FRACTA_PENDING);
  REQUIRE(f.wait(erased));
  CHECK(erased.status == FRACTA_OK);
  async_result gone;
  CHECK(h0->store_get(h0->host_ctx, str("tokens"), completion(gone)) == FRACTA_PENDING);
  REQUIRE(f.wait(gone));
  CHECK(gone.status == FRACTA_E_NOT_FOUND);
}

TEST_CASE("a wrong passphrase is reported as a config problem and the file is left alone") {
  state_home h;
  ::setenv("FRACTA_STORE_PASSPHRASE", "first", 1);
  {
    test::host_fixture f;
    f.server = oauth_server("token_store = \"file\"\n");
    auto inst = plugin::provider_instance::create(test::capturing, f.ctx());
    REQUIRE(inst.ok());
    async_result put;
    const fracta_host* h0 = test::captured_host;
    CHECK(h0->store_put(h0->host_ctx, str("tokens"), str("secret-value"), completion(put)) == FRACTA_PENDING);
    REQUIRE(f.wait(put));
    CHECK(put.status == FRACTA_OK);
  }
  const auto before = fs::file_size(h.dir / "fracta" / "tokens.enc");
  ::setenv("FRACTA_STORE_PASSPHRASE", "second", 1);
  test::host_fixture f;
  f.server = oauth_server("token_store = \"file\"\n");
  auto inst = plugin::provider_instance::create(test::capturing, f.ctx());
  REQUIRE(inst.ok());
  const fracta_host* h0 = test::captured_host;
  async_result got;
  CHECK(h0->store_get(h0->host_ctx, str("tokens"), completion(got)) == FRACTA_PENDING);
  REQUIRE(f.wait(got));
  CHECK(got.status == FRACTA_E_CONFIG);
  CHECK(got.message.find("secret-value") == std::string::npos);
  async_result put;
  CHECK(h0->store_put(h0->host_ctx, str("tokens"), str("other"), completion(put)) == FRACTA_PENDING);
  REQUIRE(f.wait(put));
  CHECK(put.status != FRACTA_OK);
  CHECK(fs::file_size(h.dir / "fracta" / "tokens.enc") == before);
}

TEST_CASE("a pending store operation completes with CANCELLED at teardown") {
  state_home h;
  ::setenv("FRACTA_STORE_PASSPHRASE", "pw", 1);
  test::host_fixture f;
  f.server = oauth_server("token_store = \"file\"\n");
  auto inst = plugin::provider_instance::create(test::capturing, f.ctx());
  REQUIRE(inst.ok());
  const fracta_host* h0 = test::captured_host;
  async_result r;
  CHECK(h0->store_get(h0->host_ctx, str("tokens"), completion(r)) == FRACTA_PENDING);
  auto holder = std::move(inst).value();
  holder.reset();
  CHECK(r.called);
  CHECK(r.status == FRACTA_E_CANCELLED);
  f.pool.join();
  f.io.poll();  // the late answer is dropped
  CHECK(r.calls == 1);
}

// ---- a keyring that refuses, and decisions in parallel -------------------------------------------

namespace {

// A keyring in memory that refuses values above `limit` bytes, and can hold every get until
// released (a Secret Service that takes its time).
class fake_keyring final : public store::blocking_store {
 public:
  std::size_t limit = 2048;
  std::atomic<bool> hold_gets{false};
  std::atomic<bool> holding{false};

  std::string_view name() const noexcept override { return "keyring"; }
  result<std::string> get(const store::item_key& k) override {
    while (hold_gets) {
      holding = true;
      std::this_thread::yield();
    }
    std::lock_guard lk(m_);
    auto it = items_.find(id(k));
    if (it == items_.end()) return store::make_error(store::errc::not_found, "not in the fake keyring");
    return it->second;
  }
  result<void> put(const store::item_key& k, std::string_view v) override {
    if (v.size() > limit) return store::make_error(store::errc::too_large, "the fake keyring refuses " + k.item);
    std::lock_guard lk(m_);
    items_[id(k)] = std::string(v);
    return {};
  }
  result<void> erase(const store::item_key& k) override {
    std::lock_guard lk(m_);
    items_.erase(id(k));
    return {};
  }
  result<std::size_t> erase_server(std::string_view name) override {
    std::lock_guard lk(m_);
    std::size_t n = 0;
    for (auto it = items_.begin(); it != items_.end();) {
      if (store::belongs_to(store::item_key{it->first.substr(0, it->first.find('|')), "", "x"}, name)) {
        it = items_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  bool has(const store::item_key& k) {
    std::lock_guard lk(m_);
    return items_.count(id(k)) != 0;
  }

 private:
  static std::string id(const store::item_key& k) { return k.server + "|" + k.issuer + "|" + k.item; }
  std::mutex m_;
  std::map<std::string, std::string> items_;
};

// A state dir, a file passphrase and a selector over a fake keyring.
struct fake_keyring_setup {
  state_home h;
  std::shared_ptr<fake_keyring> kr = std::make_shared<fake_keyring>();
  std::vector<std::string> logged;
  store::selector sel;
  explicit fake_keyring_setup(const char* passphrase) : sel(options(kr, logged)) {
    if (passphrase != nullptr) ::setenv("FRACTA_STORE_PASSPHRASE", passphrase, 1);
  }
  static store::selector::options options(std::shared_ptr<fake_keyring> kr, std::vector<std::string>& logged) {
    store::selector::options o;
    o.keyring_override = std::move(kr);
    o.log = [&logged](std::int32_t, std::string_view m) { logged.emplace_back(m); };
    return o;
  }
};

}  // namespace

TEST_CASE("what the keyring refuses goes to the encrypted file, said once, and is read back from there") {
  fake_keyring_setup f("fallback");
  auto& kr = f.kr;
  const auto srv = oauth_server();
  auto c = f.sel.open(srv);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.err().message));
  CHECK(c->description == "keyring");
  const store::item_key k{store::server_key(srv), "", "tokens"};
  const std::string big(6000, 'e');  // an Entra-sized record the fake keyring refuses
  REQUIRE(c->store->put(k, big).ok());
  CHECK_FALSE(kr->has(k));
  CHECK(fs::exists(f.h.dir / "fracta" / "tokens.enc"));
  CHECK(c->store->get(k).value() == big);
  REQUIRE(c->store->put(k, big + "2").ok());
  std::size_t said = 0;
  for (const auto& l : f.logged) said += l.find("kept in the encrypted file") != std::string::npos;
  CHECK(said == 1);
  // A value the keyring takes goes there, and the file's older copy is erased.
  REQUIRE(c->store->put(k, "small").ok());
  CHECK(kr->has(k));
  CHECK(c->store->get(k).value() == "small");
  REQUIRE(c->store->erase(k).ok());
  CHECK(c->store->get(k).err().code == store::errc::not_found);
  auto key = store::file_key::passphrase("fallback");
  REQUIRE(key.ok());
  store::file_store direct(f.h.dir / "fracta" / "tokens.enc", std::move(key).value());
  CHECK(direct.get(k).err().code == store::errc::not_found);
}

TEST_CASE("erase_server forgets a server's items in the keyring and in the file, under any URL") {
  fake_keyring_setup f("forget");
  auto c = f.sel.open(oauth_server());
  REQUIRE(c.ok());
  const store::item_key old_url{"s\nhttps://old.example/mcp", "", "tokens"};
  const store::item_key now_url{"s\nhttps://mcp.example.com/mcp", "", "registration"};
  const store::item_key other{"s2\nhttps://mcp.example.com/mcp", "", "tokens"};
  REQUIRE(c->store->put(old_url, std::string(5000, 'x')).ok());  // to the file
  REQUIRE(c->store->put(now_url, "r").ok());                     // to the keyring
  REQUIRE(c->store->put(other, "o").ok());
  auto n = c->store->erase_server("s");
  REQUIRE(n.ok());
  CHECK(*n == 2);
  CHECK(c->store->get(old_url).err().code == store::errc::not_found);
  CHECK(c->store->get(now_url).err().code == store::errc::not_found);
  CHECK(c->store->get(other).value() == "o");  // "s2" is another server
}

TEST_CASE("one server's slow store decision does not hold up another server's") {
  fake_keyring_setup f(nullptr);
  auto& kr = f.kr;
  auto& sel = f.sel;
  // "a" keeps its tokens in the file with the random key from the keyring, whose get hangs.
  kr->hold_gets = true;
  std::thread slow([&] {
    auto c = sel.open(oauth_server("token_store = \"file\"\n"));
    CHECK(c.ok());
  });
  while (!kr->holding) std::this_thread::yield();
  // "b" uses the keyring: decided while "a" is still waiting.
  auto b = std::async(std::launch::async, [&] {
    const std::string text = "[mcp.servers.b.remote]\nurl = \"https://b.example/mcp\"\n"
                             "[mcp.servers.b.remote.auth]\ntype = \"oauth\"\ntoken_store = \"keyring\"\n";
    return sel.open(config::parse(text, "/virtual/config.toml").servers.at(0)).ok();
  });
  const bool decided = b.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  kr->hold_gets = false;
  slow.join();
  CHECK(decided);
  CHECK(b.get());
}
