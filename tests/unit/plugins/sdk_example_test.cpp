// SPDX-License-Identifier: Apache-2.0
// Specifies the SDK walkthrough (docs/examples/sdk-example) and that docs/plugin-abi.md quotes it verbatim.
#include "fake_host.hpp"

#include <fstream>
#include <iterator>
#include <string>

namespace {

using namespace fracta::test;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

constexpr std::string_view config = R"({"type":"example-api-key","key":{"env":"API_KEY"}})";

}  // namespace

TEST_CASE("the walkthrough provider sets X-Api-Key and refreshes from its source") {
  fake_host host;
  host.env["API_KEY"] = "first";
  const fracta_provider& p = provider("example-api-key");
  CHECK(present(p.refresh));
  CHECK(present(p.status));
  CHECK_FALSE(present(p.on_challenge));
  instance inst(p, host, config);
  REQUIRE(inst.status == FRACTA_OK);

  fake_request req("POST", "https://mcp.example.com/mcp");
  collecting_sink err;
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("X-Api-Key") == "first");

  completion_probe unchanged;
  CHECK(inst.refresh(unchanged) == FRACTA_PENDING);
  host.run_posted();
  CHECK(unchanged.status == FRACTA_E_DENIED);
  CHECK(unchanged.message == "the key from env API_KEY has not changed; rotate it");

  host.env["API_KEY"] = "second";
  completion_probe rotated;
  CHECK(inst.refresh(rotated) == FRACTA_PENDING);
  host.run_posted();
  CHECK(rotated.calls == 1);
  CHECK(rotated.status == FRACTA_OK);
  CHECK(inst.apply(req, err) == FRACTA_OK);
  CHECK(req.header("X-Api-Key") == "second");
  CHECK(inst.status_json() == R"({"type":"example-api-key","source":"env API_KEY"})");
}

TEST_CASE("docs/plugin-abi.md quotes the walkthrough exactly as it is compiled") {
  const std::string root = FRACTA_TEST_SOURCE_DIR "/..";
  const std::string code = read_file(root + "/docs/examples/sdk-example/api_key_example.cpp");
  const std::string marker = "// [sdk-example]\n";
  const auto begin = code.find(marker);
  REQUIRE(begin != std::string::npos);
  const auto end = code.find(marker, begin + marker.size());
  REQUIRE(end != std::string::npos);
  const std::string excerpt = code.substr(begin + marker.size(), end - begin - marker.size());
  const std::string doc = read_file(root + "/docs/plugin-abi.md");
  INFO("copy the code between the [sdk-example] markers of docs/examples/sdk-example/api_key_example.cpp "
       "into the ```cpp block of docs/plugin-abi.md");
  CHECK(doc.find("```cpp\n" + excerpt + "```") != std::string::npos);
}
