// SPDX-License-Identifier: Apache-2.0
// Specification of http::client's TLS verification against a throw-away self-signed loopback peer.
#include "http/client.hpp"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <doctest/doctest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <asio/this_coro.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "test_support.hpp"

using asio::awaitable;
using fracta::result;
using fracta::test::run_async;
namespace http = fracta::http;

namespace {

/// A temporary directory holding cert.pem and key.pem: a self-signed certificate for
/// IP 127.0.0.1 made with the OpenSSL API at test time. Removed on destruction.
class self_signed final {
 public:
  self_signed() {
    std::string pattern = (std::filesystem::temp_directory_path() / "fracta-tls-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    REQUIRE(key);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fracta test 127.0.0.1"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                              std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"},
                              std::pair{NID_ext_key_usage, "serverAuth"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      REQUIRE(ext != nullptr);
      X509_add_ext(cert.get(), ext, -1);
      X509_EXTENSION_free(ext);
    }
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

    std::unique_ptr<FILE, decltype(&fclose)> cert_file(fopen(cert_path().c_str(), "w"), &fclose);
    REQUIRE(cert_file);
    REQUIRE(PEM_write_X509(cert_file.get(), cert.get()) == 1);
    std::unique_ptr<FILE, decltype(&fclose)> key_file(fopen(key_path().c_str(), "w"), &fclose);
    REQUIRE(key_file);
    REQUIRE(PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1);
  }
  ~self_signed() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  self_signed(const self_signed&) = delete;
  self_signed& operator=(const self_signed&) = delete;

  std::string cert_path() const { return (dir_ / "cert.pem").string(); }
  std::string key_path() const { return (dir_ / "key.pem").string(); }

 private:
  std::filesystem::path dir_;
};

/// httplib::SSLServer on 127.0.0.1:<ephemeral> serving GET /hello.
class tls_server final {
 public:
  explicit tls_server(const self_signed& cert)
      : server_(cert.cert_path().c_str(), cert.key_path().c_str()) {
    REQUIRE(server_.is_valid());
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello over tls", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~tls_server() {
    server_.stop();
    thread_.join();
  }
  tls_server(const tls_server&) = delete;
  tls_server& operator=(const tls_server&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/hello"; }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

result<http::response> fetch(const std::string& url, http::client_options options) {
  options.http_proxy = options.https_proxy = options.no_proxy = "";
  return run_async([&]() -> awaitable<result<http::response>> {
    auto ex = co_await asio::this_coro::executor;
    http::client c(ex, options);
    http::request req;
    req.url = url;
    req.headers.push_back({"Authorization", "Bearer HEADERSECRET"});
    co_return co_await c.send(std::move(req));
  });
}

}  // namespace

TEST_CASE("TLS: a self-signed peer fails verification against the default trust store") {
  self_signed cert;
  tls_server server(cert);
  auto r = fetch(server.url(), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == http::errc::tls_failed);
  CHECK(r.err().message.starts_with("GET https://127.0.0.1:"));
  CHECK(r.err().message.find("SECRET") == std::string::npos);
}

TEST_CASE("TLS: ca_bundle pointing at the peer's certificate makes verification succeed") {
  self_signed cert;
  tls_server server(cert);
  http::client_options options;
  options.ca_bundle = cert.cert_path();
  auto r = fetch(server.url(), options);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "hello over tls");
}

TEST_CASE(
    "TLS: the host name is verified too (a certificate for 127.0.0.1 does not cover localhost)") {
  self_signed cert;
  tls_server server(cert);
  http::client_options options;
  options.ca_bundle = cert.cert_path();
  auto url = server.url();
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  auto r = fetch(url, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == http::errc::tls_failed);
}

TEST_CASE("TLS: verify_tls = false (tests only) accepts the self-signed peer") {
  self_signed cert;
  tls_server server(cert);
  http::client_options options;
  options.verify_tls = false;
  auto r = fetch(server.url(), options);
  REQUIRE(r.ok());
  CHECK(r->body == "hello over tls");
}
