// SPDX-License-Identifier: Apache-2.0
// Specification of URL parsing, origins, loopback detection and the percent / form encodings.
#include <fracta/proto/url.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints a std::error_code with it

namespace http = fracta::http;
using http::url;

namespace {

url must_parse(std::string_view text) {
  auto r = url::parse(text);
  INFO(text);
  if (!r.ok()) FAIL("parse failed: " << r.err().message);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("URL: components of a full https URL") {
  auto u = must_parse("HTTPS://User:Pw@API.Example.COM:8443/a/B?x=1&y=%20#Frag");
  CHECK(u.scheme == "https");
  CHECK(u.userinfo == "User:Pw");
  CHECK(u.host == "api.example.com");
  CHECK(u.port == 8443);
  CHECK(u.path == "/a/B");  // the path keeps its case
  CHECK(u.query == "x=1&y=%20");
  CHECK(u.fragment == "Frag");
  CHECK(u.origin() == "https://api.example.com:8443");
  CHECK(u.authority() == "api.example.com:8443");
  CHECK(u.target() == "/a/B?x=1&y=%20");
  CHECK(u.redacted() == "https://api.example.com:8443/a/B");
  CHECK(u.str() == "https://User:Pw@api.example.com:8443/a/B?x=1&y=%20#Frag");
}

TEST_CASE("URL: default ports, default path, absent query and fragment") {
  auto u = must_parse("http://example.com");
  CHECK(u.port == 80);
  CHECK(u.has_default_port());
  CHECK(u.path == "/");
  CHECK_FALSE(u.query.has_value());
  CHECK_FALSE(u.fragment.has_value());
  CHECK(u.origin() == "http://example.com");
  CHECK(u.str() == "http://example.com/");
  auto s = must_parse("https://example.com?q");
  CHECK(s.port == 443);
  CHECK(s.path == "/");
  CHECK(s.query == "q");
  CHECK(must_parse("https://example.com:443/x").origin() == "https://example.com");
  CHECK(must_parse("http://example.com:443/x").origin() == "http://example.com:443");
  CHECK(must_parse("http://example.com:/x").port == 80);  // empty port: the default
  CHECK(must_parse("http://example.com:0080/").port == 80);
  CHECK(must_parse("http://example.com/?").query == "");
  CHECK(must_parse("http://example.com/#").fragment == "");
}

TEST_CASE("URL: IPv6 literals keep their brackets and are lower-cased") {
  auto u = must_parse("http://[::1]:8080/mcp");
  CHECK(u.host == "[::1]");
  CHECK(u.port == 8080);
  CHECK(u.origin() == "http://[::1]:8080");
  CHECK(u.is_loopback_host());
  auto v = must_parse("https://[2001:DB8::A]/");
  CHECK(v.host == "[2001:db8::a]");
  CHECK(v.origin() == "https://[2001:db8::a]");
  CHECK_FALSE(v.is_loopback_host());
}

TEST_CASE("URL: dot segments are removed from the path") {
  CHECK(must_parse("http://a/b/c/./../d").path == "/b/d");
  CHECK(must_parse("http://a/../../x").path == "/x");
  CHECK(must_parse("http://a/b/..").path == "/");
  CHECK(must_parse("http://a/b/.").path == "/b/");
  CHECK(must_parse("http://a/b//c").path == "/b//c");
  CHECK(must_parse("http://a/.well-known/x").path == "/.well-known/x");
}

TEST_CASE("URL: invalid input is rejected with url_errc::malformed") {
  for (std::string_view bad : {"",
                               "example.com",
                               "/relative",
                               "mailto:x@example.com",
                               "ftp://example.com/",
                               "file:///etc/passwd",
                               "http:example.com",
                               "http:/example.com",
                               "http://",
                               "http:///path",
                               "http://:80/",
                               "http://exa mple.com/",
                               "http://example.com:65536/",
                               "http://example.com:0/",
                               "http://example.com:8o/",
                               "http://[::1/",
                               "http://[::1]x/",
                               "http://[not-ipv6]/",
                               "http://[fe80::1%25eth0]/",
                               "http://a@b@c/",
                               "http://example.com/a b",
                               "http://example.com/<x>",
                               "http://example.com/%zz",
                               "http://example.com/%4",
                               "http://example.com/?q=\"",
                               "http://example.com/#a#b",
                               "http://ex%41mple.com/",
                               "http://exämple.com/",
                               "http://127.1/",
                               "http://0x7f.0.0.1/",
                               "http://010.0.0.1/",
                               "http://256.0.0.1/",
                               "http://1.2.3.4.5/",
                               "http://example.123/",
                               "1http://example.com/",
                               "ht tp://example.com/",
                               "http://example.com\\path"}) {
    CAPTURE(bad);
    auto r = url::parse(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) {
      CHECK(r.err().code == http::url_errc::malformed);
      CHECK_FALSE(r.err().message.empty());
    }
  }
}

TEST_CASE("URL: accepted edge cases") {
  CHECK(must_parse("http://example.com./").host == "example.com.");
  CHECK(must_parse("http://my_host-1.internal/").host == "my_host-1.internal");
  CHECK(must_parse("http://10.0.0.1/").host == "10.0.0.1");
  CHECK(must_parse("http://example.com/a%2Fb").path == "/a%2Fb");
  CHECK(must_parse("http://example.com/p?redirect=http://x/y?z").query == "redirect=http://x/y?z");
  CHECK(must_parse("http://example.com/@:!$&'()*+,;=").path == "/@:!$&'()*+,;=");
  CHECK(must_parse("http://example.com:65535/").port == 65535);
  CHECK(must_parse("http://u@example.com/").userinfo == "u");
}

TEST_CASE("URL: loopback hosts") {
  for (std::string_view host : {"127.0.0.1", "127.255.255.254", "127.1.2.3", "::1", "[::1]",
                                "localhost", "LOCALHOST", "localhost.", "[0:0:0:0:0:0:0:1]"}) {
    CAPTURE(host);
    CHECK(http::is_loopback_host(host));
  }
  for (std::string_view host :
       {"128.0.0.1", "126.255.255.255", "10.0.0.1", "::2", "[::]", "localhost.example.com",
        "mylocalhost", "example.com", "", "0.0.0.0"}) {
    CAPTURE(host);
    CHECK_FALSE(http::is_loopback_host(host));
  }
  CHECK(must_parse("http://127.0.0.1:3000/cb").is_loopback_host());
  CHECK(must_parse("http://LocalHost/cb").is_loopback_host());
  CHECK_FALSE(must_parse("https://example.com/").is_loopback_host());
}

TEST_CASE("percent_encode keeps only RFC 3986 unreserved characters") {
  CHECK(http::percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(http::percent_encode(" ") == "%20");
  CHECK(http::percent_encode("a+b/c?d=e&f#g") == "a%2Bb%2Fc%3Fd%3De%26f%23g");
  CHECK(http::percent_encode("https://mcp.example.com/mcp") ==
        "https%3A%2F%2Fmcp.example.com%2Fmcp");
  CHECK(http::percent_encode("\xC3\xA9") == "%C3%A9");
  CHECK(http::percent_encode(std::string_view("\0\xff", 2)) == "%00%FF");
  CHECK(http::percent_encode("*!'()") == "%2A%21%27%28%29");
  CHECK(http::percent_encode("") == "");
}

TEST_CASE("form_urlencode follows application/x-www-form-urlencoded") {
  CHECK(http::form_urlencode("a b") == "a+b");
  CHECK(http::form_urlencode("AZaz09*-._") == "AZaz09*-._");
  CHECK(http::form_urlencode("~") == "%7E");
  CHECK(http::form_urlencode("a+b=c&d") == "a%2Bb%3Dc%26d");
  CHECK(http::form_urlencode("http://localhost:8080/cb") == "http%3A%2F%2Flocalhost%3A8080%2Fcb");
  CHECK(http::form_urlencode("\xE2\x82\xAC") == "%E2%82%AC");
}

TEST_CASE("percent_decode decodes %XX, keeps malformed sequences, and '+' only on request") {
  CHECK(http::percent_decode("a%20b") == "a b");
  CHECK(http::percent_decode("%41%2f%2F") == "A//");
  CHECK(http::percent_decode("a+b") == "a+b");
  CHECK(http::percent_decode("a+b", true) == "a b");
  CHECK(http::percent_decode("100%") == "100%");
  CHECK(http::percent_decode("%zz%4") == "%zz%4");
  CHECK(http::percent_decode("%C3%A9") == "\xC3\xA9");
  CHECK(http::percent_decode("%00") == std::string("\0", 1));
  for (std::string_view s : {"", "a b+c", "é/€?&=#%", "\x01\x7f"}) {
    CAPTURE(s);
    CHECK(http::percent_decode(http::percent_encode(s)) == s);
    CHECK(http::percent_decode(http::form_urlencode(s), true) == s);
  }
}

TEST_CASE("build_query and parse_query round-trip, keeping order and duplicates") {
  http::query_params params{{"grant_type", "authorization_code"},
                            {"redirect_uri", "http://127.0.0.1:5000/callback"},
                            {"scope", "read write"},
                            {"scope", "a+b&c=d"},
                            {"empty", ""}};
  auto q = http::build_query(params);
  CHECK(q ==
        "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback"
        "&scope=read+write&scope=a%2Bb%26c%3Dd&empty=");
  CHECK(http::parse_query(q) == params);
  CHECK(http::build_query({}) == "");
}

TEST_CASE("parse_query handles what servers actually send") {
  auto p = http::parse_query("?code=abc%2Fdef&state=x+y&&flag&=v&a=b=c");
  REQUIRE(p.size() == 5);
  CHECK(p[0] == std::pair<std::string, std::string>{"code", "abc/def"});
  CHECK(p[1] == std::pair<std::string, std::string>{"state", "x y"});
  CHECK(p[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK(p[3] == std::pair<std::string, std::string>{"", "v"});
  CHECK(p[4] == std::pair<std::string, std::string>{"a", "b=c"});
  CHECK(http::parse_query("").empty());
  CHECK(http::parse_query("?").empty());
  CHECK(http::parse_query("&&").empty());
}

TEST_CASE("join_path puts exactly one slash between origin and path") {
  CHECK(http::join_path("https://a.example", "x/y") == "https://a.example/x/y");
  CHECK(http::join_path("https://a.example/", "/x/y") == "https://a.example/x/y");
  CHECK(http::join_path("https://a.example", "/.well-known/openid-configuration") ==
        "https://a.example/.well-known/openid-configuration");
  CHECK(http::join_path("https://a.example", "") == "https://a.example/");
  CHECK(http::join_path(must_parse("http://[::1]:9000/ignored").origin(), "token") ==
        "http://[::1]:9000/token");
}

TEST_CASE("well_known_url inserts the well-known segment before the path (RFC 8414, RFC 9728)") {
  CHECK(http::well_known_url(must_parse("https://as.example"), "oauth-authorization-server") ==
        "https://as.example/.well-known/oauth-authorization-server");
  CHECK(http::well_known_url(must_parse("https://as.example/tenant1"),
                             "oauth-authorization-server") ==
        "https://as.example/.well-known/oauth-authorization-server/tenant1");
  CHECK(http::well_known_url(must_parse("https://mcp.example:8443/v1/mcp/?x=1#f"),
                             "/oauth-protected-resource") ==
        "https://mcp.example:8443/.well-known/oauth-protected-resource/v1/mcp");
}

TEST_CASE("URL errors carry the URL category (fracta.url), not the HTTP client's") {
  auto r = url::parse("ftp://example.com/");
  REQUIRE_FALSE(r.ok());
  CHECK(&r.err().code.category() == &http::url_category());
  CHECK(std::string(http::url_category().name()) == "fracta.url");
  CHECK_FALSE(r.err().code.message().empty());
  CHECK(r.err().message.find("ftp") != std::string::npos);
}
