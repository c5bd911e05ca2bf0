// kernel/time/timer.c: calc_index(), calc_wheel_index(), LVL_* constants.
#include "tapfault/replay/model/wheel.hpp"

namespace tapfault::replay::model {

namespace {

constexpr int kLvlClkShift = 3;  // LVL_CLK_SHIFT
constexpr int kLvlBits = 6;      // LVL_BITS
constexpr std::int64_t kLvlSize = std::int64_t{1} << kLvlBits;

// LVL_START(n) = (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT), n >= 1.
constexpr std::int64_t lvl_start(int n) { return (kLvlSize - 1) << ((n - 1) * kLvlClkShift); }

// calc_index(): round the expiry up to the level's granularity, strictly later.
WheelPlacement place(std::int64_t expires, int level) {
  const int shift = level * kLvlClkShift;
  const std::int64_t bucket = ((expires >> shift) + 1) << shift;
  return WheelPlacement{level, Jiffies{std::int64_t{1} << shift}, Jiffies{bucket}};
}

}  // namespace

int wheel_depth(int hz) { return hz > 100 ? 9 : 8; }

Jiffies wheel_level_end(int level) { return Jiffies{lvl_start(level + 1)}; }

Jiffies wheel_granularity(int level) { return Jiffies{std::int64_t{1} << (level * kLvlClkShift)}; }

int wheel_level(Jiffies delta, int hz) {
  const int depth = wheel_depth(hz);
  for (int level = 0; level < depth - 1; ++level) {
    if (delta.count < lvl_start(level + 1)) return level;
  }
  return depth - 1;
}

WheelPlacement calc_wheel_index(Jiffies expires, Jiffies clk, int hz) {
  const std::int64_t delta = expires.count - clk.count;
  const int depth = wheel_depth(hz);
  if (delta < 0) {
    // Already expired: queued in the bucket of the current base clock.
    return WheelPlacement{0, Jiffies{1}, clk};
  }
  for (int level = 0; level < depth - 1; ++level) {
    if (delta < lvl_start(level + 1)) return place(expires.count, level);
  }
  std::int64_t e = expires.count;
  const std::int64_t cutoff = lvl_start(depth);  // WHEEL_TIMEOUT_CUTOFF
  if (delta >= cutoff) {
    // WHEEL_TIMEOUT_MAX = cutoff - LVL_GRAN(depth - 1): obscene timeouts are force-expired.
    e = clk.count + cutoff - wheel_granularity(depth - 1).count;
  }
  return place(e, depth - 1);
}

Jiffies timer_fire_from_callback(Jiffies now, Jiffies delay, int hz) {
  return calc_wheel_index(now + delay, now + Jiffies{1}, hz).fires_at;
}

WheelWindow timer_wheel_window(Jiffies delay, int hz) {
  const int level = wheel_level(delay, hz);
  const Jiffies g = wheel_granularity(level);
  return WheelWindow{level, g, delay + Jiffies{1}, delay + g};
}

}  // namespace tapfault::replay::model
