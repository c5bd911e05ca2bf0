// keepalive_model(): tcp_keepalive_timer() by hand, docs/kernel-timing.md sections 4.3 and 5.2:
// probes at idle + k * intvl; death (RST) after cnt probes, or with TCP_USER_TIMEOUT at
// the first firing with elapsed >= U and probes_out > 0. HZ=250.
#include <gtest/gtest.h>

#include "model/test_util.hpp"

namespace tapfault::replay::model {
namespace {

using namespace std::chrono_literals;
using testing::count_of;
using testing::find_event;
using testing::nominal_ms;
using testing::to_ms;
using testing::window_ms;
using testing::WindowMs;

KeepaliveParams one_one_three() {
  KeepaliveParams p;
  p.idle = 1s;
  p.interval = 1s;
  p.probes = 3;
  return p;
}

TEST(KeepaliveModel, ThreeUnansweredProbesThenRstAtIdlePlusCountTimesInterval) {
  const Expectation e = keepalive_model(one_one_three());
  EXPECT_EQ(nominal_ms(e, EventKind::kKeepalive), (std::vector<std::int64_t>{1000, 2000, 3000}));
  ASSERT_TRUE(e.give_up);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 4000);
  EXPECT_TRUE(e.give_up->rst);
  EXPECT_EQ(e.give_up->error, "ETIMEDOUT");
}

TEST(KeepaliveModel, UserTimeoutReplacesKeepcnt) {
  KeepaliveParams p = one_one_three();
  p.user_timeout = 2500ms;  // at 3 s: 750 j >= 625 j and 2 probes out
  const Expectation e = keepalive_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kKeepalive), (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 3000);
  EXPECT_TRUE(e.give_up->rst);
  p.user_timeout = 10000ms;  // longer than cnt * intvl: probes at 1..9 s, RST at 10 s
  const Expectation longer = keepalive_model(p);
  EXPECT_EQ(count_of(longer, EventKind::kKeepalive), 9u);
  EXPECT_EQ(to_ms(*longer.give_up->nominal), 10000);
}

TEST(KeepaliveModel, UserTimeoutShorterThanIdleStillSendsOneProbe) {
  KeepaliveParams p;
  p.idle = 5s;
  p.interval = 1s;
  p.user_timeout = 1000ms;  // k = max(1, ceil((U - idle) / intvl)) = 1 probe
  const Expectation e = keepalive_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kKeepalive), (std::vector<std::int64_t>{5000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 6000);
}

TEST(KeepaliveModel, OneSecondTimersAreLevel1AndRunEvery1024ms) {
  // 250 j, level 1: first firing A+251..A+258 -> [1000, 1032] ms; then from a multiple
  // of 8, 250 = 31 * 8 + 2 -> +256 j = 1024 ms per step.
  const Expectation e = keepalive_model(one_one_three());
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kKeepalive, 1)), (WindowMs{1000, 1032}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kKeepalive, 2)), (WindowMs{2024, 2056}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kKeepalive, 3)), (WindowMs{3048, 3080}));
  EXPECT_EQ(window_ms(*e.give_up), (WindowMs{4072, 4104}));
}

TEST(KeepaliveModel, DefaultsProbeAfterTwoHoursWithLevel5Lateness) {
  // 7200 s = 1800000 j, level 5 (G = 32768 j = 131.072 s): first probe 1800001 ..
  // 1832768 j -> [7200.000, 7331.072] s. 75 s = 18750 j, level 3, from a multiple of
  // 512: +18944 j = 75.776 s each. Nine probes, RST 9 * 18944 j after the first.
  const Expectation e = keepalive_model(KeepaliveParams{});
  EXPECT_EQ(nominal_ms(e, EventKind::kKeepalive),
            (std::vector<std::int64_t>{7200000, 7275000, 7350000, 7425000, 7500000, 7575000, 7650000, 7725000,
                                       7800000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 7875000);
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kKeepalive, 1)), (WindowMs{7200000, 7331072}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kKeepalive, 2)), (WindowMs{7275776, 7406848}));
  EXPECT_EQ(window_ms(*e.give_up), (WindowMs{7881984, 8013056}));
}

}  // namespace
}  // namespace tapfault::replay::model
