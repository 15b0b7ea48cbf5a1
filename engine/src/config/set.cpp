// SPDX-License-Identifier: Apache-2.0
// `config mcp set`: one server's keys changed, added or removed as text edits that keep every other byte.
#include <toml++/toml.h>

#include <filesystem>
#include <optional>

#include <fracta/proto/text.hpp>
#include <fracta/proto/time.hpp>

#include "config/edit.hpp"
#include "store/select.hpp"

namespace fracta::config {
namespace {

using detail::line_info;
using detail::line_kind;
using detail::make_error;
using detail::toml_key;
using detail::toml_quote;

// ---- the keys, and how each one's value is written -------------------------------------------

enum class value_type { string, duration, boolean, strings, secret, integer_or_secret };

struct key_type {
  std::string_view name;
  value_type type;
};

constexpr std::array remote_keys{
    key_type{"url", value_type::string},           key_type{"ca_bundle", value_type::string},
    key_type{"timeout_seconds", value_type::duration}, key_type{"allow_insecure_http", value_type::boolean},
    key_type{"allow_private_network", value_type::boolean}, key_type{"protocol", value_type::string}};

// The keys of the built-in auth types (a plugin type's keys are strings).
constexpr std::array auth_keys{
    key_type{"type", value_type::string},
    key_type{"token", value_type::secret},
    key_type{"header_name", value_type::string},
    key_type{"header_value", value_type::secret},
    key_type{"username", value_type::secret},
    key_type{"password", value_type::secret},
    key_type{"grant_type", value_type::string},
    key_type{"scopes", value_type::strings},
    key_type{"token_store", value_type::string},
    key_type{"client_id", value_type::secret},
    key_type{"client_secret", value_type::secret},
    key_type{"access_token", value_type::secret},
    key_type{"refresh_token", value_type::secret},
    key_type{"expires_at", value_type::integer_or_secret},
    key_type{"token_file", value_type::string},
    key_type{"client_registration_file", value_type::string},
    key_type{"metadata_url", value_type::string},
    key_type{"issuer", value_type::string},
    key_type{"redirect_uri", value_type::string},
    key_type{"resource", value_type::string},
    key_type{"omit_resource", value_type::boolean},
    key_type{"token_endpoint_auth_method", value_type::string},
    key_type{"client_metadata_url", value_type::string},
    key_type{"private_key", value_type::secret},
    key_type{"key_id", value_type::string},
    key_type{"passphrase", value_type::secret}};

// Tables of strings under remote.auth, set one entry at a time (like remote.headers).
constexpr std::array auth_string_tables{std::string_view("authorize_params"), std::string_view("token_params")};

constexpr std::string_view key_list =
    "url, ca_bundle, timeout_seconds, allow_insecure_http, allow_private_network, protocol, "
    "headers.NAME or auth.KEY (a key of the auth type, e.g. auth.type, auth.token, auth.client_id)";

// A key resolved: its path under the server and its value's type.
struct target {
  std::vector<std::string> path;  // e.g. {"remote", "headers", "X-Team"}
  value_type type = value_type::string;
};

std::string full_key(std::string_view name, const std::vector<std::string>& path, std::size_t n) {
  std::string out = "mcp.servers." + toml_key(name);
  for (std::size_t i = 0; i < n && i < path.size(); ++i) out += "." + toml_key(path[i]);
  return out;
}

std::string full_key(std::string_view name, const std::vector<std::string>& path) {
  return full_key(name, path, path.size());
}

bool builtin_auth_type(std::string_view type) {
  return type.empty() || type == "oauth" || detail::contains(detail::shipped_provider_types, type);
}

std::string auth_type_in(const toml::table& root, std::string_view name) {
  return root["mcp"]["servers"][name]["remote"]["auth"]["type"].value_or(std::string());
}

[[noreturn]] void unknown_key(const std::string& path, std::string_view name, std::string_view given,
                              std::string_view bare) {
  std::vector<std::string> candidates;
  for (const auto& k : remote_keys) candidates.emplace_back(k.name);
  for (const auto& k : auth_keys) candidates.push_back("auth." + std::string(k.name));
  std::optional<std::string> near;
  for (const auto& k : auth_keys) {
    if (bare == k.name) near = "auth." + std::string(k.name);
  }
  if (bare == "headers" || bare == "header") near = "headers.NAME";
  if (!near) near = text::suggest(bare, candidates);
  std::string fix = near ? "Did you mean '" + *near + "'? " : std::string();
  fix += "Use " + std::string(key_list);
  throw make_error(location{path, 0, 0}, name, text::printable(given, 80), "unknown key", fix);
}

target resolve(std::string_view given, std::string_view name, const toml::table& root,
               const std::string& path) {
  std::string_view k = given;
  const std::string full_prefix = "mcp.servers." + std::string(name) + ".";
  if (k.starts_with(full_prefix)) k.remove_prefix(full_prefix.size());
  if (k.starts_with("remote.")) k.remove_prefix(std::string_view("remote.").size());
  if (k == "request-timeout") k = "timeout_seconds";
  for (const auto& rk : remote_keys) {
    if (k == rk.name) return {{"remote", std::string(k)}, rk.type};
  }
  for (std::string_view t : {std::string_view("headers."), std::string_view("header.")}) {
    if (k.starts_with(t) && k.size() > t.size()) {
      return {{"remote", "headers", std::string(k.substr(t.size()))}, value_type::string};
    }
  }
  if (k.starts_with("auth.") && k.size() > 5) {
    const std::string_view a = k.substr(5);
    for (const auto& ak : auth_keys) {
      if (a == ak.name) return {{"remote", "auth", std::string(a)}, ak.type};
    }
    for (std::string_view t : auth_string_tables) {
      if (a.size() > t.size() + 1 && a.starts_with(t) && a[t.size()] == '.') {
        return {{"remote", "auth", std::string(t), std::string(a.substr(t.size() + 1))}, value_type::string};
      }
    }
    if (!builtin_auth_type(auth_type_in(root, name)) && a.find('.') == std::string_view::npos) {
      return {{"remote", "auth", std::string(a)}, value_type::string};
    }
  }
  unknown_key(path, name, given, k);
}

// The value as TOML text, and the SecretValue it writes, if any.
struct rendered {
  std::string toml;
  std::optional<secret_value> secret;
};

rendered render(const target& t, const std::string& value, const std::string& path, std::string_view name) {
  const std::string key = full_key(name, t.path);
  const location at{path, 0, 0};
  switch (t.type) {
    case value_type::string:
      return {toml_quote(value), std::nullopt};
    case value_type::duration: {
      const auto seconds = text::parse_duration(value);
      if (!seconds) {
        throw make_error(at, name, key, "'" + text::printable(value, 40) + "' is not a duration",
                         "Write seconds or a duration: 90, 30s, 2m");
      }
      return {std::to_string(*seconds), std::nullopt};
    }
    case value_type::boolean:
      if (value != "true" && value != "false") {
        throw make_error(at, name, key, "expected true or false", "Write " + t.path.back() + "=true");
      }
      return {value, std::nullopt};
    case value_type::strings: {
      std::string out = "[";
      std::size_t i = 0, n = 0;
      while (i < value.size()) {
        const std::size_t stop = value.find_first_of(", ", i);
        const std::size_t end = stop == std::string::npos ? value.size() : stop;
        if (end > i) out += (n++ > 0 ? ", " : "") + toml_quote(value.substr(i, end - i));
        i = end + 1;
      }
      return {out + "]", std::nullopt};
    }
    case value_type::integer_or_secret:
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        return {value, std::nullopt};
      }
      [[fallthrough]];
    case value_type::secret: {
      std::optional<secret_value> s = secret_from_argument(value);
      if (!s) {
        // Never quote the value: it may be the secret itself.
        throw make_error(at, name, key,
                         t.type == value_type::secret ? "expected env:NAME, file:PATH or value:TEXT"
                                                      : "expected unix seconds, env:NAME or file:PATH",
                         "Write e.g. " + t.path.back() + "=env:VARIABLE (value:TEXT writes the secret itself into the file)");
      }
      s->key = key;
      return {detail::secret_inline(*s), s};
    }
  }
  return {};
}

// ---- byte positions --------------------------------------------------------------------------

struct positions {
  std::string_view text;
  std::vector<std::size_t> starts;  // offset of each line's first byte

  explicit positions(std::string_view t) : text(t) {
    starts.push_back(0);
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\n') starts.push_back(i + 1);
    }
  }
  // toml++ counts lines from 1 and columns in code points from 1.
  std::size_t offset(const toml::source_position& p) const {
    std::size_t i = starts.at(p.line - 1);
    for (std::uint32_t c = 1; c < p.column && i < text.size(); ++c) {
      ++i;
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    }
    return i;
  }
  std::size_t line_end(std::size_t line) const {  // after the line's terminator
    return line < starts.size() ? starts[line] : text.size();
  }
};

bool blank_between(std::string_view text, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (text[i] != ' ' && text[i] != '\t') return false;
  }
  return true;
}

// Only spaces, tabs and a comment after `from` on its line.
bool rest_of_line_empty(std::string_view text, std::size_t from) {
  std::size_t i = from;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  return i >= text.size() || text[i] == '#' || text[i] == '\n' || text[i] == '\r';
}

[[noreturn]] void refuse(const std::string& path, std::string_view name, const std::string& key,
                         std::uint32_t line, std::string_view how) {
  throw make_error(location{path, line, 0}, name, key,
                   std::string(how) + ", which fracta cannot change without rewriting other lines",
                   "Edit the file by hand at line " + std::to_string(line));
}

const line_info* header_of(const std::vector<line_info>& lines, const std::vector<std::string>& key,
                           std::size_t* index = nullptr) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].kind == line_kind::header && lines[i].key == key) {
      if (index != nullptr) *index = i;
      return &lines[i];
    }
  }
  return nullptr;
}

// Where a new line of the section opened by lines[h] goes: after its last key/value line.
std::size_t section_end(const std::vector<line_info>& lines, std::size_t h) {
  std::size_t at = lines[h].end;
  for (std::size_t i = h + 1; i < lines.size() && lines[i].kind != line_kind::header; ++i) {
    if (lines[i].kind == line_kind::other) at = lines[i].end;
  }
  return at;
}

const toml::key* key_in(const toml::table& t, std::string_view name) {
  for (auto&& [k, v] : t) {
    (void)v;
    if (k.str() == name) return &k;
  }
  return nullptr;
}

toml::table parse_toml(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error&) {
    (void)detail::parse_text(text, path, detail::no_file_checks());  // throws its config_error
    throw;
  }
}

// One change applied to `text` (a value, or nullopt to remove the key).
void apply(std::string& text, const std::string& path, std::string_view name, const target& t,
           const std::optional<rendered>& value) {
  const toml::table root = parse_toml(text, path);
  const std::vector<line_info> lines = detail::scan_lines(text);
  const positions pos(text);
  const std::string nl = detail::line_ending_of(text);
  std::vector<std::string> full = {"mcp", "servers", std::string(name)};
  full.insert(full.end(), t.path.begin(), t.path.end());
  const std::string key = full_key(name, t.path);
  const std::string& leaf = full.back();

  // The tables down to the leaf's parent, as far as they exist.
  std::vector<const toml::table*> tables{&root};
  while (tables.size() < full.size()) {
    const toml::node* n = tables.back()->get(full[tables.size() - 1]);
    if (n == nullptr) break;
    const toml::table* tt = n->as_table();
    if (tt == nullptr) {
      const auto line = n->source().begin.line;
      throw make_error(location{path, line, n->source().begin.column}, name,
                       full_key(name, t.path, tables.size() - 3), "is not a table",
                       "Edit the file by hand at line " + std::to_string(line));
    }
    tables.push_back(tt);
  }

  if (tables.size() < full.size()) {  // the parent table is missing
    if (!value) throw make_error(location{path, 0, 0}, name, key, "is not set", "Nothing to unset");
    // Its deepest ancestor must be a table whose key sits on a header line, so that a new
    // [table] below it stays where the file already writes the server.
    const toml::table& q = *tables.back();
    const toml::key* qk = key_in(*tables[tables.size() - 2], full[tables.size() - 2]);
    const std::uint32_t qline = qk != nullptr ? qk->source().begin.line : 0;
    if (q.is_inline() || qk == nullptr || qline == 0 || lines[qline - 1].kind != line_kind::header) {
      refuse(path, name, full_key(name, t.path, tables.size() - 4), qline,
             "is written as an inline table or with dotted keys");
    }
    std::size_t anchor = lines.size();
    for (std::size_t n = full.size() - 1; n >= 3 && anchor == lines.size(); --n) {
      header_of(lines, std::vector<std::string>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)), &anchor);
    }
    if (anchor == lines.size()) refuse(path, name, key, qline, "has no table header of its own");
    std::size_t at = section_end(lines, anchor);
    std::string header = "[";
    for (std::size_t i = 0; i + 1 < full.size(); ++i) header += (i > 0 ? "." : "") + toml_key(full[i]);
    std::string insert = (at == text.size() && !text.empty() && text.back() != '\n') ? nl : std::string();
    insert += nl + header + "]" + nl + toml_key(leaf) + " = " + value->toml + nl;
    text.insert(at, insert);
    return;
  }

  const toml::table& parent = *tables.back();
  const toml::node* node = parent.get(leaf);
  const toml::key* k = key_in(parent, leaf);
  if (value && node != nullptr) {  // a new value in place of the old one
    if (const auto* nt = node->as_table(); nt != nullptr && !nt->is_inline()) {
      refuse(path, name, key, node->source().begin.line, "is written as a table of its own");
    }
    const std::size_t b = pos.offset(node->source().begin), e = pos.offset(node->source().end);
    text.replace(b, e - b, value->toml);
    return;
  }
  if (!value && node == nullptr) {
    throw make_error(location{path, 0, 0}, name, key, "is not set", "Nothing to unset");
  }
  const std::uint32_t pline = parent.source().begin.line;
  if (parent.is_inline()) {
    const std::size_t pb = pos.offset(parent.source().begin), pe = pos.offset(parent.source().end);
    if (pe == 0 || text[pe - 1] != '}') refuse(path, name, key, pline, "is written in an unexpected form");
    if (value) {
      const std::string entry = toml_key(leaf) + " = " + value->toml;
      if (parent.empty()) {
        text.replace(pb, pe - pb, "{ " + entry + " }");
        return;
      }
      std::size_t i = pe - 1;
      while (i > pb && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
      text.insert(i, ", " + entry);
      return;
    }
    if (parent.size() == 1) {
      text.replace(pb, pe - pb, "{}");
      return;
    }
    const std::size_t kb = pos.offset(k->source().begin), ve = pos.offset(node->source().end);
    std::size_t after = ve;
    while (after < pe && (text[after] == ' ' || text[after] == '\t')) ++after;
    if (text[after] == ',') {  // an entry before another: up to the next one
      ++after;
      while (after < pe && (text[after] == ' ' || text[after] == '\t')) ++after;
      text.erase(kb, after - kb);
      return;
    }
    std::size_t before = kb;  // the last entry: from the comma before it
    while (before > pb && text[before - 1] != ',') --before;
    if (before == pb) refuse(path, name, key, pline, "is written in an unexpected form");
    text.erase(before - 1, ve - (before - 1));
    return;
  }
  if (!value) {  // remove the key's lines: it must start its line and end it (a comment may follow)
    const auto kl = k->source().begin.line;
    const std::size_t kb = pos.offset(k->source().begin), ve = pos.offset(node->source().end);
    const std::size_t lb = pos.starts.at(kl - 1);
    if (!blank_between(text, lb, kb) || !rest_of_line_empty(text, ve)) {
      refuse(path, name, key, kl, "is written with a dotted key or shares its line");
    }
    std::size_t from = lb;
    const std::size_t le = pos.line_end(node->source().end.line);
    // The last key of a [table] that holds nothing else (no comment either): the header goes
    // too, with the blank line before it, so that set then --unset gives back the file.
    std::size_t h = 0;
    const std::vector<std::string> parent_key(full.begin(), full.end() - 1);
    if (parent.size() == 1 && header_of(lines, parent_key, &h) != nullptr) {
      bool alone = true;
      for (std::size_t i = h + 1; i < lines.size() && lines[i].kind != line_kind::header; ++i) {
        const bool own = lines[i].begin >= lb && lines[i].end <= le;
        if (!own && lines[i].kind != line_kind::blank) alone = false;
      }
      if (alone) from = h > 0 && lines[h - 1].kind == line_kind::blank ? lines[h - 1].begin : lines[h].begin;
    }
    text.erase(from, le - from);
    return;
  }
  std::size_t h = 0;
  const std::vector<std::string> parent_key(full.begin(), full.end() - 1);
  if (header_of(lines, parent_key, &h) == nullptr) {
    refuse(path, name, full_key(name, t.path, t.path.size() - 1), pline,
           "is written with dotted keys, not as a [table] of its own");
  }
  const std::size_t at = section_end(lines, h);
  std::string insert = (at == text.size() && !text.empty() && text.back() != '\n') ? nl : std::string();
  insert += toml_key(leaf) + " = " + value->toml + nl;
  text.insert(at, insert);
}

}  // namespace

std::optional<secret_value> secret_from_argument(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view kind = text.substr(0, colon);
  secret_value sv;
  sv.ref = std::string(text.substr(colon + 1));
  if (kind == "env") {
    sv.from = secret_value::source::env;
  } else if (kind == "file") {
    sv.from = secret_value::source::file;
    // ~/… and $CREDENTIALS_DIRECTORY/… are kept as written: the config reads them (a shell
    // expands neither after file:). Other relative paths are made absolute against the
    // working directory, where the user meant them.
    const bool home = sv.ref == "~" || sv.ref.rfind("~/", 0) == 0;
    const bool credentials = sv.ref.rfind("$CREDENTIALS_DIRECTORY/", 0) == 0 ||
                             sv.ref.rfind("${CREDENTIALS_DIRECTORY}/", 0) == 0;
    std::error_code ec;
    auto abs = std::filesystem::absolute(sv.ref, ec);
    if (!home && !credentials && !ec) sv.ref = abs.lexically_normal().string();
  } else if (kind == "value") {
    sv.from = secret_value::source::value;
  } else {
    return std::nullopt;
  }
  return sv;
}

changed_server with_server_changed(std::string_view text, const std::string& path, std::string_view name,
                                   const std::vector<server_change>& changes) {
  std::optional<config> before;
  std::optional<config_error> before_error;
  try {
    before = detail::parse_text(text, path, detail::no_file_checks());
  } catch (const config_error& e) {
    before_error = e;  // set may be what repairs it; the result must parse
  }
  const toml::table root = parse_toml(text, path);
  if (!root["mcp"]["servers"][name].is_table()) {
    if (!before) throw *before_error;
    throw config_error(before->no_such_server(name), location{path, 0, 0}, "", "mcp.servers." + toml_key(name));
  }

  changed_server out;
  out.text = std::string(text);
  for (const auto& c : changes) {
    const toml::table now = parse_toml(out.text, path);
    const target t = resolve(c.key, name, now, path);
    std::optional<rendered> value;
    if (c.value) value = render(t, *c.value, path, name);
    apply(out.text, path, name, t, value);
    (c.value ? out.set : out.unset).push_back(full_key(name, t.path));
    if (value && value->secret) out.secrets.emplace_back(t.path.back(), *value->secret);
  }
  const config after = detail::parse_text(out.text, path, detail::no_file_checks());
  const server* was = before ? before->find(name) : nullptr;
  const server* is = after.find(name);
  if (was != nullptr && is != nullptr && was->url != is->url) {
    out.old_url = was->url;
    out.stored_credentials_left_behind = store::persists(*was) && store::server_key(*was) != store::server_key(*is);
  }
  return out;
}

}  // namespace fracta::config
