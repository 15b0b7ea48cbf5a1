// SPDX-License-Identifier: Apache-2.0
// The terminal dialogue for form-mode elicitation requests: schema reading, prompts, validation.
#include "elicit.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <fracta/proto/json.hpp>
#include <fracta/proto/text.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fracta::cli {
namespace {

constexpr int max_attempts = 3;
constexpr std::size_t max_line_bytes = 64 * 1024;
constexpr std::size_t max_label_bytes = 120;

enum class field_kind { string, number, integer, boolean, choice, multi_choice, unsupported };

struct choice final {
  std::string value;
  std::string title;
};

/// A value as it goes into the result: raw JSON text (a schema default) or a typed answer.
struct raw_json final {
  std::string text;
};
using field_value =
    std::variant<raw_json, std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct field final {
  std::string name;
  std::string label;
  std::string description;
  field_kind kind = field_kind::unsupported;
  std::string format;
  std::vector<choice> choices;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<std::int64_t> min_size;  // minLength, or minItems for a multiple choice
  std::optional<std::int64_t> max_size;
  bool required = false;
  std::optional<field_value> default_value;
  std::string default_shown;
};

std::optional<double> get_number(simdjson::dom::element obj, std::string_view key) {
  const auto e = json::get(obj, key);
  if (!e || !e->is_number()) return std::nullopt;
  return e->get_double().value_unsafe();
}

/// Enum choices: `enum` (+ legacy `enumNames`) or `oneOf`/`anyOf` of {const, title}.
std::vector<choice> read_choices(simdjson::dom::element s) {
  std::vector<choice> out;
  if (const auto e = json::get(s, "enum"); e && e->is_array()) {
    const auto names = json::get(s, "enumNames");
    std::vector<std::string_view> titles;
    if (names && names->is_array()) {
      const simdjson::dom::array arr = names->get_array().value_unsafe();
      for (const auto n : arr) titles.push_back(n.is_string() ? n.get_string().value_unsafe() : "");
    }
    const simdjson::dom::array values = e->get_array().value_unsafe();
    for (const auto v : values) {
      if (!v.is_string()) return {};
      const std::size_t i = out.size();
      out.push_back({std::string(v.get_string().value_unsafe()),
                     i < titles.size() ? std::string(titles[i]) : std::string()});
    }
    return out;
  }
  for (const char* key : {"oneOf", "anyOf"}) {
    const auto e = json::get(s, key);
    if (!e || !e->is_array()) continue;
    const simdjson::dom::array alternatives = e->get_array().value_unsafe();
    for (const auto v : alternatives) {
      const auto c = json::get_string(v, "const");
      if (!c) return {};
      out.push_back({std::string(*c), std::string(json::get_string(v, "title").value_or(""))});
    }
    return out;
  }
  return out;
}

std::size_t choice_index(const std::vector<choice>& cs, std::string_view value) {
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (cs[i].value == value) return i;
  return cs.size();
}

/// The schema default as a value of the field's kind, and how the prompt shows it; a default
/// of the wrong type is ignored.
void read_default(simdjson::dom::element s, field& f) {
  const auto d = json::get(s, "default");
  if (!d) return;
  switch (f.kind) {
    case field_kind::string:
      if (!d->is_string()) return;
      f.default_shown = text::printable(d->get_string().value_unsafe(), 80);
      break;
    case field_kind::number:
    case field_kind::integer:
      if (!d->is_number() || (f.kind == field_kind::integer && !d->is_int64())) return;
      f.default_shown = json::to_string(*d);
      break;
    case field_kind::boolean:
      if (!d->is_bool()) return;
      f.default_shown = d->get_bool().value_unsafe() ? "y" : "n";
      break;
    case field_kind::choice: {
      if (!d->is_string()) return;
      const std::size_t i = choice_index(f.choices, d->get_string().value_unsafe());
      if (i == f.choices.size()) return;
      f.default_shown = std::to_string(i + 1);
      break;
    }
    case field_kind::multi_choice: {
      if (!d->is_array()) return;
      const simdjson::dom::array picked = d->get_array().value_unsafe();
      for (const auto v : picked) {
        const std::size_t i = v.is_string() ? choice_index(f.choices, v.get_string().value_unsafe())
                                            : f.choices.size();
        if (i == f.choices.size()) return;
        f.default_shown += (f.default_shown.empty() ? "" : ",") + std::to_string(i + 1);
      }
      break;
    }
    case field_kind::unsupported:
      return;
  }
  f.default_value = raw_json{json::to_string(*d)};
}

field read_field(std::string_view name, simdjson::dom::element s) {
  field f;
  f.name = name;
  f.label = text::printable(json::get_string(s, "title").value_or(name), max_label_bytes);
  if (f.label.empty()) f.label = text::printable(name, max_label_bytes);
  f.description = text::printable(json::get_string(s, "description").value_or(""));
  const std::string_view type = json::get_string(s, "type").value_or("");
  f.minimum = get_number(s, "minimum");
  f.maximum = get_number(s, "maximum");
  if (type == "string") {
    f.choices = read_choices(s);
    f.kind = f.choices.empty() ? field_kind::string : field_kind::choice;
    f.format = json::get_string(s, "format").value_or("");
    f.min_size = json::get_int(s, "minLength");
    f.max_size = json::get_int(s, "maxLength");
  } else if (type == "number" || type == "integer") {
    f.kind = type == "number" ? field_kind::number : field_kind::integer;
  } else if (type == "boolean") {
    f.kind = field_kind::boolean;
  } else if (type == "array") {
    if (const auto items = json::get(s, "items")) f.choices = read_choices(*items);
    if (!f.choices.empty()) f.kind = field_kind::multi_choice;
    f.min_size = json::get_int(s, "minItems");
    f.max_size = json::get_int(s, "maxItems");
  }
  read_default(s, f);
  return f;
}

std::string number_text(double d) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string prompt_for(const field& f) {
  std::vector<std::string> hints;
  if (f.required) hints.emplace_back("required");
  if (!f.format.empty()) hints.push_back(text::printable(f.format, 40));
  const auto range = [&](std::string what) {
    if (f.minimum || f.maximum) {
      what += ", " + (f.minimum ? number_text(*f.minimum) : std::string()) + ".." +
              (f.maximum ? number_text(*f.maximum) : std::string());
    }
    return what;
  };
  switch (f.kind) {
    case field_kind::integer:
      hints.push_back(range("integer"));
      break;
    case field_kind::number:
      hints.push_back(range("number"));
      break;
    case field_kind::boolean:
      hints.emplace_back("y/n");
      break;
    case field_kind::choice:
      hints.push_back("1-" + std::to_string(f.choices.size()));
      break;
    case field_kind::multi_choice:
      hints.push_back("1-" + std::to_string(f.choices.size()) + ", comma-separated");
      break;
    default:
      break;
  }
  std::string p = f.label;
  for (std::size_t i = 0; i < hints.size(); ++i) p += (i == 0 ? " (" : ", ") + hints[i];
  if (!hints.empty()) p += ")";
  if (f.default_value) p += " [" + f.default_shown + "]";
  return p + ": ";
}

/// One line from `in` without its line end; nullopt at end of input (a last line without a
/// newline still counts). Bytes past max_line_bytes are dropped.
std::optional<std::string> read_line(std::FILE* in) {
  std::string line;
  bool any = false;
  for (int c = std::fgetc(in); c != EOF; c = std::fgetc(in)) {
    any = true;
    if (c == '\n') break;
    if (line.size() < max_line_bytes) line.push_back(static_cast<char>(c));
  }
  if (!any) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) i += text::utf8_next(s.substr(i)).size;
  return n;
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/// An error for a string that breaks its format or length, empty when it is fine.
std::string check_string(const field& f, std::string_view s) {
  const std::size_t n = code_points(s);
  if (f.min_size && static_cast<std::int64_t>(n) < *f.min_size)
    return "at least " + std::to_string(*f.min_size) + " characters";
  if (f.max_size && static_cast<std::int64_t>(n) > *f.max_size)
    return "at most " + std::to_string(*f.max_size) + " characters";
  if (f.format == "email") {
    const std::size_t at = s.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == s.size() || s.find(' ') != s.npos)
      return "an email address, like name@example.org";
  } else if (f.format == "uri") {
    const std::size_t colon = s.find(':');
    const bool scheme_ok = colon != std::string_view::npos && colon > 0 && colon + 1 < s.size() &&
                           s.find_first_not_of(
                               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789+.-") >= colon;
    if (!scheme_ok || s.find(' ') != s.npos) return "a URI, like https://example.org/";
  } else if (f.format == "date") {
    if (!is_date(s)) return "a date, YYYY-MM-DD";
  } else if (f.format == "date-time") {
    if (s.size() < 16 || !is_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't'))
      return "a date and time, YYYY-MM-DDTHH:MM:SSZ";
  }
  return {};
}

std::string check_range(const field& f, double v) {
  if ((f.minimum && v < *f.minimum) || (f.maximum && v > *f.maximum))
    return "a value in " + (f.minimum ? number_text(*f.minimum) : std::string()) + ".." +
           (f.maximum ? number_text(*f.maximum) : std::string());
  return {};
}

/// One choice by its number, value or title; choices.size() when none matches.
std::size_t pick(const std::vector<choice>& cs, std::string_view s) {
  std::size_t n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size() && n >= 1 && n <= cs.size()) return n - 1;
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (cs[i].value == s || (!cs[i].title.empty() && cs[i].title == s)) return i;
  return cs.size();
}

/// Parses a non-empty answer; on failure `error` says what was expected.
std::optional<field_value> parse_answer(const field& f, std::string_view s, std::string& error) {
  switch (f.kind) {
    case field_kind::string:
      error = check_string(f, s);
      if (error.empty()) return std::string(s);
      return std::nullopt;
    case field_kind::integer: {
      std::int64_t v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        error = "a whole number";
        return std::nullopt;
      }
      error = check_range(f, static_cast<double>(v));
      if (error.empty()) return v;
      return std::nullopt;
    }
    case field_kind::number: {
      double v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
        error = "a number";
        return std::nullopt;
      }
      error = check_range(f, v);
      if (error.empty()) return v;
      return std::nullopt;
    }
    case field_kind::boolean: {
      std::string lower;
      for (const char c : s) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
      if (lower == "y" || lower == "yes" || lower == "true" || lower == "1") return true;
      if (lower == "n" || lower == "no" || lower == "false" || lower == "0") return false;
      error = "y or n";
      return std::nullopt;
    }
    case field_kind::choice: {
      const std::size_t i = pick(f.choices, s);
      if (i < f.choices.size()) return f.choices[i].value;
      error = "a number from 1 to " + std::to_string(f.choices.size());
      return std::nullopt;
    }
    case field_kind::multi_choice: {
      std::vector<std::string> picked;
      for (std::size_t start = 0; start <= s.size();) {
        const std::size_t comma = std::min(s.find(',', start), s.size());
        const std::string_view part = text::trim(s.substr(start, comma - start));
        const std::size_t i = pick(f.choices, part);
        if (i == f.choices.size()) {
          error = "numbers from 1 to " + std::to_string(f.choices.size()) + ", comma-separated";
          return std::nullopt;
        }
        bool dup = false;
        for (const auto& p : picked) dup = dup || p == f.choices[i].value;
        if (!dup) picked.push_back(f.choices[i].value);
        start = comma + 1;
      }
      const auto count = static_cast<std::int64_t>(picked.size());
      if ((f.min_size && count < *f.min_size) || (f.max_size && count > *f.max_size)) {
        error = "between " + std::to_string(f.min_size.value_or(0)) + " and " +
                (f.max_size ? std::to_string(*f.max_size) : std::string("any number of")) +
                " choices";
        return std::nullopt;
      }
      return picked;
    }
    case field_kind::unsupported:
      break;
  }
  error = "an answer";
  return std::nullopt;
}

struct value_writer final {
  json::writer& w;
  void operator()(const raw_json& v) const { w.raw(v.text); }
  void operator()(const std::string& v) const { w.value(v); }
  void operator()(std::int64_t v) const { w.value(v); }
  void operator()(double v) const { w.value(v); }
  void operator()(bool v) const { w.value(v); }
  void operator()(const std::vector<std::string>& v) const {
    w.begin_array();
    for (const auto& s : v) w.value(s);
    w.end_array();
  }
};

std::string action_only(std::string_view action) {
  json::writer w;
  w.begin_object().key("action").value(action).end_object();
  return w.take();
}

void say(std::FILE* out, std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), out);
  std::fflush(out);
}

}  // namespace

namespace {

// The form of an elicitation/create request: its fields, or nullopt (with a note on `out`)
// when it cannot be shown.
struct form final {
  std::string message;
  std::vector<field> fields;
};

std::optional<form> read_form(std::string_view params_json, std::FILE* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element params;
  const auto schema = json::parse(parser, params_json, params).empty()
                          ? json::get(params, "requestedSchema")
                          : std::nullopt;
  const auto properties = schema ? json::get(*schema, "properties") : std::nullopt;
  if (!properties || !properties->is_object()) {
    say(out, "The server sent a question fracta cannot show; declined.\n");
    return std::nullopt;
  }
  form fm;
  const simdjson::dom::object props = properties->get_object().value_unsafe();
  for (const auto [key, value] : props) fm.fields.push_back(read_field(key, value));
  if (const auto req = json::get(*schema, "required"); req && req->is_array()) {
    const simdjson::dom::array names = req->get_array().value_unsafe();
    for (const auto r : names) {
      if (!r.is_string()) continue;
      for (auto& f : fm.fields) f.required = f.required || f.name == r.get_string().value_unsafe();
    }
  }
  fm.message = text::terminal_text(json::get_string(params, "message").value_or(""));
  for (const auto& f : fm.fields) {
    if (f.kind == field_kind::unsupported && f.required) {
      say(out, "fracta cannot ask for \"" + f.label + "\" (an unsupported kind of field); declined.\n");
      return std::nullopt;
    }
  }
  return fm;
}

std::string accepted(json::writer& content) {
  content.end_object();
  json::writer result;
  result.begin_object().key("action").value("accept").key("content").raw(content.take());
  result.end_object();
  return result.take();
}

}  // namespace

std::string answer_elicitation_from(std::string_view params_json, std::string_view answers_json, std::FILE* out) {
  auto fm = read_form(params_json, out);
  if (!fm) return action_only("decline");
  simdjson::dom::parser parser;
  simdjson::dom::element answers;
  if (!json::parse(parser, answers_json, answers).empty() || !answers.is_object()) {
    say(out, "--answers is not a JSON object; declined.\n");
    return action_only("decline");
  }
  if (!fm->message.empty()) say(out, fm->message + "\n");
  json::writer content;
  content.begin_object();
  for (const auto& f : fm->fields) {
    if (f.kind == field_kind::unsupported) continue;
    std::optional<field_value> value;
    if (const auto given = json::get(answers, f.name)) {
      // Each answer is read as if typed: "7" or 7 for an integer, a choice by value or title.
      std::string typed;
      if (given->is_string()) {
        typed = std::string(given->get_string().value_unsafe());
      } else if (given->is_array()) {
        const simdjson::dom::array items = given->get_array().value_unsafe();
        for (const auto item : items) {
          typed += (typed.empty() ? "" : ",") + (item.is_string() ? std::string(item.get_string().value_unsafe())
                                                                  : json::to_string(item));
        }
      } else {
        typed = json::to_string(*given);
      }
      std::string error;
      value = parse_answer(f, typed, error);
      if (!value) {
        say(out, "--answers: \"" + f.name + "\" expected " + error + "; declined.\n");
        return action_only("decline");
      }
    } else if (f.default_value) {
      value = f.default_value;
    } else if (f.required) {
      say(out, "The server asks for \"" + f.label + "\", which --answers does not give; declined.\n");
      return action_only("decline");
    }
    if (value) {
      content.key(f.name);
      std::visit(value_writer{content}, *value);
    }
  }
  return accepted(content);
}

std::string answer_elicitation(std::string_view params_json, std::FILE* in, std::FILE* out) {
  auto fm = read_form(params_json, out);
  if (!fm) return action_only("decline");
  const auto& fields = fm->fields;
  if (!fm->message.empty()) say(out, fm->message + "\n");
  say(out, "(Enter takes the [default]; !decline or !cancel to refuse.)\n");

  json::writer content;
  content.begin_object();
  bool answered = false;
  for (const auto& f : fields) {
    if (f.kind == field_kind::unsupported) continue;
    if (!f.description.empty()) say(out, "  " + f.description + "\n");
    if (f.kind == field_kind::choice || f.kind == field_kind::multi_choice) {
      for (std::size_t i = 0; i < f.choices.size(); ++i) {
        const auto& c = f.choices[i];
        say(out, "  " + std::to_string(i + 1) + ") " +
                     text::printable(c.title.empty() ? c.value : c.title, max_label_bytes) + "\n");
      }
    }
    std::optional<field_value> value;
    bool omitted = false;
    for (int attempt = 0; !value && !omitted; ++attempt) {
      if (attempt == max_attempts) {
        say(out, "Too many invalid answers; cancelled.\n");
        return action_only("cancel");
      }
      say(out, prompt_for(f));
      const auto line = read_line(in);
      if (!line) {
        say(out, "\n");
        return action_only(answered ? "decline" : "cancel");
      }
      const std::string_view answer = text::trim(*line);
      if (answer == "!decline") return action_only("decline");
      if (answer == "!cancel") return action_only("cancel");
      std::string error;
      if (!answer.empty()) {
        value = parse_answer(f, answer, error);
      } else if (f.default_value) {
        value = f.default_value;
      } else if (!f.required) {
        omitted = true;
      } else {
        error = "an answer (this field is required)";
      }
      if (!value && !omitted) say(out, "  expected " + error + "\n");
    }
    answered = true;
    if (value) {
      content.key(f.name);
      std::visit(value_writer{content}, *value);
    }
  }
  return accepted(content);
}

}  // namespace fracta::cli
