// SPDX-License-Identifier: Apache-2.0
// Pins the plugin C ABI: layout, signatures, status values and a checksum of auth_plugin.h (x86_64 LP64).
#include <fracta/auth_plugin.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <type_traits>

#include <doctest/doctest.h>

#ifndef FRACTA_SOURCE_ROOT
#error "the build passes FRACTA_SOURCE_ROOT (the source tree) to this test"
#endif

namespace {

// FNV-1a, 64 bits: enough to notice any edit.
std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The checksum of engine/include/fracta/auth_plugin.h at ABI 1.1.
constexpr std::uint64_t pinned_header_fnv1a = 0xab2af01191a829afULL;

}  // namespace

// Every struct: language-independent layout the C side relies on.
static_assert(std::is_standard_layout_v<fracta_host> && std::is_trivially_copyable_v<fracta_host>);
static_assert(std::is_standard_layout_v<fracta_provider> && std::is_trivially_copyable_v<fracta_provider>);

#if defined(__x86_64__) && defined(__LP64__)
#define PIN(type, field, offset) static_assert(offsetof(type, field) == (offset), #type "." #field " moved")
#define PIN_SIZE(type, size) static_assert(sizeof(type) == (size), "sizeof(" #type ") changed")

PIN_SIZE(fracta_str, 16);
PIN(fracta_str, data, 0);
PIN(fracta_str, size, 8);

PIN_SIZE(fracta_sink, 24);
PIN(fracta_sink, struct_size, 0);
PIN(fracta_sink, ctx, 8);
PIN(fracta_sink, write, 16);

PIN_SIZE(fracta_outcome, 48);
PIN(fracta_outcome, struct_size, 0);
PIN(fracta_outcome, message, 8);
PIN(fracta_outcome, expires_at_unix_ms, 24);
PIN(fracta_outcome, value, 32);

PIN_SIZE(fracta_completion, 16);
PIN(fracta_completion, fn, 0);
PIN(fracta_completion, ctx, 8);

PIN_SIZE(fracta_request, 80);
PIN(fracta_request, struct_size, 0);
PIN(fracta_request, method, 8);
PIN(fracta_request, url, 24);
PIN(fracta_request, body, 40);
PIN(fracta_request, host_ctx, 56);
PIN(fracta_request, get_header, 64);
PIN(fracta_request, set_header, 72);

PIN_SIZE(fracta_challenge, 64);
PIN(fracta_challenge, struct_size, 0);
PIN(fracta_challenge, http_status, 8);
PIN(fracta_challenge, www_authenticate, 16);
PIN(fracta_challenge, resource_url, 32);
PIN(fracta_challenge, body, 48);

PIN_SIZE(fracta_http_header, 32);
PIN(fracta_http_header, name, 0);
PIN(fracta_http_header, value, 16);

PIN_SIZE(fracta_http_request, 80);
PIN(fracta_http_request, struct_size, 0);
PIN(fracta_http_request, method, 8);
PIN(fracta_http_request, url, 24);
PIN(fracta_http_request, headers, 40);
PIN(fracta_http_request, header_count, 48);
PIN(fracta_http_request, body, 56);
PIN(fracta_http_request, timeout_ms, 72);

PIN_SIZE(fracta_http_response, 48);
PIN(fracta_http_response, struct_size, 0);
PIN(fracta_http_response, status, 8);
PIN(fracta_http_response, headers, 16);
PIN(fracta_http_response, header_count, 24);
PIN(fracta_http_response, body, 32);

PIN_SIZE(fracta_http_completion, 16);
PIN(fracta_http_completion, fn, 0);
PIN(fracta_http_completion, ctx, 8);

PIN_SIZE(fracta_op_id, 8);

PIN_SIZE(fracta_host, 200);
PIN(fracta_host, struct_size, 0);
PIN(fracta_host, abi_major, 8);
PIN(fracta_host, abi_minor, 12);
PIN(fracta_host, host_ctx, 16);
PIN(fracta_host, server_name, 24);
PIN(fracta_host, server_url, 40);
PIN(fracta_host, log, 56);
PIN(fracta_host, wall_clock_ms, 64);
PIN(fracta_host, monotonic_ms, 72);
PIN(fracta_host, resolve_secret, 80);
PIN(fracta_host, http_send, 88);
PIN(fracta_host, timer_start, 96);
PIN(fracta_host, cancel, 104);
PIN(fracta_host, post, 112);
PIN(fracta_host, store_get, 120);
PIN(fracta_host, store_put, 128);
PIN(fracta_host, store_erase, 136);
PIN(fracta_host, json_get_raw, 144);
PIN(fracta_host, json_get_string, 152);
PIN(fracta_host, open_url, 160);
PIN(fracta_host, show_device_code, 168);
PIN(fracta_host, redirect_listen, 176);
PIN(fracta_host, redirect_await, 184);
PIN(fracta_host, resolve_secret_async, 192);

PIN_SIZE(fracta_provider, 104);
PIN(fracta_provider, struct_size, 0);
PIN(fracta_provider, type, 8);
PIN(fracta_provider, flags, 16);
PIN(fracta_provider, create, 24);
PIN(fracta_provider, destroy, 32);
PIN(fracta_provider, apply, 40);
PIN(fracta_provider, refresh, 48);
PIN(fracta_provider, on_challenge, 56);
PIN(fracta_provider, login, 64);
PIN(fracta_provider, logout, 72);
PIN(fracta_provider, status, 80);
PIN(fracta_provider, cancel, 88);
PIN(fracta_provider, export_credentials, 96);  // 1.1
static_assert(FRACTA_PROVIDER_MIN_SIZE == 48);

PIN_SIZE(fracta_plugin, 48);
PIN(fracta_plugin, struct_size, 0);
PIN(fracta_plugin, abi_major, 8);
PIN(fracta_plugin, abi_minor, 12);
PIN(fracta_plugin, name, 16);
PIN(fracta_plugin, version, 24);
PIN(fracta_plugin, provider_count, 32);
PIN(fracta_plugin, providers, 40);
#endif

// Every function-pointer signature (the layout pins cannot see a parameter change).
#define PIN_FN(type, field, ...) \
  static_assert(std::is_same_v<decltype(type::field), __VA_ARGS__>, #type "." #field " signature changed")
PIN_FN(fracta_sink, write, void (*)(void*, fracta_str));
PIN_FN(fracta_completion, fn, void (*)(void*, std::int32_t, const fracta_outcome*));
PIN_FN(fracta_request, get_header, std::int32_t (*)(void*, fracta_str, fracta_str*));
PIN_FN(fracta_request, set_header, std::int32_t (*)(void*, fracta_str, fracta_str));
PIN_FN(fracta_http_completion, fn, void (*)(void*, std::int32_t, const fracta_http_response*, fracta_str));
PIN_FN(fracta_host, log, void (*)(void*, std::int32_t, fracta_str));
PIN_FN(fracta_host, wall_clock_ms, std::int64_t (*)(void*));
PIN_FN(fracta_host, monotonic_ms, std::int64_t (*)(void*));
PIN_FN(fracta_host, resolve_secret,
       std::int32_t (*)(void*, fracta_str, fracta_str, const fracta_sink*, const fracta_sink*));
PIN_FN(fracta_host, http_send,
       std::int32_t (*)(void*, const fracta_http_request*, fracta_http_completion, fracta_op_id*));
PIN_FN(fracta_host, timer_start, std::int32_t (*)(void*, std::int64_t, fracta_completion, fracta_op_id*));
PIN_FN(fracta_host, cancel, void (*)(void*, fracta_op_id));
PIN_FN(fracta_host, post, void (*)(void*, fracta_completion));
PIN_FN(fracta_host, store_get, std::int32_t (*)(void*, fracta_str, fracta_completion));
PIN_FN(fracta_host, store_put, std::int32_t (*)(void*, fracta_str, fracta_str, fracta_completion));
PIN_FN(fracta_host, store_erase, std::int32_t (*)(void*, fracta_str, fracta_completion));
PIN_FN(fracta_host, json_get_raw, std::int32_t (*)(void*, fracta_str, fracta_str, const fracta_sink*));
PIN_FN(fracta_host, json_get_string, std::int32_t (*)(void*, fracta_str, fracta_str, const fracta_sink*));
PIN_FN(fracta_host, open_url, std::int32_t (*)(void*, fracta_str));
PIN_FN(fracta_host, show_device_code, std::int32_t (*)(void*, fracta_str, fracta_str, fracta_str));
PIN_FN(fracta_host, redirect_listen, std::int32_t (*)(void*, fracta_str, const fracta_sink*));
PIN_FN(fracta_host, redirect_await, std::int32_t (*)(void*, std::int64_t, fracta_completion, fracta_op_id*));
PIN_FN(fracta_host, resolve_secret_async,
       std::int32_t (*)(void*, fracta_str, fracta_str, fracta_completion, fracta_op_id*));
PIN_FN(fracta_provider, create, std::int32_t (*)(const fracta_host*, fracta_str, void**, const fracta_sink*));
PIN_FN(fracta_provider, destroy, void (*)(void*));
PIN_FN(fracta_provider, apply, std::int32_t (*)(void*, fracta_request*, const fracta_sink*));
PIN_FN(fracta_provider, refresh, std::int32_t (*)(void*, fracta_completion));
PIN_FN(fracta_provider, on_challenge, std::int32_t (*)(void*, const fracta_challenge*, fracta_completion));
PIN_FN(fracta_provider, login, std::int32_t (*)(void*, fracta_str, fracta_completion));
PIN_FN(fracta_provider, logout, std::int32_t (*)(void*, fracta_completion));
PIN_FN(fracta_provider, status, std::int32_t (*)(void*, const fracta_sink*));
PIN_FN(fracta_provider, cancel, void (*)(void*));
PIN_FN(fracta_provider, export_credentials, std::int32_t (*)(void*, fracta_completion));
static_assert(std::is_same_v<fracta_plugin_entry_v1_fn, const fracta_plugin* (*)(std::uint32_t)>);
static_assert(std::is_same_v<fracta_status, std::int32_t>);
static_assert(std::is_same_v<fracta_op_id, std::uint64_t>);

TEST_CASE("the ABI version is 1.1") {
  CHECK(FRACTA_ABI_MAJOR == 1);
  CHECK(FRACTA_ABI_MINOR == 1);
  CHECK(std::string(FRACTA_PLUGIN_ENTRY_V1_NAME) == "fracta_plugin_entry_v1");
}

TEST_CASE("status values are fixed forever") {
  CHECK(FRACTA_OK == 0);
  CHECK(FRACTA_PENDING == 1);
  CHECK(FRACTA_NEED_REFRESH == 2);
  CHECK(FRACTA_E_CONFIG == -1);
  CHECK(FRACTA_E_NEEDS_LOGIN == -2);
  CHECK(FRACTA_E_TRANSIENT == -3);
  CHECK(FRACTA_E_DENIED == -4);
  CHECK(FRACTA_E_UNSUPPORTED == -5);
  CHECK(FRACTA_E_CANCELLED == -6);
  CHECK(FRACTA_E_TIMEOUT == -7);
  CHECK(FRACTA_E_NOT_FOUND == -8);
  CHECK(FRACTA_E_UNAVAILABLE == -9);
  CHECK(FRACTA_E_INVALID_ARGUMENT == -10);
  CHECK(FRACTA_E_INTERNAL == -11);
  CHECK(FRACTA_LOG_DEBUG == 10);
  CHECK(FRACTA_LOG_INFO == 20);
  CHECK(FRACTA_LOG_WARN == 30);
  CHECK(FRACTA_LOG_ERROR == 40);
  CHECK(FRACTA_PROVIDER_INTERACTIVE == 1u);
  static_assert(std::is_same_v<decltype(FRACTA_OK), std::int32_t>);
  static_assert(std::is_same_v<decltype(FRACTA_E_INTERNAL), std::int32_t>);
  static_assert(std::is_same_v<decltype(FRACTA_PROVIDER_INTERACTIVE), std::uint32_t>);
}

TEST_CASE("FRACTA_HAS_FIELD follows the struct_size the writer reported") {
  fracta_host h{};
  h.struct_size = offsetof(fracta_host, json_get_raw);  // a writer that stopped before json_get_raw
  CHECK(FRACTA_HAS_FIELD(&h, fracta_host, store_erase));
  CHECK_FALSE(FRACTA_HAS_FIELD(&h, fracta_host, json_get_raw));
  const fracta_host* none = nullptr;
  CHECK_FALSE(FRACTA_HAS_FIELD(none, fracta_host, log));
}

TEST_CASE("auth_plugin.h has not changed without a deliberate version decision") {
  const std::string path = FRACTA_SOURCE_ROOT "/engine/include/fracta/auth_plugin.h";
  const std::uint64_t actual = fnv1a64(read_file(path));
  std::ostringstream hex;
  hex << "0x" << std::hex << actual << "ULL";
  INFO("engine/include/fracta/auth_plugin.h changed: FNV-1a is now " << hex.str() << ".\n"
       "The plugin ABI changes only deliberately:\n"
       "  - appending fields at the end of structs: bump FRACTA_ABI_MINOR;\n"
       "  - anything else (reordering, removing, retyping, new meanings): bump FRACTA_ABI_MAJOR,\n"
       "    which renames the entry symbol;\n"
       "  - comments only: no version change.\n"
       "Then record the change in docs/plugin-abi-versions.md, update the layout pins above, and set\n"
       "pinned_header_fnv1a in tests/abi/abi_cpp_test.cpp to " << hex.str() << ".");
  CHECK(actual == pinned_header_fnv1a);
}

TEST_CASE("the version log records the current ABI version") {
  const std::string log = read_file(FRACTA_SOURCE_ROOT "/docs/plugin-abi-versions.md");
  const std::string heading =
      "## " + std::to_string(FRACTA_ABI_MAJOR) + "." + std::to_string(FRACTA_ABI_MINOR);
  INFO("docs/plugin-abi-versions.md needs a section \"" << heading << "\" for the current ABI");
  CHECK(log.find(heading) != std::string::npos);
}
