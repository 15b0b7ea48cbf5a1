// SPDX-License-Identifier: Apache-2.0
// base64 and base64url: the RFC 4648 §10 vectors, both alphabets, padding only where due.
#include <fracta/proto/base64.hpp>

#include <doctest/doctest.h>

using fracta::text::base64_encode;
using fracta::text::base64url_encode;

TEST_CASE("base64 follows the RFC 4648 test vectors, padded") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64_encode("\xff\xfe") == "//4=");
}

TEST_CASE("base64url uses '-' and '_' and no padding") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_encode("\xff\xfe") == "__4");
}
