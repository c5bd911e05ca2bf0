// The kernel timer wheel (kernel/time/timer.c): when a timer_list armed for `delay`
// jiffies really runs.
//
// Read first: docs/kernel-timing.md section 1.1, and calc_index()/calc_wheel_index() in
// kernel/time/timer.c. A timer with expiry `expires`, enqueued while the base clock
// is `clk`, goes to the smallest level L with (expires - clk) < LVL_START(L+1) =
// 63 * 8^L; its bucket runs at jiffy (floor(expires / 8^L) + 1) * 8^L. So a timer is
// never early and is 1..8^L jiffies late. Which of those depends on the absolute
// jiffy, i.e. on a phase the models do not know: they enumerate it (model_chain).
//
// base->clk: while __run_timers() runs the callbacks it is jiffies + 1 ("1 offset
// ahead of jiffies to avoid endless requeuing"), so a timer re-armed from its own
// callback sees delta = delay - 1. Elsewhere (process context, packet softirq)
// forward_timer_base() leaves it at jiffies or jiffies + 1. This only matters when
// the delay sits exactly on a level boundary (63, 504, 4032, ... jiffies).
#pragma once

#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

// LVL_DEPTH: 9 levels when HZ > 100, else 8.
int wheel_depth(int hz = kDefaultHz);
// LVL_START(level + 1) = 63 << (3 * level): the first delta that no longer fits `level`.
Jiffies wheel_level_end(int level);
// LVL_GRAN(level) = 8^level jiffies.
Jiffies wheel_granularity(int level);
// The level calc_wheel_index() picks for `delta` = expires - base->clk.
int wheel_level(Jiffies delta, int hz = kDefaultHz);

struct WheelPlacement {
  int level = 0;
  Jiffies granularity{1};
  Jiffies fires_at{};  // bucket_expiry: the jiffy at which the callback runs
};

// calc_wheel_index(expires, clk) exactly, including the force-expiry of delays
// beyond WHEEL_TIMEOUT_CUTOFF and the "already expired" case (fires at clk).
WheelPlacement calc_wheel_index(Jiffies expires, Jiffies clk, int hz = kDefaultHz);

// A timer re-armed from a timer callback running at jiffy `now` (base->clk = now + 1):
// the jiffy its callback runs. For now a multiple of the granularity (a chained timer
// after a firing at the same or a higher level) the result no longer depends on the
// absolute phase: a chained 30000-jiffy RTO runs every 30208 jiffies.
Jiffies timer_fire_from_callback(Jiffies now, Jiffies delay, int hz = kDefaultHz);

// When the arm phase is unknown: the timer runs between delay + 1 and delay + G
// jiffies after it was armed (G the granularity of its level).
struct WheelWindow {
  int level = 0;
  Jiffies granularity{1};
  Jiffies earliest{};  // delay + 1
  Jiffies latest{};    // delay + G
};
WheelWindow timer_wheel_window(Jiffies delay, int hz = kDefaultHz);

}  // namespace tapfault::replay::model
