// SPDX-License-Identifier: Apache-2.0
// The store::errc category and helpers shared by the token stores.
#include "store/store.hpp"

namespace fracta::store {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fracta.store"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::not_found: return "no such stored item";
      case errc::unavailable: return "the credential store is unavailable";
      case errc::corrupt: return "the credential store is corrupt";
      case errc::locked: return "the credential store is locked by another writer";
      case errc::io: return "credential store I/O error";
      case errc::bad_key: return "unusable credential store key";
      case errc::too_large: return "value too large for the credential store";
      case errc::refused: return "the credential store refused the value";
    }
    return "unknown credential store error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl c;
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
