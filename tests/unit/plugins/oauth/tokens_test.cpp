// SPDX-License-Identifier: Apache-2.0
// Token responses with real-world quirks, error classification, form bodies; no secret leaks.
#include "tokens.hpp"

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through it

#include "fracta/errors.hpp"

using namespace fracta::oauth;

namespace {

constexpr std::int64_t now = 1'700'000'000'000;
constexpr std::string_view json_type = "application/json; charset=utf-8";

}  // namespace

TEST_CASE("a standard response") {
  auto t = parse_token_response(200, json_type, R"({"access_token":"AT","token_type":"Bearer",
      "expires_in":3600,"refresh_token":"RT","scope":"a b","id_token":"ID"})",
                                now, "a");
  REQUIRE(t.ok());
  CHECK(t->access_token == "AT");
  CHECK(t->token_type == "Bearer");
  CHECK(t->refresh_token == std::optional<std::string>("RT"));
  CHECK(t->scope == std::optional<std::string>("a b"));
  CHECK(t->expires_at_unix_ms == std::optional<std::int64_t>(now + 3'600'000));
  CHECK(t->id_token == std::optional<std::string>("ID"));
}

TEST_CASE("expires_in as a string, as a float, missing") {
  auto s = parse_token_response(200, json_type,
                                R"({"access_token":"AT","token_type":"Bearer","expires_in":"120"})",
                                now, "");
  REQUIRE(s.ok());
  CHECK(s->expires_at_unix_ms == std::optional<std::int64_t>(now + 120'000));

  auto f = parse_token_response(200, json_type,
                                R"({"access_token":"AT","token_type":"Bearer","expires_in":60.0})",
                                now, "");
  REQUIRE(f.ok());
  CHECK(f->expires_at_unix_ms == std::optional<std::int64_t>(now + 60'000));

  auto m = parse_token_response(200, json_type, R"({"access_token":"AT","token_type":"Bearer"})",
                                now, "");
  REQUIRE(m.ok());
  CHECK_FALSE(m->expires_at_unix_ms.has_value());

  auto bad = parse_token_response(
      200, json_type, R"({"access_token":"AT","token_type":"Bearer","expires_in":"soon"})", now, "");
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->expires_at_unix_ms.has_value());
}

TEST_CASE("lower-case bearer is normalised; other token types refused") {
  auto t = parse_token_response(200, json_type, R"({"access_token":"AT","token_type":"bearer"})",
                                now, "");
  REQUIRE(t.ok());
  CHECK(t->token_type == "Bearer");

  auto mac = parse_token_response(200, json_type,
                                  R"({"access_token":"SECRET-AT","token_type":"mac"})", now, "");
  REQUIRE_FALSE(mac.ok());
  CHECK(mac.err().message.find("mac") != std::string::npos);
  CHECK(mac.err().message.find("SECRET-AT") == std::string::npos);

  auto dpop = parse_token_response(200, json_type,
                                   R"({"access_token":"AT","token_type":"DPoP"})", now, "");
  CHECK_FALSE(dpop.ok());
}

TEST_CASE("missing scope means the requested scope; refresh token may be absent") {
  auto t = parse_token_response(200, json_type, R"({"access_token":"AT","token_type":"Bearer"})",
                                now, "files:read files:write");
  REQUIRE(t.ok());
  CHECK(t->scope == std::optional<std::string>("files:read files:write"));
  CHECK_FALSE(t->refresh_token.has_value());
  CHECK_FALSE(t->id_token.has_value());

  auto none = parse_token_response(200, json_type,
                                   R"({"access_token":"AT","token_type":"Bearer"})", now, "");
  REQUIRE(none.ok());
  CHECK_FALSE(none->scope.has_value());
}

TEST_CASE("error JSON is an error even with HTTP 200") {
  auto t = parse_token_response(
      200, json_type,
      R"({"error":"invalid_grant","error_description":"refresh token revoked"})", now, "");
  REQUIRE_FALSE(t.ok());
  CHECK(t.err().code == fracta::errc::needs_login);
  CHECK(t.err().message.find("invalid_grant") != std::string::npos);
  CHECK(t.err().message.find("refresh token revoked") != std::string::npos);
}

TEST_CASE("error JSON with 400 and 401") {
  auto grant = parse_token_response(400, json_type, R"({"error":"invalid_grant"})", now, "");
  REQUIRE_FALSE(grant.ok());
  CHECK(grant.err().code == fracta::errc::needs_login);
  auto client = parse_token_response(401, json_type, R"({"error":"invalid_client"})", now, "");
  REQUIRE_FALSE(client.ok());
  CHECK(client.err().code == fracta::errc::auth_failed);
  auto busy =
      parse_token_response(503, json_type, R"({"error":"temporarily_unavailable"})", now, "");
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.err().code == fracta::errc::transport);
}

TEST_CASE("HTML error pages are reported with their text and status, tags stripped") {
  const std::string page =
      "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
      "<script>var x = '<b>';</script></head><body><h1>Bad   Gateway</h1>\n<p>nginx</p>"
      "</body></html>";
  auto t = parse_token_response(502, "text/html", page, now, "");
  REQUIRE_FALSE(t.ok());
  CHECK(t.err().code == fracta::errc::transport);
  const std::string& msg = t.err().message;
  CHECK(msg.find("HTTP 502") != std::string::npos);
  CHECK(msg.find("Bad Gateway") != std::string::npos);
  CHECK(msg.find('<') == std::string::npos);
  CHECK(msg.find("color") == std::string::npos);
  CHECK(msg.find("var x") == std::string::npos);

  // HTML with HTTP 200 and a JSON content type is still an error; long pages are cut.
  const std::string long_page = "<html><body>" + std::string(5000, 'x') + "</body></html>";
  auto l = parse_token_response(200, json_type, long_page, now, "");
  REQUIRE_FALSE(l.ok());
  CHECK(l.err().message.size() < 300);
}

TEST_CASE("server text in token errors is printable: escape sequences dropped, UTF-8 kept") {
  auto t = parse_token_response(
      400, json_type,
      R"({"error":"invalid_request","error_description":"bad \u001b]0;pwned\u0007code \u001b[2J for J\u00fcrgen"})",
      now, "");
  REQUIRE_FALSE(t.ok());
  const std::string& msg = t.err().message;
  CHECK(msg.find("bad code for J\xC3\xBCrgen") != std::string::npos);
  CHECK(msg.find('\x1b') == std::string::npos);
  CHECK(msg.find("pwned") == std::string::npos);

  auto html = parse_token_response(502, "text/html", "<p>bad\x1b]0;t\x07 <b>gate\x1b[5mway</b>\x7f</p>",
                                   now, "");
  REQUIRE_FALSE(html.ok());
  CHECK(html.err().message.ends_with(": bad gateway"));
}

TEST_CASE("non-JSON, empty and token-less bodies are refused without quoting them") {
  auto junk = parse_token_response(200, "text/plain", "access_token SECRET-AT", now, "");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.err().message.find("SECRET-AT") == std::string::npos);
  CHECK_FALSE(parse_token_response(200, json_type, "", now, "").ok());
  auto no_token = parse_token_response(200, json_type, R"({"token_type":"Bearer"})", now, "");
  REQUIRE_FALSE(no_token.ok());
  CHECK(no_token.err().code == fracta::errc::protocol);
  auto server = parse_token_response(500, json_type, "{}", now, "");
  REQUIRE_FALSE(server.ok());
  CHECK(server.err().code == fracta::errc::transport);
}

TEST_CASE("form-encoded responses are accepted") {
  auto t = parse_token_response(200, "application/x-www-form-urlencoded",
                                "access_token=AT&token_type=bearer&scope=repo&expires_in=10", now,
                                "");
  REQUIRE(t.ok());
  CHECK(t->access_token == "AT");
  CHECK(t->scope == std::optional<std::string>("repo"));
  CHECK(t->expires_at_unix_ms == std::optional<std::int64_t>(now + 10'000));
  auto e = parse_token_response(200, "application/x-www-form-urlencoded",
                                "error=bad_verification_code", now, "");
  CHECK_FALSE(e.ok());
}

TEST_CASE("parse_oauth_error") {
  auto e = parse_oauth_error(
      R"({"error":"invalid_scope","error_description":"d","error_uri":"https://e/x"})");
  REQUIRE(e.has_value());
  CHECK(e->error == "invalid_scope");
  CHECK(e->description == "d");
  CHECK(e->uri == "https://e/x");
  CHECK_FALSE(parse_oauth_error(R"({"access_token":"x"})").has_value());
  CHECK_FALSE(parse_oauth_error("<html>").has_value());
}

TEST_CASE("grant failure classification table") {
  struct row {
    int status;
    const char* error;
    grant_failure expected;
  };
  const row rows[] = {
      {400, "invalid_grant", grant_failure::needs_login},
      {200, "invalid_grant", grant_failure::needs_login},
      {401, "invalid_client", grant_failure::reregister},
      {400, "invalid_client", grant_failure::reregister},
      {400, "invalid_scope", grant_failure::scope},
      {403, "insufficient_scope", grant_failure::scope},
      {503, "temporarily_unavailable", grant_failure::transient},
      {400, "temporarily_unavailable", grant_failure::transient},
      {500, "", grant_failure::transient},
      {502, "", grant_failure::transient},
      {429, "", grant_failure::transient},
      {0, "", grant_failure::transient},
      {400, "invalid_request", grant_failure::bad_request},
      {400, "unsupported_grant_type", grant_failure::bad_request},
      {400, "unauthorized_client", grant_failure::bad_request},
      {404, "", grant_failure::bad_request},
      {401, "", grant_failure::bad_request},
  };
  for (const auto& r : rows) {
    CAPTURE(r.status);
    CAPTURE(r.error);
    CHECK(classify(r.status, oauth_error{r.error, "", ""}) == r.expected);
  }
}

TEST_CASE("form_body encodes names and values") {
  CHECK(form_body({{"grant_type", "authorization_code"},
                   {"redirect_uri", "http://127.0.0.1:3000/cb?a=b"},
                   {"scope", "a b"}}) ==
        "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb%3Fa%3Db"
        "&scope=a+b");
  CHECK(form_body({}) == "");
}
