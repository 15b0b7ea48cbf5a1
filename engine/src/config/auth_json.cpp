// SPDX-License-Identifier: Apache-2.0
// TOML values as text: the auth table as JSON for its provider, and TOML dates and times.
#include "config/parser.hpp"
#include <fracta/proto/json.hpp>
#include <fracta/proto/time.hpp>

#include <type_traits>

namespace fracta::config::detail {
namespace {

std::string two(unsigned v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

std::string text_of(const toml::date& d) {
  std::string y = std::to_string(d.year);
  while (y.size() < 4) y.insert(0, "0");
  return y + "-" + two(d.month) + "-" + two(d.day);
}

std::string text_of(const toml::time& t) {
  std::string out = two(t.hour) + ":" + two(t.minute) + ":" + two(t.second);
  if (t.nanosecond != 0) {
    std::string frac = std::to_string(t.nanosecond);
    while (frac.size() < 9) frac.insert(0, "0");
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out;
}

// RFC 3339 for offset date-times; the TOML local forms otherwise.
std::string text_of(const toml::date_time& dt) {
  std::string out = text_of(dt.date) + "T" + text_of(dt.time);
  if (dt.offset) {
    const int minutes = dt.offset->minutes;
    if (minutes == 0) {
      out += "Z";
    } else {
      const int a = minutes < 0 ? -minutes : minutes;
      out += (minutes < 0 ? "-" : "+") + two(static_cast<unsigned>(a / 60)) + ":" +
             two(static_cast<unsigned>(a % 60));
    }
  }
  return out;
}

class auth_writer final {
 public:
  explicit auth_writer(const std::function<std::string(const std::string&)>& absolute)
      : absolute_(absolute) {}

  void table(const toml::table& t, bool oauth_top) {
    const auto entries = ordered(t);
    // A SecretValue-shaped { file = "…" } gets its path resolved, whatever the auth type.
    const bool secret_file =
        entries.size() == 1 && entries[0].first->str() == "file" && entries[0].second->is_string();
    w_.begin_object();
    for (const auto& [k, n] : entries) {
      w_.key(k->str());
      const std::string name(k->str());
      if ((secret_file ||
           (oauth_top && (name == "token_file" || name == "client_registration_file"))) &&
          n->is_string()) {
        w_.value(absolute_(n->as_string()->get()));
      } else {
        node(*n);
      }
    }
    w_.end_object();
  }

  std::string take() { return w_.take(); }

 private:
  void node(const toml::node& n) {
    n.visit([this](const auto& v) {
      using T = std::remove_cvref_t<decltype(v)>;
      if constexpr (toml::is_table<T>) {
        table(v, false);
      } else if constexpr (toml::is_array<T>) {
        w_.begin_array();
        for (const auto& e : v) node(e);
        w_.end_array();
      } else if constexpr (toml::is_date<T> || toml::is_time<T> || toml::is_date_time<T>) {
        w_.value(text_of(v.get()));
      } else {
        w_.value(v.get());
      }
    });
  }

  const std::function<std::string(const std::string&)>& absolute_;
  json::writer w_;
};

}  // namespace

std::int64_t unix_seconds(const toml::date_time& dt) {
  const std::int64_t days = text::days_from_civil(dt.date.year, dt.date.month, dt.date.day);
  return days * 86400 + dt.time.hour * 3600 + dt.time.minute * 60 + dt.time.second -
         static_cast<std::int64_t>(dt.offset->minutes) * 60;
}

std::string auth_json(const toml::table& t, bool oauth,
                      const std::function<std::string(const std::string&)>& absolute) {
  auth_writer w(absolute);
  w.table(t, oauth);
  return w.take();
}

}  // namespace fracta::config::detail
