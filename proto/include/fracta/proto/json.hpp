// SPDX-License-Identifier: Apache-2.0
// JSON read helpers over simdjson's DOM, beside the writer (fracta/json_writer.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include <fracta/json_writer.hpp>

namespace fracta::json {

/// Parses a document into `doc` (kept alive by the caller's parser). Returns an error message
/// on failure, empty on success.
[[nodiscard]] std::string parse(simdjson::dom::parser& parser, std::string_view text,
                                simdjson::dom::element& doc);

/// Field helpers over a DOM object: absent or wrong type → nullopt.
std::optional<std::string_view> get_string(simdjson::dom::element obj, std::string_view key);
std::optional<std::int64_t> get_int(simdjson::dom::element obj, std::string_view key);
std::optional<bool> get_bool(simdjson::dom::element obj, std::string_view key);
std::optional<simdjson::dom::element> get(simdjson::dom::element obj, std::string_view key);

/// Minified serialisation of an element (valid JSON).
std::string to_string(simdjson::dom::element e);

}  // namespace fracta::json
