// SPDX-License-Identifier: Apache-2.0
// The real clock.
#include "core/clock.hpp"

namespace fracta::core {

std::int64_t real_clock::wall_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t real_clock::monotonic_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::shared_ptr<const clock> system_clock() {
  static const auto c = std::make_shared<const real_clock>();
  return c;
}

}  // namespace fracta::core
