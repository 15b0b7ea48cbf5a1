// SPDX-License-Identifier: Apache-2.0
// Store selection with a Secret Service (run by with-keyring.sh on a private bus, session
// collection): auto and keyring store, read and erase through the host services; the file
// store without a passphrase keeps a random key in the keyring.
#include "store/select.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>

#include "../login/capture.hpp"
#include "store/file_store.hpp"
#include "store/keyring_store.hpp"

using namespace fracta;
using fracta::test::async_result;
using fracta::test::completion;
using fracta::test::str;

namespace {

config::server oauth_server(const std::string& name, const std::string& extra = {}) {
  const std::string text = "[mcp.servers." + name + ".remote]\nurl = \"https://mcp.example.com/mcp\"\n"
                           "[mcp.servers." + name + ".remote.auth]\ntype = \"oauth\"\n" + extra;
  auto cfg = config::parse(text, "/virtual/config.toml");
  return cfg.servers.at(0);
}

struct env {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fracta-selkr-" + std::to_string(::getpid()));
  env() {
    ::setenv("FRACTA_KEYRING_COLLECTION", "session", 1);
    ::setenv("XDG_STATE_HOME", dir.c_str(), 1);
    ::unsetenv("FRACTA_STORE_PASSPHRASE");
  }
  ~env() { std::filesystem::remove_all(dir); }
};

void round_trip(test::host_fixture& f) {
  auto inst = plugin::provider_instance::create(test::capturing, f.ctx());
  REQUIRE(inst.ok());
  const fracta_host* h = test::captured_host;
  async_result put;
  CHECK(h->store_put(h->host_ctx, str("tokens"), str("{\"access_token\":\"kr\"}"), completion(put)) == FRACTA_PENDING);
  REQUIRE(f.wait(put));
  CHECK_MESSAGE(put.status == FRACTA_OK, put.message);
  async_result got;
  CHECK(h->store_get(h->host_ctx, str("tokens"), completion(got)) == FRACTA_PENDING);
  REQUIRE(f.wait(got));
  CHECK(got.status == FRACTA_OK);
  CHECK(got.value == "{\"access_token\":\"kr\"}");
  async_result erased;
  CHECK(h->store_erase(h->host_ctx, str("tokens"), completion(erased)) == FRACTA_PENDING);
  REQUIRE(f.wait(erased));
  CHECK(erased.status == FRACTA_OK);
  async_result gone;
  CHECK(h->store_get(h->host_ctx, str("tokens"), completion(gone)) == FRACTA_PENDING);
  REQUIRE(f.wait(gone));
  CHECK(gone.status == FRACTA_E_NOT_FOUND);
}

}  // namespace

TEST_CASE("auto picks the keyring when a Secret Service answers, and says so") {
  env e;
  test::host_fixture f;
  f.server = oauth_server("kr-auto");
  auto c = f.stores->open(f.server);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.err().message));
  CHECK(c->description == "keyring");
  REQUIRE(f.logged.size() == 1);
  CHECK(f.logged[0].find("OS keyring") != std::string::npos);
  round_trip(f);
  // The item is filed under (server, "", item) in the keyring.
  store::keyring_store direct(store::keyring_options{store::keyring_collection::session, std::chrono::seconds(5)});
  auto v = direct.get(store::item_key{"kr-auto", "", "tokens"});
  CHECK(!v.ok());
}

TEST_CASE("token_store = keyring stores, reads and erases through the host services") {
  env e;
  test::host_fixture f;
  f.server = oauth_server("kr-explicit", "token_store = \"keyring\"\n");
  round_trip(f);
}

TEST_CASE("the file store without a passphrase keeps a random key in the keyring") {
  env e;
  test::host_fixture f;
  f.server = oauth_server("kr-file", "token_store = \"file\"\n");
  round_trip(f);
  store::keyring_store direct(store::keyring_options{store::keyring_collection::session, std::chrono::seconds(5)});
  auto key = direct.get(store::item_key{"*", "", "file-store-key"});
  REQUIRE(key.ok());
  CHECK(store::file_key::base64(*key).ok());
  CHECK(std::filesystem::exists(e.dir / "fracta" / "tokens.enc"));
  // A second selector (another process) finds the same key and reads the file.
  test::host_fixture g;
  g.server = oauth_server("kr-file", "token_store = \"file\"\n");
  auto inst = plugin::provider_instance::create(test::capturing, g.ctx());
  REQUIRE(inst.ok());
  const fracta_host* h = test::captured_host;
  async_result put;
  CHECK(h->store_put(h->host_ctx, str("registration"), str("{}"), completion(put)) == FRACTA_PENDING);
  REQUIRE(g.wait(put));
  CHECK(put.status == FRACTA_OK);
}
