// SPDX-License-Identifier: Apache-2.0
// private_key_jwt client assertions: PEM key loading, JOSE algorithm choice, EVP signing.
#include "jwt.hpp"

#include <array>
#include <climits>
#include <cstddef>
#include <limits>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <fracta/proto/base64.hpp>
#include "fracta/errors.hpp"
#include "fracta/json_writer.hpp"

namespace fracta::oauth {
namespace {

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_free>;

// Whatever OpenSSL queues on this thread while we work is dropped on the way out, so a later
// TLS call on the same thread does not trip over our stale errors.
class error_queue_scope {
 public:
  error_queue_scope() noexcept { ERR_set_mark(); }
  ~error_queue_scope() { ERR_pop_to_mark(); }
  error_queue_scope(const error_queue_scope&) = delete;
  error_queue_scope& operator=(const error_queue_scope&) = delete;
};

error config_error(std::string message) {
  return error{make_error_code(errc::config), "private_key_jwt: " + std::move(message)};
}

error internal_error(std::string message) {
  return error{make_error_code(errc::plugin), "private_key_jwt: " + std::move(message)};
}

enum class family { rsa_pkcs1, rsa_pss, ecdsa, eddsa };

struct algorithm_info {
  std::string_view name;
  family fam;
  const EVP_MD* (*digest)();   // nullptr for EdDSA (the digest is part of the scheme)
  int curve_nid;               // ECDSA only
  std::size_t component_size;  // ECDSA only: bytes of R and of S (RFC 7518 §3.4)
};

const std::array<algorithm_info, 10> algorithms = {{
    {"RS256", family::rsa_pkcs1, EVP_sha256, NID_undef, 0},
    {"RS384", family::rsa_pkcs1, EVP_sha384, NID_undef, 0},
    {"RS512", family::rsa_pkcs1, EVP_sha512, NID_undef, 0},
    {"PS256", family::rsa_pss, EVP_sha256, NID_undef, 0},
    {"PS384", family::rsa_pss, EVP_sha384, NID_undef, 0},
    {"PS512", family::rsa_pss, EVP_sha512, NID_undef, 0},
    {"ES256", family::ecdsa, EVP_sha256, NID_X9_62_prime256v1, 32},
    {"ES384", family::ecdsa, EVP_sha384, NID_secp384r1, 48},
    {"ES512", family::ecdsa, EVP_sha512, NID_secp521r1, 66},
    {"EdDSA", family::eddsa, nullptr, NID_undef, 0},
}};

const algorithm_info* find_algorithm(std::string_view name) {
  for (const auto& a : algorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// What the key is, in the terms the algorithm table uses.
struct key_kind {
  family fam;     // rsa_pkcs1 stands for "RSA" (both RSA families fit it)
  int curve_nid;  // EC keys only
};

// Never prompts: an encrypted PEM fails instead of reading a passphrase from the terminal.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

result<pkey_ptr> load_key(std::string_view pem) {
  if (pem.empty()) return config_error("no private key was given");
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) {
    return config_error("the private key PEM is too large");
  }
  // A read-only memory BIO over the caller's buffer: no copy of the key text is made here.
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return internal_error("OpenSSL could not allocate a memory BIO");
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    if (pem.find("ENCRYPTED") != std::string_view::npos) {
      return config_error("the private key PEM is encrypted; an unencrypted key is required");
    }
    return config_error(
        "the private key is not a readable PEM private key (expected PKCS#8 \"PRIVATE KEY\" "
        "or traditional \"RSA PRIVATE KEY\" / \"EC PRIVATE KEY\")");
  }
  return key;
}

result<key_kind> classify(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    // RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used with these algorithms.
    if (EVP_PKEY_get_bits(key) < 2048) {
      return config_error("the RSA private key is shorter than 2048 bits (RFC 7518 §3.3)");
    }
    return key_kind{family::rsa_pkcs1, NID_undef};
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    std::array<char, 80> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &len) != 1) {
      return config_error("the EC private key does not name its curve (explicit parameters "
                          "are not supported)");
    }
    int nid = OBJ_sn2nid(group.data());
    if (nid == NID_undef) nid = EC_curve_nist2nid(group.data());
    if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 && nid != NID_secp521r1) {
      return config_error("the EC private key's curve is not P-256, P-384 or P-521");
    }
    return key_kind{family::ecdsa, nid};
  }
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    return key_kind{family::eddsa, NID_undef};
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return config_error(std::string("unsupported private key type ") +
                      (type != nullptr ? type : "(unknown)") +
                      "; expected RSA, EC P-256/P-384/P-521, Ed25519 or Ed448");
}

result<const algorithm_info*> choose_algorithm(std::string_view requested, const key_kind& k) {
  if (requested.empty()) {
    switch (k.fam) {
      case family::rsa_pkcs1:
      case family::rsa_pss:
        return find_algorithm("RS256");
      case family::eddsa:
        return find_algorithm("EdDSA");
      case family::ecdsa:
        for (const auto& a : algorithms) {
          if (a.fam == family::ecdsa && a.curve_nid == k.curve_nid) return &a;
        }
        break;
    }
    return config_error("no JWS algorithm fits the private key");
  }
  const algorithm_info* a = find_algorithm(requested);
  if (a == nullptr) {
    return config_error("unsupported JWS algorithm \"" + std::string(requested) +
                        "\"; expected one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 "
                        "ES512 EdDSA");
  }
  const bool fits = (a->fam == family::rsa_pkcs1 || a->fam == family::rsa_pss)
                        ? k.fam == family::rsa_pkcs1
                        : a->fam == k.fam && a->curve_nid == k.curve_nid;
  if (!fits) {
    return config_error("the JWS algorithm " + std::string(a->name) +
                        " does not fit the private key's type");
  }
  return a;
}

std::string_view as_chars(const unsigned char* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// DER ECDSA-Sig-Value → R||S, each left-padded to the curve's size (RFC 7518 §3.4).
result<std::string> der_to_jose(const std::string& der, std::size_t component_size) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = in;
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != in + der.size()) {
    return internal_error("OpenSSL produced a malformed ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * component_size, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const int n = static_cast<int>(component_size);
  if (BN_bn2binpad(r, o, n) != n || BN_bn2binpad(s, o + component_size, n) != n) {
    return internal_error("an ECDSA signature component does not fit the curve size");
  }
  return out;
}

result<std::string> sign(EVP_PKEY* key, const algorithm_info& alg, std::string_view input) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) return internal_error("OpenSSL could not allocate a digest context");
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const EVP_MD* md = alg.digest != nullptr ? alg.digest() : nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return internal_error("OpenSSL could not start signing with " + std::string(alg.name));
  }
  if (alg.fam == family::rsa_pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return internal_error("OpenSSL could not set up RSASSA-PSS");
    }
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return internal_error("OpenSSL could not size the " + std::string(alg.name) + " signature");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     input.size()) != 1) {
    return internal_error("OpenSSL could not sign with " + std::string(alg.name));
  }
  sig.resize(len);
  if (alg.fam == family::ecdsa) return der_to_jose(sig, alg.component_size);
  return sig;
}

}  // namespace

result<std::string> client_assertion(const client_assertion_params& p) {
  if (p.client_id.empty()) return config_error("the client_id is empty");
  if (p.audience.empty()) return config_error("the audience is empty");
  if (p.now_unix_s < 0) return config_error("the current time is negative");
  if (p.lifetime_s <= 0) return config_error("the assertion lifetime must be positive");
  if (p.now_unix_s > std::numeric_limits<std::int64_t>::max() - p.lifetime_s) {
    return config_error("the assertion lifetime overflows the expiry time");
  }

  const error_queue_scope errors;
  auto key = load_key(p.private_key_pem);
  if (!key) return std::move(key).err();
  auto kind = classify(key->get());
  if (!kind) return std::move(kind).err();
  auto alg = choose_algorithm(p.algorithm, *kind);
  if (!alg) return std::move(alg).err();

  std::array<unsigned char, 16> jti{};
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1) {
    return internal_error("the system random number generator failed");
  }

  json::writer header;
  header.begin_object().key("alg").value((*alg)->name).key("typ").value("JWT");
  if (!p.key_id.empty()) header.key("kid").value(p.key_id);
  header.end_object();

  json::writer claims;
  claims.begin_object()
      .key("iss").value(p.client_id)
      .key("sub").value(p.client_id)
      .key("aud").value(p.audience)
      .key("iat").value(p.now_unix_s)
      .key("exp").value(p.now_unix_s + p.lifetime_s)
      .key("jti").value(text::base64url_encode(as_chars(jti.data(), jti.size())))
      .end_object();

  std::string jws = text::base64url_encode(header.take());
  jws += '.';
  jws += text::base64url_encode(claims.take());
  auto sig = sign(key->get(), **alg, jws);
  if (!sig) return std::move(sig).err();
  jws += '.';
  jws += text::base64url_encode(*sig);
  return jws;
}

}  // namespace fracta::oauth
