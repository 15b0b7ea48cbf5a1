// SPDX-License-Identifier: Apache-2.0
// The era probe's classification table, one case per row (the TS SDK v2 strict rule).
#include "mcp/era.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using fracta::mcp::classify_probe;
using fracta::mcp::probe_verdict;
using kind = probe_verdict::kind;

namespace {

const std::string modern = "2026-07-28";
const std::vector<std::string> ours = {"2026-07-28"};
const std::vector<std::string> ours_two = {"2026-07-28", "2027-03-01"};

std::string discover(const std::string& versions) {
  return R"({"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","supportedVersions":)" +
         versions + R"(,"capabilities":{},"ttlMs":0,"cacheScope":"public"}})";
}

std::string rpc_error(int code, const std::string& data = "") {
  std::string out =
      R"({"jsonrpc":"2.0","id":1,"error":{"code":)" + std::to_string(code) + R"(,"message":"nope")";
  if (!data.empty()) out += R"(,"data":)" + data;
  return out + "}}";
}

std::string unsupported(const std::string& supported) {
  return rpc_error(-32022, R"({"supported":)" + supported + R"(,"requested":"2026-07-28"})");
}

}  // namespace

TEST_CASE("probe: 401 means authorize first, whatever the body") {
  const auto v = classify_probe(401, discover(R"(["2026-07-28"])"), modern, ours);
  CHECK(v.what == kind::auth);
  CHECK(v.reason.find("401") != std::string::npos);
  CHECK(classify_probe(401, std::nullopt, modern, ours).what == kind::auth);
}

TEST_CASE("probe: 403 means authorize first") {
  CHECK(classify_probe(403, std::nullopt, modern, ours).what == kind::auth);
  CHECK(classify_probe(403, unsupported(R"(["2027-03-01"])"), modern, ours_two).what == kind::auth);
}

TEST_CASE("probe: a DiscoverResult listing the asked version is modern") {
  const auto v = classify_probe(200, discover(R"(["2025-11-25","2026-07-28"])"), modern, ours);
  CHECK(v.what == kind::modern);
  CHECK(v.version == modern);
  CHECK(v.supported == std::vector<std::string>{"2025-11-25", "2026-07-28"});
}

TEST_CASE(
    "probe: a DiscoverResult without the asked version renegotiates to our first one it lists") {
  const auto v = classify_probe(200, discover(R"(["2025-11-25","2027-03-01"])"), modern, ours_two);
  CHECK(v.what == kind::renegotiate);
  CHECK(v.version == "2027-03-01");
  CHECK(v.supported == std::vector<std::string>{"2025-11-25", "2027-03-01"});
}

TEST_CASE("probe: a DiscoverResult renegotiation follows our preference, not the server's order") {
  const std::vector<std::string> prefs = {"2027-03-01", "2026-12-01", "2026-07-28"};
  const auto v =
      classify_probe(200, discover(R"(["2026-07-28","2026-12-01"])"), "2027-03-01", prefs);
  CHECK(v.what == kind::renegotiate);
  CHECK(v.version == "2026-12-01");
}

TEST_CASE("probe: a DiscoverResult with no common version is a failure naming both lists") {
  const auto v = classify_probe(200, discover(R"(["2025-11-25","2099-01-01"])"), modern, ours);
  CHECK(v.what == kind::failure);
  CHECK(v.reason.find("no common version") != std::string::npos);
  CHECK(v.reason.find("2099-01-01") != std::string::npos);
  CHECK(v.reason.find("2026-07-28") != std::string::npos);
  CHECK(v.supported.size() == 2);
}

TEST_CASE("probe: -32022 with a usable supported list renegotiates (HTTP 400)") {
  const auto v =
      classify_probe(400, unsupported(R"(["2027-03-01","2025-11-25"])"), modern, ours_two);
  CHECK(v.what == kind::renegotiate);
  CHECK(v.version == "2027-03-01");
  CHECK(v.supported == std::vector<std::string>{"2027-03-01", "2025-11-25"});
}

TEST_CASE("probe: -32022 counts whatever the HTTP status") {
  CHECK(classify_probe(200, unsupported(R"(["2027-03-01"])"), modern, ours_two).what ==
        kind::renegotiate);
  CHECK(classify_probe(404, unsupported(R"(["2027-03-01"])"), modern, ours_two).what ==
        kind::renegotiate);
}

TEST_CASE("probe: -32022 never renegotiates to the version that was just refused") {
  const auto v =
      classify_probe(400, unsupported(R"(["2026-07-28","2027-03-01"])"), modern, ours_two);
  CHECK(v.what == kind::renegotiate);
  CHECK(v.version == "2027-03-01");
}

TEST_CASE("probe: -32022 with none of our versions is a failure, never legacy") {
  const auto v = classify_probe(400, unsupported(R"(["2025-11-25","2025-06-18"])"), modern, ours);
  CHECK(v.what == kind::failure);
  CHECK(v.reason.find("2025-11-25") != std::string::npos);
  CHECK(v.reason.find("2026-07-28") != std::string::npos);
  CHECK(classify_probe(400, unsupported("[]"), modern, ours).what == kind::failure);
}

TEST_CASE("probe: -32022 listing only the refused version asks once more at that version") {
  const auto v = classify_probe(400, unsupported(R"(["2026-07-28"])"), modern, ours);
  CHECK(v.what == kind::renegotiate);
  CHECK(v.version == "2026-07-28");
}

TEST_CASE("probe: -32022 without a list of strings in data.supported is legacy") {
  CHECK(classify_probe(400, rpc_error(-32022), modern, ours).what == kind::legacy);
  CHECK(
      classify_probe(400, rpc_error(-32022, R"({"supported":"2026-07-28"})"), modern, ours).what ==
      kind::legacy);
  CHECK(classify_probe(400, unsupported(R"(["2027-03-01",7])"), modern, ours_two).what ==
        kind::legacy);
}

TEST_CASE("probe: 5xx is a failure") {
  CHECK(classify_probe(500, std::nullopt, modern, ours).what == kind::failure);
  const auto v = classify_probe(503, rpc_error(-32603), modern, ours);
  CHECK(v.what == kind::failure);
  CHECK(v.reason.find("503") != std::string::npos);
  CHECK(classify_probe(502, discover(R"(["2026-07-28"])"), modern, ours).what == kind::failure);
}

TEST_CASE("probe: 400 without a modern error is legacy") {
  CHECK(classify_probe(400, std::nullopt, modern, ours).what == kind::legacy);
  CHECK(classify_probe(400, rpc_error(-32600), modern, ours).what == kind::legacy);
  CHECK(classify_probe(400, rpc_error(-32602), modern, ours).what == kind::legacy);
}

TEST_CASE("probe: 404 is legacy, with or without a JSON-RPC body") {
  CHECK(classify_probe(404, std::nullopt, modern, ours).what == kind::legacy);
  const auto v = classify_probe(404, rpc_error(-32601), modern, ours);
  CHECK(v.what == kind::legacy);
  CHECK(v.reason.find("404") != std::string::npos);
  CHECK(v.reason.find("-32601") != std::string::npos);
}

TEST_CASE("probe: 405 is legacy") {
  CHECK(classify_probe(405, std::nullopt, modern, ours).what == kind::legacy);
}

TEST_CASE("probe: other 4xx statuses are legacy") {
  for (const long status : {406L, 409L, 415L, 422L, 429L}) {
    CAPTURE(status);
    CHECK(classify_probe(status, std::nullopt, modern, ours).what == kind::legacy);
  }
}

TEST_CASE("probe: a 2xx with -32601 is legacy") {
  CHECK(classify_probe(200, rpc_error(-32601), modern, ours).what == kind::legacy);
}

TEST_CASE("probe: a 2xx with -32000 is legacy") {
  CHECK(classify_probe(200, rpc_error(-32000), modern, ours).what == kind::legacy);
}

TEST_CASE("probe: -32020 and -32021 are legacy under the strict rule") {
  CHECK(classify_probe(400, rpc_error(-32020), modern, ours).what == kind::legacy);
  CHECK(
      classify_probe(400, rpc_error(-32021, R"({"requiredCapabilities":{}})"), modern, ours).what ==
      kind::legacy);
}

TEST_CASE("probe: a body that is no JSON-RPC message is legacy") {
  CHECK(classify_probe(200, std::string("<html>hi</html>"), modern, ours).what == kind::legacy);
  CHECK(classify_probe(400, std::string("[1,2]"), modern, ours).what == kind::legacy);
}

TEST_CASE("probe: a 2xx without a message is legacy") {
  const auto v = classify_probe(200, std::nullopt, modern, ours);
  CHECK(v.what == kind::legacy);
  CHECK(v.reason.find("200") != std::string::npos);
  CHECK(classify_probe(202, std::nullopt, modern, ours).what == kind::legacy);
}

TEST_CASE("probe: a 2xx result that is no DiscoverResult is legacy") {
  CHECK(classify_probe(200, std::string(R"({"jsonrpc":"2.0","id":1,"result":{}})"), modern, ours)
            .what == kind::legacy);
  CHECK(classify_probe(200, discover(R"("2026-07-28")"), modern, ours).what == kind::legacy);
  CHECK(classify_probe(200, discover(R"(["2026-07-28",1])"), modern, ours).what == kind::legacy);
}

TEST_CASE("probe: server text in the reason is made printable") {
  const std::string msg =
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"bad\u001b[2J\nthing"}})";
  const auto v = classify_probe(404, msg, modern, ours);
  CHECK(v.what == kind::legacy);
  CHECK(v.reason.find('\x1b') == std::string::npos);
  CHECK(v.reason.find('\n') == std::string::npos);
  CHECK(v.reason.find("bad thing") != std::string::npos);
}
