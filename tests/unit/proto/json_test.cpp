// SPDX-License-Identifier: Apache-2.0
// The JSON writer: escaping, UTF-8 repair, structure checks; and the parse helpers.
#include <fracta/proto/json.hpp>

#include <limits>
#include <stdexcept>

#include <doctest/doctest.h>

using fracta::json::writer;

TEST_CASE("objects, arrays and scalars in order, with commas only between members") {
  writer w;
  w.begin_object()
      .key("s").value("x")
      .key("n").value(std::int64_t{-3})
      .key("u").value(std::uint64_t{18446744073709551615u})
      .key("b").value(true)
      .key("z").null()
      .key("a").begin_array().value(1).value(2.5).begin_object().end_object().end_array()
      .key("r").raw(R"({"k":[1]})")
      .end_object();
  CHECK(w.take() == R"({"s":"x","n":-3,"u":18446744073709551615,"b":true,"z":null,"a":[1,2.5,{}],"r":{"k":[1]}})");
}

TEST_CASE("strings are escaped as JSON requires") {
  writer w;
  w.value("q\" b\\ n\n r\r t\t \x01 \x1f \x7f /");
  CHECK(w.take() == R"("q\" b\\ n\n r\r t\t \u0001 \u001f \u007f /")");
}

TEST_CASE("valid UTF-8 passes through; invalid bytes become U+FFFD") {
  writer a;
  a.value("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x94\x91");
  CHECK(a.take() == "\"J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x94\x91\"");
  writer b;
  b.value(std::string_view("\xC3(\xED\xA0\x80\xF5x\xC0\xAF", 9));  // truncated, surrogate, >U+10FFFF, overlong
  const std::string out = b.take();
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  CHECK(fracta::json::parse(p, out, doc).empty());  // whatever came in, the output is JSON
  CHECK(out.find("\xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("the writer repairs UTF-8 like every other fracta decoder: one U+FFFD per bad subpart") {
  writer w;
  w.value("a\xF0\x9F\x94" "b");  // a four-byte sequence cut after three bytes
  CHECK(w.take() == "\"a\xEF\xBF\xBD" "b\"");
}

TEST_CASE("non-finite numbers are written as null") {
  writer w;
  w.begin_array().value(std::numeric_limits<double>::infinity()).value(std::numeric_limits<double>::quiet_NaN()).end_array();
  CHECK(w.take() == "[null,null]");
}

TEST_CASE("structural mistakes throw instead of producing broken JSON") {
  CHECK_THROWS_AS(writer().begin_object().value("no key"), std::logic_error);
  CHECK_THROWS_AS(writer().key("outside"), std::logic_error);
  CHECK_THROWS_AS(writer().begin_array().end_object(), std::logic_error);
  CHECK_THROWS_AS(writer().begin_object().take(), std::logic_error);
  CHECK_THROWS_AS(writer().value(1).value(2), std::logic_error);
}

TEST_CASE("parse helpers: typed access, absent versus wrong type") {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(fracta::json::parse(p, R"({"s":"v","i":7,"b":false,"o":{"x":1}})", doc).empty());
  CHECK(fracta::json::get_string(doc, "s") == std::optional<std::string_view>("v"));
  CHECK(fracta::json::get_int(doc, "i") == std::optional<std::int64_t>(7));
  CHECK(fracta::json::get_bool(doc, "b") == std::optional<bool>(false));
  CHECK_FALSE(fracta::json::get_string(doc, "i").has_value());
  CHECK_FALSE(fracta::json::get_int(doc, "missing").has_value());
  CHECK(fracta::json::to_string(*fracta::json::get(doc, "o")) == R"({"x":1})");
  simdjson::dom::element bad;
  CHECK_FALSE(fracta::json::parse(p, "{nope", bad).empty());
}
