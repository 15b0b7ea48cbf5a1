// SPDX-License-Identifier: Apache-2.0
// The JSON writer and simdjson DOM helpers.
#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace fracta::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD replacement character
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

void writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!stack_.empty() && stack_.back()) throw std::logic_error("json::writer: value without key");
  if (stack_.empty() && !out_.empty()) throw std::logic_error("json::writer: second top-level value");
  if (!first_) out_.push_back(',');
  first_ = false;
}

writer& writer::begin_object() {
  before_value();
  out_.push_back('{');
  stack_.push_back(true);
  first_ = true;
  return *this;
}

writer& writer::end_object() {
  if (stack_.empty() || !stack_.back() || after_key_) throw std::logic_error("json::writer: bad end_object");
  stack_.pop_back();
  out_.push_back('}');
  first_ = false;
  return *this;
}

writer& writer::begin_array() {
  before_value();
  out_.push_back('[');
  stack_.push_back(false);
  first_ = true;
  return *this;
}

writer& writer::end_array() {
  if (stack_.empty() || stack_.back()) throw std::logic_error("json::writer: bad end_array");
  stack_.pop_back();
  out_.push_back(']');
  first_ = false;
  return *this;
}

writer& writer::key(std::string_view k) {
  if (stack_.empty() || !stack_.back() || after_key_) throw std::logic_error("json::writer: key outside object");
  if (!first_) out_.push_back(',');
  first_ = false;
  append_quoted(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

writer& writer::value(std::string_view s) {
  before_value();
  append_quoted(out_, s);
  return *this;
}

writer& writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

writer& writer::value(std::int64_t n) {
  before_value();
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, p);
  return *this;
}

writer& writer::value(std::uint64_t n) {
  before_value();
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, p);
  return *this;
}

writer& writer::value(double d) {
  if (!std::isfinite(d)) return null();  // JSON has no NaN or infinity
  before_value();
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out_.append(buf, p);
  return *this;
}

writer& writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

writer& writer::raw(std::string_view json_text) {
  before_value();
  out_.append(json_text);
  return *this;
}

std::string writer::take() {
  if (!stack_.empty() || after_key_) throw std::logic_error("json::writer: unterminated document");
  std::string r = std::move(out_);
  out_.clear();
  first_ = true;
  return r;
}

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
