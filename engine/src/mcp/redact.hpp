// SPDX-License-Identifier: Apache-2.0
// Keeping credentials out of what a session prints: the values it sent, and server text made
// printable before it is quoted.
#pragma once
#include "core/internal.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"

namespace fracta::mcp {

/// Credential values a session has sent (or received, like its session id). Actor-bound.
///
/// The rule for scrub(): a value of 8 bytes or more is replaced wherever it appears; a shorter
/// one (1 to 7 bytes) only where it stands as a whole token, i.e. not next to a letter, digit
/// or one of `-._~+/`. Short values as plain substrings would mangle ordinary words ("bad"
/// in "badly") while every echo that quotes the value as such ("token bad is revoked",
/// "key=bad") is still caught; long values are caught even when glued to other text.
class secret_list final {
 public:
  /// Keeps at most this many values (the most recent): a long-lived session rotates tokens.
  static constexpr std::size_t capacity = 64;

  /// Every header value the request carried except the protocol's own (the credential and any
  /// remote.headers, which may hold keys too), the token after an auth scheme, and for Basic
  /// the decoded user:password and password.
  void remember(const http::request& req);
  /// One more value (empty values are ignored, duplicates kept once).
  void add(std::string_view value);
  /// `text` with every value replaced by "[redacted]" (see the class comment).
  [[nodiscard]] std::string scrub(std::string_view text) const;

 private:
  std::vector<std::string> values_;
};

/// Server-controlled text ready for an error message: made printable, scrubbed of every
/// value in `sent` (before cutting, so a value across the cut is still caught), then cut to
/// `max_bytes`.
[[nodiscard]] std::string server_text(std::string_view text, const secret_list& sent, std::size_t max_bytes = 300);

}  // namespace fracta::mcp
