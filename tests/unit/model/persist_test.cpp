// persist_model(): zero-window probes, by hand from docs/kernel-timing.md sections 4.2 and 7:
// base = max(icsk_rto, TCP_RTO_MIN), interval after probe k = min(base << min(k, 10),
// rto_max), backoff capped at tcp_retries2. HZ=250, base 51 j = 204 ms unless stated.
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

TEST(PersistModel, AnsweredProbesBackOffToRtoMaxAndNeverDie) {
  // Table (d): base * (2^k - 1) for k <= 10, then every 120 s.
  PersistParams p;
  p.limits.max_events = 12;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe),
            (std::vector<std::int64_t>{204, 612, 1428, 3060, 6324, 12852, 25908, 52020, 104244, 208692, 328692,
                                       448692}));
  EXPECT_FALSE(e.give_up);
  EXPECT_TRUE(e.truncated);
}

TEST(PersistModel, HorizonBoundsTheEndlessProbing) {
  PersistParams p;
  p.limits.horizon = 3600s;  // 208.692 + 120 k <= 3600: k <= 28, 10 + 28 probes
  const Expectation e = persist_model(p);
  EXPECT_FALSE(e.give_up);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(count_of(e, EventKind::kProbe), 38u);
}

TEST(PersistModel, UserTimeoutKillsAtTheFirstFiringUAfterTheFirstProbe) {
  // probes_tstamp = P1 = 51 j. P2 153, P3 357, P4 765 j (714 j after P1 < 750 j);
  // then min(816, 750 - 714 = 36) j: 801 j = 3204 ms, 750 j after P1: give-up.
  PersistParams p;
  p.user_timeout = 3000ms;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe), (std::vector<std::int64_t>{204, 612, 1428, 3060}));
  ASSERT_TRUE(e.give_up);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 3204);
  EXPECT_EQ(e.give_up->error, "ETIMEDOUT");
  EXPECT_FALSE(e.give_up->rst);
}

TEST(PersistModel, UnansweredProbesDieAfterRetries2Probes) {
  // 15 probes, give-up at the 16th firing: 51 + 102 + ... + 26112 + 6 * 30000 j
  // = 232173 j = 928692 ms.
  PersistParams p;
  p.peer_answers = false;
  const Expectation e = persist_model(p);
  EXPECT_EQ(count_of(e, EventKind::kProbe), 15u);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 928692);
  EXPECT_EQ(e.give_up->reason, "tcp_retries2 unanswered probes");
}

TEST(PersistModel, ProbeBaseNeverGoesBelowTheTcpRtoMinConstant) {
  // A compressed rto_min (20 ms) gives icsk_rto = 6 j, but tcp_probe0_base() uses the
  // constant TCP_RTO_MIN = 50 j: probes at 200, 600, 1400 ms.
  PersistParams p;
  p.rto_min = 20000us;
  p.limits.max_events = 3;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe), (std::vector<std::int64_t>{200, 600, 1400}));
}

TEST(PersistModel, BackoffStopsGrowingAtRetries2) {
  // tcp_send_probe0(): backoff++ only while < tcp_retries2 (3): intervals 102, 204, 408
  // then 408 j for ever.
  PersistParams p;
  p.retries2 = 3;
  p.limits.max_events = 6;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe), (std::vector<std::int64_t>{204, 612, 1428, 3060, 4692, 6324}));
}

TEST(PersistModel, RtoMaxCapsTheInterval) {
  PersistParams p;
  p.rto_max = 1000ms;  // 250 j: 51, +102, +204, then +250 j
  p.limits.max_events = 5;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe), (std::vector<std::int64_t>{204, 612, 1428, 2428, 3428}));
}

TEST(PersistModel, AnsweredOrphanDiesOnceBackedOffToRtoMax) {
  // tcp_probe_timer() for SOCK_DEAD: alive = min(51 << backoff, rto_max) < rto_max,
  // i.e. backoff <= 9. At the 11th firing (backoff 10) max_probes = 0 and it aborts.
  PersistParams p;
  p.orphan = true;
  const Expectation e = persist_model(p);
  EXPECT_EQ(count_of(e, EventKind::kProbe), 10u);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 328692);
  EXPECT_EQ(e.give_up->reason, "orphan backed off to rto_max");
}

TEST(PersistModel, UnansweredOrphanGetsEightProbes) {
  PersistParams p;
  p.orphan = true;
  p.peer_answers = false;  // tcp_orphan_retries 0 -> 8 while alive
  const Expectation e = persist_model(p);
  EXPECT_EQ(count_of(e, EventKind::kProbe), 8u);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 104244);
}

TEST(PersistModel, FailedLocalRouteReportsTheSoftError) {
  // docs/kernel-timing.md section 9: probes fail in ip6_dst_lookup_flow() but count as sent.
  PersistParams p;
  p.peer_answers = false;
  p.soft_error = "ENETUNREACH";
  const Expectation e = persist_model(p);
  EXPECT_EQ(e.give_up->error, "ENETUNREACH");
  EXPECT_EQ(to_ms(*e.give_up->nominal), 928692);
}

TEST(PersistModel, WheelWindowsOfTheFirstProbes) {
  // Base 52 j: P1 at A+53 (level 0) -> [208, 212] ms. P2: 104 j, level 1, from any phase
  // mod 8: A+158..A+165 -> [628, 660] ms.
  PersistParams p;
  p.rtt.rto = 52_j;
  p.limits.max_events = 3;
  const Expectation e = persist_model(p);
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kProbe, 1)), (WindowMs{208, 212}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kProbe, 2)), (WindowMs{628, 660}));
}

TEST(PersistModel, LateAnswersRearmFromTheAnswer) {
  // tcp_ack_probe() re-arms the timer from the ACK: with answers one jiffy late (4 ms)
  // every interval after the first gains a jiffy nominally.
  PersistParams p;
  p.answer_delay = 4ms;
  p.limits.max_events = 3;
  const Expectation e = persist_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kProbe), (std::vector<std::int64_t>{204, 616, 1436}));
}

}  // namespace
}  // namespace tapfault::replay::model
