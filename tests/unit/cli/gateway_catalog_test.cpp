// SPDX-License-Identifier: Apache-2.0
// The gateway's catalog: exposed names in each prefix mode, shortening, filters, collisions
// reported, and every listed item routed back to its upstream.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gateway/catalog.hpp"
#include "proxy/translate.hpp"

using namespace fracta::gateway;

namespace {

std::string tool(const std::string& name) {
  return R"({"name":)" + fracta::proxy::json_string(name) + R"(,"inputSchema":{"type":"object"}})";
}

server_entries server(const std::string& name, std::vector<std::string> tool_names) {
  server_entries s;
  s.server = name;
  for (const auto& t : tool_names) s.tools_json.push_back(tool(t));
  return s;
}

naming mode(prefix_mode m) {
  naming n;
  n.mode = m;
  return n;
}

std::string name_of(const std::string& item) {
  const auto m = fracta::proxy::member(item, "name");
  REQUIRE(m);
  return m->substr(1, m->size() - 2);  // the test names need no escapes
}

std::vector<std::string> names(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(name_of(i));
  return out;
}

const collision* find_collision(const catalog& c, const std::string& kind,
                                const std::string& name) {
  for (const auto& col : c.collisions()) {
    if (col.kind == kind && col.name == name) return &col;
  }
  return nullptr;
}

// Each listed tool resolves to an upstream whose exposed name is the listed one.
void check_tools_route_back(const catalog& c) {
  for (const auto& item : c.tools_json()) {
    const std::string exposed = name_of(item);
    const route* r = c.find_tool(exposed);
    REQUIRE_MESSAGE(r != nullptr, exposed);
    CHECK(c.exposed_tool_name(r->server, r->name) == exposed);
  }
}

}  // namespace

TEST_CASE(
    "always prefixes every tool with its server and the separator, keeping the other members") {
  const auto c =
      catalog::build(mode(prefix_mode::always), {server("a", {"x", "y"}), server("b", {"z"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__x", "a__y", "b__z"});
  CHECK(c.tools_json()[0] == R"({"name":"a__x","inputSchema":{"type":"object"}})");
  const route* r = c.find_tool("b__z");
  REQUIRE(r != nullptr);
  CHECK(r->server == "b");
  CHECK(r->name == "z");
  CHECK(c.find_tool("z") == nullptr);
  CHECK(c.collisions().empty());
  check_tools_route_back(c);
}

TEST_CASE("always uses the per-server prefix and the configured separator") {
  naming n = mode(prefix_mode::always);
  n.separator = ".";
  auto gh = server("github-enterprise", {"search"});
  gh.prefix = "gh";
  const auto c = catalog::build(n, {gh});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"gh.search"});
  REQUIRE(c.find_tool("gh.search") != nullptr);
  CHECK(c.find_tool("gh.search")->server == "github-enterprise");
}

TEST_CASE(
    "always with two servers sharing a prefix keeps the first and reports the other as shadowed") {
  auto a = server("a", {"x"});
  auto b = server("b", {"x", "only_b"});
  b.prefix = "a";
  const auto c = catalog::build(mode(prefix_mode::always), {a, b});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__x", "a__only_b"});
  CHECK(c.find_tool("a__x")->server == "a");
  CHECK(c.exposed_tool_name("b", "x").empty());
  const collision* col = find_collision(c, "tool", "a__x");
  REQUIRE(col != nullptr);
  CHECK(col->servers == std::vector<std::string>{"a", "b"});
  CHECK(col->shadowed == std::vector<std::string>{"b"});
  CHECK(col->outcome.find("'b'") != std::string::npos);
}

TEST_CASE(
    "on_collision keeps plain names when no two servers share one, and the items byte for byte") {
  auto a = server("a", {});
  a.tools_json.push_back(R"({ "name" : "x",  "description": "spaced" })");
  const auto c = catalog::build(mode(prefix_mode::on_collision), {a, server("b", {"y"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"x", "y"});
  CHECK(c.tools_json()[0] == R"({ "name" : "x",  "description": "spaced" })");
  CHECK(c.collisions().empty());
  check_tools_route_back(c);
}

TEST_CASE(
    "on_collision prefixes a name two servers list, on both, and reports how it was resolved") {
  const auto c = catalog::build(mode(prefix_mode::on_collision),
                                {server("a", {"x", "p"}), server("b", {"x", "q"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__x", "p", "b__x", "q"});
  CHECK(c.find_tool("a__x")->server == "a");
  CHECK(c.find_tool("b__x")->server == "b");
  CHECK(c.find_tool("b__x")->name == "x");
  CHECK(c.find_tool("x") == nullptr);
  REQUIRE(c.collisions().size() == 1);
  const collision& col = c.collisions()[0];
  CHECK(col.kind == "tool");
  CHECK(col.name == "x");
  CHECK(col.servers == std::vector<std::string>{"a", "b"});
  CHECK(col.shadowed.empty());
  CHECK(col.outcome == "exposed as a__x and b__x");
  check_tools_route_back(c);
}

TEST_CASE("on_collision: a prefixed form equal to another exposed name keeps the first in order") {
  const auto c = catalog::build(mode(prefix_mode::on_collision),
                                {server("a", {"x"}), server("b", {"x"}), server("c", {"a__x"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__x", "b__x"});
  CHECK(c.find_tool("a__x")->server == "a");
  const collision* col = find_collision(c, "tool", "a__x");
  REQUIRE(col != nullptr);
  CHECK(col->shadowed == std::vector<std::string>{"c"});
  CHECK(col->outcome.find("'c'") != std::string::npos);
}

TEST_CASE("never exposes plain names and routes them") {
  const auto c = catalog::build(mode(prefix_mode::never), {server("a", {"x"}), server("b", {"y"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"x", "y"});
  CHECK(c.find_tool("y")->server == "b");
  CHECK(c.collisions().empty());
}

TEST_CASE("never keeps the first server's tool on a collision and reports every shadowed server") {
  const auto c = catalog::build(mode(prefix_mode::never),
                                {server("a", {"x"}), server("b", {"x", "y"}), server("c", {"x"})});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"x", "y"});
  CHECK(c.find_tool("x")->server == "a");
  CHECK(c.exposed_tool_name("b", "x").empty());
  CHECK(c.exposed_tool_name("b", "y") == "y");
  REQUIRE(c.collisions().size() == 1);
  const collision& col = c.collisions()[0];
  CHECK(col.servers == std::vector<std::string>{"a", "b", "c"});
  CHECK(col.shadowed == std::vector<std::string>{"b", "c"});
  CHECK(col.outcome ==
        "'b' shadowed by 'a': tool_prefix = never; 'c' shadowed by 'a': tool_prefix = never");
}

TEST_CASE("a server listing one tool twice exposes the first and reports the second") {
  const auto c = catalog::build(mode(prefix_mode::always), {server("a", {"x", "x"})});
  CHECK(c.tools_json().size() == 1);
  const collision* col = find_collision(c, "tool", "a__x");
  REQUIRE(col != nullptr);
  CHECK(col->shadowed == std::vector<std::string>{"a"});
}

TEST_CASE(
    "a 100-character tool name is shortened to exactly 64 with the SHA-256 suffix and routes "
    "back") {
  const std::string long_name(100, 't');
  const auto c = catalog::build(mode(prefix_mode::always), {server("srv", {long_name})});
  REQUIRE(c.tools_json().size() == 1);
  const std::string exposed = name_of(c.tools_json()[0]);
  CHECK(exposed.size() == 64);
  // The first 55 characters of "srv__ttt…" (105), '-', the first 8 hex digits of its SHA-256.
  CHECK(exposed == "srv__" + std::string(50, 't') + "-323f3980");
  const route* r = c.find_tool(exposed);
  REQUIRE(r != nullptr);
  CHECK(r->server == "srv");
  CHECK(r->name == long_name);
  CHECK(c.exposed_tool_name("srv", long_name) == exposed);
}

TEST_CASE("names within the limit are not shortened, one character over is") {
  const std::string fits(64 - 5, 'f');  // "s12__" + fits is 64 characters, "s123__" + fits 65
  const auto c =
      catalog::build(mode(prefix_mode::always), {server("s12", {fits}), server("s123", {fits})});
  const auto listed = names(c.tools_json());
  CHECK(listed[0] == "s12__" + fits);
  CHECK(listed[1].size() == 64);
  CHECK(listed[1].substr(0, 55) == ("s123__" + fits).substr(0, 55));
  CHECK(listed[1][55] == '-');
}

TEST_CASE(
    "two long names that differ only at the end get different exposed names that route to each") {
  const std::string base(90, 'n');
  const auto c =
      catalog::build(mode(prefix_mode::always), {server("s", {base + "_one", base + "_two"})});
  const auto listed = names(c.tools_json());
  REQUIRE(listed.size() == 2);
  CHECK(listed[0] != listed[1]);
  CHECK(listed[0].size() == 64);
  CHECK(listed[1].size() == 64);
  CHECK(c.find_tool(listed[0])->name == base + "_one");
  CHECK(c.find_tool(listed[1])->name == base + "_two");
  CHECK(c.collisions().empty());
}

TEST_CASE("a custom max_length is honoured, and one below 16 counts as 16") {
  naming n = mode(prefix_mode::never);
  n.max_length = 20;
  const auto twenty = catalog::build(n, {server("s", {std::string(30, 'a')})});
  CHECK(name_of(twenty.tools_json()[0]).size() == 20);
  n.max_length = 3;
  const auto sixteen = catalog::build(n, {server("s", {std::string(30, 'a')})});
  CHECK(name_of(sixteen.tools_json()[0]) ==
        std::string(7, 'a') + "-" + name_of(sixteen.tools_json()[0]).substr(8));
  CHECK(name_of(sixteen.tools_json()[0]).size() == 16);
}

TEST_CASE("long names that coincide once shortened are reported, the first kept, without a crash") {
  // '/' and ' ' both become '_', so the two full names, and so their hashes, are equal.
  const std::string tail(80, 'z');
  const auto c = catalog::build(mode(prefix_mode::never),
                                {server("a", {"x/" + tail}), server("b", {"x " + tail})});
  REQUIRE(c.tools_json().size() == 1);
  const std::string exposed = name_of(c.tools_json()[0]);
  CHECK(c.find_tool(exposed)->server == "a");
  const collision* col = find_collision(c, "tool", exposed);
  REQUIRE(col != nullptr);
  CHECK(col->shadowed == std::vector<std::string>{"b"});
  CHECK(col->outcome ==
        "'b' ('x " + tail + "') shadowed by 'a' ('x/" + tail +
            "'): the same name once characters outside A-Z a-z 0-9 _ - . are replaced");
}

TEST_CASE(
    "characters outside A-Z a-z 0-9 _ - . become '_', one per character, and the tool still "
    "routes") {
  auto s = server("my server/v2", {"search docs", "café"});
  const auto c = catalog::build(mode(prefix_mode::always), {s});
  CHECK(names(c.tools_json()) ==
        std::vector<std::string>{"my_server_v2__search_docs", "my_server_v2__caf_"});
  const route* r = c.find_tool("my_server_v2__caf_");
  REQUIRE(r != nullptr);
  CHECK(r->server == "my server/v2");
  CHECK(r->name == "café");
  check_tools_route_back(c);
}

TEST_CASE("tools.allow and tools.deny filter by glob on the upstream name, deny winning") {
  auto a = server("a", {"get_issue", "get_secret_key", "list", "delete_repo", "listing"});
  a.allow = {"get_*", "list"};
  a.deny = {"*secret*"};
  auto b = server("b", {"delete_repo", "x"});
  b.deny = {"delete_*"};
  const auto c = catalog::build(mode(prefix_mode::always), {a, b});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__get_issue", "a__list", "b__x"});
  CHECK(c.filtered_out() == 4);
  CHECK(c.filtered_out("a") == 3);
  CHECK(c.filtered_out("b") == 1);
  CHECK(c.filtered_out("nobody") == 0);
  CHECK(c.exposed_tool_name("a", "get_secret_key").empty());
  CHECK(c.find_tool("b__delete_repo") == nullptr);
}

TEST_CASE("filtered tools do not make on_collision prefix the others") {
  auto b = server("b", {"x"});
  b.deny = {"x"};
  const auto c = catalog::build(mode(prefix_mode::on_collision), {server("a", {"x"}), b});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"x"});
  CHECK(c.collisions().empty());
}

TEST_CASE("prompts follow the same naming and route back") {
  auto a = server("a", {});
  a.prompts_json = {R"({"name":"review","arguments":[]})"};
  auto b = server("b", {});
  b.prompts_json = {R"({"name":"review"})", R"({"name":"summarise"})"};
  const auto c = catalog::build(mode(prefix_mode::on_collision), {a, b});
  CHECK(names(c.prompts_json()) == std::vector<std::string>{"a__review", "b__review", "summarise"});
  CHECK(c.prompts_json()[0] == R"({"name":"a__review","arguments":[]})");
  CHECK(c.find_prompt("b__review")->server == "b");
  CHECK(c.find_prompt("summarise")->name == "summarise");
  CHECK(c.exposed_prompt_name("a", "review") == "a__review");
  CHECK(c.find_tool("summarise") == nullptr);
  REQUIRE(find_collision(c, "prompt", "review") != nullptr);
}

TEST_CASE(
    "resources keep their URIs and route by exact URI; an equal URI later is reported, not "
    "listed") {
  auto a = server("a", {});
  a.resources_json = {R"({"uri":"file:///a.txt","name":"a"})",
                      R"({"uri":"mem://shared","name":"first"})"};
  auto b = server("b", {});
  b.resources_json = {R"({"uri":"mem://shared","name":"second"})",
                      R"({"uri":"https://b/x","name":"x"})"};
  const auto c = catalog::build(mode(prefix_mode::always), {a, b});
  REQUIRE(c.resources_json().size() == 3);
  CHECK(c.resources_json()[0] == R"({"uri":"file:///a.txt","name":"a"})");
  CHECK(c.find_resource("file:///a.txt")->server == "a");
  CHECK(c.find_resource("https://b/x")->server == "b");
  CHECK(c.find_resource("https://b/x")->name == "https://b/x");
  CHECK(c.find_resource("mem://shared")->server == "a");
  CHECK(c.find_resource("mem://other") == nullptr);
  const collision* col = find_collision(c, "resource", "mem://shared");
  REQUIRE(col != nullptr);
  CHECK(col->servers == std::vector<std::string>{"a", "b"});
  CHECK(col->shadowed == std::vector<std::string>{"b"});
  CHECK(col->outcome == "read from 'a'; not listed for 'b'");
}

TEST_CASE("a URI not listed routes to the first template that matches it") {
  auto a = server("a", {});
  a.resource_templates_json = {R"({"uriTemplate":"users://{id}/profile","name":"profile"})"};
  auto b = server("b", {});
  b.resource_templates_json = {R"({"uriTemplate":"file:///{+path}","name":"files"})",
                               R"({"uriTemplate":"repo://{owner}{/path}","name":"repo"})"};
  const auto c = catalog::build(mode(prefix_mode::always), {a, b});
  CHECK(c.resource_templates_json().size() == 3);
  const route* r = c.find_resource("users://42/profile");
  REQUIRE(r != nullptr);
  CHECK(r->server == "a");
  CHECK(r->name == "users://{id}/profile");
  CHECK(c.find_resource("users://4/2/profile") == nullptr);  // {id} holds no '/'
  CHECK(c.find_resource("file:///etc/hosts")->server == "b");
  CHECK(c.find_resource("repo://me/src/main.cpp")->name == "repo://{owner}{/path}");
  CHECK(c.find_resource("other://x") == nullptr);
}

TEST_CASE(
    "a listed resource wins over a template; overlapping templates of two servers go to the first, "
    "reported") {
  auto a = server("a", {});
  a.resource_templates_json = {R"({"uriTemplate":"file:///{+path}"})"};
  auto b = server("b", {});
  b.resources_json = {R"({"uri":"file:///readme"})"};
  b.resource_templates_json = {R"({"uriTemplate":"file:///docs/{name}"})",
                               R"({"uriTemplate":"file:///{+path}"})",
                               R"({"uriTemplate":"db://{table}"})"};
  const auto c = catalog::build(mode(prefix_mode::always), {a, b});
  CHECK(c.find_resource("file:///readme")->server == "b");
  CHECK(c.find_resource("file:///docs/intro")->server == "a");
  CHECK(c.find_resource("db://t")->server == "b");
  CHECK(c.resource_templates_json().size() == 3);  // the equal template of b is not listed
  const collision* same = find_collision(c, "resource_template", "file:///{+path}");
  REQUIRE(same != nullptr);
  CHECK(same->shadowed == std::vector<std::string>{"b"});
  const collision* overlapping = find_collision(c, "resource_template", "file:///docs/{name}");
  REQUIRE(overlapping != nullptr);
  CHECK(overlapping->servers == std::vector<std::string>{"a", "b"});
  CHECK(overlapping->shadowed.empty());
  CHECK(find_collision(c, "resource_template", "db://{table}") == nullptr);
}

TEST_CASE("items without a string name, uri or uriTemplate are skipped, counted and reported") {
  auto a = server("a", {"ok"});
  a.tools_json.push_back(R"({"description":"no name"})");
  a.tools_json.push_back(R"({"name":42})");
  a.tools_json.push_back("not json");
  a.prompts_json = {R"({"name":""})"};
  a.resources_json = {R"({"name":"no uri"})"};
  a.resource_templates_json = {R"([])"};
  const auto c = catalog::build(mode(prefix_mode::always), {a});
  CHECK(names(c.tools_json()) == std::vector<std::string>{"a__ok"});
  CHECK(c.prompts_json().empty());
  CHECK(c.resources_json().empty());
  CHECK(c.resource_templates_json().empty());
  CHECK(c.skipped() == 6);
  const collision* col = find_collision(c, "invalid", "tools[1]");
  REQUIRE(col != nullptr);
  CHECK(col->servers == std::vector<std::string>{"a"});
  CHECK(col->outcome == R"(skipped: no non-empty string "name")");
  REQUIRE(find_collision(c, "invalid", "tools[3]") != nullptr);
  CHECK(find_collision(c, "invalid", "tools[3]")->outcome == "skipped: not a JSON object");
  CHECK(find_collision(c, "invalid", "resourceTemplates[0]") != nullptr);
}

TEST_CASE("the same input builds the same catalog, byte for byte") {
  auto make = [] {
    auto a = server("a", {"x", std::string(100, 'q'), "y"});
    a.prompts_json = {R"({"name":"p"})"};
    a.resource_templates_json = {R"({"uriTemplate":"f://{+p}"})"};
    auto b = server("b", {"x", "z"});
    b.prompts_json = {R"({"name":"p"})"};
    b.resource_templates_json = {R"({"uriTemplate":"f://{q}"})"};
    return catalog::build(mode(prefix_mode::on_collision), {a, b});
  };
  const auto one = make();
  const auto two = make();
  CHECK(one.tools_json() == two.tools_json());
  CHECK(one.prompts_json() == two.prompts_json());
  CHECK(one.resource_templates_json() == two.resource_templates_json());
  REQUIRE(one.collisions().size() == two.collisions().size());
  CHECK(!one.collisions().empty());
  for (std::size_t i = 0; i < one.collisions().size(); ++i) {
    CHECK(one.collisions()[i].kind == two.collisions()[i].kind);
    CHECK(one.collisions()[i].name == two.collisions()[i].name);
    CHECK(one.collisions()[i].servers == two.collisions()[i].servers);
    CHECK(one.collisions()[i].outcome == two.collisions()[i].outcome);
  }
}

TEST_CASE("globs: '*' matches any text, including none, everything else itself") {
  CHECK(matches(parse_glob("*"), ""));
  CHECK(matches(parse_glob("get_*"), "get_"));
  CHECK(matches(parse_glob("get_*"), "get_issue"));
  CHECK_FALSE(matches(parse_glob("get_*"), "forget_issue"));
  CHECK(matches(parse_glob("*_*_*"), "a_b_c"));
  CHECK_FALSE(matches(parse_glob("*_*_*"), "a_b"));
  CHECK(matches(parse_glob("a**b"), "ab"));
  CHECK_FALSE(matches(parse_glob("exact"), "exactly"));
  CHECK(matches(parse_glob("?x"), "?x"));  // only '*' is special
  CHECK_FALSE(matches(parse_glob("?x"), "ax"));
}

TEST_CASE("templates: {var} stops at reserved characters, operator forms take any text") {
  CHECK(matches(parse_uri_template("a://{x}"), "a://"));
  CHECK(matches(parse_uri_template("a://{x}"), "a://h%20i~"));
  CHECK_FALSE(matches(parse_uri_template("a://{x}"), "a://b/c"));
  CHECK_FALSE(matches(parse_uri_template("a://{x}"), "a://b?c"));
  CHECK(matches(parse_uri_template("a://{+x}"), "a://b/c?d#e"));
  CHECK(matches(parse_uri_template("a://{x}{?q,r}"), "a://b?q=1&r=2"));
  CHECK(matches(parse_uri_template("a://{x}/{y}.json"), "a://b/c.json"));
  CHECK_FALSE(matches(parse_uri_template("a://{x}/{y}.json"), "a://b/c.txt"));
  CHECK(matches(parse_uri_template("a://{unclosed"), "a://{unclosed"));
  CHECK(overlap(parse_uri_template("a://{x}"), parse_uri_template("a://{+y}")));
  CHECK(overlap(parse_uri_template("a://{x}/z"), parse_uri_template("a://q/{y}")));
  CHECK_FALSE(overlap(parse_uri_template("a://{x}/z"), parse_uri_template("b://{y}")));
  CHECK_FALSE(overlap(parse_uri_template("a://{x}"), parse_uri_template("a://{y}/z")));
}
