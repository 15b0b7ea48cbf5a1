// SPDX-License-Identifier: Apache-2.0
// One HTTP exchange of the client: its state, the curl callbacks that fill its response, and how
// its failures are classified. Private to http/client.cpp and http/transfer.cpp.
#pragma once
#include "core/internal.hpp"

#include <curl/curl.h>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/client.hpp"

namespace fracta::http::detail {

/// A type-erased, move-only completion handler for void(result<response>).
class completion {
 public:
  virtual ~completion() = default;
  /// Posts the result to the handler's associated executor. Called once, on the strand.
  virtual void complete(result<response> r) = 0;
};

template <class Handler>
class completion_for final : public completion {
 public:
  completion_for(Handler handler, const asio::any_io_executor& fallback)
      : handler_(std::move(handler)),
        work_(asio::prefer(asio::get_associated_executor(handler_, fallback),
                           asio::execution::outstanding_work.tracked)) {}

  void complete(result<response> r) override {
    auto ex = std::move(work_);
    asio::post(ex, [handler = std::move(handler_), r = std::move(r)]() mutable {
      std::move(handler)(std::move(r));
    });
  }

 private:
  Handler handler_;
  asio::any_io_executor work_;  // keeps the caller's context alive until we complete
};

// Caps on what a response's header section may hold (interim responses included in the bytes).
constexpr std::size_t max_header_fields = 100;
constexpr std::size_t max_header_bytes = 64 * 1024;

/// One exchange in flight. The client's table owns it; curl's callbacks get a pointer to it.
struct transfer {
  std::uint64_t id = 0;
  request req;
  void* owner = nullptr;                  // the client::impl that runs it (for the socket callbacks)
  const proxy_endpoint* proxy = nullptr;  // the proxy this request goes through, if any
  const std::string* proxy_shown = nullptr;  // that proxy for messages (the client's; empty: none)
  std::string refused;                    // why the egress policy refused a connection
  std::string what;  // "METHOD origin/path": safe for messages
  std::unique_ptr<completion> done;
  std::shared_ptr<std::atomic<bool>> cancel_requested = std::make_shared<std::atomic<bool>>(false);
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  response resp;
  bool length_checked = false;
  bool too_large = false;
  bool headers_too_large = false;
  std::size_t header_bytes = 0;
  bool callback_failed = false;
  bool completed_early = false;
  bool headers_reported = false;  // on_headers was called  // complete_when said the body holds what the caller needs
  char errbuf[CURL_ERROR_SIZE] = {};

  transfer() = default;
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;
  ~transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }

  error fail(errc code, std::string_view reason) const {
    return error{make_error_code(code), what + ": " + std::string(reason)};
  }
};

/// CURLOPT_HEADERFUNCTION: collects the final response's header fields, within the caps.
size_t on_header(char* data, size_t size, size_t count, void* userp);
/// CURLOPT_WRITEFUNCTION: accumulates the body within max_response_bytes.
size_t on_body(char* data, size_t size, size_t count, void* userp);
/// The errc for a failed curl transfer.
errc errc_for(CURLcode code) noexcept;
/// The URL text up to its query or fragment, without userinfo: for messages about URLs that
/// did not parse.
std::string redact_unparsed(std::string_view text);
/// `s` without leading blanks and trailing blanks or line ends.
std::string_view trim_ows(std::string_view s) noexcept;

}  // namespace fracta::http::detail
