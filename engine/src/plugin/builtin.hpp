// SPDX-License-Identifier: Apache-2.0
// Providers compiled into the engine (`none`).
#pragma once
#include "core/internal.hpp"

#include "fracta/auth_plugin.h"

namespace fracta::plugin {

/// The `none` provider: attaches nothing.
const fracta_provider& none_provider() noexcept;

}  // namespace fracta::plugin
