// SPDX-License-Identifier: Apache-2.0
// private_key_jwt assertions: real keys, real signatures verified with OpenSSL, key errors.
#include "jwt.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>  // doctest prints std::error_code through it
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fracta/proto/json.hpp>
#include <fracta/proto/base64.hpp>
#include "fracta/errors.hpp"

using namespace fracta::oauth;
using fracta::text::base64url_encode;

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_free>;

pkey_ptr make_rsa(std::size_t bits) {
  pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  REQUIRE(k);
  return k;
}

pkey_ptr make_ec(const char* curve) {
  pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  REQUIRE(k);
  return k;
}

pkey_ptr make_raw(const char* type) {
  pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  REQUIRE(k);
  return k;
}

// RSA keygen is the slow part: one 2048-bit key for the whole file.
EVP_PKEY* rsa2048() {
  static const pkey_ptr key = make_rsa(2048);
  return key.get();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

enum class pem_form { pkcs8, traditional, pkcs8_encrypted, public_key };

std::string to_pem(EVP_PKEY* key, pem_form form = pem_form::pkcs8) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  REQUIRE(bio);
  int ok = 0;
  switch (form) {
    case pem_form::pkcs8:
      ok = PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case pem_form::traditional:
      ok = PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                nullptr);
      break;
    case pem_form::pkcs8_encrypted: {
      char pass[] = "passphrase";
      ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), pass,
                                         static_cast<int>(sizeof pass - 1), nullptr, nullptr);
      break;
    }
    case pem_form::public_key:
      ok = PEM_write_bio_PUBKEY(bio.get(), key);
      break;
  }
  REQUIRE(ok == 1);
  return bio_text(bio.get());
}

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict unpadded base64url decoding (RFC 7515 §2); fails the test on bad input.
std::string b64url_decode(std::string_view in) {
  REQUIRE(in.size() % 4 != 1);
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = b64url_value(c);
    REQUIRE(v >= 0);
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  CHECK((acc & ((1U << bits) - 1)) == 0);  // no stray bits in the last character
  return out;
}

struct jws_parts {
  std::string header_b64, claims_b64, sig_b64;
  std::string header, claims, sig;
  std::string signing_input() const { return header_b64 + "." + claims_b64; }
};

jws_parts split(std::string_view jws) {
  const auto d1 = jws.find('.');
  REQUIRE(d1 != std::string_view::npos);
  const auto d2 = jws.find('.', d1 + 1);
  REQUIRE(d2 != std::string_view::npos);
  REQUIRE(jws.find('.', d2 + 1) == std::string_view::npos);
  jws_parts p;
  p.header_b64 = std::string(jws.substr(0, d1));
  p.claims_b64 = std::string(jws.substr(d1 + 1, d2 - d1 - 1));
  p.sig_b64 = std::string(jws.substr(d2 + 1));
  p.header = b64url_decode(p.header_b64);
  p.claims = b64url_decode(p.claims_b64);
  p.sig = b64url_decode(p.sig_b64);
  return p;
}

// JOSE R||S → DER ECDSA-Sig-Value.
std::string jose_to_der(std::string_view raw) {
  REQUIRE(raw.size() % 2 == 0);
  const std::size_t n = raw.size() / 2;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  REQUIRE(sig);
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(n), nullptr);
  BIGNUM* s = BN_bin2bn(p + n, static_cast<int>(n), nullptr);
  REQUIRE(r != nullptr);
  REQUIRE(s != nullptr);
  REQUIRE(ECDSA_SIG_set0(sig.get(), r, s) == 1);  // takes ownership of r and s
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  REQUIRE(len > 0);
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  REQUIRE(i2d_ECDSA_SIG(sig.get(), &out) == len);
  return der;
}

// Verifies `sig` (JOSE form) over `input` with the public half of `key` under JOSE `alg`.
bool verify(EVP_PKEY* key, std::string_view alg, std::string_view input, std::string sig) {
  const EVP_MD* md = nullptr;
  bool pss = false;
  bool ecdsa = false;
  if (alg == "RS256" || alg == "PS256" || alg == "ES256") md = EVP_sha256();
  if (alg == "RS384" || alg == "PS384" || alg == "ES384") md = EVP_sha384();
  if (alg == "RS512" || alg == "PS512" || alg == "ES512") md = EVP_sha512();
  if (alg.starts_with("PS")) pss = true;
  if (alg.starts_with("ES")) ecdsa = true;
  if (ecdsa) sig = jose_to_der(sig);

  md_ctx_ptr ctx(EVP_MD_CTX_new());
  REQUIRE(ctx);
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) == 1);
  if (pss) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1);
    // Insist on the RFC 7518 §3.5 salt length rather than auto-detecting it.
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
  }
  const int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                                  sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
                                  input.size());
  ERR_clear_error();
  return rc == 1;
}

client_assertion_params params(const std::string& pem, std::string_view alg = "") {
  client_assertion_params p;
  p.private_key_pem = pem;
  p.algorithm = alg;
  p.key_id = "key-1";
  p.client_id = "client-abc";
  p.audience = "https://as.example.com/token";
  p.now_unix_s = 1700000000;
  p.lifetime_s = 60;
  return p;
}

std::string header_alg(const jws_parts& parts) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(fracta::json::parse(parser, parts.header, doc).empty());
  auto alg = fracta::json::get_string(doc, "alg");
  REQUIRE(alg);
  return std::string(*alg);
}

// Makes an assertion, checks its shape and verifies its signature; returns the parts.
jws_parts sign_and_verify(EVP_PKEY* key, const std::string& pem, std::string_view requested,
                          std::string_view expected_alg, std::size_t expected_sig_size = 0) {
  auto r = client_assertion(params(pem, requested));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  const jws_parts parts = split(*r);
  CHECK(header_alg(parts) == expected_alg);
  if (expected_sig_size != 0) CHECK(parts.sig.size() == expected_sig_size);
  CHECK(verify(key, expected_alg, parts.signing_input(), parts.sig));
  return parts;
}

}  // namespace

TEST_CASE("client_assertion_type is the RFC 7523 URN") {
  CHECK(client_assertion_type == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
}

TEST_CASE("RSA keys sign RS256 by default and every RS/PS algorithm verifies") {
  EVP_PKEY* key = rsa2048();
  const std::string pkcs8 = to_pem(key);
  const std::string traditional = to_pem(key, pem_form::traditional);
  REQUIRE(pkcs8.find("BEGIN PRIVATE KEY") != std::string::npos);
  REQUIRE(traditional.find("BEGIN RSA PRIVATE KEY") != std::string::npos);

  sign_and_verify(key, pkcs8, "", "RS256", 256);
  sign_and_verify(key, traditional, "", "RS256", 256);
  for (std::string_view alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    CAPTURE(alg);
    sign_and_verify(key, pkcs8, alg, alg, 256);
  }
}

TEST_CASE("EC keys pick ES256/ES384/ES512 from the curve, signatures are fixed-size R||S") {
  struct curve_case {
    const char* curve;
    std::string_view alg;
    std::size_t sig_size;
  };
  for (const curve_case& c : {curve_case{"P-256", "ES256", 64}, curve_case{"P-384", "ES384", 96},
                              curve_case{"P-521", "ES512", 132}}) {
    CAPTURE(c.curve);
    const pkey_ptr key = make_ec(c.curve);
    const std::string pkcs8 = to_pem(key.get());
    const std::string traditional = to_pem(key.get(), pem_form::traditional);
    REQUIRE(traditional.find("BEGIN EC PRIVATE KEY") != std::string::npos);
    sign_and_verify(key.get(), pkcs8, "", c.alg, c.sig_size);
    sign_and_verify(key.get(), traditional, "", c.alg, c.sig_size);
    sign_and_verify(key.get(), pkcs8, c.alg, c.alg, c.sig_size);
  }
}

TEST_CASE("ES256 stays fixed-size and verifiable when R or S has leading zero bytes") {
  // About 1 in 128 signatures has a short R or S; 300 signatures make a padding bug show.
  const pkey_ptr key = make_ec("P-256");
  const std::string pem = to_pem(key.get());
  for (int i = 0; i < 300; ++i) sign_and_verify(key.get(), pem, "ES256", "ES256", 64);
}

TEST_CASE("an EC PARAMETERS block before the key (openssl ecparam -genkey) is skipped") {
  const pkey_ptr key = make_ec("P-256");
  bio_ptr bio(BIO_new(BIO_s_mem()));
  REQUIRE(bio);
  REQUIRE(PEM_write_bio_Parameters(bio.get(), key.get()) == 1);
  const std::string pem = bio_text(bio.get()) + to_pem(key.get(), pem_form::traditional);
  REQUIRE(pem.find("BEGIN EC PARAMETERS") != std::string::npos);
  sign_and_verify(key.get(), pem, "", "ES256", 64);
}

TEST_CASE("Ed25519 keys sign EdDSA") {
  const pkey_ptr key = make_raw("ED25519");
  const std::string pem = to_pem(key.get());
  sign_and_verify(key.get(), pem, "", "EdDSA", 64);
  sign_and_verify(key.get(), pem, "EdDSA", "EdDSA", 64);
}

TEST_CASE("Ed448 keys sign EdDSA") {
  const pkey_ptr key = make_raw("ED448");
  sign_and_verify(key.get(), to_pem(key.get()), "", "EdDSA", 114);
}

TEST_CASE("header and claims carry exactly the RFC 7523 fields") {
  const pkey_ptr key = make_ec("P-256");
  const std::string pem = to_pem(key.get());

  auto p = params(pem);
  p.client_id = "client \"quoted\" \\ id";  // the JSON writer escapes it
  p.lifetime_s = 300;
  auto r = client_assertion(p);
  REQUIRE(r.ok());
  const jws_parts parts = split(*r);
  CHECK(parts.header == R"({"alg":"ES256","typ":"JWT","kid":"key-1"})");

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(fracta::json::parse(parser, parts.claims, doc).empty());
  CHECK(fracta::json::get_string(doc, "iss") == std::optional<std::string_view>(p.client_id));
  CHECK(fracta::json::get_string(doc, "sub") == std::optional<std::string_view>(p.client_id));
  CHECK(fracta::json::get_string(doc, "aud") ==
        std::optional<std::string_view>("https://as.example.com/token"));
  CHECK(fracta::json::get_int(doc, "iat") == std::optional<std::int64_t>(1700000000));
  CHECK(fracta::json::get_int(doc, "exp") == std::optional<std::int64_t>(1700000300));
  const auto jti = fracta::json::get_string(doc, "jti");
  REQUIRE(jti);
  CHECK(jti->size() == 22);
  CHECK(b64url_decode(*jti).size() == 16);
  simdjson::dom::object obj;
  REQUIRE(doc.get(obj) == simdjson::SUCCESS);
  CHECK(obj.size() == 6);
  CHECK(verify(key.get(), "ES256", parts.signing_input(), parts.sig));

  SUBCASE("no kid without a key id; default lifetime is 60 s") {
    auto q = params(pem);
    q.key_id = "";
    auto r2 = client_assertion(q);
    REQUIRE(r2.ok());
    const jws_parts parts2 = split(*r2);
    CHECK(parts2.header == R"({"alg":"ES256","typ":"JWT"})");
    simdjson::dom::parser parser2;
    simdjson::dom::element doc2;
    REQUIRE(fracta::json::parse(parser2, parts2.claims, doc2).empty());
    CHECK(fracta::json::get_int(doc2, "exp") == std::optional<std::int64_t>(1700000060));
  }
}

TEST_CASE("a tampered payload or signature fails verification") {
  for (int which = 0; which < 3; ++which) {
    CAPTURE(which);
    pkey_ptr owned;
    EVP_PKEY* key = nullptr;
    std::string_view alg;
    if (which == 0) {
      key = rsa2048();
      alg = "RS256";
    } else if (which == 1) {
      owned = make_ec("P-256");
      key = owned.get();
      alg = "ES256";
    } else {
      owned = make_raw("ED25519");
      key = owned.get();
      alg = "EdDSA";
    }
    const jws_parts parts = sign_and_verify(key, to_pem(key), "", alg);

    std::string claims = parts.claims;
    const auto at = claims.find("client-abc");
    REQUIRE(at != std::string::npos);
    claims.replace(at, 10, "client-xyz");
    const std::string forged = parts.header_b64 + "." + base64url_encode(claims);
    CHECK_FALSE(verify(key, alg, forged, parts.sig));

    std::string bad_sig = parts.sig;
    bad_sig[bad_sig.size() / 2] = static_cast<char>(bad_sig[bad_sig.size() / 2] ^ 0x01);
    CHECK_FALSE(verify(key, alg, parts.signing_input(), bad_sig));
  }
}

TEST_CASE("an algorithm that does not fit the key is a config error") {
  const std::string rsa = to_pem(rsa2048());
  const pkey_ptr p256 = make_ec("P-256");
  const std::string ec = to_pem(p256.get());
  const pkey_ptr ed = make_raw("ED25519");
  const std::string eddsa = to_pem(ed.get());

  struct mismatch {
    const std::string* pem;
    std::string_view alg;
  };
  for (const mismatch& m : {mismatch{&rsa, "ES256"}, mismatch{&rsa, "EdDSA"},
                            mismatch{&ec, "RS256"}, mismatch{&ec, "PS256"},
                            mismatch{&ec, "ES384"}, mismatch{&ec, "ES512"},
                            mismatch{&ec, "EdDSA"}, mismatch{&eddsa, "RS256"},
                            mismatch{&eddsa, "ES256"}, mismatch{&rsa, "HS256"},
                            mismatch{&rsa, "none"}, mismatch{&rsa, "rs256"},
                            mismatch{&ec, "es256"}}) {
    CAPTURE(m.alg);
    auto r = client_assertion(params(*m.pem, m.alg));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
    CHECK(r.err().message.find(m.alg) != std::string::npos);
  }
}

TEST_CASE("unreadable keys are config errors whose messages never quote the key") {
  const std::string real = to_pem(rsa2048());
  // Body lines of the real key (and of the garbage) must not show up in any message.
  auto body_lines = [](const std::string& pem) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < pem.size()) {
      auto end = pem.find('\n', start);
      if (end == std::string::npos) end = pem.size();
      std::string line = pem.substr(start, end - start);
      if (!line.empty() && line.find("-----") == std::string::npos) lines.push_back(line);
      start = end + 1;
    }
    return lines;
  };
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\n"
      "TUlJRXZnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2d3Z2dTa0FnRUFBb0lCQVFD\n"
      "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n"
      "-----END PRIVATE KEY-----\n";
  const std::string truncated = real.substr(0, real.size() / 2) + "\n-----END PRIVATE KEY-----\n";
  std::string corrupted = real;
  corrupted[corrupted.size() / 2] = corrupted[corrupted.size() / 2] == 'A' ? 'B' : 'A';
  const std::string not_pem = "this is not a key at all";
  const std::string public_only = to_pem(rsa2048(), pem_form::public_key);

  for (const std::string* pem : {&garbage, &truncated, &not_pem, &public_only}) {
    CAPTURE(*pem);
    auto r = client_assertion(params(*pem));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
    CHECK(r.err().message.find(*pem) == std::string::npos);
    for (const std::string& line : body_lines(*pem)) {
      CHECK(r.err().message.find(line) == std::string::npos);
    }
    for (const std::string& line : body_lines(real)) {
      CHECK(r.err().message.find(line) == std::string::npos);
    }
  }
  // A flipped character inside the base64 body usually breaks the DER; when it lands in a
  // spot that still parses the key is merely different, so only require a clean message.
  if (auto r = client_assertion(params(corrupted)); !r.ok()) {
    for (const std::string& line : body_lines(real)) {
      CHECK(r.err().message.find(line) == std::string::npos);
    }
  }
  CHECK(ERR_peek_error() == 0);  // no stale OpenSSL errors left on this thread
}

TEST_CASE("encrypted, weak and unsupported keys are config errors") {
  SUBCASE("encrypted PKCS#8 is refused without prompting for a passphrase") {
    auto r = client_assertion(params(to_pem(rsa2048(), pem_form::pkcs8_encrypted)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
    CHECK(r.err().message.find("encrypted") != std::string::npos);
  }
  SUBCASE("RSA below 2048 bits") {
    const pkey_ptr weak = make_rsa(1024);
    auto r = client_assertion(params(to_pem(weak.get())));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
  }
  SUBCASE("EC curve other than P-256/P-384/P-521") {
    const pkey_ptr k = make_ec("secp256k1");
    auto r = client_assertion(params(to_pem(k.get())));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
  }
  SUBCASE("X25519 is a key-agreement key, not a signing key") {
    const pkey_ptr k = make_raw("X25519");
    auto r = client_assertion(params(to_pem(k.get())));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
    CHECK(r.err().message.find("X25519") != std::string::npos);
  }
  SUBCASE("empty PEM") {
    auto r = client_assertion(params(""));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
  }
}

TEST_CASE("bad parameters are config errors") {
  const pkey_ptr key = make_ec("P-256");
  const std::string pem = to_pem(key.get());
  auto check_config = [](const client_assertion_params& p) {
    auto r = client_assertion(p);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == fracta::make_error_code(fracta::errc::config));
  };
  auto p = params(pem);
  p.client_id = "";
  check_config(p);
  p = params(pem);
  p.audience = "";
  check_config(p);
  p = params(pem);
  p.lifetime_s = 0;
  check_config(p);
  p = params(pem);
  p.lifetime_s = -5;
  check_config(p);
  p = params(pem);
  p.now_unix_s = std::numeric_limits<std::int64_t>::max() - 10;
  check_config(p);
}

TEST_CASE("every assertion has a fresh jti") {
  const pkey_ptr key = make_ec("P-256");
  const std::string pem = to_pem(key.get());
  std::set<std::string> jtis;
  for (int i = 0; i < 20; ++i) {
    auto r = client_assertion(params(pem));
    REQUIRE(r.ok());
    const jws_parts parts = split(*r);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(fracta::json::parse(parser, parts.claims, doc).empty());
    const auto jti = fracta::json::get_string(doc, "jti");
    REQUIRE(jti);
    jtis.insert(std::string(*jti));
  }
  CHECK(jtis.size() == 20);
}
