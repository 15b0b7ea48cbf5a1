// SPDX-License-Identifier: Apache-2.0
// Scope selection and canonical resource identifiers.
#include "scopes.hpp"

#include <algorithm>

#include <fracta/proto/text.hpp>

namespace fracta::oauth {
namespace {

// Scope tokens are separated by spaces (RFC 6749 §3.3); other ASCII whitespace is tolerated.
void add_tokens(std::vector<std::string>& out, std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && text::is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !text::is_space(s[j])) ++j;
    if (j > i) {
      std::string tok(s.substr(i, j - i));
      if (std::find(out.begin(), out.end(), tok) == out.end()) out.push_back(std::move(tok));
    }
    i = j;
  }
}

}  // namespace

std::vector<std::string> split_scopes(std::string_view scope) {
  std::vector<std::string> out;
  add_tokens(out, scope);
  return out;
}

std::string join_scopes(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

std::optional<std::string> select_scope(const std::vector<std::string>& configured,
                                        std::optional<std::string_view> challenge_scope,
                                        const std::vector<std::string>& scopes_supported) {
  const bool offline_listed = std::find(scopes_supported.begin(), scopes_supported.end(),
                                        "offline_access") != scopes_supported.end();
  std::vector<std::string> tokens;
  for (const auto& c : configured) add_tokens(tokens, c);
  if (!offline_listed) std::erase(tokens, std::string("offline_access"));
  if (!tokens.empty()) return join_scopes(tokens);

  if (challenge_scope) add_tokens(tokens, *challenge_scope);
  if (!tokens.empty()) return join_scopes(tokens);

  for (const auto& s : scopes_supported) add_tokens(tokens, s);
  if (!tokens.empty()) return join_scopes(tokens);
  return std::nullopt;
}

std::string union_scopes(std::string_view a, std::string_view b) {
  std::vector<std::string> tokens;
  add_tokens(tokens, a);
  add_tokens(tokens, b);
  return join_scopes(tokens);
}

std::string canonical_resource(const http::url& server) {
  std::string out = server.origin();
  if (server.path != "/") out += server.path;
  if (server.query) {
    out.push_back('?');
    out += *server.query;
  }
  return out;
}

}  // namespace fracta::oauth
