// syn_model(): SYN retransmissions in SYN_SENT, by hand from docs/kernel-timing.md section 6
// (d_k = I for k <= L + 1, then doubling; death at (k - 1) >= R + L retransmissions or,
// after one, F_k >= tcp_model_timeout(R, 1 s)). HZ=250.
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

TEST(SynModel, DefaultSixRetriesSendSynsUpTo67sAndDieAt131s) {
  // 1 s steps for the first 5 retransmissions (linear 4), then 2, 4, 8, 16, 32 s.
  const Expectation e = syn_model(SynParams{});
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn),
            (std::vector<std::int64_t>{1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000}));
  ASSERT_TRUE(e.give_up);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 131000);  // 10 retransmissions = R + L
  EXPECT_EQ(e.give_up->error, "ETIMEDOUT");
  EXPECT_FALSE(e.give_up->rst);
}

TEST(SynModel, ThreeRetriesDieAt19sByTheCount) {
  SynParams p;
  p.syn_retries = 3;  // max 7 retransmissions; T(3, 1 s) = 15 s is not reached at 11 s
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{1000, 2000, 3000, 4000, 5000, 7000, 11000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 19000);
  EXPECT_EQ(e.give_up->reason, "tcp_syn_retries + tcp_syn_linear_timeouts retransmissions");
}

TEST(SynModel, TwoRetriesDieAt7sByTheTimeRule) {
  SynParams p;
  p.syn_retries = 2;  // T(2, 1 s) = 7 s; at 7 s only 5 of 6 retransmissions are done
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{1000, 2000, 3000, 4000, 5000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 7000);
  p.syn_retries = 1;  // T(1, 1 s) = 3 s
  const Expectation one = syn_model(p);
  EXPECT_EQ(nominal_ms(one, EventKind::kSyn), (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(to_ms(*one.give_up->nominal), 3000);
}

TEST(SynModel, NoLinearTimeoutsDoubleFromTheFirstRetransmission) {
  SynParams p;
  p.linear_timeouts = 0;
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{1000, 3000, 7000, 15000, 31000, 63000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 127000);
  p.syn_retries = 3;
  const Expectation three = syn_model(p);
  EXPECT_EQ(nominal_ms(three, EventKind::kSyn), (std::vector<std::int64_t>{1000, 3000, 7000}));
  EXPECT_EQ(to_ms(*three.give_up->nominal), 15000);
}

TEST(SynModel, UserTimeoutShortensTheSynPhase) {
  SynParams p;
  p.user_timeout = 2500ms;  // at 2 s: min(250, msecs_to_jiffies(500)) = 125 j
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 2500);
  EXPECT_EQ(e.give_up->reason, "TCP_USER_TIMEOUT since the SYN");
}

TEST(SynModel, UserTimeoutCannotLengthenPastTheCount) {
  SynParams p;
  p.syn_retries = 3;
  p.user_timeout = 600000ms;
  const Expectation e = syn_model(p);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 19000);
}

TEST(SynModel, RtoMaxOneSecondCapsTheBackoffAndTheTimeLimit) {
  SynParams p;
  p.rto_max = 1000ms;  // 250 j: no growth; T(6, 250, 250) = (2 - 1) * 250 + 6 * 250 j = 7 s
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{1000, 2000, 3000, 4000, 5000, 6000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 7000);
}

TEST(SynModel, WheelWindowsOfThreeRetries) {
  // 250 j is level 1: SYN#1 at A+251..A+258 -> [1000, 1032] ms. Re-armed from a
  // multiple of 8: +256 j each (1024 ms) for the 1 s steps; 500 j (level 1): +504;
  // 1000 j (level 2, phase mod 64 new): +1001..+1064; 2000 j: level 2 again, +2048.
  SynParams p;
  p.syn_retries = 3;
  const Expectation e = syn_model(p);
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kSyn, 1)), (WindowMs{1000, 1032}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kSyn, 2)), (WindowMs{2024, 2056}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kSyn, 5)), (WindowMs{5096, 5128}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kSyn, 6)), (WindowMs{7112, 7144}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kSyn, 7)), (WindowMs{11144, 11400}));
  EXPECT_EQ(window_ms(*e.give_up), (WindowMs{19336, 19592}));
}

TEST(SynModel, TimeoutInitFromBpfMovesEverything) {
  SynParams p;
  p.timeout_init = 200ms;  // 50 j: T(6, 50 j, 30000 j) = 127 * 50 j = 25.4 s
  p.syn_retries = 2;       // T(2) = 7 * 50 j = 1.4 s
  const Expectation e = syn_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kSyn), (std::vector<std::int64_t>{200, 400, 600, 800, 1000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 1400);
  EXPECT_EQ(count_of(e, EventKind::kGiveUp), 1u);
}

}  // namespace
}  // namespace tapfault::replay::model
