// SPDX-License-Identifier: Apache-2.0
// Incremental Server-Sent Events decoder: line splitting across chunks, fields, dispatch.
#include "http/sse.hpp"

#include <algorithm>
#include <limits>

#include <fracta/proto/text.hpp>

namespace fracta::http {
namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";

bool all_ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

std::vector<sse_event> sse_decoder::feed(std::string_view chunk) {
  std::vector<sse_event> out;
  while (!bom_done_ && !chunk.empty()) {
    if (chunk.front() == bom[bom_seen_]) {
      chunk.remove_prefix(1);
      if (++bom_seen_ == bom.size()) bom_done_ = true;
    } else {
      // Not a BOM after all: the bytes matched so far are ordinary stream content.
      line_.append(bom.substr(0, bom_seen_));
      bom_done_ = true;
    }
  }
  while (!chunk.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (chunk.front() == '\n') {
        chunk.remove_prefix(1);
        continue;
      }
    }
    auto end = chunk.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(chunk);
      break;
    }
    line_.append(chunk.substr(0, end));
    after_cr_ = chunk[end] == '\r';
    chunk.remove_prefix(end + 1);
    if (all_ascii(line_)) {
      process_line(line_, out);
    } else {
      process_line(text::replace_invalid_utf8(line_), out);
    }
    line_.clear();
  }
  return out;
}

void sse_decoder::reset() noexcept {
  line_.clear();
  data_.clear();
  event_type_.clear();
  bom_seen_ = 0;
  bom_done_ = false;
  after_cr_ = false;
}

void sse_decoder::process_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_ += '\n';
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    if (value.empty() ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return;
    std::uint64_t ms = 0;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (char c : value) {
      auto digit = static_cast<std::uint64_t>(c - '0');
      if (ms > (max - digit) / 10) return;  // does not fit: ignored
      ms = ms * 10 + digit;
    }
    retry_ms_ = ms;
  }
  // Any other field is ignored.
}

void sse_decoder::dispatch(std::vector<sse_event>& out) {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    event_type_.clear();
    return;
  }
  data_.pop_back();  // the trailing "\n"
  sse_event event;
  event.type = event_type_.empty() ? std::string("message") : std::move(event_type_);
  event.data = std::move(data_);
  event.id = last_event_id_;
  out.push_back(std::move(event));
  data_.clear();
  event_type_.clear();
}

}  // namespace fracta::http
