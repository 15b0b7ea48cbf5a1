// SPDX-License-Identifier: Apache-2.0
// The gateway's merged catalog: every upstream's tools, prompts, resources and templates under
// the names the gateway exposes, and the table that routes each call back (pure, no I/O).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fracta::gateway {

/// How an upstream's tool and prompt names are exposed (`tool_prefix` in the config).
enum class prefix_mode { always, on_collision, never };

/// The naming policy. `max_length` below 16 counts as 16 (room for the hash suffix).
struct naming {
  prefix_mode mode = prefix_mode::always;
  std::string separator = "__";
  std::size_t max_length = 64;
};

/// One upstream's lists, as its server gave them.
struct server_entries {
  std::string server;  ///< configured name (config order = vector order)
  std::string prefix;  ///< per-server prefix; empty: the server name
  std::vector<std::string> allow,
      deny;  ///< globs ('*': any text) on the upstream tool name; deny wins; empty allow: all
  std::vector<std::string> tools_json;  ///< each item's object, raw JSON
  std::vector<std::string> prompts_json;
  std::vector<std::string> resources_json;
  std::vector<std::string> resource_templates_json;
};

/// Where an exposed item lives: the upstream and its own name (tool or prompt name, resource
/// URI, or the uriTemplate a URI matched).
struct route {
  std::string server;
  std::string name;
};

/// Something the merge had to decide, for the start-up log and /readyz. `kind` is "tool",
/// "prompt", "resource", "resource_template" or "invalid" (an item skipped: no string
/// name/uri/uriTemplate, or not an object). `servers` lists who is involved in config order
/// (the kept one first); `shadowed` those whose item is not exposed (empty when the collision
/// was resolved, e.g. by prefixing). `outcome` is human text.
struct collision {
  std::string kind;
  std::string name;
  std::vector<std::string> servers;
  std::vector<std::string> shadowed;
  std::string outcome;
};

/// A parsed glob or URI template: literal text and wildcards.
struct pattern_part {
  enum class type { literal, any, unreserved } kind = type::literal;
  std::string text;  ///< for a literal
};
using pattern = std::vector<pattern_part>;

/// Parses a tools.allow/deny glob: '*' matches any text, everything else itself. Thread-safe.
pattern parse_glob(std::string_view glob);
/// Parses an RFC 6570 template: `{name}` matches a run of characters other than the reserved
/// ones (`:/?#[]@!$&'()*+,;=`), any other expression (`{+p}`, `{/p}`, `{a,b}`, …) any text;
/// text outside braces matches itself. Thread-safe.
pattern parse_uri_template(std::string_view uri_template);
/// True when `text` matches all of `p`. Thread-safe.
bool matches(const pattern& p, std::string_view text);
/// True when some text matches both `a` and `b`. Thread-safe.
bool overlap(const pattern& a, const pattern& b);

/// The merged catalog. Immutable once built; a list change rebuilds it. Thread-safe to read.
class catalog final {
 public:
  /// Merges the servers' lists (see docs/gateway.md#names for every rule). Deterministic: the
  /// same input gives the same catalog, byte for byte. Thread-safe.
  static catalog build(const naming& n, const std::vector<server_entries>& servers);

  /// Items as the gateway lists them, in server order then upstream order: each object with
  /// "name" rewritten when the exposed name differs (other members kept).
  const std::vector<std::string>& tools_json() const { return tools_json_; }
  const std::vector<std::string>& prompts_json() const { return prompts_json_; }
  const std::vector<std::string>& resources_json() const { return resources_json_; }
  const std::vector<std::string>& resource_templates_json() const { return templates_json_; }

  /// The route of an exposed tool or prompt name; nullptr when unknown.
  const route* find_tool(std::string_view exposed) const;
  const route* find_prompt(std::string_view exposed) const;
  /// The route of a URI: a listed resource's exact URI first, else the first template (server
  /// order, then upstream order) that matches it; nullptr when none does.
  const route* find_resource(std::string_view uri) const;

  /// The exposed name of an upstream's tool or prompt; "" when filtered out, shadowed or absent.
  std::string exposed_tool_name(std::string_view server, std::string_view upstream_name) const;
  std::string exposed_prompt_name(std::string_view server, std::string_view upstream_name) const;

  const std::vector<collision>& collisions() const { return collisions_; }
  /// How many tools allow/deny removed, in all or of one server.
  std::size_t filtered_out() const { return filtered_out_; }
  std::size_t filtered_out(std::string_view server) const;
  /// How many items were skipped as invalid (each also a collision of kind "invalid").
  std::size_t skipped() const { return skipped_; }

 private:
  struct resource_template {
    pattern parts;
    route where;
  };
  using table = std::map<std::string, route, std::less<>>;
  using reverse_table =
      std::map<std::string, std::string, std::less<>>;  // server NUL name → exposed

  friend struct catalog_builder;

  std::vector<std::string> tools_json_, prompts_json_, resources_json_, templates_json_;
  table tools_, prompts_, resources_;
  std::vector<resource_template> templates_;
  reverse_table tool_names_, prompt_names_;
  std::vector<collision> collisions_;
  std::map<std::string, std::size_t, std::less<>> filtered_by_server_;
  std::size_t filtered_out_ = 0;
  std::size_t skipped_ = 0;
};

}  // namespace fracta::gateway
