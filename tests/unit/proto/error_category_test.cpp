// SPDX-License-Identifier: Apache-2.0
// table_category: an error category's name and messages come from its table.
#include <fracta/proto/error_category.hpp>

#include <doctest/doctest.h>

#include <string>

#include "fracta/errors.hpp"

namespace {

enum class sample_errc { first = 1, second, unlisted };

constexpr fracta::table_category<sample_errc>::entry sample_messages[] = {
    {sample_errc::first, "the first problem"},
    {sample_errc::second, "the second problem"},
};

}  // namespace

TEST_CASE("a table category names each code's message, and its fallback for codes it lacks") {
  const fracta::table_category<sample_errc> c("sample", sample_messages, "unknown sample error");
  CHECK(std::string(c.name()) == "sample");
  CHECK(c.message(static_cast<int>(sample_errc::first)) == "the first problem");
  CHECK(c.message(static_cast<int>(sample_errc::second)) == "the second problem");
  CHECK(c.message(static_cast<int>(sample_errc::unlisted)) == "unknown sample error");
  CHECK(c.message(0) == "unknown sample error");
}

TEST_CASE("the fracta category keeps its name and has a message for every code") {
  CHECK(std::string(fracta::category().name()) == "fracta");
  CHECK(fracta::make_error_code(fracta::errc::needs_login).message() == "login needed");
  CHECK(fracta::make_error_code(fracta::errc::unsupported).message() == "unsupported");
  CHECK(fracta::category().message(0) == "unknown fracta error");
  for (int e = static_cast<int>(fracta::errc::config); e <= static_cast<int>(fracta::errc::unsupported); ++e) {
    CAPTURE(e);
    CHECK(fracta::category().message(e) != "unknown fracta error");
  }
}
