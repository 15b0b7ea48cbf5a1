// SPDX-License-Identifier: Apache-2.0
// The store::errc category and helpers shared by the token stores.
#include "store/store.hpp"

#include <fracta/proto/error_category.hpp>

namespace fracta::store {
namespace {

constexpr table_category<errc>::entry messages[] = {
    {errc::not_found, "no such stored item"},
    {errc::unavailable, "the credential store is unavailable"},
    {errc::corrupt, "the credential store is corrupt"},
    {errc::locked, "the credential store is locked by another writer"},
    {errc::io, "credential store I/O error"},
    {errc::bad_key, "unusable credential store key"},
    {errc::too_large, "value too large for the credential store"},
    {errc::refused, "the credential store refused the value"},
};

}  // namespace

const std::error_category& category() noexcept {
  static const table_category<errc> c("fracta.store", messages, "unknown credential store error");
  return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

error make_error(errc e, std::string message) { return error{make_error_code(e), std::move(message)}; }

bool belongs_to(const item_key& key, std::string_view name) noexcept {
  const std::string_view s = key.server;
  if (name.empty() || s.size() < name.size() || s.compare(0, name.size(), name) != 0) return false;
  return s.size() == name.size() || s[name.size()] == '\n';
}

std::string_view display_server(std::string_view key_server) noexcept {
  return key_server.substr(0, key_server.find('\n'));
}

result<void> check_key(const item_key& key) {
  if (key.server.empty()) return make_error(errc::bad_key, "a stored item needs a server name");
  if (key.item.empty()) return make_error(errc::bad_key, "a stored item needs an item name");
  return {};
}

}  // namespace fracta::store
