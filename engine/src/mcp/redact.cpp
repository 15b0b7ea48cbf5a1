// SPDX-License-Identifier: Apache-2.0
// secret_list: remembering sent credentials and replacing them in text.
#include "mcp/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include <sodium.h>

#include <fracta/proto/text.hpp>
#include <fracta/proto/fields.hpp>

namespace fracta::mcp {
namespace {

constexpr std::string_view redaction = "[redacted]";
constexpr std::size_t whole_token_below = 8;

bool word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || u >= 0x80 || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

std::string base64_decoded(std::string_view b64) {
  std::string out(b64.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(), b64.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return {};
  }
  out.resize(len);
  return out;
}

}  // namespace

void secret_list::add(std::string_view value) {
  if (value.empty()) return;
  if (auto it = std::find(values_.begin(), values_.end(), value); it != values_.end()) {
    std::rotate(it, it + 1, values_.end());  // most recent last
    return;
  }
  values_.emplace_back(value);
  if (values_.size() > capacity) values_.erase(values_.begin());
}

void secret_list::remember(const http::request& req) {
  // The protocol's own headers carry no credential; Mcp-Param-* mirror tool arguments.
  static constexpr std::array<std::string_view, 7> protocol = {"content-type", "accept",   "mcp-session-id",
                                                               "mcp-protocol-version", "mcp-method", "mcp-name",
                                                               "last-event-id"};
  for (const auto& h : req.headers) {
    if (std::any_of(protocol.begin(), protocol.end(), [&](std::string_view p) { return http::iequals(h.name, p); }) ||
        http::istarts_with(h.name, "mcp-param-")) {
      continue;
    }
    add(h.value);
    const auto space = h.value.find(' ');
    if (space == std::string::npos) continue;
    const std::string_view scheme = std::string_view(h.value).substr(0, space);
    const std::string_view token = std::string_view(h.value).substr(space + 1);
    add(token);
    if (http::iequals(scheme, "basic")) {
      std::string plain = base64_decoded(token);
      add(plain);
      if (const auto colon = plain.find(':'); colon != std::string::npos) add(std::string_view(plain).substr(colon + 1));
      sodium_memzero(plain.data(), plain.size());
    }
  }
}

std::string secret_list::scrub(std::string_view text) const {
  std::string out(text);
  // Longest first, so that a value containing another is replaced whole.
  std::vector<const std::string*> order;
  for (const auto& v : values_) order.push_back(&v);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
  for (const auto* v : order) {
    const bool whole_only = v->size() < whole_token_below;
    for (auto pos = out.find(*v); pos != std::string::npos; pos = out.find(*v, pos)) {
      const std::size_t end = pos + v->size();
      const bool bounded = (pos == 0 || !word_char(out[pos - 1])) && (end == out.size() || !word_char(out[end]));
      if (whole_only && !bounded) {
        ++pos;
        continue;
      }
      out.replace(pos, v->size(), redaction);
      pos += redaction.size();
    }
  }
  return out;
}

std::string server_text(std::string_view text, const secret_list& sent, std::size_t max_bytes) {
  const std::string whole = text::printable(text, std::numeric_limits<std::size_t>::max());
  return text::printable(sent.scrub(whole), max_bytes);
}

}  // namespace fracta::mcp
