// SPDX-License-Identifier: Apache-2.0
// The gateway's merged catalog (see catalog.hpp; the rules are in docs/gateway.md#names).
#include "gateway/catalog.hpp"

#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <optional>
#include <set>
#include <utility>

#include "proxy/translate.hpp"

namespace fracta::gateway {
namespace {

constexpr std::string_view reserved_chars = ":/?#[]@!$&'()*+,;=";
constexpr std::size_t hash_suffix = 9;  // '-' and 8 hex digits
constexpr std::size_t min_length = 16;

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// One '_' for each code point (or ill-formed UTF-8 subpart) outside A-Z a-z 0-9 _ - .
std::string sanitise(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const auto step = text::utf8_next(s);
    out.push_back(step.size == 1 && name_char(s[0]) ? s[0] : '_');
    s.remove_prefix(step.size);
  }
  return out;
}

std::string hash8(std::string_view s) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest.data());
  std::string out;
  for (std::size_t i = 0; i < 4; ++i) {
    out.push_back(digits[digest[i] >> 4]);
    out.push_back(digits[digest[i] & 0xf]);
  }
  return out;
}

struct exposed_form {
  std::string full;        // the name with its characters replaced, before shortening
  std::string name;        // as exposed
  bool sanitised = false;  // a character was replaced
};

exposed_form expose(std::string_view full, std::size_t max_length) {
  exposed_form f{sanitise(full), {}, false};
  f.sanitised = f.full != full;
  f.name = f.full;
  if (f.name.size() > max_length) {
    f.name.resize(max_length - hash_suffix);
    f.name += "-" + hash8(f.full);
  }
  return f;
}

std::string in_quotes(std::string_view s) { return "'" + text::printable(s, 120) + "'"; }

std::string reverse_key(std::string_view server, std::string_view name) {
  std::string k(server);
  k.push_back('\0');
  k.append(name);
  return k;
}

// "a, b and c"
std::string enumerate(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

bool in_class(const pattern_part& p, char c) {
  if (p.kind == pattern_part::type::any) return true;
  return reserved_chars.find(c) == std::string_view::npos;
}

// A pattern as single-character atoms: each literal character, or a wildcard.
std::vector<pattern_part> atoms(const pattern& p) {
  std::vector<pattern_part> out;
  for (const auto& part : p) {
    if (part.kind != pattern_part::type::literal) {
      out.push_back({part.kind, {}});
      continue;
    }
    for (char c : part.text) out.push_back({pattern_part::type::literal, std::string(1, c)});
  }
  return out;
}

bool is_wild(const pattern_part& p) { return p.kind != pattern_part::type::literal; }

bool accepts(const pattern_part& p, char c) { return is_wild(p) ? in_class(p, c) : p.text[0] == c; }

// The wildcards' closure: a wildcard may match nothing.
void skip_wildcards(const std::vector<pattern_part>& a, std::vector<char>& states) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (states[i] && is_wild(a[i])) states[i + 1] = 1;
  }
}

}  // namespace

pattern parse_glob(std::string_view glob) {
  pattern out;
  while (!glob.empty()) {
    const auto star = glob.find('*');
    if (star != 0) out.push_back({pattern_part::type::literal, std::string(glob.substr(0, star))});
    if (star == std::string_view::npos) break;
    if (out.empty() || out.back().kind != pattern_part::type::any)
      out.push_back({pattern_part::type::any, {}});
    glob.remove_prefix(star + 1);
  }
  return out;
}

pattern parse_uri_template(std::string_view t) {
  pattern out;
  auto literal = [&out](std::string_view s) {
    if (s.empty()) return;
    if (!out.empty() && out.back().kind == pattern_part::type::literal) {
      out.back().text.append(s);
    } else {
      out.push_back({pattern_part::type::literal, std::string(s)});
    }
  };
  while (!t.empty()) {
    const auto open = t.find('{');
    const auto close = open == std::string_view::npos ? open : t.find('}', open);
    if (close == std::string_view::npos) {  // no (complete) expression left: the rest is text
      literal(t);
      break;
    }
    literal(t.substr(0, open));
    const std::string_view expr = t.substr(open + 1, close - open - 1);
    const bool simple = !expr.empty() && std::all_of(expr.begin(), expr.end(), [](char c) {
      return name_char(c) && c != '-';
    });
    out.push_back({simple ? pattern_part::type::unreserved : pattern_part::type::any, {}});
    t.remove_prefix(close + 1);
  }
  return out;
}

bool matches(const pattern& p, std::string_view text) {
  const auto a = atoms(p);
  std::vector<char> states(a.size() + 1, 0);
  states[0] = 1;
  skip_wildcards(a, states);
  for (char c : text) {
    std::vector<char> next(a.size() + 1, 0);
    bool any = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!states[i] || !accepts(a[i], c)) continue;
      next[is_wild(a[i]) ? i : i + 1] = 1;
      any = true;
    }
    if (!any) return false;
    states = std::move(next);
    skip_wildcards(a, states);
  }
  return states[a.size()] != 0;
}

bool overlap(const pattern& pa, const pattern& pb) {
  // A search over pairs of positions. A shortest common text never has a character that two
  // wildcards consume together (dropping it leaves a common text), so those steps are not needed.
  const auto a = atoms(pa);
  const auto b = atoms(pb);
  const std::size_t width = b.size() + 1;
  std::vector<char> seen((a.size() + 1) * width, 0);
  std::vector<std::pair<std::size_t, std::size_t>> worklist{{0, 0}};
  seen[0] = 1;
  auto visit = [&](std::size_t i, std::size_t j) {
    if (seen[i * width + j]) return;
    seen[i * width + j] = 1;
    worklist.emplace_back(i, j);
  };
  while (!worklist.empty()) {
    const auto [i, j] = worklist.back();
    worklist.pop_back();
    if (i == a.size() && j == b.size()) return true;
    if (i < a.size() && is_wild(a[i])) visit(i + 1, j);
    if (j < b.size() && is_wild(b[j])) visit(i, j + 1);
    if (i == a.size() || j == b.size()) continue;
    if (!is_wild(a[i]) && !is_wild(b[j])) {
      if (a[i].text == b[j].text) visit(i + 1, j + 1);
    } else if (!is_wild(a[i])) {
      if (accepts(b[j], a[i].text[0])) visit(i + 1, j);
    } else if (!is_wild(b[j])) {
      if (accepts(a[i], b[j].text[0])) visit(i, j + 1);
    }
  }
  return false;
}

// Builds a catalog; a friend so the merge can fill its tables.
struct catalog_builder {
  struct item {
    std::size_t server = 0;
    std::string upstream;  // name, uri or uriTemplate
    std::string raw;
  };

  const naming& n;
  const std::vector<server_entries>& servers;
  std::size_t max_length;
  catalog c;

  // The items of one list with a non-empty string `key`; the others are reported and counted.
  std::vector<item> read(const std::vector<std::string> server_entries::*list,
                         std::string_view list_name, std::string_view key, bool filter_tools) {
    std::vector<item> out;
    simdjson::dom::parser parser;
    for (std::size_t s = 0; s < servers.size(); ++s) {
      const auto& entries = servers[s].*list;
      for (std::size_t k = 0; k < entries.size(); ++k) {
        simdjson::dom::element doc;
        const bool object = json::parse(parser, entries[k], doc).empty() && doc.is_object();
        const auto name = object ? json::get_string(doc, key) : std::nullopt;
        if (!name || name->empty()) {
          invalid(s, std::string(list_name) + "[" + std::to_string(k) + "]",
                  object ? "skipped: no non-empty string \"" + std::string(key) + "\""
                         : "skipped: not a JSON object");
          continue;
        }
        if (filter_tools && !allowed(servers[s], *name)) {
          ++c.filtered_out_;
          ++c.filtered_by_server_[servers[s].server];
          continue;
        }
        out.push_back({s, std::string(*name), entries[k]});
      }
    }
    return out;
  }

  static bool allowed(const server_entries& s, std::string_view name) {
    auto any_match = [name](const std::vector<std::string>& globs) {
      return std::any_of(globs.begin(), globs.end(),
                         [name](const std::string& g) { return matches(parse_glob(g), name); });
    };
    if (any_match(s.deny)) return false;
    return s.allow.empty() || any_match(s.allow);
  }

  void invalid(std::size_t s, std::string name, std::string outcome) {
    ++c.skipped_;
    const std::string& server = servers[s].server;
    c.collisions_.push_back({"invalid", std::move(name), {server}, {server}, std::move(outcome)});
  }

  std::string prefix_of(const server_entries& s) const {
    return s.prefix.empty() ? s.server : s.prefix;
  }

  // The exposed form of each item, by the naming mode; on_collision reports what it prefixed.
  std::vector<exposed_form> exposed_names(std::string_view kind, const std::vector<item>& items) {
    std::vector<exposed_form> plain, prefixed;
    for (const auto& it : items) {
      plain.push_back(expose(it.upstream, max_length));
      prefixed.push_back(
          expose(prefix_of(servers[it.server]) + n.separator + it.upstream, max_length));
    }
    if (n.mode == prefix_mode::always) return prefixed;
    if (n.mode == prefix_mode::never) return plain;
    // on_collision: the plain name unless two or more servers list it. by_plain: plain name →
    // the first item of each server that lists it.
    std::map<std::string, std::vector<std::size_t>, std::less<>> by_plain;
    std::vector<std::string> order;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto [pos, fresh] = by_plain.try_emplace(plain[i].name);
      if (fresh) order.push_back(plain[i].name);
      auto& firsts = pos->second;
      const bool known = std::any_of(firsts.begin(), firsts.end(), [&](std::size_t f) {
        return items[f].server == items[i].server;
      });
      if (!known) firsts.push_back(i);
    }
    std::vector<exposed_form> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      out.push_back(by_plain[plain[i].name].size() > 1 ? prefixed[i] : plain[i]);
    }
    for (const auto& name : order) {
      const auto& firsts = by_plain[name];
      if (firsts.size() < 2) continue;
      collision col{std::string(kind), name, {}, {}, {}};
      std::vector<std::string> names;
      for (std::size_t f : firsts) {
        col.servers.push_back(servers[items[f].server].server);
        names.push_back(out[f].name);
      }
      col.outcome = "exposed as " + enumerate(names);
      c.collisions_.push_back(std::move(col));
    }
    return out;
  }

  std::string why_shadowed(const item& kept, const exposed_form& kept_form, const item& lost,
                           const exposed_form& lost_form) const {
    const std::string& ks = servers[kept.server].server;
    const std::string& ls = servers[lost.server].server;
    if (kept.server == lost.server && kept.upstream == lost.upstream)
      return "a second " + in_quotes(lost.upstream) + " of " + in_quotes(ls) + " skipped";
    std::string head = in_quotes(ls) + " (" + in_quotes(lost.upstream) + ") shadowed by " +
                       in_quotes(ks) + " (" + in_quotes(kept.upstream) + "): ";
    if (n.mode == prefix_mode::never && kept.upstream == lost.upstream)
      return in_quotes(ls) + " shadowed by " + in_quotes(ks) + ": tool_prefix = never";
    if (kept_form.full != lost_form.full)  // 32 bits of SHA-256 clashed
      return head + "the same name once shortened to " + std::to_string(max_length) + " characters";
    if (kept_form.sanitised || lost_form.sanitised)
      return head + "the same name once characters outside A-Z a-z 0-9 _ - . are replaced";
    return head + "the same exposed name";
  }

  // Tools or prompts: named, exposed under the naming rules, first in order wins.
  void merge_named(std::string_view kind, const std::vector<item>& items,
                   std::vector<std::string>& out_json, catalog::table& table,
                   catalog::reverse_table& names) {
    const auto forms = exposed_names(kind, items);
    // winner: exposed name → item; shadows: exposed name → (its collision, a reason per shadowed
    // item).
    std::map<std::string, std::size_t, std::less<>> winner;
    std::map<std::string, std::pair<std::size_t, std::vector<std::string>>> shadows;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& it = items[i];
      const std::string& exposed = forms[i].name;
      const std::string& server = servers[it.server].server;
      auto [pos, fresh] = winner.try_emplace(exposed, i);
      if (!fresh) {
        const std::size_t w = pos->second;
        auto [sh, first] = shadows.try_emplace(exposed);
        if (first) {
          sh->second.first = c.collisions_.size();
          c.collisions_.push_back(
              {std::string(kind), exposed, {servers[items[w].server].server}, {}, {}});
        }
        collision& col = c.collisions_[sh->second.first];
        col.servers.push_back(server);
        col.shadowed.push_back(server);
        sh->second.second.push_back(why_shadowed(items[w], forms[w], it, forms[i]));
        continue;
      }
      table.emplace(exposed, route{server, it.upstream});
      names.emplace(reverse_key(server, it.upstream), exposed);
      out_json.push_back(exposed == it.upstream
                             ? it.raw
                             : proxy::edit_object(it.raw, {{"name", proxy::json_string(exposed)}}));
    }
    for (auto& [exposed, sh] : shadows) {
      std::string outcome;
      for (const auto& reason : sh.second) outcome += (outcome.empty() ? "" : "; ") + reason;
      c.collisions_[sh.first].outcome = std::move(outcome);
    }
  }

  // Resources or templates: never renamed; an equal URI (or template) later in order is not
  // listed. Returns the items kept.
  std::vector<item> merge_uris(std::string_view kind, const std::vector<item>& items,
                               std::vector<std::string>& out_json) {
    std::map<std::string, std::size_t, std::less<>> first;
    std::map<std::string, std::size_t, std::less<>> reported;  // uri → collision
    std::vector<item> kept;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& it = items[i];
      const std::string& server = servers[it.server].server;
      auto [pos, fresh] = first.try_emplace(it.upstream, i);
      if (fresh) {
        kept.push_back(it);
        out_json.push_back(it.raw);
        continue;
      }
      const std::string& winner = servers[items[pos->second].server].server;
      auto [rep, new_report] = reported.try_emplace(it.upstream, c.collisions_.size());
      if (new_report) {
        c.collisions_.push_back({std::string(kind),
                                 text::printable(it.upstream),
                                 {winner},
                                 {},
                                 "read from " + in_quotes(winner) + "; not listed for"});
      }
      collision& col = c.collisions_[rep->second];
      col.servers.push_back(server);
      col.shadowed.push_back(server);
      col.outcome += (col.shadowed.size() > 1 ? ", " : " ") + in_quotes(server);
    }
    return kept;
  }

  void report_overlaps() {
    const auto& t = c.templates_;
    for (std::size_t j = 1; j < t.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        if (t[i].where.server == t[j].where.server || !overlap(t[i].parts, t[j].parts)) continue;
        c.collisions_.push_back(
            {"resource_template",
             text::printable(t[j].where.name),
             {t[i].where.server, t[j].where.server},
             {},
             "overlaps " + in_quotes(t[i].where.name) + " of " + in_quotes(t[i].where.server) +
                 ": a URI both match is read from " + in_quotes(t[i].where.server)});
        break;  // the first (winning) overlap is the one that matters
      }
    }
  }
};

catalog catalog::build(const naming& n, const std::vector<server_entries>& servers) {
  catalog_builder b{n, servers, std::max(n.max_length, min_length), {}};
  const auto tools = b.read(&server_entries::tools_json, "tools", "name", true);
  const auto prompts = b.read(&server_entries::prompts_json, "prompts", "name", false);
  const auto resources = b.read(&server_entries::resources_json, "resources", "uri", false);
  const auto templates =
      b.read(&server_entries::resource_templates_json, "resourceTemplates", "uriTemplate", false);
  b.merge_named("tool", tools, b.c.tools_json_, b.c.tools_, b.c.tool_names_);
  b.merge_named("prompt", prompts, b.c.prompts_json_, b.c.prompts_, b.c.prompt_names_);
  for (auto& r : b.merge_uris("resource", resources, b.c.resources_json_)) {
    b.c.resources_.emplace(r.upstream, route{servers[r.server].server, r.upstream});
  }
  for (auto& t : b.merge_uris("resource_template", templates, b.c.templates_json_)) {
    b.c.templates_.push_back(
        {parse_uri_template(t.upstream), route{servers[t.server].server, t.upstream}});
  }
  b.report_overlaps();
  return std::move(b.c);
}

namespace {

const route* find_in(const std::map<std::string, route, std::less<>>& table, std::string_view key) {
  const auto it = table.find(key);
  return it == table.end() ? nullptr : &it->second;
}

std::string find_name(const std::map<std::string, std::string, std::less<>>& names,
                      std::string_view server, std::string_view upstream) {
  const auto it = names.find(reverse_key(server, upstream));
  return it == names.end() ? std::string() : it->second;
}

}  // namespace

const route* catalog::find_tool(std::string_view exposed) const { return find_in(tools_, exposed); }

const route* catalog::find_prompt(std::string_view exposed) const {
  return find_in(prompts_, exposed);
}

const route* catalog::find_resource(std::string_view uri) const {
  if (const route* r = find_in(resources_, uri)) return r;
  for (const auto& t : templates_) {
    if (matches(t.parts, uri)) return &t.where;
  }
  return nullptr;
}

std::string catalog::exposed_tool_name(std::string_view server,
                                       std::string_view upstream_name) const {
  return find_name(tool_names_, server, upstream_name);
}

std::string catalog::exposed_prompt_name(std::string_view server,
                                         std::string_view upstream_name) const {
  return find_name(prompt_names_, server, upstream_name);
}

std::size_t catalog::filtered_out(std::string_view server) const {
  const auto it = filtered_by_server_.find(server);
  return it == filtered_by_server_.end() ? 0 : it->second;
}

}  // namespace fracta::gateway
