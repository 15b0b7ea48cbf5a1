// SPDX-License-Identifier: Apache-2.0
// PKCE: the RFC 7636 appendix B vector, verifier shape, state uniqueness, constant-time compare.
#include "pkce.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace fracta::oauth;

namespace {

bool unreserved_only(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("S256 challenge matches RFC 7636 appendix B") {
  CHECK(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST_CASE("code verifiers are 43..128 unreserved characters and differ each time") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string v = code_verifier();
    CHECK(v.size() >= 43);
    CHECK(v.size() <= 128);
    CHECK(unreserved_only(v));
    CHECK(v.find('=') == std::string::npos);
    seen.insert(v);
  }
  CHECK(seen.size() == 50);
}

TEST_CASE("random state values are long, URL-safe and unique") {
  const std::string a = random_state();
  const std::string b = random_state();
  CHECK(a.size() >= 43);
  CHECK(unreserved_only(a));
  CHECK(a != b);
}

TEST_CASE("constant_time_equal compares contents and lengths") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK(constant_time_equal("", ""));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("abcd", "abc"));
  CHECK_FALSE(constant_time_equal("", "a"));
}
