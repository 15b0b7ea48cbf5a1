// SPDX-License-Identifier: Apache-2.0
// A strict-enough, forgiving parser for WWW-Authenticate challenges.
#include <fracta/proto/www_authenticate.hpp>

#include <cctype>

#include <fracta/proto/fields.hpp>

namespace fracta::auth {
namespace {

using http::iequals;
using http::is_tchar;

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~+/").find(c) != std::string_view::npos;
}
class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}

  std::vector<challenge> run() {
    std::vector<challenge> out;
    while (true) {
      skip_ows_commas();
      if (done()) break;
      auto scheme = token();
      if (scheme.empty()) break;
      challenge c;
      c.scheme = std::string(scheme);
      skip_ws();
      // token68, or auth-params, or nothing.
      const std::size_t save = pos_;
      auto t68 = token68();
      skip_ws();
      if (!t68.empty() && (done() || peek() == ',') && !looks_like_param(save)) {
        c.token68 = std::string(t68);
      } else {
        pos_ = save;
        parse_params(c);
      }
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ws() {
    while (!done() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void skip_ows_commas() {
    while (!done() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  std::string_view token() {
    const std::size_t b = pos_;
    while (!done() && is_tchar(peek())) ++pos_;
    return s_.substr(b, pos_ - b);
  }
  std::string_view token68() {
    const std::size_t b = pos_;
    while (!done() && is_token68_char(peek())) ++pos_;
    while (!done() && peek() == '=') ++pos_;
    return s_.substr(b, pos_ - b);
  }
  // At `at`: token, optional spaces, '=' and then not only '=' padding → an auth-param.
  bool looks_like_param(std::size_t at) const {
    std::size_t p = at;
    while (p < s_.size() && is_tchar(s_[p])) ++p;
    if (p == at) return false;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    if (p >= s_.size() || s_[p] != '=') return false;
    ++p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return p < s_.size() && s_[p] != '=' && s_[p] != ',';
  }
  std::optional<std::string> quoted() {
    if (done() || peek() != '"') return std::nullopt;
    ++pos_;
    std::string v;
    while (!done()) {
      char c = peek();
      ++pos_;
      if (c == '"') return v;
      if (c == '\\' && !done()) {
        v.push_back(peek());
        ++pos_;
        continue;
      }
      v.push_back(c);
    }
    return std::nullopt;  // unterminated
  }
  void parse_params(challenge& c) {
    while (true) {
      skip_ows_commas();
      if (done()) return;
      const std::size_t start = pos_;
      auto name = token();
      skip_ws();
      if (name.empty() || done() || peek() != '=') {
        pos_ = start;  // the next challenge's scheme
        return;
      }
      ++pos_;
      skip_ws();
      std::string value;
      if (!done() && peek() == '"') {
        auto q = quoted();
        if (!q) {
          pos_ = s_.size();
          return;
        }
        value = std::move(*q);
      } else {
        value = std::string(token());
      }
      std::string lname(name);
      for (auto& ch : lname) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.params.emplace_back(std::move(lname), std::move(value));
      skip_ws();
      if (!done() && peek() != ',') {
        pos_ = s_.size();  // garbage: stop
        return;
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::string_view> challenge::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<challenge> parse_www_authenticate(std::string_view header_value) {
  return parser(header_value).run();
}

const challenge* find_challenge(const std::vector<challenge>& cs, std::string_view scheme) {
  for (const auto& c : cs) {
    if (iequals(c.scheme, scheme)) return &c;
  }
  return nullptr;
}

}  // namespace fracta::auth
