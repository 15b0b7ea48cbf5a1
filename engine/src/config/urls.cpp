// SPDX-License-Identifier: Apache-2.0
// URL keys of the config: one parser (the runtime's http::url), the plain-http rules, and the
// redacted form the CLI prints.
#include <cctype>

#include "config/detail.hpp"
#include <fracta/proto/fields.hpp>
#include <fracta/proto/url.hpp>

namespace fracta::config {
namespace detail {
std::optional<url_problem> check_url(std::string_view text, url_use use, bool allow_insecure_http,
                                     std::string_view example) {
  const std::string write = "Write " + std::string(example);
  // Checked here first so that no message quotes what stands before the first ':' (for
  // "user:password@host" that is the user name).
  if (!http::istarts_with(text, "https://") && !http::istarts_with(text, "http://")) {
    return url_problem{"must be an absolute http:// or https:// URL", write};
  }
  const auto parsed = http::url::parse(text);
  if (!parsed) {
    // http::url's messages name the part that is wrong, never its contents.
    std::string problem = parsed.err().message;
    if (problem.rfind("URL ", 0) == 0) problem.erase(0, 4);
    std::string fix = write;
    if (problem.find("percent-encoded") != std::string::npos) {
      fix = "Percent-encode them (a space is %20), e.g. " + std::string(example);
    } else if (problem.find("port") != std::string::npos) {
      fix = "Use a port between 1 and 65535, e.g. https://host:8443/mcp";
    }
    return url_problem{std::move(problem), std::move(fix)};
  }
  const http::url& u = *parsed;
  if (u.scheme == "http" && !u.is_loopback_host()) {
    const std::string problem =
        "is plain http:// to '" + u.host +
        "', which is not a loopback host: credentials, tokens and metadata would cross the "
        "network unencrypted and could be changed in transit";
    if (use != url_use::server) {
      return url_problem{problem,
                         "Use https:// (plain http is accepted only for 127.0.0.1, "
                         "::1 or localhost)"};
    }
    if (!allow_insecure_http) {
      return url_problem{problem,
                         "Use https://, or, if every network in between is trusted, add "
                         "allow_insecure_http = true to the server's remote table"};
    }
  }
  if (use == url_use::issuer && (!u.userinfo.empty() || u.query || u.fragment)) {
    return url_problem{
        "has user-info, a query or a fragment, which an issuer identifier never has "
        "(RFC 8414 section 2)",
        "Write only the scheme, host and path, e.g. issuer = "
        "\"https://auth.example.com\""};
  }
  return std::nullopt;
}

}  // namespace detail

std::string redacted_url(std::string_view url) {
  if (const auto parsed = http::url::parse(url)) return parsed->redacted();
  // Not a URL the runtime accepts: cut it by hand, the same way.
  std::string_view rest = url.substr(0, url.find_first_of("?#"));
  std::string_view scheme;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = rest.substr(0, sep + 3);
    rest.remove_prefix(sep + 3);
  }
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  std::string out;
  for (std::string_view part : {scheme, rest}) {
    for (char c : part) {
      const auto u = static_cast<unsigned char>(c);
      if (u > 0x20 && u < 0x7F) out.push_back(c);  // no controls or spaces on a terminal
    }
  }
  return out;
}

}  // namespace fracta::config
