#pragma once
// SPDX-License-Identifier: Apache-2.0
// Scope selection (MCP scope selection strategy), step-up unions, RFC 8707 resource form.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fracta/proto/url.hpp>

namespace fracta::oauth {

/// The `scope` to request: the configured scopes, else the challenge's `scope`, else all of
/// `scopes_supported`, else none (omit the parameter). `offline_access` is dropped from the
/// configured scopes unless `scopes_supported` lists it; fracta never adds a scope of its
/// own. Space-separated, deduplicated. Thread-safe.
[[nodiscard]] std::optional<std::string> select_scope(
    const std::vector<std::string>& configured, std::optional<std::string_view> challenge_scope,
    const std::vector<std::string>& scopes_supported);

/// The scope tokens of a space-separated `scope` (RFC 6749 §3.3), in order, without
/// duplicates. Thread-safe.
[[nodiscard]] std::vector<std::string> split_scopes(std::string_view scope);

/// Tokens joined with single spaces. Thread-safe.
[[nodiscard]] std::string join_scopes(const std::vector<std::string>& tokens);

/// Step-up scope: the scopes of `a` then those of `b` not already present, space-separated.
/// Thread-safe.
[[nodiscard]] std::string union_scopes(std::string_view a, std::string_view b);

/// RFC 8707 canonical resource URI: lower-case scheme and host (as parsed), no userinfo, no
/// fragment, no default port, the path kept as written ("/" alone becomes empty), the query
/// kept. Thread-safe.
[[nodiscard]] std::string canonical_resource(const http::url& server);

}  // namespace fracta::oauth
