// SPDX-License-Identifier: Apache-2.0
// The built-in `none` provider, written against the C ABI like any plugin.
#include "plugin/builtin.hpp"

namespace fracta::plugin {
namespace {

int none_tag;

int32_t none_create(const fracta_host*, fracta_str, void** instance, const fracta_sink*) {
  *instance = &none_tag;
  return FRACTA_OK;
}
void none_destroy(void*) {}
int32_t none_apply(void*, fracta_request*, const fracta_sink*) { return FRACTA_OK; }

const fracta_provider none = {
    sizeof(fracta_provider), "none", 0, none_create, none_destroy, none_apply,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

const fracta_provider& none_provider() noexcept { return none; }

}  // namespace fracta::plugin
