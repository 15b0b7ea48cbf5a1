// SPDX-License-Identifier: Apache-2.0
// The plugin loader: ABI negotiation, refusals with reasons, search path and registry.
#include "fracta/plugins.hpp"

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using fracta::load_plugin;

namespace {
const fs::path fixtures = FRACTA_LOADER_FIXTURE_DIR;
fs::path fixture(const std::string& name) { return fixtures / ("fixture-" + name + ".so"); }
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
}  // namespace

TEST_CASE("a valid plugin loads and reports its name, version, ABI and provider types") {
  std::vector<const fracta_provider*> provs;
  auto r = load_plugin(fixture("good"), &provs);
  REQUIRE(r.ok());
  CHECK(r->name == "good");
  CHECK(r->version == "1.2.3");
  CHECK(r->abi_major == 1);
  CHECK(r->abi_minor == FRACTA_ABI_MINOR);
  REQUIRE(r->types == std::vector<std::string>{"fixture-good"});
  REQUIRE(provs.size() == 1);
  CHECK(std::string(provs[0]->type) == "fixture-good");
}

TEST_CASE("a plugin built for another ABI major is refused, naming the file and both majors") {
  auto r = load_plugin(fixture("wrong_major"));
  REQUIRE_FALSE(r.ok());
  const auto& m = r.err().message;
  CHECK(contains(m, fixture("wrong_major").string()));
  CHECK(contains(m, "built for plugin ABI major 2"));
  CHECK(contains(m, "this fracta speaks major 1"));
  CHECK(contains(m, "Rebuild the plugin"));
}

TEST_CASE("a descriptor declaring another major behind the v1 symbol is refused") {
  auto r = load_plugin(fixture("wrong_major_field"));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.err().message, "declares plugin ABI major 2"));
}

TEST_CASE("a library without the entry symbol is refused with the symbol's name") {
  auto r = load_plugin(fixture("no_entry"));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.err().message, fixture("no_entry").string()));
  CHECK(contains(r.err().message, "exports no fracta_plugin_entry_v1 symbol"));
}

TEST_CASE("a provider table too short for the required operations is refused") {
  auto r = load_plugin(fixture("short_table"));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.err().message, "too short"));
  CHECK(contains(r.err().message, "create/destroy/apply"));
}

TEST_CASE("an older, shorter table loads; fields past its struct_size count as absent") {
  std::vector<const fracta_provider*> provs;
  auto r = load_plugin(fixture("older_table"), &provs);
  REQUIRE(r.ok());
  REQUIRE(provs.size() == 1);
  const fracta_provider* p = provs[0];
  CHECK(FRACTA_HAS_FIELD(p, fracta_provider, refresh));
  CHECK_FALSE(FRACTA_HAS_FIELD(p, fracta_provider, on_challenge));
  CHECK_FALSE(FRACTA_HAS_FIELD(p, fracta_provider, status));
}

TEST_CASE("a missing file is refused with dlopen's reason") {
  auto r = load_plugin(fixtures / "does-not-exist.so");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.err().message, "cannot be loaded"));
}

TEST_CASE("the registry loads a directory, keeps valid plugins and lists refusals") {
  auto reg = fracta::plugin_registry::load({fixtures});
  CHECK(reg.find("none") != nullptr);  // built in
  CHECK(reg.find("fixture-good") != nullptr);
  CHECK(reg.find("fixture-older") != nullptr);
  CHECK(reg.find("fixture-short") == nullptr);
  CHECK(reg.find("fixture-major") == nullptr);
  CHECK(reg.refused().size() == 4);
  for (const auto& ref : reg.refused()) CHECK_FALSE(ref.reason.empty());
  CHECK(reg.plugins().front().path == "(built in)");
}

TEST_CASE("the first plugin found for a type wins; later ones are reported") {
  auto reg = fracta::plugin_registry::load({fixtures, fixtures});
  CHECK(reg.find("fixture-good") != nullptr);
  bool reported = false;
  for (const auto& ref : reg.refused()) {
    if (contains(ref.reason, "'fixture-good' is already provided")) reported = true;
  }
  CHECK(reported);
}

TEST_CASE("search path: FRACTA_PLUGIN_PATH first, then config paths, then the install dir") {
  ::setenv("FRACTA_PLUGIN_PATH", "/opt/a::/opt/b", 1);
  fracta::config::config cfg;
  cfg.plugin_paths = {"/etc/fracta/plugins", "/opt/a"};
  auto sp = fracta::plugin_search_path(&cfg);
  ::unsetenv("FRACTA_PLUGIN_PATH");
  REQUIRE(sp.size() >= 4);
  CHECK(sp[0] == "/opt/a");
  CHECK(sp[1] == "/opt/b");
  CHECK(sp[2] == "/etc/fracta/plugins");  // the duplicate /opt/a is dropped
  CHECK(sp[3] == FRACTA_PLUGIN_INSTALL_DIR_FOR_TEST);
}

TEST_CASE("provider_type_for maps oauth grants to their providers") {
  fracta::config::auth a;
  a.type = "bearer";
  CHECK(fracta::provider_type_for(a) == "bearer");
  a.type = "oauth";
  a.grant_type = "authorization_code";
  CHECK(fracta::provider_type_for(a) == "oauth-authcode");
  a.grant_type = "client_credentials";
  CHECK(fracta::provider_type_for(a) == "oauth-client-credentials");
  a.grant_type = "device_code";
  CHECK(fracta::provider_type_for(a) == "device-code");
}
