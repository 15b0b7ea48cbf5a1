// SPDX-License-Identifier: Apache-2.0
// Making text from a server fit to print: no control characters, no terminal escapes.
#pragma once
#include "core/internal.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace fracta::text {

// MERGE: replace with fracta::text::printable from <fracta/proto/text.hpp> (COMMON interface 2).
/// `s` made safe for a terminal or a log line: C0/C1 controls, DEL and ESC sequences dropped,
/// invalid UTF-8 replaced by U+FFFD, whitespace runs collapsed to one space (and trimmed), cut
/// at `max_bytes` (on a character boundary) with "…" appended. Thread-safe.
std::string printable(std::string_view s, std::size_t max_bytes = 300);

}  // namespace fracta::text
