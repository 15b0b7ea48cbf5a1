// SPDX-License-Identifier: Apache-2.0
// Store selection without a keyring (the test runs with a dead session bus): auto falls back to
// the encrypted file and says so; the file key comes from the passphrase or
// FRACTA_STORE_PASSPHRASE, else a clear error; host store services reach the file on the pool.
#include "store/select.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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
