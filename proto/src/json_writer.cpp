// SPDX-License-Identifier: Apache-2.0
// The JSON writer: structure checks, escaping, UTF-8 repair.
#include <fracta/json_writer.hpp>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include <fracta/proto/text.hpp>

namespace fracta::json {

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      text::append_escaped_ascii(out, c, false);
      ++i;
      continue;
    }
    const text::utf8_step step = text::utf8_next(s.substr(i));
    out.append(step.valid ? s.substr(i, step.size) : std::string_view("\xEF\xBF\xBD"));  // U+FFFD
    i += step.size;
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

writer& writer::open(char bracket, bool is_object) {
  before_value();
  out_.push_back(bracket);
  stack_.push_back(is_object);
  first_ = true;
  return *this;
}

writer& writer::close(char bracket, bool is_object, const char* misuse) {
  if (stack_.empty() || stack_.back() != is_object || after_key_) throw std::logic_error(misuse);
  stack_.pop_back();
  out_.push_back(bracket);
  first_ = false;
  return *this;
}

writer& writer::begin_object() { return open('{', true); }
writer& writer::end_object() { return close('}', true, "json::writer: bad end_object"); }
writer& writer::begin_array() { return open('[', false); }
writer& writer::end_array() { return close(']', false, "json::writer: bad end_array"); }

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

namespace {
// Appends a number in its shortest round-trip form.
template <class Number>
void append_number(std::string& out, Number n) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, p);
}
}  // namespace

writer& writer::value(std::int64_t n) {
  before_value();
  append_number(out_, n);
  return *this;
}

writer& writer::value(std::uint64_t n) {
  before_value();
  append_number(out_, n);
  return *this;
}

writer& writer::value(double d) {
  if (!std::isfinite(d)) return null();  // JSON has no NaN or infinity
  before_value();
  append_number(out_, d);
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

}  // namespace fracta::json
