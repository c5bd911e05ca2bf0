// kernel/time/timer.c calc_wheel_index(): levels, granularity and firing jiffies,
// computed by hand from LVL_START(n) = 63 << 3(n-1) and bucket = (expires / G + 1) * G.
#include <gtest/gtest.h>

#include "tapfault/replay/model/wheel.hpp"

namespace tapfault::replay::model {
namespace {

using namespace literals;

TEST(TimerWheel, LevelIsTheSmallestWithDeltaBelow63TimesEightToTheLevel) {
  EXPECT_EQ(wheel_level(0_j), 0);
  EXPECT_EQ(wheel_level(62_j), 0);
  EXPECT_EQ(wheel_level(63_j), 1);
  EXPECT_EQ(wheel_level(503_j), 1);
  EXPECT_EQ(wheel_level(504_j), 2);
  EXPECT_EQ(wheel_level(4031_j), 2);
  EXPECT_EQ(wheel_level(4032_j), 3);
  EXPECT_EQ(wheel_level(32255_j), 3);
  EXPECT_EQ(wheel_level(32256_j), 4);
  EXPECT_EQ(wheel_level(258047_j), 4);
  EXPECT_EQ(wheel_level(258048_j), 5);
  EXPECT_EQ(wheel_level(1800000_j), 5);  // 7200 s keepalive
  EXPECT_EQ(wheel_granularity(3), 512_j);
}

TEST(TimerWheel, Level0TimersRunOneJiffyLate) {
  // A 51-jiffy TLP armed at jiffy 1000: 51 < 63, level 0, bucket 1051 + 1.
  EXPECT_EQ(calc_wheel_index(1051_j, 1000_j).fires_at, 1052_j);
  EXPECT_EQ(calc_wheel_index(1051_j, 1000_j).level, 0);
}

TEST(TimerWheel, KeepaliveOf250JiffiesIsLevel1AndLate4To32ms) {
  const WheelWindow w = timer_wheel_window(250_j);
  EXPECT_EQ(w.level, 1);
  EXPECT_EQ(w.granularity, 8_j);
  EXPECT_EQ(w.earliest, 251_j);  // +4 ms
  EXPECT_EQ(w.latest, 258_j);    // +32 ms
  // Armed at 1000 (expires 1250 = 156*8 + 2): next multiple of 8 is 1256.
  EXPECT_EQ(calc_wheel_index(1250_j, 1000_j).fires_at, 1256_j);
  // Armed at 1006 (expires 1256, a multiple of 8): strictly later, 1264.
  EXPECT_EQ(calc_wheel_index(1256_j, 1006_j).fires_at, 1264_j);
}

TEST(TimerWheel, Chained120sRtoFiresEvery30208Jiffies) {
  // 30000 = 58*512 + 304, level 3; from a firing jiffy that is a multiple of 512 the
  // bucket is (58 + 1) * 512 = 30208 later: 120.832 s.
  const Jiffies start{512 * 1000};
  Jiffies t = start;
  for (int k = 1; k <= 5; ++k) {
    t = timer_fire_from_callback(t, 30000_j);
    EXPECT_EQ(t - start, Jiffies{30208 * k}) << "firing " << k;
  }
}

TEST(TimerWheel, Chained104_448sRtoFiresAfter106_496s) {
  // 26112 = 51 * 512 exactly: level 3, the bucket is the next one, 52 * 512 = 26624 j.
  const Jiffies start{512 * 77};
  EXPECT_EQ(timer_fire_from_callback(start, 26112_j) - start, 26624_j);
  EXPECT_EQ(to_duration(26624_j), std::chrono::microseconds{106496000});
}

TEST(TimerWheel, CallbackRearmSeesClockOneAheadAtTheLevelBoundary) {
  // From a callback base->clk = now + 1, so a 63-jiffy delay is delta 62: level 0,
  // one jiffy late.
  EXPECT_EQ(calc_wheel_index(1066_j, 1004_j).level, 0);
  EXPECT_EQ(timer_fire_from_callback(1003_j, 63_j), 1067_j);
  // Armed with clk == jiffies the same delay is level 1: next multiple of 8 after 1066.
  EXPECT_EQ(calc_wheel_index(1066_j, 1003_j).level, 1);
  EXPECT_EQ(calc_wheel_index(1066_j, 1003_j).fires_at, 1072_j);
}

TEST(TimerWheel, ExpiredTimersRunAtTheBaseClock) {
  EXPECT_EQ(calc_wheel_index(990_j, 1000_j).fires_at, 1000_j);
}

}  // namespace
}  // namespace tapfault::replay::model
