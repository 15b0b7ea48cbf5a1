// SPDX-License-Identifier: Apache-2.0
// Text-level config edits (add / remove a server) that keep every other byte, and the line
// scanner they and set.cpp share.
#include <toml++/toml.h>

#include <optional>

#include <fracta/proto/text.hpp>

#include "config/edit.hpp"

namespace fracta::config {
namespace detail {
namespace {

// ---- a line scanner that knows enough TOML to find table headers -----------------------------

struct scan_state {
  enum class string_kind { none, multi_basic, multi_literal };
  string_kind open = string_kind::none;
  int depth = 0;  // open [ and { of a value spanning lines
};

bool is_ws(char c) { return c == ' ' || c == '\t'; }

bool is_bare_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A quoted key segment starting at s[i] (a quote); advances i past it.
std::optional<std::string> parse_quoted(std::string_view s, std::size_t& i) {
  const char q = s[i++];
  std::string out;
  while (i < s.size() && s[i] != q) {
    if (q == '"' && s[i] == '\\') {
      if (++i >= s.size()) return std::nullopt;
      const char e = s[i++];
      if (e != 'u' && e != 'U') {
        const std::optional<char> byte = text::unescaped(e);
        if (!byte) return std::nullopt;
        out.push_back(*byte);
        continue;
      }
      const std::size_t n = e == 'u' ? 4 : 8;
      if (i + n > s.size()) return std::nullopt;
      std::uint32_t cp = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const int digit = text::hex_value(s[i + k]);
        if (digit < 0) return std::nullopt;
        cp = (cp << 4) | static_cast<std::uint32_t>(digit);
      }
      i += n;
      append_utf8(out, cp);
    } else {
      out.push_back(s[i++]);
    }
  }
  if (i >= s.size()) return std::nullopt;
  ++i;  // closing quote
  return out;
}

// `[a.b."c"]` or `[[a.b]]` starting at s[i]; the key segments, or nullopt when not a header.
std::optional<std::vector<std::string>> parse_header(std::string_view s, std::size_t i) {
  const bool array = s.substr(i, 2) == "[[";
  i += array ? 2 : 1;
  std::vector<std::string> key;
  for (;;) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size()) return std::nullopt;
    if (s[i] == '"' || s[i] == '\'') {
      auto seg = parse_quoted(s, i);
      if (!seg) return std::nullopt;
      key.push_back(std::move(*seg));
    } else {
      const std::size_t start = i;
      while (i < s.size() && is_bare_char(s[i])) ++i;
      if (i == start) return std::nullopt;
      key.emplace_back(s.substr(start, i - start));
    }
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  const std::string_view close = array ? "]]" : "]";
  if (s.substr(i, close.size()) != close) return std::nullopt;
  i += close.size();
  while (i < s.size() && is_ws(s[i])) ++i;
  if (i < s.size() && s[i] != '#') return std::nullopt;
  return key;
}

// The two kinds of TOML string the scanner follows: basic ("…", with backslash escapes) and
// literal ('…'), each with a multi-line form opened and closed by three quotes.
struct string_syntax {
  char quote;
  std::string_view triple;
  bool escapes;
  scan_state::string_kind multi;
};
constexpr string_syntax basic_string{'"', "\"\"\"", true, scan_state::string_kind::multi_basic};
constexpr string_syntax literal_string{'\'', "'''", false, scan_state::string_kind::multi_literal};

// One step inside an open multi-line string at s[i]: past an escape, past the closing quotes
// (up to two more quotes belong to the content), or past one byte. Returns the next index.
std::size_t multi_line_step(std::string_view s, std::size_t i, const string_syntax& q, scan_state& st) {
  if (q.escapes && s[i] == '\\') return i + 2;
  if (s.substr(i, 3) != q.triple) return i + 1;
  i += 3;
  while (i < s.size() && s[i] == q.quote) ++i;
  st.open = scan_state::string_kind::none;
  return i;
}

// A string starting at s[i]: a multi-line one is opened (in `st`), a one-line one skipped whole.
// Returns the next index.
std::size_t string_start(std::string_view s, std::size_t i, const string_syntax& q, scan_state& st) {
  if (s.substr(i, 3) == q.triple) {
    st.open = q.multi;
    return i + 3;
  }
  ++i;
  while (i < s.size() && s[i] != q.quote) i += q.escapes && s[i] == '\\' ? 2 : 1;
  return i + 1;
}

// Follows strings, comments and brackets through the rest of a line.
void scan_text(std::string_view s, std::size_t i, scan_state& st) {
  while (i < s.size()) {
    if (st.open != scan_state::string_kind::none) {
      const bool basic = st.open == scan_state::string_kind::multi_basic;
      i = multi_line_step(s, i, basic ? basic_string : literal_string, st);
      continue;
    }
    const char c = s[i];
    if (c == '#') return;
    if (c == basic_string.quote || c == literal_string.quote) {
      i = string_start(s, i, c == basic_string.quote ? basic_string : literal_string, st);
      continue;
    }
    if (c == '[' || c == '{') {
      ++st.depth;
    } else if ((c == ']' || c == '}') && st.depth > 0) {
      --st.depth;
    }
    ++i;
  }
}

}  // namespace

std::vector<line_info> scan_lines(std::string_view text) {
  std::vector<line_info> lines;
  scan_state st;
  std::size_t pos = 0;
  while (pos < text.size()) {
    line_info li;
    li.begin = pos;
    const std::size_t nl = text.find('\n', pos);
    li.end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view content =
        text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    pos = li.end;

    if (st.open != scan_state::string_kind::none || st.depth > 0) {
      scan_text(content, 0, st);
      lines.push_back(std::move(li));
      continue;
    }
    std::size_t i = 0;
    while (i < content.size() && is_ws(content[i])) ++i;
    if (i == content.size()) {
      li.kind = line_kind::blank;
    } else if (content[i] == '#') {
      li.kind = line_kind::comment;
    } else if (content[i] == '[') {
      if (auto key = parse_header(content, i)) {
        li.kind = line_kind::header;
        li.key = std::move(*key);
      }
      // A header's trailing comment cannot open anything; other lines are followed through.
      if (li.kind != line_kind::header) scan_text(content, i, st);
    } else {
      scan_text(content, i, st);
    }
    lines.push_back(std::move(li));
  }
  return lines;
}

// Lines (1-based, as toml++ counts) where anything of `t` is written, with the position of each.
void collect_positions(const toml::node& n, std::vector<toml::source_position>& out) {
  if (const auto* t = n.as_table()) {
    if (t->is_inline()) out.push_back(t->source().begin);
    for (auto&& [k, v] : *t) {
      out.push_back(k.source().begin);
      collect_positions(v, out);
    }
    return;
  }
  if (const auto* a = n.as_array()) {
    for (const auto& e : *a) collect_positions(e, out);
    return;
  }
  out.push_back(n.source().begin);
}

std::string line_ending_of(std::string_view text) {
  const std::size_t nl = text.find('\n');
  if (nl != std::string_view::npos && nl > 0 && text[nl - 1] == '\r') return "\r\n";
  return "\n";
}

detail::parse_options no_file_checks() {
  detail::parse_options o;
  o.check_files = false;
  return o;
}

std::string secret_inline(const secret_value& s) {
  const char* k = s.from == secret_value::source::env    ? "env"
                  : s.from == secret_value::source::file ? "file"
                                                         : "value";
  return std::string("{ ") + k + " = " + toml_quote(s.ref) + " }";
}

}  // namespace detail

using detail::line_info;
using detail::line_kind;
using detail::make_error;
using detail::no_file_checks;
using detail::secret_inline;
using detail::toml_key;
using detail::toml_quote;

std::string with_server_added(std::string_view text, const std::string& path, const new_server& s) {
  const std::string prefix = "mcp.servers." + toml_key(s.name);
  if (!detail::is_valid_server_name(s.name)) {
    throw make_error(location{path, 0, 0}, "", prefix,
                     "server name must be 1-64 characters from [A-Za-z0-9_-]",
                     "Choose a name like 'github' or 'notion-work'");
  }
  const config before = detail::parse_text(text, path, no_file_checks());
  if (const server* existing = before.find(s.name)) {
    throw make_error(existing->where, s.name, prefix, "a server with this name already exists",
                     "Choose another name, or edit or remove the existing one at line " +
                         std::to_string(existing->where.line));
  }

  const std::string nl = detail::line_ending_of(text);
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += nl;
  if (!out.empty()) out += nl;  // always exactly one separator, so removal can undo it exactly
  out += "[" + prefix + ".remote]" + nl;
  out += "url = " + toml_quote(s.url) + nl;
  if (!s.headers.empty()) {
    out += "headers = { ";
    for (std::size_t i = 0; i < s.headers.size(); ++i) {
      if (i > 0) out += ", ";
      out += toml_quote(s.headers[i].first) + " = " + toml_quote(s.headers[i].second);
    }
    out += " }" + nl;
  }
  if (s.timeout_seconds > 0) out += "timeout_seconds = " + std::to_string(s.timeout_seconds) + nl;
  if (!s.auth_type.empty()) {
    out += nl + "[" + prefix + ".remote.auth]" + nl;
    out += "type = " + toml_quote(s.auth_type) + nl;
    for (const auto& [k, v] : s.auth_strings) out += toml_key(k) + " = " + toml_quote(v) + nl;
    for (const auto& [k, list] : s.auth_lists) {
      out += toml_key(k) + " = [";
      for (std::size_t i = 0; i < list.size(); ++i)
        out += (i > 0 ? ", " : "") + toml_quote(list[i]);
      out += "]" + nl;
    }
    for (const auto& [k, v] : s.auth_secrets) out += toml_key(k) + " = " + secret_inline(v) + nl;
  }
  (void)detail::parse_text(out, path, no_file_checks());
  return out;
}

std::string with_server_removed(std::string_view text, const std::string& path,
                                std::string_view name) {
  const std::string prefix = "mcp.servers." + toml_key(name);
  const config before = detail::parse_text(text, path, no_file_checks());
  const server* target = before.find(name);
  if (target == nullptr) {
    std::vector<std::string_view> known;
    for (const auto& s : before.servers) known.emplace_back(s.name);
    const auto near = text::suggest(name, known);
    throw make_error(location{path, 0, 0}, "", prefix, "no server named '" + std::string(name) + "'",
                     known.empty() ? std::string("The file defines no servers")
                                   : (near ? "Did you mean '" + *near + "'? " : std::string()) +
                                         "Use one of the configured servers: " + detail::join(known));
  }

  const std::vector<line_info> lines = detail::scan_lines(text);
  const auto is_target = [&](const line_info& l) {
    return l.kind == line_kind::header && l.key.size() >= 3 && l.key[0] == "mcp" &&
           l.key[1] == "servers" && l.key[2] == name;
  };
  std::vector<bool> removed(lines.size(), false);
  for (std::size_t h = 0; h < lines.size(); ++h) {
    if (!is_target(lines[h])) continue;
    std::size_t next = h + 1;
    while (next < lines.size() && lines[next].kind != line_kind::header) ++next;
    std::size_t stop = next;
    // Comments and blank lines right before a header that stays belong to that header.
    if (next < lines.size() && !is_target(lines[next])) {
      while (stop > h + 1 && (lines[stop - 1].kind == line_kind::blank ||
                              lines[stop - 1].kind == line_kind::comment))
        --stop;
    }
    for (std::size_t i = h; i < stop; ++i) removed[i] = true;
    // Comments directly above the header describe it (unless they open the file), and the one
    // blank line above them separates it from what came before: both go with it.
    std::size_t top = h;
    while (top > 0 && lines[top - 1].kind == line_kind::comment && !removed[top - 1]) --top;
    if (top == 0 && top != h) {
      top = h;  // a comment block that opens the file is about the file
    }
    for (std::size_t i = top; i < h; ++i) removed[i] = true;
    if (top > 0 && lines[top - 1].kind == line_kind::blank && !removed[top - 1])
      removed[top - 1] = true;
  }

  // Everything the parser saw of this server must sit on removed lines; otherwise it is written
  // with dotted keys or inline tables in a parent table, and removing it means rewriting lines.
  const toml::table root = toml::parse(text, std::string_view(path));
  const toml::node* server_node = root.at_path("mcp.servers").as_table()->get(name);
  std::vector<toml::source_position> positions;
  detail::collect_positions(*server_node, positions);
  for (const auto& p : positions) {
    const std::size_t index = p.line - 1;
    if (index >= lines.size() || !removed[index]) {
      const location at{path, static_cast<std::uint32_t>(p.line),
                        static_cast<std::uint32_t>(p.column)};
      throw make_error(
          at, std::string(name), prefix,
          "is written with dotted keys or an inline table inside a parent table, which fracta "
          "cannot remove without rewriting other lines",
          "Edit the file by hand at line " + std::to_string(p.line));
    }
  }

  std::string out;
  out.reserve(text.size());
  bool at_start = true;  // nothing kept yet
  bool removed_at_start = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (removed[i]) {
      if (at_start) removed_at_start = true;
      continue;
    }
    // A block removed from the top of the file leaves no blank line behind it.
    if (at_start && removed_at_start && lines[i].kind == line_kind::blank) {
      removed_at_start = false;
      continue;
    }
    at_start = false;
    out.append(text.substr(lines[i].begin, lines[i].end - lines[i].begin));
  }
  (void)detail::parse_text(out, path, no_file_checks());
  return out;
}

}  // namespace fracta::config
