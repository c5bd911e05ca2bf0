// Jiffy conversions with the rounding of include/linux/jiffies.h.
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

namespace {

// ceil(num / den) for num >= 0, den > 0.
std::int64_t ceil_div(std::int64_t num, std::int64_t den) { return (num + den - 1) / den; }

}  // namespace

Jiffies msecs_to_jiffies(std::chrono::milliseconds m, int hz) {
  if (m.count() <= 0) return Jiffies{0};
  return Jiffies{ceil_div(m.count() * hz, 1000)};
}

Jiffies usecs_to_jiffies(std::chrono::microseconds u, int hz) {
  if (u.count() <= 0) return Jiffies{0};
  return Jiffies{ceil_div(u.count() * hz, 1'000'000)};
}

Jiffies nsecs_to_jiffies(std::chrono::nanoseconds n, int hz) {
  if (n.count() <= 0) return Jiffies{0};
  // Split to avoid overflowing ns * hz for long spans.
  const std::int64_t s = n.count() / 1'000'000'000;
  const std::int64_t rem = n.count() % 1'000'000'000;
  return Jiffies{s * hz + rem * hz / 1'000'000'000};
}

std::chrono::milliseconds jiffies_to_msecs(Jiffies j, int hz) {
  return std::chrono::milliseconds{j.count * 1000 / hz};
}

std::chrono::microseconds jiffies_to_usecs(Jiffies j, int hz) {
  return std::chrono::microseconds{j.count * 1'000'000 / hz};
}

Duration to_duration(Jiffies j, int hz) {
  const std::int64_t s = j.count / hz;
  const std::int64_t rem = j.count % hz;
  return Duration{s * 1'000'000'000 + rem * 1'000'000'000 / hz};
}

}  // namespace tapfault::replay::model
