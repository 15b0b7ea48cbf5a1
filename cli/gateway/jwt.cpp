// SPDX-License-Identifier: Apache-2.0
// JWT access-token verification for the gateway's front end: JWKS keys into OpenSSL public keys
// (OpenSSL 3's EVP_PKEY_fromdata), RS256 / ES256 signatures, the RFC 9068 claims.
#include "gateway/jwt.hpp"

#include <algorithm>
#include <cmath>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include <simdjson.h>

#include <fracta/proto/json.hpp>

namespace fracta::gateway {
namespace {

constexpr std::size_t max_token_bytes = 16 * 1024;
constexpr int min_rsa_bits = 2048;

// An OpenSSL object owned by a unique_ptr that frees it with its own free function.
template <auto Free>
struct freer {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
template <class T, auto Free>
using owned = std::unique_ptr<T, freer<Free>>;

// OpenSSL's error queue is per thread; what a failed check leaves there is dropped on the way
// out so a later TLS call on this loop thread does not read it.
class error_mark {
 public:
  error_mark() noexcept { ERR_set_mark(); }
  ~error_mark() { ERR_pop_to_mark(); }
  error_mark(const error_mark&) = delete;
  error_mark& operator=(const error_mark&) = delete;
};

std::optional<std::string> b64url(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::shared_ptr<void> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  owned<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  owned<EVP_PKEY, EVP_PKEY_free> key(raw);
  // The point must be on the curve, the modulus sane: checked once here, not per token.
  owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return std::shared_ptr<void>(key.release(), [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
}

owned<BIGNUM, BN_free> bignum(const std::string& bytes) {
  return owned<BIGNUM, BN_free>(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

std::shared_ptr<void> rsa_key(simdjson::dom::element k) {
  const auto n = json::get_string(k, "n");
  const auto e = json::get_string(k, "e");
  if (!n || !e) return nullptr;
  const auto nb = b64url(*n);
  const auto eb = b64url(*e);
  if (!nb || !eb || eb->empty() || eb->size() > 8) return nullptr;
  auto bn_n = bignum(*nb);
  auto bn_e = bignum(*eb);
  owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_num_bits(bn_n.get()) < min_rsa_bits ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  return from_params("RSA", bld.get());
}

std::shared_ptr<void> p256_key(simdjson::dom::element k) {
  if (json::get_string(k, "crv") != "P-256") return nullptr;
  const auto x = json::get_string(k, "x");
  const auto y = json::get_string(k, "y");
  if (!x || !y) return nullptr;
  const auto xb = b64url(*x);
  const auto yb = b64url(*y);
  if (!xb || !yb || xb->size() != 32 || yb->size() != 32) return nullptr;
  const std::string point = "\x04" + *xb + *yb;  // SEC 1 uncompressed form
  owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  return from_params("EC", bld.get());
}

// A key meant for signatures: "use" absent or "sig", "key_ops" absent or naming "verify".
bool for_signatures(simdjson::dom::element k) {
  if (auto use = json::get(k, "use"); use && (!use->is_string() || use->get_string().value_unsafe() != "sig")) {
    return false;
  }
  auto ops = json::get(k, "key_ops");
  if (!ops) return true;
  if (!ops->is_array()) return false;
  const simdjson::dom::array ops_items = ops->get_array().value_unsafe();
  for (auto op : ops_items) {
    if (op.is_string() && op.get_string().value_unsafe() == "verify") return true;
  }
  return false;
}

// ES256: the JWS signature is R || S, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
std::optional<std::string> der_signature(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  owned<ECDSA_SIG, ECDSA_SIG_free> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

bool signature_ok(const jwk& key, std::string_view signing_input, const std::string& signature) {
  std::string der;
  const std::string* sig = &signature;
  if (key.alg == "ES256") {
    auto d = der_signature(signature);
    if (!d) return false;
    der = std::move(*d);
    sig = &der;
  }
  owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  auto* pkey = static_cast<EVP_PKEY*>(key.key.get());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional.
std::optional<std::int64_t> numeric_date(simdjson::dom::element claims, std::string_view key) {
  auto e = json::get(claims, key);
  if (!e) return std::nullopt;
  if (e->is_int64()) return e->get_int64().value_unsafe();
  if (e->is_double()) {
    const double d = e->get_double().value_unsafe();
    if (std::isfinite(d) && std::fabs(d) < 1e15) return static_cast<std::int64_t>(std::floor(d));
  }
  return std::nullopt;
}

bool contains_string(simdjson::dom::element value, const std::vector<std::string>& wanted) {
  auto matches = [&](std::string_view s) { return std::find(wanted.begin(), wanted.end(), s) != wanted.end(); };
  if (value.is_string()) return matches(value.get_string().value_unsafe());
  if (!value.is_array()) return false;
  const simdjson::dom::array value_items = value.get_array().value_unsafe();
  for (auto v : value_items) {
    if (v.is_string() && matches(v.get_string().value_unsafe())) return true;
  }
  return false;
}

std::vector<std::string> granted_scopes(simdjson::dom::element claims) {
  std::vector<std::string> out;
  auto add_words = [&out](std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      const auto j = std::min(s.find(' ', i), s.size());
      if (j > i) out.emplace_back(s.substr(i, j - i));
      i = j + 1;
    }
  };
  if (auto s = json::get_string(claims, "scope")) add_words(*s);
  if (auto scp = json::get(claims, "scp")) {
    if (scp->is_string()) add_words(scp->get_string().value_unsafe());
    if (scp->is_array()) {
      const simdjson::dom::array scp_items = scp->get_array().value_unsafe();
      for (auto v : scp_items) {
        if (v.is_string()) out.emplace_back(v.get_string().value_unsafe());
      }
    }
  }
  return out;
}

jwt_check refuse(jwt_verdict v, std::string detail) { return jwt_check{v, std::move(detail), {}}; }

}  // namespace

const jwk* key_set::find(std::string_view kid, std::string_view alg) const {
  if (!kid.empty()) {
    for (const auto& k : keys) {
      if (k.kid == kid) return k.alg == alg ? &k : nullptr;
    }
    return nullptr;
  }
  const jwk* only = nullptr;
  for (const auto& k : keys) {
    if (k.alg != alg) continue;
    if (only != nullptr) return nullptr;  // several could be meant: a token without kid is ambiguous
    only = &k;
  }
  return only;
}

std::optional<key_set> parse_jwks(std::string_view text, std::string* why) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = json::parse(parser, text, doc); !err.empty()) {
    *why = "not JSON (" + err + ")";
    return std::nullopt;
  }
  auto keys = doc.is_object() ? json::get(doc, "keys") : std::nullopt;
  if (!keys || !keys->is_array()) {
    *why = "not a JWKS document (no \"keys\" array)";
    return std::nullopt;
  }
  const error_mark mark;
  key_set out;
  const simdjson::dom::array keys_items = keys->get_array().value_unsafe();
  for (auto k : keys_items) {
    if (!k.is_object() || !for_signatures(k)) {
      ++out.skipped;
      continue;
    }
    const auto kty = json::get_string(k, "kty");
    const auto alg = json::get_string(k, "alg");
    jwk key;
    key.kid = std::string(json::get_string(k, "kid").value_or(""));
    if (kty == "RSA" && (!alg || *alg == "RS256")) {
      key.alg = "RS256";
      key.key = rsa_key(k);
    } else if (kty == "EC" && (!alg || *alg == "ES256")) {
      key.alg = "ES256";
      key.key = p256_key(k);
    }
    if (!key.key) {
      ++out.skipped;
      continue;
    }
    out.keys.push_back(std::move(key));
  }
  return out;
}

std::optional<jose_header> peek_header(std::string_view token) {
  if (token.size() > max_token_bytes) return std::nullopt;
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto raw = b64url(token.substr(0, dot));
  if (!raw) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element h;
  if (!json::parse(parser, *raw, h).empty() || !h.is_object()) return std::nullopt;
  const auto alg = json::get_string(h, "alg");
  if (!alg) return std::nullopt;
  return jose_header{std::string(json::get_string(h, "kid").value_or("")), std::string(*alg)};
}

jwt_check verify_jwt(std::string_view token, const key_set& keys, const jwt_policy& policy, std::int64_t now) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (token.size() > max_token_bytes || dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse(jwt_verdict::malformed, "not a signed JWT (three base64url parts)");
  }
  const auto header_raw = b64url(token.substr(0, dot1));
  const auto payload_raw = b64url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = b64url(token.substr(dot2 + 1));
  if (!header_raw || !payload_raw || !signature) return refuse(jwt_verdict::malformed, "a part is not base64url");

  simdjson::dom::parser hp;
  simdjson::dom::element h;
  if (!json::parse(hp, *header_raw, h).empty() || !h.is_object()) {
    return refuse(jwt_verdict::malformed, "the header is not a JSON object");
  }
  const auto alg = json::get_string(h, "alg");
  if (!alg) return refuse(jwt_verdict::malformed, "the header has no alg");
  if (*alg != "RS256" && *alg != "ES256") {
    return refuse(jwt_verdict::unsupported_alg, "alg " + std::string(alg->substr(0, 16)) + " is not accepted (RS256 or ES256)");
  }
  if (json::get(h, "crit")) return refuse(jwt_verdict::malformed, "the header has critical extensions this gateway does not know");
  if (auto typ = json::get(h, "typ")) {
    std::string t = typ->is_string() ? std::string(typ->get_string().value_unsafe()) : "";
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t != "at+jwt" && t != "application/at+jwt" && t != "jwt") {
      return refuse(jwt_verdict::malformed, "typ is not at+jwt: not an access token");
    }
  }
  const std::string kid(json::get_string(h, "kid").value_or(""));
  const jwk* key = keys.find(kid, *alg);
  if (key == nullptr) {
    return refuse(jwt_verdict::unknown_key, "no key of the issuer's JWKS matches kid \"" + kid.substr(0, 64) + "\" and " +
                                                std::string(*alg));
  }
  {
    const error_mark mark;
    if (!signature_ok(*key, token.substr(0, dot2), *signature)) {
      return refuse(jwt_verdict::bad_signature, "the signature does not verify");
    }
  }

  simdjson::dom::parser pp;
  simdjson::dom::element c;
  if (!json::parse(pp, *payload_raw, c).empty() || !c.is_object()) {
    return refuse(jwt_verdict::malformed, "the claims are not a JSON object");
  }
  if (json::get_string(c, "iss") != std::string_view(policy.issuer)) {
    return refuse(jwt_verdict::wrong_issuer, "the token was not issued by " + policy.issuer);
  }
  const auto aud = json::get(c, "aud");
  if (!aud || !contains_string(*aud, policy.audiences)) {
    return refuse(jwt_verdict::wrong_audience, "the token is not meant for this gateway (aud)");
  }
  const auto exp = numeric_date(c, "exp");
  if (!exp) return refuse(jwt_verdict::malformed, "the token has no exp");
  if (*exp + policy.leeway_seconds <= now) return refuse(jwt_verdict::expired, "the token has expired");
  for (const char* claim : {"nbf", "iat"}) {
    if (auto at = numeric_date(c, claim); at && *at - policy.leeway_seconds > now) {
      return refuse(jwt_verdict::not_yet_valid, std::string("the token's ") + claim + " is in the future");
    }
  }
  const auto granted = granted_scopes(c);
  for (const auto& s : policy.scopes) {
    if (std::find(granted.begin(), granted.end(), s) == granted.end()) {
      return refuse(jwt_verdict::insufficient_scope, "the token lacks the scope " + s);
    }
  }
  return jwt_check{jwt_verdict::ok, {}, std::string(json::get_string(c, "sub").value_or(""))};
}

}  // namespace fracta::gateway
