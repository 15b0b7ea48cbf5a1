// SPDX-License-Identifier: Apache-2.0
// The async HTTP client on the io loop: libcurl's multi-socket interface driven by Asio.
#pragma once
#include "core/internal.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <fracta/proto/fields.hpp>

#include "fracta/result.hpp"
#include "http/egress.hpp"

namespace fracta::http {

/// Case-insensitive lookup of the first header called `name`.
std::optional<std::string_view> find_header(const std::vector<header>& headers, std::string_view name);

struct request {
  std::string method = "GET";
  std::string url;
  std::vector<header> headers;
  std::string body;
  /// Whole-exchange deadline (connect + send + receive).
  std::chrono::milliseconds timeout{30'000};
  /// Responses whose body grows past this fail with errc::response_too_large (so do
  /// responses with more than 100 header fields or 64 KiB of header lines).
  std::size_t max_response_bytes = 16u << 20;
  /// Destinations this request may connect to; a refused one fails with errc::egress_refused
  /// before anything is sent. A proxy the user configured is not subject to it.
  egress_policy egress{};
  /// Optional: called on the client's internal strand for each
  /// body chunk as it arrives (the body is still accumulated in response::body). Must not block.
  std::function<void(std::string_view)> on_body_chunk;
  /// Optional: called on the client's internal strand after each body chunk (after
  /// on_body_chunk), with that chunk. Returning true ends the exchange at once, as a success:
  /// the response holds the status, headers and the body received so far. For streams (SSE)
  /// whose answer arrives before the server closes them. Must not block.
  std::function<bool(std::string_view)> complete_when;
  /// Optional: called on the client's internal strand once the final response's headers have
  /// arrived, with its status and header fields, before any of its body. Must not block.
  std::function<void(long status, const std::vector<header>& headers)> on_headers;
  /// True: the body is handed to on_body_chunk only, never kept in response::body, and
  /// max_response_bytes does not apply (a relayed stream; the timeout still bounds it).
  bool discard_body = false;
};

struct response {
  long status = 0;
  std::vector<http::header> headers;  // in arrival order, final response only (no 1xx / proxy CONNECT)
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

/// Transport-level failures (an HTTP status is never an error here).
enum class errc {
  timeout = 1,
  cancelled,
  response_too_large,
  connect_failed,   // DNS, refused, unreachable, proxy
  tls_failed,       // certificate verification, handshake
  bad_url,
  send_failed,
  receive_failed,
  internal,
  egress_refused,  // the destination address is of a class the request's egress policy refuses
};
const std::error_category& category() noexcept;
std::error_code make_error_code(errc e) noexcept;

struct client_options {
  /// PEM bundle used instead of the system trust store when non-empty.
  std::string ca_bundle;
  /// Only for tests against self-signed loopback peers; never exposed in config.
  bool verify_tls = true;
  /// Proxy settings; when unset, read from the environment at construction:
  /// http_proxy/HTTP_PROXY for http URLs, https_proxy/HTTPS_PROXY for https URLs,
  /// no_proxy/NO_PROXY as the exclusion list.
  std::optional<std::string> http_proxy, https_proxy, no_proxy;
  std::string user_agent = "fracta/" FRACTA_VERSION;
};

/// An HTTP client bound to one io_context. Thread-safe: request() may be called from any
/// thread or strand; curl is only ever touched on the client's internal strand, and the
/// completion resumes the caller on its own executor. Cancellation of the awaiting coroutine
/// (asio cancellation slot, terminal/partial) aborts the transfer and yields errc::cancelled.
class client final {
 public:
  explicit client(asio::any_io_executor ex, client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Performs one exchange. Errors are transport errors; any HTTP status is a response.
  asio::awaitable<result<response>> send(request req);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace fracta::http

template <>
struct std::is_error_code_enum<fracta::http::errc> : std::true_type {};
