// SPDX-License-Identifier: Apache-2.0
// The CLI's answer to a server's form-mode `elicitation/create` request: a terminal dialogue.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace fracta::cli {

/// Shows a form-mode elicitation request (`params_json`: {message, requestedSchema}) on `out`
/// and reads the answers from `in`, one line per field; returns the ElicitResult JSON text:
/// {"action":"accept","content":{...}}, {"action":"decline"} or {"action":"cancel"}.
///
/// Dialogue (docs/cli.md, "Questions from the server"): the message (server text, sanitised),
/// then per property of requestedSchema.properties, in order, an optional indented description
/// line, numbered choices for enums, and the prompt `<title or name>[ (<hints>)][ [<default>]]: `.
/// Hints: `required`, the string format, `y/n`, `integer`/`number` and a range, `1-N` for a
/// choice, `1-N, comma-separated` for a multiple choice. Empty input takes the default (shown
/// in brackets; booleans as y/n, choices by number) or omits an optional field; a required
/// field without a default is asked again. Invalid answers are asked again, at most 3 times in
/// all per field, then the form is cancelled. A line `!decline` declines, `!cancel` cancels;
/// end of input before the first answer cancels, later it declines. A request that cannot be
/// shown (bad JSON, a required field of an unsupported type) declines with a note on `out`.
///
/// Blocking (it reads `in`): never call it on the event loop. Thread-compatible.
[[nodiscard]] std::string answer_elicitation(std::string_view params_json, std::FILE* in,
                                             std::FILE* out);

/// The same form answered without asking, from `answers_json` (a JSON object, `call
/// --answers`): each field takes its answer (read as if typed: "7" or 7, a choice by value or
/// title, an array for a multiple choice), else its default, else is left out when optional.
/// A required field with neither, or an answer that does not fit its field, declines the form
/// with a note on `out`. Does not block.
[[nodiscard]] std::string answer_elicitation_from(std::string_view params_json, std::string_view answers_json,
                                                  std::FILE* out);

}  // namespace fracta::cli
