// SPDX-License-Identifier: Apache-2.0
// The gateway's HTTP/1.1 request parser, on Boost.Beast's (header-only; see docs/dependencies.md).
#include "gateway/http_parse.hpp"

#include <strings.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace fracta::gateway {

namespace beast_http = boost::beast::http;

std::optional<std::string_view> http_request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return std::string_view(v);
  }
  return std::nullopt;
}

struct request_parser::impl {
  beast_http::request_parser<beast_http::string_body> parser;
};

request_parser::request_parser(parse_limits limits) : limits_(limits) { reset(); }
request_parser::~request_parser() = default;

void request_parser::reset() {
  impl_ = std::make_unique<impl>();
  impl_->parser.header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
  impl_->parser.body_limit(limits_.body_bytes);
  impl_->parser.eager(true);
  started_ = false;
}

std::size_t request_parser::feed(std::string_view bytes, state& out) {
  std::size_t used = 0;
  out = state::need_more;
  while (used < bytes.size()) {
    boost::beast::error_code ec;
    const std::size_t n = impl_->parser.put(boost::asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (n > 0) started_ = true;
    if (ec == beast_http::error::need_more) break;
    if (ec) {
      out = state::failed;
      if (ec == beast_http::error::header_limit) {
        error_status_ = 431;
        error_reason_ = "the request's header section is over " + std::to_string(limits_.header_bytes) + " bytes";
      } else if (ec == beast_http::error::body_limit) {
        error_status_ = 413;
        error_reason_ = "the request body is over " + std::to_string(limits_.body_bytes) + " bytes";
      } else {
        error_status_ = 400;
        error_reason_ = "the request is not valid HTTP/1.1 (" + ec.message() + ")";
      }
      return used;
    }
    if (impl_->parser.is_done()) {
      out = state::done;
      return used;
    }
    if (n == 0) break;
  }
  return used;
}

http_request request_parser::take() {
  auto msg = impl_->parser.release();
  http_request r;
  r.method = std::string(msg.method_string());
  r.target = std::string(msg.target());
  r.path = r.target.substr(0, r.target.find('?'));
  r.version = msg.version();
  r.keep_alive = msg.keep_alive();
  for (const auto& f : msg) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  r.body = std::move(msg.body());
  reset();
  return r;
}

}  // namespace fracta::gateway
