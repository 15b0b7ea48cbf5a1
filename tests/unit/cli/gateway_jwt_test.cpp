// SPDX-License-Identifier: Apache-2.0
// The gateway's JWT front end: JWKS documents read into keys, RS256 and ES256 tokens checked
// (signature, alg, typ, iss, aud, exp / nbf / iat with leeway, scopes), and the JWKS cache (one
// fetch for concurrent callers, max-age, the unknown-kid and failure floors, key rotation).
// Keys are made here with OpenSSL; the cache reads them through a fixture fetch and a fake clock.
#include "gateway/jwks.hpp"
#include "gateway/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <fracta/json_writer.hpp>
#include <fracta/proto/base64.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace fracta::gateway;
using fracta::text::base64url_encode;

namespace {

constexpr std::int64_t now = 1'800'000'000;
const std::string issuer = "https://login.example.com";
const std::string audience = "https://gw.example.com/mcp";

struct key_pair {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string alg;
  std::string kid;
};

key_pair make_key(const char* alg, std::string kid, int rsa_bits = 2048) {
  EVP_PKEY* k = std::string(alg) == "ES256" ? EVP_EC_gen("P-256") : EVP_RSA_gen(static_cast<unsigned>(rsa_bits));
  REQUIRE(k != nullptr);
  return key_pair{std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free), alg, std::move(kid)};
}

std::string bn_bytes(const EVP_PKEY* k, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
  const std::size_t len = std::max(pad, static_cast<std::size_t>(BN_num_bytes(bn)));
  std::string out(len, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len));
  BN_free(bn);
  return out;
}

// The public JWK of `k`, with extra members written by `extra` (e.g. "use").
std::string jwk_json(const key_pair& k, const std::string& extra = "") {
  fracta::json::writer w;
  w.begin_object();
  if (!k.kid.empty()) w.key("kid").value(k.kid);
  if (k.alg == "ES256") {
    w.key("kty").value("EC").key("crv").value("P-256");
    w.key("x").value(base64url_encode(bn_bytes(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)));
    w.key("y").value(base64url_encode(bn_bytes(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)));
  } else {
    w.key("kty").value("RSA");
    w.key("n").value(base64url_encode(bn_bytes(k.pkey.get(), OSSL_PKEY_PARAM_RSA_N)));
    w.key("e").value(base64url_encode(bn_bytes(k.pkey.get(), OSSL_PKEY_PARAM_RSA_E)));
  }
  w.end_object();
  std::string s = w.take();
  if (!extra.empty()) s.insert(s.size() - 1, "," + extra);
  return s;
}

std::string jwks_of(const std::vector<std::string>& jwks) {
  std::string out = "{\"keys\":[";
  for (std::size_t i = 0; i < jwks.size(); ++i) out += (i ? "," : "") + jwks[i];
  return out + "]}";
}

std::string sign_with(const key_pair& k, const std::string& input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k.pkey.get()) == 1);
  std::size_t len = 0;
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  std::string sig(len, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  sig.resize(len);
  if (k.alg != "ES256") return sig;
  // DER → R || S (RFC 7518 §3.4).
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  REQUIRE(es != nullptr);
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

struct claims {
  std::string iss = issuer;
  std::string aud_json = "\"" + audience + "\"";
  std::int64_t exp = now + 300;
  std::string extra;  // more members, e.g. "\"scope\":\"mcp:read\""
};

std::string header_for(const key_pair& k, const std::string& typ = "at+jwt", const std::string& alg = "") {
  std::string h = "{\"alg\":\"" + (alg.empty() ? k.alg : alg) + "\"";
  if (!typ.empty()) h += ",\"typ\":\"" + typ + "\"";
  if (!k.kid.empty()) h += ",\"kid\":\"" + k.kid + "\"";
  return h + "}";
}

std::string token_of(const key_pair& k, const claims& c, const std::string& header = "") {
  std::string payload = "{\"iss\":\"" + c.iss + "\",\"sub\":\"app-1\",\"aud\":" + c.aud_json;
  if (c.exp != 0) payload += ",\"exp\":" + std::to_string(c.exp);
  if (!c.extra.empty()) payload += "," + c.extra;
  payload += "}";
  const std::string input = base64url_encode(header.empty() ? header_for(k) : header) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(sign_with(k, input));
}

key_set keys_of(const std::vector<std::string>& jwks) {
  std::string why;
  auto ks = parse_jwks(jwks_of(jwks), &why);
  REQUIRE_MESSAGE(ks.has_value(), why);
  return *ks;
}

jwt_policy policy(std::vector<std::string> scopes = {}) {
  return jwt_policy{issuer, {audience}, std::move(scopes), 30};
}

jwt_verdict verdict(const std::string& token, const key_set& ks, const jwt_policy& p = policy(), std::int64_t at = now) {
  return verify_jwt(token, ks, p, at).verdict;
}

// Keys are slow to make: one of each for the whole file.
const key_pair& rsa() {
  static const key_pair k = make_key("RS256", "r1");
  return k;
}
const key_pair& ec() {
  static const key_pair k = make_key("ES256", "e1");
  return k;
}

}  // namespace

TEST_CASE("an RS256 and an ES256 token from the configured issuer for this audience are accepted") {
  const auto ks = keys_of({jwk_json(rsa()), jwk_json(ec())});
  REQUIRE(ks.keys.size() == 2);
  const auto r = verify_jwt(token_of(rsa(), {}), ks, policy(), now);
  CHECK(r.verdict == jwt_verdict::ok);
  CHECK(r.subject == "app-1");
  CHECK(verdict(token_of(ec(), {}), ks) == jwt_verdict::ok);
}

TEST_CASE("a changed payload, a changed signature or another key's signature is refused") {
  const auto ks = keys_of({jwk_json(rsa()), jwk_json(ec())});
  for (const key_pair* k : {&rsa(), &ec()}) {
    const std::string good = token_of(*k, {});
    const auto d1 = good.find('.');
    const auto d2 = good.rfind('.');
    // Another payload under the same header and signature.
    claims other;
    other.extra = "\"scope\":\"admin\"";
    const std::string forged_payload = token_of(*k, other);
    const std::string swapped = good.substr(0, d1) + forged_payload.substr(forged_payload.find('.'), forged_payload.rfind('.') - forged_payload.find('.')) + good.substr(d2);
    CHECK(verdict(swapped, ks) == jwt_verdict::bad_signature);
    std::string flipped = good;
    flipped[d2 + 5] = flipped[d2 + 5] == 'A' ? 'B' : 'A';
    CHECK(verdict(flipped, ks) == jwt_verdict::bad_signature);
  }
  // Signed by a key the set does not hold, under the kid of one it does.
  const key_pair impostor{make_key("RS256", "r1").pkey, "RS256", "r1"};
  CHECK(verdict(token_of(impostor, {}), ks) == jwt_verdict::bad_signature);
}

TEST_CASE("alg none, HS256 and an alg the named key is not for are refused") {
  const auto ks = keys_of({jwk_json(rsa()), jwk_json(ec())});
  const std::string payload = base64url_encode("{\"iss\":\"" + issuer + "\",\"aud\":\"" + audience + "\",\"exp\":" + std::to_string(now + 60) + "}");
  CHECK(verdict(base64url_encode("{\"alg\":\"none\"}") + "." + payload + ".", ks) == jwt_verdict::unsupported_alg);
  CHECK(verdict(base64url_encode("{\"alg\":\"HS256\",\"kid\":\"r1\"}") + "." + payload + ".c2ln", ks) == jwt_verdict::unsupported_alg);
  // ES256 in the header, naming the RSA key's kid: no key fits.
  const key_pair ec_as_r1{ec().pkey, "ES256", "r1"};
  CHECK(verdict(token_of(ec_as_r1, {}), ks) == jwt_verdict::unknown_key);
  CHECK(verdict(token_of(key_pair{rsa().pkey, "RS256", "nope"}, {}), ks) == jwt_verdict::unknown_key);
}

TEST_CASE("a token that is not three base64url parts of JSON is malformed, and so is one with crit or an ID-token typ") {
  const auto ks = keys_of({jwk_json(rsa())});
  CHECK(verdict("", ks) == jwt_verdict::malformed);
  CHECK(verdict("abc", ks) == jwt_verdict::malformed);
  CHECK(verdict("a.b", ks) == jwt_verdict::malformed);
  CHECK(verdict("a.b.c.d", ks) == jwt_verdict::malformed);
  CHECK(verdict("%%%.e30.e30", ks) == jwt_verdict::malformed);
  CHECK(verdict(base64url_encode("[1]") + ".e30.e30", ks) == jwt_verdict::malformed);
  CHECK(verdict(std::string(17 * 1024, 'a') + ".e30.e30", ks) == jwt_verdict::malformed);
  CHECK(verdict(token_of(rsa(), {}, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}"), ks) == jwt_verdict::malformed);
  CHECK(verdict(token_of(rsa(), {}, header_for(rsa(), "dpop+jwt")), ks) == jwt_verdict::malformed);
  CHECK(verdict(token_of(rsa(), {}, header_for(rsa(), "JWT")), ks) == jwt_verdict::ok);
  CHECK(verdict(token_of(rsa(), {}, header_for(rsa(), "application/at+jwt")), ks) == jwt_verdict::ok);
  CHECK(verdict(token_of(rsa(), {}, header_for(rsa(), "")), ks) == jwt_verdict::ok);
  claims no_exp;
  no_exp.exp = 0;
  CHECK(verdict(token_of(rsa(), no_exp), ks) == jwt_verdict::malformed);
}

TEST_CASE("iss must match exactly and aud must name a configured audience") {
  const auto ks = keys_of({jwk_json(rsa())});
  claims c;
  c.iss = issuer + "/";
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::wrong_issuer);
  c = {};
  c.aud_json = "[\"https://other.example.com\",\"" + audience + "\"]";
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::ok);
  c.aud_json = "[\"https://other.example.com\"]";
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::wrong_audience);
  c.aud_json = "null";
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::wrong_audience);
  auto two = policy();
  two.audiences.push_back("https://other.example.com");
  c.aud_json = "\"https://other.example.com\"";
  CHECK(verdict(token_of(rsa(), c), ks, two) == jwt_verdict::ok);
}

TEST_CASE("exp, nbf and iat are checked with the leeway") {
  const auto ks = keys_of({jwk_json(rsa())});
  claims c;
  c.exp = now - 10;  // within the 30 s leeway
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::ok);
  c.exp = now - 30;
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::expired);
  c = {};
  c.extra = "\"nbf\":" + std::to_string(now + 29);
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::ok);
  c.extra = "\"nbf\":" + std::to_string(now + 31);
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::not_yet_valid);
  c.extra = "\"iat\":" + std::to_string(now + 600);
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::not_yet_valid);
  c.extra = "\"iat\":" + std::to_string(now - 5) + ".5";
  CHECK(verdict(token_of(rsa(), c), ks) == jwt_verdict::ok);
}

TEST_CASE("required scopes are read from scope (space-separated) or scp, and a missing one is insufficient_scope") {
  const auto ks = keys_of({jwk_json(rsa())});
  claims c;
  c.extra = "\"scope\":\"mcp:read  mcp:write\"";
  CHECK(verdict(token_of(rsa(), c), ks, policy({"mcp:write"})) == jwt_verdict::ok);
  CHECK(verdict(token_of(rsa(), c), ks, policy({"mcp:read", "mcp:write"})) == jwt_verdict::ok);
  const auto r = verify_jwt(token_of(rsa(), c), ks, policy({"mcp:admin"}), now);
  CHECK(r.verdict == jwt_verdict::insufficient_scope);
  CHECK(r.detail.find("mcp:admin") != std::string::npos);
  c.extra = "\"scp\":[\"mcp:admin\"]";
  CHECK(verdict(token_of(rsa(), c), ks, policy({"mcp:admin"})) == jwt_verdict::ok);
  c.extra = "\"scope\":\"mcp:read:more\"";
  CHECK(verdict(token_of(rsa(), c), ks, policy({"mcp:read"})) == jwt_verdict::insufficient_scope);
}

TEST_CASE("a JWKS keeps RS256 and ES256 signature keys and skips the rest") {
  const key_pair weak = make_key("RS256", "weak", 1024);
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  REQUIRE(p384 != nullptr);
  const key_pair k384{std::shared_ptr<EVP_PKEY>(p384, EVP_PKEY_free), "ES256", "p384"};
  std::string bad_point = jwk_json(key_pair{ec().pkey, "ES256", "off-curve"});
  const auto y = bad_point.find("\"y\":\"") + 5;
  bad_point[y] = bad_point[y] == 'A' ? 'B' : 'A';
  const auto ks = keys_of({jwk_json(rsa()), jwk_json(weak), jwk_json(k384), bad_point,
                           jwk_json(key_pair{ec().pkey, "ES256", "enc"}, "\"use\":\"enc\""),
                           jwk_json(key_pair{ec().pkey, "ES256", "verify"}, "\"key_ops\":[\"verify\"]"),
                           jwk_json(key_pair{rsa().pkey, "RS256", "ps"}, "\"alg\":\"PS256\""),
                           "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hmac\"}", "7"});
  std::vector<std::string> kids;
  for (const auto& k : ks.keys) kids.push_back(k.kid);
  CHECK(kids == std::vector<std::string>{"r1", "verify"});
  CHECK(ks.skipped == 7);
  std::string why;
  CHECK_FALSE(parse_jwks("{\"keys\":{}}", &why).has_value());
  CHECK(why.find("keys") != std::string::npos);
  CHECK_FALSE(parse_jwks("not json", &why).has_value());
}

TEST_CASE("a token without kid uses the only key of its alg, and none when several could be meant") {
  const key_pair a{rsa().pkey, "RS256", ""};
  CHECK(verdict(token_of(a, {}), keys_of({jwk_json(a)})) == jwt_verdict::ok);
  const key_pair b = make_key("RS256", "");
  CHECK(verdict(token_of(a, {}), keys_of({jwk_json(a), jwk_json(b)})) == jwt_verdict::unknown_key);
  CHECK(verdict(token_of(a, {}), keys_of({jwk_json(a), jwk_json(ec())})) == jwt_verdict::ok);
}

TEST_CASE("cache_max_age reads max-age, and no-store / no-cache as 0") {
  CHECK(cache_max_age("") == -1);
  CHECK(cache_max_age("public, max-age=600") == 600);
  CHECK(cache_max_age("Max-Age=\"60\"") == 60);
  CHECK(cache_max_age("max-age=abc") == -1);
  CHECK(cache_max_age("no-store") == 0);
  CHECK(cache_max_age("max-age=600, no-cache") == 0);
}

// ---- the cache, through a fixture fetch and a fake clock ----

namespace {

struct fake_issuer {
  std::string body;
  std::string cache_control;
  long status = 200;
  bool down = false;
  int fetched = 0;
  std::int64_t clock_ms = 0;
};

asio::awaitable<fracta::result<fracta::fetched_document>> serve_jwks(fake_issuer* is, std::string url) {
  ++is->fetched;
  // A few turns of the loop, so callers that arrive meanwhile find the fetch in progress.
  for (int i = 0; i < 8; ++i) co_await asio::post(asio::use_awaitable);
  if (is->down) co_return fracta::error{fracta::make_error_code(fracta::errc::transport), "fetching " + url + ": Connection refused"};
  fracta::fetched_document d;
  d.status = is->status;
  d.body = is->body;
  d.cache_control = is->cache_control;
  co_return d;
}

std::shared_ptr<jwks_cache> cache_for(asio::io_context& io, fake_issuer& is) {
  fetch_fn fetch = [&is](std::string url) { return serve_jwks(&is, std::move(url)); };
  return std::make_shared<jwks_cache>(io.get_executor(), "https://login.example.com/jwks", std::move(fetch),
                                      [&is] { return is.clock_ms; });
}

asio::awaitable<void> read_keys(std::shared_ptr<jwks_cache> c, bool forced, std::shared_ptr<const key_set>* out) {
  auto k = c->keys(forced);
  *out = co_await std::move(k);
}

std::shared_ptr<const key_set> keys_now(asio::io_context& io, const std::shared_ptr<jwks_cache>& c, bool forced = false) {
  std::shared_ptr<const key_set> out;
  asio::co_spawn(io, read_keys(c, forced, &out), asio::detached);
  io.restart();
  io.run();
  return out;
}

asio::awaitable<void> run_check(std::shared_ptr<jwks_cache> c, std::string token, jwt_decision* out) {
  auto d = check_token(c, policy(), std::move(token), now);
  *out = co_await std::move(d);
}

jwt_decision check_now(asio::io_context& io, const std::shared_ptr<jwks_cache>& c, const std::string& token) {
  jwt_decision out;
  asio::co_spawn(io, run_check(c, token, &out), asio::detached);
  io.restart();
  io.run();
  return out;
}

}  // namespace

TEST_CASE("callers arriving together share one fetch, and the keys are kept for their max-age") {
  asio::io_context io;
  fake_issuer is;
  is.body = jwks_of({jwk_json(rsa())});
  is.cache_control = "max-age=120";
  auto c = cache_for(io, is);
  std::vector<std::shared_ptr<const key_set>> got(20);
  for (auto& g : got) asio::co_spawn(io, read_keys(c, false, &g), asio::detached);
  io.run();
  CHECK(is.fetched == 1);
  for (const auto& g : got) CHECK((g != nullptr && g->keys.size() == 1));
  is.clock_ms = 119'000;
  CHECK(keys_now(io, c) != nullptr);
  CHECK(is.fetched == 1);
  is.clock_ms = 120'000;
  CHECK(keys_now(io, c) != nullptr);
  CHECK(is.fetched == 2);
}

TEST_CASE("an unknown kid refetches at most once per floor, and a rotated key is found") {
  asio::io_context io;
  fake_issuer is;
  is.body = jwks_of({jwk_json(rsa())});
  auto c = cache_for(io, is);
  const key_pair next = make_key("RS256", "r2");
  const std::string rotated = token_of(next, {});
  // The set was read just now: an unknown kid does not read it again at once.
  CHECK(check_now(io, c, rotated).verdict == jwt_decision::kind::invalid);
  CHECK(is.fetched == 1);
  // Within the 30 s floor it still does not; after it, the rotated key is found.
  is.body = jwks_of({jwk_json(rsa()), jwk_json(next)});
  is.clock_ms = 29'000;
  CHECK(check_now(io, c, rotated).verdict == jwt_decision::kind::invalid);
  CHECK(is.fetched == 1);
  is.clock_ms = 30'000;
  CHECK(check_now(io, c, rotated).verdict == jwt_decision::kind::ok);
  CHECK(is.fetched == 2);
  CHECK(check_now(io, c, token_of(rsa(), {})).verdict == jwt_decision::kind::ok);
  CHECK(is.fetched == 2);
}

TEST_CASE("an issuer that cannot be read gives unavailable naming the URL; a failed refetch keeps the keys") {
  asio::io_context io;
  fake_issuer is;
  is.down = true;
  auto c = cache_for(io, is);
  const auto d = check_now(io, c, token_of(rsa(), {}));
  CHECK(d.verdict == jwt_decision::kind::unavailable);
  CHECK(d.detail.find("https://login.example.com/jwks") != std::string::npos);
  // Within the failure floor: no new fetch.
  is.clock_ms = 4'000;
  CHECK(keys_now(io, c) == nullptr);
  CHECK(is.fetched == 1);
  is.down = false;
  is.status = 500;
  is.clock_ms = 5'000;
  CHECK(keys_now(io, c) == nullptr);
  CHECK(c->last_error().find("HTTP 500") != std::string::npos);
  is.status = 200;
  is.body = jwks_of({jwk_json(rsa())});
  is.clock_ms = 10'000;
  CHECK(check_now(io, c, token_of(rsa(), {})).verdict == jwt_decision::kind::ok);
  CHECK(c->last_error().empty());
  // The keys expire (default max-age 1 h), the issuer is down: the held keys still verify.
  is.down = true;
  is.clock_ms = 10'000 + 3'600'000;
  CHECK(check_now(io, c, token_of(rsa(), {})).verdict == jwt_decision::kind::ok);
  CHECK(is.fetched == 4);
  CHECK_FALSE(c->last_error().empty());
}

TEST_CASE("a token that is not a JWS is refused without reading the keys") {
  asio::io_context io;
  fake_issuer is;
  auto c = cache_for(io, is);
  CHECK(check_now(io, c, "opaque-token-value").verdict == jwt_decision::kind::invalid);
  CHECK(is.fetched == 0);
}
