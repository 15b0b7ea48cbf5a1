// SPDX-License-Identifier: Apache-2.0
// The plugin loader: ABI negotiation, refusals with reasons, search path and registry.
#include "fracta/plugins.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using fracta::load_plugin;
using fracta::plugin_registry;
using fracta::plugin_sources;

namespace {
const fs::path fixtures = FRACTA_LOADER_FIXTURE_DIR;
fs::path fixture(const std::string& name) { return fixtures / ("fixture-" + name + ".so"); }
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A private plugin directory (0755) under the temp dir, with a copy of fixture-good.so (0755).
class plugin_dir final {
 public:
  plugin_dir() {
    path_ = fs::temp_directory_path() / ("fracta-loader-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directory(path_);
    chmod(path_, 0755);
    fs::copy_file(fixture("good"), good());
    chmod(good(), 0755);
  }
  ~plugin_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  plugin_dir(const plugin_dir&) = delete;
  plugin_dir& operator=(const plugin_dir&) = delete;

  const fs::path& path() const noexcept { return path_; }
  fs::path good() const { return path_ / "good.so"; }
  static void chmod(const fs::path& p, mode_t mode) { REQUIRE(::chmod(p.c_str(), mode) == 0); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// The refusal for `path`, or "" when there is none.
std::string refusal_of(const plugin_registry& reg, const fs::path& path) {
  for (const auto& r : reg.refused()) {
    if (r.path == path.string()) return r.reason;
  }
  return {};
}

// Sets (or, with nullptr, unsets) an environment variable for a scope.
class scoped_env final {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (value) ::setenv(name, value, 1); else ::unsetenv(name);
  }
  ~scoped_env() { ::unsetenv(name_); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
};
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
  CHECK(reg.refused().size() == 5);  // four broken files, and shadow_bearer's "bearer"
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
  cfg.plugins.paths = {"/etc/fracta/plugins", "/opt/a"};
  auto sp = fracta::plugin_search_path(&cfg).dirs;
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

TEST_CASE("a plugin offering a type fracta ships is ignored unless [plugins] replace_builtin names it") {
  auto reg = plugin_registry::load({fixtures});
  CHECK(reg.find("bearer") == nullptr);               // not the fixture's: the shipped one serves it
  CHECK(reg.find("fixture-shadow-own") != nullptr);   // its own type is fine
  const std::string why = refusal_of(reg, fixture("shadow_bearer"));
  CHECK(contains(why, "provider type 'bearer' is one fracta ships, and this plugin is not in the "
                      "install directory: ignored"));
  CHECK(contains(why, "add \"bearer\" to [plugins] replace_builtin"));
  bool flagged = false;
  for (const auto& r : reg.refused()) flagged = flagged || (r.shadows_builtin && contains(r.reason, "'bearer'"));
  CHECK(flagged);

  plugin_sources allowed;
  allowed.dirs = {fixtures};
  allowed.replace_builtin = {"bearer"};
  auto replaced = plugin_registry::load(allowed);
  CHECK(replaced.find("bearer") != nullptr);
  CHECK(refusal_of(replaced, fixture("shadow_bearer")).empty());
}

TEST_CASE("the search path carries the config's replace_builtin") {
  fracta::config::config cfg;
  cfg.plugins.replace_builtin = {"oauth-authcode"};
  CHECK(fracta::plugin_search_path(&cfg).replace_builtin == std::vector<std::string>{"oauth-authcode"});
  CHECK(fracta::plugin_search_path(nullptr).replace_builtin.empty());
}

TEST_CASE("a plugin directory writable by group or others is not searched, and says why") {
  plugin_dir dir;
  REQUIRE(plugin_registry::load({dir.path()}).find("fixture-good") != nullptr);
  plugin_dir::chmod(dir.path(), 0775);
  auto reg = plugin_registry::load({dir.path()});
  CHECK(reg.find("fixture-good") == nullptr);
  CHECK(refusal_of(reg, dir.path()) ==
        dir.path().string() + ": not searched: the directory is writable by its group (mode 0775); "
                              "run chmod go-w on it");
  plugin_dir::chmod(dir.path(), 0757);
  CHECK(contains(refusal_of(plugin_registry::load({dir.path()}), dir.path()),
                 "the directory is writable by other users (mode 0757)"));
  // Sticky does not help the plugin's own directory: anyone could still add files to it.
  plugin_dir::chmod(dir.path(), 01777);
  CHECK(plugin_registry::load({dir.path()}).find("fixture-good") == nullptr);
}

TEST_CASE("a plugin file writable by group or others is not loaded, and says why") {
  plugin_dir dir;
  plugin_dir::chmod(dir.good(), 0775);
  auto reg = plugin_registry::load({dir.path()});
  CHECK(reg.find("fixture-good") == nullptr);
  CHECK(refusal_of(reg, dir.good()) ==
        dir.good().string() + ": not loaded: the file is writable by its group (mode 0775); run chmod "
                              "go-w on it");
  plugin_dir::chmod(dir.good(), 0646);
  CHECK(contains(refusal_of(plugin_registry::load({dir.path()}), dir.good()), "writable by other users"));
}

TEST_CASE("a plugin in a directory below a writable one is not loaded") {
  plugin_dir outer;
  const fs::path inner = outer.path() / "inner";
  fs::create_directory(inner);
  plugin_dir::chmod(inner, 0755);
  fs::copy_file(outer.good(), inner / "good.so");
  plugin_dir::chmod(outer.path(), 0777);  // not sticky: someone could swap `inner`
  auto reg = plugin_registry::load({inner});
  CHECK(reg.find("fixture-good") == nullptr);
  CHECK(contains(refusal_of(reg, inner), "directory '" + fs::canonical(outer.path()).string() +
                                             "' is writable by other users"));
}

TEST_CASE("a symlinked plugin is checked where it really lives") {
  plugin_dir real, links;
  plugin_dir::chmod(real.path(), 0777);
  fs::remove(links.good());
  fs::create_symlink(real.good(), links.good());
  auto reg = plugin_registry::load({links.path()});
  CHECK(reg.find("fixture-good") == nullptr);
  CHECK(contains(refusal_of(reg, links.good()), "is writable by other users"));
}

TEST_CASE("a plugin owned by another user is not loaded" * doctest::skip(::geteuid() != 0)) {
  plugin_dir dir;
  REQUIRE(::chown(dir.good().c_str(), 65534, 65534) == 0);
  auto reg = plugin_registry::load({dir.path()});
  CHECK(reg.find("fixture-good") == nullptr);
  CHECK(contains(refusal_of(reg, dir.good()), "the file is owned by uid 65534, neither root nor this user"));
}

TEST_CASE("a FIFO named like a plugin is refused without being opened") {
  plugin_dir dir;
  const fs::path fifo = dir.path() / "pipe.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto loading = std::async(std::launch::async, [&] { return plugin_registry::load({dir.path()}); });
  if (loading.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    FAIL_CHECK("loading blocked on the FIFO");
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // unblock it
    if (fd >= 0) ::close(fd);
  }
  const auto reg = loading.get();
  CHECK(refusal_of(reg, fifo) == fifo.string() + ": not loaded: not a regular file");
  CHECK(reg.find("fixture-good") != nullptr);
}

TEST_CASE("relative FRACTA_PLUGIN_PATH entries are refused and reported") {
  scoped_env env("FRACTA_PLUGIN_PATH", "plugins-here:/opt/a:./x");
  const plugin_sources sp = fracta::plugin_search_path(nullptr);
  REQUIRE(sp.dirs.size() >= 1);
  CHECK(sp.dirs[0] == "/opt/a");
  CHECK(std::find(sp.dirs.begin(), sp.dirs.end(), fs::path("plugins-here")) == sp.dirs.end());
  REQUIRE(sp.refused.size() == 2);
  CHECK(sp.refused[0].path == "plugins-here");
  CHECK(sp.refused[0].reason ==
        "FRACTA_PLUGIN_PATH entry 'plugins-here' is relative and would be resolved against the "
        "current directory: ignored. Write an absolute path");
  CHECK(sp.refused[1].path == "./x");
  const auto reg = plugin_registry::load(sp);
  CHECK(refusal_of(reg, "plugins-here") == sp.refused[0].reason);
}

TEST_CASE("with load_config_dirs = false, plugins in [plugins] paths are listed but not loaded") {
  plugin_dir dir;
  fracta::config::config cfg;
  cfg.plugins.paths = {dir.path().string()};
  plugin_sources sp = fracta::plugin_search_path(&cfg);
  CHECK(sp.config_dirs == std::vector<fs::path>{dir.path()});
  sp.load_config_dirs = false;
  const auto inspected = plugin_registry::load(sp);
  CHECK(inspected.find("fixture-good") == nullptr);
  CHECK(inspected.not_loaded() == std::vector<fs::path>{dir.good()});
  sp.load_config_dirs = true;
  const auto loaded = plugin_registry::load(sp);
  CHECK(loaded.find("fixture-good") != nullptr);
  CHECK(loaded.not_loaded().empty());
}

TEST_CASE("a directory both in FRACTA_PLUGIN_PATH and [plugins] paths counts as the environment's") {
  plugin_dir dir;
  scoped_env env("FRACTA_PLUGIN_PATH", dir.path().c_str());
  fracta::config::config cfg;
  cfg.plugins.paths = {dir.path().string()};
  const plugin_sources sp = fracta::plugin_search_path(&cfg);
  CHECK(sp.config_dirs.empty());
}

TEST_CASE("missing_provider_message names the plugin files a command did not load") {
  plugin_dir dir;
  fracta::config::config cfg;
  cfg.plugins.paths = {dir.path().string()};
  plugin_sources sp = fracta::plugin_search_path(&cfg);
  sp.load_config_dirs = false;
  const auto reg = plugin_registry::load(sp);
  fracta::config::server srv;
  srv.name = "s";
  srv.auth.type = "fixture-good";
  const std::string msg = fracta::missing_provider_message(srv, reg);
  CHECK(contains(msg, "not loaded by this command (from [plugins] paths): " + dir.good().string()));
}
