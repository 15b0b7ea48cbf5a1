// SPDX-License-Identifier: Apache-2.0
// JSON read helpers over simdjson's DOM: parse with a message, typed field lookups.
#include <fracta/proto/json.hpp>

namespace fracta::json {

std::string parse(simdjson::dom::parser& parser, std::string_view text, simdjson::dom::element& doc) {
  auto r = parser.parse(simdjson::padded_string(text));
  if (r.error()) return std::string(simdjson::error_message(r.error()));
  doc = r.value_unsafe();
  return {};
}

std::optional<simdjson::dom::element> get(simdjson::dom::element obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  const simdjson::dom::object o = obj.get_object().value_unsafe();
  auto r = o[key];
  if (r.error()) return std::nullopt;
  return r.value_unsafe();
}

std::optional<std::string_view> get_string(simdjson::dom::element obj, std::string_view key) {
  auto e = get(obj, key);
  if (!e || !e->is_string()) return std::nullopt;
  return e->get_string().value_unsafe();
}

std::optional<std::int64_t> get_int(simdjson::dom::element obj, std::string_view key) {
  auto e = get(obj, key);
  if (!e) return std::nullopt;
  if (e->is_int64()) return e->get_int64().value_unsafe();
  if (e->is_uint64()) return std::nullopt;  // out of range
  return std::nullopt;
}

std::optional<bool> get_bool(simdjson::dom::element obj, std::string_view key) {
  auto e = get(obj, key);
  if (!e || !e->is_bool()) return std::nullopt;
  return e->get_bool().value_unsafe();
}

std::string to_string(simdjson::dom::element e) { return simdjson::minify(e); }

}  // namespace fracta::json
