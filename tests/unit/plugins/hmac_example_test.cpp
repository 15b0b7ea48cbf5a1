// SPDX-License-Identifier: Apache-2.0
// Specifies the C tutorial plugin (docs/examples/hmac-example): its signature, checked against OpenSSL computed here.
#include "fake_host.hpp"

#include <map>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace {

using namespace fracta::test;

constexpr std::string_view key = "k3y-for-tests";
constexpr std::string_view config = R"({"type":"hmac-example","key":{"env":"HMAC_KEY"}})";
constexpr std::string_view body = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

// The documented scheme, written independently of the plugin.
std::string expected_signature(std::string_view method, std::string_view path, std::string_view date,
                               std::string_view content) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  REQUIRE(EVP_Digest(content.data(), content.size(), digest, &digest_size, EVP_sha256(), nullptr) == 1);
  const std::string to_sign = std::string(method) + "\n" + std::string(path) + "\n" + std::string(date) +
                              "\n" + hex(digest, digest_size);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &mac_size) != nullptr);
  return "v1=" + hex(mac, mac_size);
}

struct hmac_fixture {
  hmac_fixture() {
    host.env["HMAC_KEY"] = std::string(key);
    host.wall_ms = 1'700'000'000'999;  // DATE is whole seconds: 1700000000
  }
  fake_host host;
  const fracta_provider& p = provider("hmac-example");

  // The headers apply() set, by lower-case name.
  std::map<std::string, std::string> signed_request(std::string method, std::string url,
                                                    std::string content) {
    instance inst(p, host, config);
    REQUIRE(inst.status == FRACTA_OK);
    fake_request req(std::move(method), std::move(url), std::move(content));
    collecting_sink err;
    REQUIRE(inst.apply(req, err) == FRACTA_OK);
    CHECK(err.text.empty());
    return req.headers;
  }
};

}  // namespace

TEST_CASE_FIXTURE(hmac_fixture, "apply sets X-Fracta-Date and the v1 HMAC-SHA256 signature") {
  auto headers =
      signed_request("POST", "https://mcp.example.com/mcp?session=1#fragment", std::string(body));
  CHECK(headers.size() == 2);
  CHECK(headers["x-fracta-date"] == "1700000000");
  const std::string expected = expected_signature("POST", "/mcp?session=1", "1700000000", body);
  CHECK(headers["x-fracta-signature"] == expected);
  // The same value from Python's hmac module, so the test does not only agree with itself.
  CHECK(expected == "v1=0e077411202ee9ae7ecfb9fa8e814350cc184169c74bf804ba72c1865a2d3e86");
}

TEST_CASE_FIXTURE(hmac_fixture, "PATH is the request target: \"/\" when the URL has no path") {
  CHECK(signed_request("GET", "https://mcp.example.com", "")["x-fracta-signature"] ==
        "v1=0b582ae4064db9d6716d50db1a9e676871a532b7cc0a772d4616e6d9df3f49a1");
  CHECK(signed_request("GET", "https://mcp.example.com:8443?x=1", "")["x-fracta-signature"] ==
        expected_signature("GET", "/?x=1", "1700000000", ""));
  CHECK(signed_request("DELETE", "http://user@h.example/a/b%20c/?q=1&r=2", "x")["x-fracta-signature"] ==
        expected_signature("DELETE", "/a/b%20c/?q=1&r=2", "1700000000", "x"));
}

TEST_CASE_FIXTURE(hmac_fixture, "a relative URL is refused") {
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  fake_request req("GET", "/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_E_INVALID_ARGUMENT);
  CHECK(err.text.find("not absolute") != std::string::npos);
  CHECK(req.headers.empty());
}

TEST_CASE_FIXTURE(hmac_fixture, "configuration mistakes are CONFIG with a message") {
  SUBCASE("no key") {
    instance inst(p, host, R"({"type":"hmac-example"})");
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text.find("`key`") != std::string::npos);
  }
  SUBCASE("the host's message for an unresolvable secret") {
    host.env.clear();
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK(inst.error.text == "key: environment variable HMAC_KEY is not set");
  }
  SUBCASE("an empty key") {
    host.env["HMAC_KEY"] = "";
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_CONFIG);
    CHECK_FALSE(present(inst.ptr));
  }
  SUBCASE("a host without JSON services") {
    host.table().json_get_raw = nullptr;
    instance inst(p, host, config);
    CHECK(inst.status == FRACTA_E_UNSUPPORTED);
  }
}

TEST_CASE_FIXTURE(hmac_fixture, "the table offers no refresh, and a status without the key") {
  CHECK(p.struct_size == sizeof(fracta_provider));
  CHECK_FALSE(present(p.refresh));
  CHECK_FALSE(present(p.on_challenge));
  CHECK_FALSE(present(p.login));
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);
  const std::string json = inst.status_json();
  CHECK(json == R"({"type":"hmac-example","credential":"key"})");
  CHECK(json.find(key) == std::string::npos);
}
