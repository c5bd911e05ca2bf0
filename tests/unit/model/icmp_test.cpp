// ICMP errors during retransmission (RFC 6069, tcp_ld_RTO_revert() in tcp_ipv4.c) and
// on the SYN (tcp_v4_err() SYN_SENT). docs/kernel-timing.md section 8. HZ=250.
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

TEST(IcmpClassification, NetAndHostUnreachableRevertButOthersOnlyRecordTheError) {
  EXPECT_TRUE(icmp_reverts_backoff(IcmpError::kHostUnreachable));
  EXPECT_TRUE(icmp_reverts_backoff(IcmpError::kNetUnreachable));
  EXPECT_TRUE(icmp_reverts_backoff(IcmpError::kNoRoute6));
  EXPECT_FALSE(icmp_reverts_backoff(IcmpError::kAddressUnreachable6));
  EXPECT_FALSE(icmp_reverts_backoff(IcmpError::kPortUnreachable));
  EXPECT_FALSE(icmp_reverts_backoff(IcmpError::kAdminProhibited));
  EXPECT_STREQ(icmp_errno(IcmpError::kHostUnreachable), "EHOSTUNREACH");
  EXPECT_STREQ(icmp_errno(IcmpError::kNetUnreachable), "ENETUNREACH");
  EXPECT_STREQ(icmp_errno(IcmpError::kNoRoute6), "ENETUNREACH");
  EXPECT_STREQ(icmp_errno(IcmpError::kPortUnreachable), "ECONNREFUSED");
}

TEST(IcmpRevert, EveryRetransmissionAnsweredKeepsTheRtoAtR0UntilTheTimeLimit) {
  // Each RTO doubles icsk_rto and backoff; the ICMP (100 us later, same jiffy) reverts:
  // backoff 0, icsk_rto = __tcp_set_rto() = 51 j, timer at 51 - usecs_to_jiffies(100 us)
  // = 50 j from the ICMP; level 0 adds 1: every RTO 51 j = 204 ms after the previous.
  // F1 = A + 104 j. Give-up at the first (k - 1) * 204 ms >= 12600 ms: k - 1 = 62,
  // F = 104 + 62 * 51 = 3266 j = 13064 ms. Level 0 only: every window is 4 ms wide.
  RtoParams p;
  p.retries2 = 5;
  p.icmp.error = IcmpError::kHostUnreachable;
  const Expectation e = rto_model(p);
  EXPECT_EQ(count_of(e, EventKind::kRto), 62u);
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 1)), (WindowMs{412, 416}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 2)), (WindowMs{616, 620}));
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 10)), (WindowMs{2248, 2252}));  // (104 + 9*51) * 4
  EXPECT_EQ(window_ms(*find_event(e, EventKind::kRto, 62)), (WindowMs{12856, 12860}));
  ASSERT_TRUE(e.give_up);
  EXPECT_EQ(window_ms(*e.give_up), (WindowMs{13060, 13064}));
  EXPECT_EQ(e.give_up->error, "EHOSTUNREACH");
  EXPECT_FALSE(e.give_up->rst);
  // Nominal (no wheel) steps are 50 j = 200 ms: a 63rd retransmission there.
  EXPECT_EQ(nominal_ms(e, EventKind::kRto)[1], 608);
  EXPECT_EQ(to_ms(*e.give_up->nominal), 13008);
}

TEST(IcmpRevert, OneIcmpAfterRto4UndoesOneDoubling) {
  // Nominal: RTO#4 at 816 j, backoff 4 -> 3, icsk_rto = 51 << 3 = 408 j, timer
  // 407 j: RTO#5 at 1223 j = 4892 ms. Then 816 j: RTO#6 at 2039 j = 8156 ms
  // (elapsed 1937 j < 3150 j), 1632 j: 3671 j = 14684 ms, elapsed 3569 j: give-up.
  RtoParams p;
  p.retries2 = 5;
  p.icmp.error = IcmpError::kHostUnreachable;
  p.icmp.only_rto = std::vector<int>{4};
  p.icmp.original_and_tlp = false;
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 816, 1632, 3264, 4892, 8156}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 14684);
  EXPECT_EQ(e.give_up->error, "EHOSTUNREACH");
}

TEST(IcmpRevert, IcmpsForTheOriginalAndTlpOnlySetTheSoftError) {
  // icsk_retransmits is 0 then: tcp_ld_RTO_revert() returns at once. Table (b) timing.
  RtoParams p;
  p.retries2 = 5;
  p.icmp.error = IcmpError::kHostUnreachable;
  p.icmp.only_rto = std::vector<int>{};
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 816, 1632, 3264, 6528}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 13056);
  EXPECT_EQ(e.give_up->error, "EHOSTUNREACH");
}

TEST(IcmpRevert, Ipv6AddressUnreachableDoesNotRevert) {
  // tcp_v6_err() reverts only for ICMPV6_NOROUTE; ADDR_UNREACH is a soft error.
  RtoParams p;
  p.retries2 = 5;
  p.icmp.error = IcmpError::kAddressUnreachable6;
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 816, 1632, 3264, 6528}));
  EXPECT_EQ(e.give_up->error, "EHOSTUNREACH");
}

TEST(IcmpRevert, ARetransmissionTheIcmpClocksOutIsNotATimers) {
  // The ICMP comes 300 ms after RTO#1: remaining = 51 - 75 jiffies < 0, so
  // tcp_ld_RTO_revert() calls tcp_retransmit_timer() from the ICMP's softirq: RTO#2 is sent
  // at the ICMP's phase, not on a tick, and the diff must not narrow its window.
  RtoParams p;
  p.retries2 = 5;
  p.icmp.error = IcmpError::kHostUnreachable;
  p.icmp.only_rto = std::vector<int>{1};
  p.icmp.original_and_tlp = false;
  p.icmp.delay = 300ms;
  const Expectation e = rto_model(p);
  ASSERT_NE(find_event(e, EventKind::kRto, 2), nullptr);
  if (const ExpectedEvent* tlp = find_event(e, EventKind::kTlp, 1)) {
    EXPECT_TRUE(tlp->from_timer);
  }
  EXPECT_TRUE(find_event(e, EventKind::kRto, 1)->from_timer);
  EXPECT_FALSE(find_event(e, EventKind::kRto, 2)->from_timer);
  EXPECT_TRUE(find_event(e, EventKind::kRto, 3)->from_timer);
}

TEST(IcmpRevert, RevertedTimerIsNotClampedToTheUserTimeoutButTheDeathTestStillIs) {
  // tcp_ld_RTO_revert() arms `remaining` directly: no tcp_clamp_rto_to_user_timeout().
  // U = 1000 ms with an ICMP for every RTO: 50 j steps nominal from F1 = 102 j; the
  // first firing with elapsed >= 1000 ms is 102 + 5 * 50 = 352 j = 1408 ms.
  RtoParams p;
  p.user_timeout = 1000ms;
  p.icmp.error = IcmpError::kNetUnreachable;
  const Expectation e = rto_model(p);
  EXPECT_EQ(nominal_ms(e, EventKind::kRto), (std::vector<std::int64_t>{408, 608, 808, 1008, 1208}));
  EXPECT_EQ(to_ms(*e.give_up->nominal), 1408);
  EXPECT_EQ(e.give_up->error, "ENETUNREACH");
}

TEST(IcmpOnSyn, AnIcmpFailsConnectAtOnce) {
  SynParams p;
  p.icmp.error = IcmpError::kHostUnreachable;
  p.icmp.delay = 300us;
  const Expectation e = syn_model(p);
  EXPECT_EQ(count_of(e, EventKind::kSyn), 0u);
  ASSERT_TRUE(e.give_up);
  EXPECT_EQ(testing::to_us(e.give_up->earliest), 300);
  EXPECT_EQ(testing::to_us(e.give_up->latest), 300);
  EXPECT_EQ(e.give_up->error, "EHOSTUNREACH");
  EXPECT_FALSE(e.give_up->rst);
}

TEST(IcmpOnSyn, FirstIcmpLostToConnectsLockThenTheRetransmissionsIcmpAborts) {
  SynParams p;
  p.icmp.error = IcmpError::kNetUnreachable;
  p.icmp.first_lost_to_lock = true;
  p.icmp.delay = 0us;
  // SYN#1 at 250 j, level 1: [1000, 1032] ms; the abort follows its ICMP.
  const Expectation e = syn_model(p);
  EXPECT_EQ(count_of(e, EventKind::kSyn), 1u);
  EXPECT_EQ(window_ms(*e.give_up), (WindowMs{1000, 1032}));
  EXPECT_EQ(e.give_up->error, "ENETUNREACH");
}

}  // namespace
}  // namespace tapfault::replay::model
