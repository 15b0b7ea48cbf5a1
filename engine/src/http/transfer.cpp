// SPDX-License-Identifier: Apache-2.0
// One HTTP exchange: the curl callbacks that fill its response (with the body and header caps),
// the classification of curl failures, and the fracta.http error category.
#include "http/transfer.hpp"

#include <string>

#include <fracta/proto/error_category.hpp>

namespace fracta::http {
namespace {

constexpr table_category<errc>::entry messages[] = {
    {errc::timeout, "the HTTP exchange timed out"},
    {errc::cancelled, "the HTTP exchange was cancelled"},
    {errc::response_too_large, "the HTTP response is larger than allowed"},
    {errc::connect_failed, "could not connect (DNS, refused, unreachable or proxy)"},
    {errc::tls_failed, "TLS handshake or certificate verification failed"},
    {errc::bad_url, "the URL is not a valid absolute http(s) URL"},
    {errc::send_failed, "sending the HTTP request failed"},
    {errc::receive_failed, "receiving the HTTP response failed"},
    {errc::internal, "internal HTTP client error"},
    {errc::egress_refused, "the destination address is not allowed for this request"},
};

}  // namespace

const std::error_category& category() noexcept {
  static const table_category<errc> instance("fracta.http", messages, "unknown HTTP client error");
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

namespace detail {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string redact_unparsed(std::string_view text) {
  text = text.substr(0, text.find_first_of("?#"));
  std::string out(text);
  if (auto scheme_end = out.find("://"); scheme_end != std::string::npos) {
    auto authority_end = out.find('/', scheme_end + 3);
    auto at = out.rfind('@', authority_end);
    if (at != std::string::npos && at > scheme_end) out.erase(scheme_end + 3, at - scheme_end - 2);
  }
  return out;
}

errc errc_for(CURLcode code) noexcept {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return errc::timeout;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return errc::bad_url;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
      return errc::connect_failed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return errc::tls_failed;
    case CURLE_SEND_ERROR:
    case CURLE_READ_ERROR:
    case CURLE_SEND_FAIL_REWIND:
      return errc::send_failed;
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP_RETURNED_ERROR:
      return errc::receive_failed;
    default:
      return errc::internal;
  }
}

size_t on_header(char* data, size_t size, size_t count, void* userp) {
  auto* t = static_cast<transfer*>(userp);
  const size_t total = size * count;
  std::string_view line(data, total);
  t->header_bytes += total;
  if (t->header_bytes > max_header_bytes) {
    t->headers_too_large = true;
    return 0;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->resp.headers.clear();  // a new response (1xx, proxy CONNECT, then the final one)
    return total;
  }
  if (line.empty()) {
    // The end of a header block: the final response's, once its status is 200 or more.
    long status = 0;
    if (t->req.on_headers && !t->headers_reported &&
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200) {
      t->headers_reported = true;
      t->req.on_headers(status, t->resp.headers);
    }
    return total;
  }
  auto& headers = t->resp.headers;
  if ((line.front() == ' ' || line.front() == '\t') && !headers.empty()) {
    // obs-fold continuation line
    auto more = trim_ows(line);
    if (!more.empty()) {
      headers.back().value += ' ';
      headers.back().value.append(more);
    }
    return total;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return total;  // not a header: ignore
  if (headers.size() >= max_header_fields) {
    t->headers_too_large = true;
    return 0;
  }
  headers.push_back(header{std::string(trim_ows(line.substr(0, colon))),
                           std::string(trim_ows(line.substr(colon + 1)))});
  return total;
}

size_t on_body(char* data, size_t size, size_t count, void* userp) {
  auto* t = static_cast<transfer*>(userp);
  const size_t total = size * count;
  const size_t cap = t->req.max_response_bytes;
  if (t->req.discard_body) {
    if (!t->req.on_body_chunk) return total;
    try {
      t->req.on_body_chunk(std::string_view(data, total));
    } catch (...) {
      t->callback_failed = true;
      return 0;
    }
    return total;
  }
  if (!t->length_checked) {
    // Refuse before reading further when the server announces a body over the cap.
    t->length_checked = true;
    curl_off_t length = -1;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
        length > 0 && static_cast<std::uint64_t>(length) > cap) {
      t->too_large = true;
      return 0;
    }
  }
  if (total > cap - t->resp.body.size()) {
    t->too_large = true;
    return 0;
  }
  t->resp.body.append(data, total);
  if (t->req.on_body_chunk) {
    try {
      t->req.on_body_chunk(std::string_view(data, total));
    } catch (...) {
      t->callback_failed = true;
      return 0;
    }
  }
  if (t->req.complete_when) {
    try {
      if (t->req.complete_when(std::string_view(data, total))) {
        t->completed_early = true;
        return 0;  // curl ends the transfer with CURLE_WRITE_ERROR; finish() calls it a success
      }
    } catch (...) {
      t->callback_failed = true;
      return 0;
    }
  }
  return total;
}

}  // namespace detail
}  // namespace fracta::http
