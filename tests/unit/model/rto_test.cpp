// rto_model() and tcp_model_timeout_ms() against tables computed by hand from the
// kernel formulas (docs/kernel-timing.md sections 3 and 12 (a), (b)); HZ=250, 1 jiffy = 4 ms.
// Nominal = no timer-wheel rounding.
#include <gtest/gtest.h>

#include "model/test_util.hpp"

namespace tapfault::replay::model {
namespace {

using namespace std::chrono_literals;
using namespace literals;
using testing::count_of;
using testing::find_event;
using testing::nominal_ms;
using testing::to_ms;
using testing::window_ms;
using testing::WindowMs;

// --- tcp_model_timeout() ---------------------------------------------------------------

TEST(ModelTimeout, Retries2FifteenIs924_6sWithTheTcpRtoMinConstant) {
  // thresh = ilog2(30000 / 50) = ilog2(600) = 9 < 15:
  // (2^10 - 1) * 50 + (15 - 9) * 30000 = 51150 + 180000 = 231150 j = 924600 ms.
  EXPECT_EQ(tcp_model_timeout_ms(15, 50_j, 30000_j), 924600ms);
}

TEST(ModelTimeout, Retries2FiveIs12_6s) {
  // 5 <= 9: (2^6 - 1) * 50 = 3150 j = 12600 ms.
  EXPECT_EQ(tcp_model_timeout_ms(5, 50_j, 30000_j), 12600ms);
}

TEST(ModelTimeout, RtoMax1000msShortensRetries2FifteenTo14_4s) {
  // rto_max 1000 ms = 250 j: thresh = ilog2(250 / 50) = ilog2(5) = 2:
  // (2^3 - 1) * 50 + 13 * 250 = 350 + 3250 = 3600 j = 14400 ms.
  EXPECT_EQ(tcp_model_timeout_ms(15, 50_j, 250_j), 14400ms);
}

TEST(ModelTimeout, Retries1AndOrphanBoundaries) {
  EXPECT_EQ(tcp_model_timeout_ms(3, 50_j, 30000_j), 3000ms);     // 15 * 50 j
  EXPECT_EQ(tcp_model_timeout_ms(4, 50_j, 30000_j), 6200ms);     // 31 * 50 j
  EXPECT_EQ(tcp_model_timeout_ms(8, 50_j, 30000_j), 102200ms);   // 511 * 50 j
  EXPECT_EQ(tcp_model_timeout_ms(9, 50_j, 30000_j), 204600ms);   // 1023 * 50 j, last exponential
  EXPECT_EQ(tcp_model_timeout_ms(10, 50_j, 30000_j), 324600ms);  // + one rto_max
}

TEST(ModelTimeout, SynStatesUseOneSecondBase) {
  // thresh = ilog2(30000 / 250) = ilog2(120) = 6.
  EXPECT_EQ(tcp_model_timeout_ms(6, 250_j, 30000_j), 127000ms);  // 127 * 250 j
  EXPECT_EQ(tcp_model_timeout_ms(3, 250_j, 30000_j), 15000ms);   // 15 * 250 j
  EXPECT_EQ(tcp_model_timeout_ms(8, 250_j, 30000_j), 367000ms);  // 127 s + 2 * 120 s
}

TEST(ModelTimeout, ScalesWithHz) {
  // HZ=1000: TCP_RTO_MIN = 200 j, rto_max = 120000 j, thresh = 9: same 924.6 s.
  EXPECT_EQ(tcp_model_timeout_ms(15, 200_j, 120000_j, 1000), 924600ms);
  // HZ=100: 20 j and 12000 j.
  EXPECT_EQ(tcp_model_timeout_ms(15, 20_j, 12000_j, 100), 924600ms);
}

// --- RTO value and user-timeout clamp ------------------------------------------------

TEST(RtoValue, RtoMinPlusAnySrttRoundsUpTo204ms) {
  RttState rtt;
  rtt.srtt = 100us;  // rttvar = max(200 us, 200 ms) = 200 ms; 200.1 ms -> 51 j
  EXPECT_EQ(initial_rto(rtt, 200000us, 30000_j), 51_j);
  rtt.srtt = 5000us;  // 205 ms -> 52 j = 208 ms
  EXPECT_EQ(initial_rto(rtt, 200000us, 30000_j), 52_j);
  rtt.srtt = 100us;  // compressed run: rto_min 20 ms -> 20.1 ms -> 6 j = 24 ms
  EXPECT_EQ(initial_rto(rtt, 20000us, 30000_j), 6_j);
  rtt.rto = 77_j;  // read back from TCP_INFO
  EXPECT_EQ(initial_rto(rtt, 200000us, 30000_j), 77_j);
}

TEST(RtoValue, NoRttSampleFallsBackToThreeSecondsButRevertsToOne) {
  RttState rtt;
  rtt.srtt = 0us;
  EXPECT_EQ(initial_rto(rtt, 200000us, 30000_j), 750_j);  // TCP_TIMEOUT_FALLBACK
  EXPECT_EQ(revert_base_rto(rtt, 200000us), 250_j);       // TCP_TIMEOUT_INIT
}

TEST(UserTimeoutClamp, NextTimerIsTheTimeLeftOrOneJiffy) {
  EXPECT_EQ(tcp_clamp_rto_to_user_timeout(816_j, 0ms, 2856ms), 816_j);    // no U: icsk_rto
  EXPECT_EQ(tcp_clamp_rto_to_user_timeout(816_j, 3000ms, 2856ms), 36_j);  // 144 ms left
  EXPECT_EQ(tcp_clamp_rto_to_user_timeout(816_j, 3000ms, 2999ms), 1_j);   // 1 ms rounds up
  EXPECT_EQ(tcp_clamp_rto_to_user_timeout(816_j, 3000ms, 3004ms), 1_j);   // passed: ASAP
  EXPECT_EQ(tcp_clamp_rto_to_user_timeout(102_j, 3000ms, 0ms), 102_j);    // icsk_rto smaller
}

// --- rto_model(): nominal timelines ---------------------------------------------------

TEST(RtoModel, Retries2FifteenGivesUpAt924_6sByFormula) {
  const Expectation e = rto_model(RtoParams{});
  ASSERT_TRUE(e.give_up);
  const auto rto = nominal_ms(e, EventKind::kRto);
  ASSERT_EQ(rto.size(), 15u);
  // Give-up at the first firing with now - RTO#1 >= 924600 ms: the 16th firing.
  EXPECT_LT(rto[14] - rto[0], 924600);                         // 808896 - 408
  EXPECT_GE(to_ms(*e.give_up->nominal) - rto[0], 924600);     // 928896 - 408 = 928488
  EXPECT_EQ(e.give_up->error, "ETIMEDOUT");
  EXPECT_FALSE(e.give_up->rst);
}

TEST(RtoModel, BlackholeWithDefaultsMatchesTableA) {
  // docs/kernel-timing.md section 12 (a): TLP at R0 = 204 ms, RTO#k at 204 * 2^k for k <= 10 (the
  // chain restarts from the TLP), then 120 s apart; ETIMEDOUT at the 16th firing.
  const Expectation e = rto_model(RtoParams{});
  EXPECT_EQ(nominal_ms(e, EventKind::kTlp), (std::vector<std::int64_t>{204}));
  EXPECT_EQ(nominal_ms(e, EventKind::kRto),
            (std::vector<std::int64_t>{408, 816, 1632, 3264, 6528, 13056, 26112, 52224, 104448, 208896, 328896,
                                       448896, 568896, 688896, 808896}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 928896);
}

TEST(RtoModel, Retries2FiveMatchesTableB) {
  RtoParams p;
  p.retries2 = 5;  // T = 12600 ms; F6 - F1 = 13056 - 408 = 12648 >= 12600
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kTlp), (std::vector<std::int64_t>{204}));
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 816, 1632, 3264, 6528}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 13056);
}

TEST(RtoModel, WithoutSackThereIsNoTlpAndTheChainStartsAtTheSend) {
  RtoParams p;
  p.sack = false;  // RTO#k at 204 * (2^k - 1), then +120 s; death 928.692 s
  const Expectation e = rto_model(p);
  EXPECT_EQ(count_of(e, EventKind::kTlp), 0u);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto),
            (std::vector<std::int64_t>{204, 612, 1428, 3060, 6324, 12852, 25908, 52020, 104244, 208692, 328692,
                                       448692, 568692, 688692, 808692}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 928692);
}

TEST(RtoModel, TwoSegmentsInFlightProbeAfterTwoSrttPlusTwoMs) {
  RtoParams p;
  p.packets_out = 2;  // PTO = usecs_to_jiffies(200 us + 2000 us) = 1 j
  p.retries2 = 5;
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kTlp), (std::vector<std::int64_t>{4}));
  // Level 0: one jiffy late, and the origin anywhere in its jiffy: [4, 8] ms.
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kTlp, 1)), (WindowMs{4, 8}));
  // RTO#1 = TLP + 204 ms.
  EXPECT_EQ(nominal_ms(e, EventKind::kRto).front(), 208);
}

TEST(RtoModel, UserTimeoutReplacesRetries2AndClampsTheLastTimer) {
  RtoParams p;
  p.user_timeout = 3000ms;
  // F1 = 102 j; F4 = 816 j with 714 j = 2856 ms elapsed: timer min(816, 36) j, so the
  // next firing is at 852 j = 3408 ms = F1 + 3000 ms: give-up.
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 816, 1632, 3264}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 3408);
  EXPECT_EQ(e.give_up->reason, "TCP_USER_TIMEOUT since the first retransmission");
}

TEST(RtoModel, UserTimeoutOf100msDiesOneClampedTimerAfterRto1) {
  RtoParams p;
  p.user_timeout = 100ms;  // F1 = 102 j, then min(102, 25) j: 127 j = 508 ms
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 508);
}

TEST(RtoModel, UserTimeoutLongerThanRetries2KeepsRetransmitting) {
  RtoParams p;
  p.user_timeout = 1200000ms;  // 20 min: the retries2 limit no longer applies
  const Expectation e = rto_model(p);
  const auto rto = nominal_ms(e, EventKind::kRto);
  ASSERT_EQ(rto.size(), 18u);
  EXPECT_EQ(rto[15], 928896);
  EXPECT_EQ(rto[17], 1168896);
  // At RTO#18 31512 ms are left: the clamped timer fires at F1 + U = 1200408 ms.
  EXPECT_EQ(to_ms(*e.give_up->nominal), 1200408);
}

TEST(RtoModel, TimeCompressionFlowsRtoMinAndRtoMaxThrough) {
  RtoParams p;
  p.rto_min = 20000us;  // R0 = usecs_to_jiffies(100 + 20000) = 6 j = 24 ms; PTO too
  p.rto_max = 1000ms;   // 250 j; T(15) = 14400 ms (TCP_RTO_MIN stays 50 j in it)
  // TLP 6 j, RTO#1 12 j, then doubling 12, 24, 48, 96, 192 j, then 250 j steps:
  // RTO#k = 384 + (k - 6) * 250 j for k >= 6; give-up at the first F - 12 >= 3600 j,
  // i.e. 384 + 13 * 250 = 3634 j = 14536 ms.
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kTlp), (std::vector<std::int64_t>{24}));
  EXPECT_EQ(nominal_ms(e, EventKind::kRto),
            (std::vector<std::int64_t>{48, 96, 192, 384, 768, 1536, 2536, 3536, 4536, 5536, 6536, 7536, 8536, 9536,
                                       10536, 11536, 12536, 13536}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 14536);
}

TEST(RtoModel, NoRttSampleProbesAfterOneSecondAndRetransmitsAfterThree) {
  RtoParams p;
  p.rtt.srtt = 0us;
  p.retries2 = 3;  // T = 3000 ms
  // TLP at TCP_TIMEOUT_INIT = 1 s, RTO#1 at 1 + 3 s, RTO#2 at 4 + 6 s: 6 s >= 3 s: dies.
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kTlp), (std::vector<std::int64_t>{1000}));
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{4000}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 10000);
}

TEST(RtoModel, OrphanGetsEightRetriesWhileAlive) {
  RtoParams p;
  p.orphan = true;  // tcp_orphan_retries = 0 -> 8 while icsk_rto < rto_max: T = 102200 ms
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto),
            (std::vector<std::int64_t>{408, 816, 1632, 3264, 6528, 13056, 26112, 52224}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 104448);  // 104448 - 408 >= 102200
}

TEST(RtoModel, SoftErrorIsReportedInsteadOfEtimedout) {
  RtoParams p;
  p.retries2 = 5;
  p.soft_error = "ENETUNREACH";
  const Expectation e = rto_model(p);
  EXPECT_EQ(e.give_up->error, "ENETUNREACH");
  EXPECT_EQ(to_ms(*e.give_up->nominal), 13056);
}

// --- rto_model(): wheel windows -------------------------------------------------------

TEST(RtoModel, WheelWindowsOfTableAByHand) {
  // Origin in jiffy A (phase unknown). TLP: 51 j, level 0: A+52, window [204, 208] ms.
  // RTO#1: armed at A+52 for 51 j: A+104: [412, 416]. RTO#2: 102 j, level 1 from
  // A+104 (any phase mod 8): the next multiple of 8 after A+206, A+207..A+214:
  // [(207 - 1) * 4, 214 * 4] = [824, 856] ms.
  const Expectation e = rto_model(RtoParams{});
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kTlp, 1)), (WindowMs{204, 208}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 1)), (WindowMs{412, 416}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 2)), (WindowMs{824, 856}));
  // Chained 120 s steps after RTO#10 are deterministic: every window moves by 120.832 s.
  const WindowMs r11 = window_ms(*find_event(e, EventKind::kRto, 11));
  const WindowMs r12 = window_ms(*find_event(e, EventKind::kRto, 12));
  EXPECT_EQ(r12.earliest - r11.earliest, 120832);
  EXPECT_EQ(r12.latest - r11.latest, 120832);
  // Every phase gives up at the 16th firing, 8.8 to 10.8 s after the nominal 928.896 s.
  EXPECT_TRUE(e.give_up->certain);
  EXPECT_EQ(count_of(e, EventKind::kRto), 15u);
  EXPECT_GT(to_ms(e.give_up->earliest), 937000);
  EXPECT_LT(to_ms(e.give_up->latest), 940000);
}

TEST(RtoModel, Rto200msExactlyRetransmitsSixteenTimesOnlyWithoutTheWheel) {
  // docs/kernel-timing.md section 12 (a): with R0 = 50 j the nominal F16 - F1 = 231100 j = 924.4 s
  // < 924.6 s, so a 16th retransmission and death at 1044.8 s; the wheel's lateness
  // (seconds by then) pushes F16 - F1 past 924.6 s in every phase.
  RtoParams p;
  p.rtt.rto = 50_j;
  const Expectation e = rto_model(p);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 1044800);
  EXPECT_EQ(count_of(e, EventKind::kRto), 15u);
  EXPECT_EQ(find_event(e, EventKind::kRto, 16), nullptr);
  EXPECT_LT(to_ms(e.give_up->latest), 950000);
}

TEST(RtoModel, SlackWidensOnlyTheLatestSide) {
  RtoParams p;
  p.retries2 = 5;
  p.slack = 10ms;
  const Expectation e = rto_model(p);
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kTlp, 1)), (WindowMs{204, 218}));
}

TEST(RtoModel, LimitsTruncateTheTimeline) {
  RtoParams p;
  p.limits.max_events = 4;
  const Expectation e = rto_model(p);
  EXPECT_TRUE(e.truncated);
  EXPECT_FALSE(e.give_up);
  EXPECT_EQ(count_of(e, EventKind::kRto), 3u);  // TLP + 3 RTOs
}

}  // namespace
}  // namespace tapfault::replay::model
