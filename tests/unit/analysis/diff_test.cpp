// The diff on captures built from the timelines measured on this kernel
// (docs/kernel-timing.md section 13): they must pass; moved, missing and extra packets,
// and a wrong give-up, must be reported with the exact message format and frame number.
#include "tapfault/replay/analysis/diff.hpp"

#include <cerrno>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_files.hpp"
#include "replay/analysis/diff_anchor.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::Conversation;

constexpr double kSend = 1.0;  // the triggering send, 1 s after the SYN

// Section 13 (b): retries2 = 5, TLP 0.208; RTO 0.416, 0.844, 1.676, 3.340, 6.828;
// ETIMEDOUT 13.484. Frames: 1 SYN, 2 SYN-ACK, 3 ACK, 4 data, 5 TLP, 6..10 RTO#1..#5.
Conversation retries2_five(std::vector<double> after_send = {0.208, 0.416, 0.844, 1.676, 3.340, 6.828}) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(kSend, 1, 100);
  for (double x : after_send) c.kernel_data(kSend + x, 1, 100);
  return c;
}

DiffOptions rto_options(const Conversation& c, std::optional<double> etimedout_at = 13.484) {
  DiffOptions o;
  o.model.kind = ModelKind::kRto;
  o.model.sysctls["net.ipv4.tcp_retries2"] = "5";
  o.capture_name = "capture.pcap";
  if (etimedout_at) {
    o.give_up.error = "ETIMEDOUT";
    o.give_up.at = c.at(kSend + *etimedout_at);
  }
  return o;
}

DiffResult diff_of(const Conversation& c, const DiffOptions& o, int dlt = DLT_EN10MB) {
  auto path = testing::scratch_dir() / "capture.pcap";
  testing::write_pcap(path, c.frames, dlt);
  return diff_capture_file(path, o);
}

TEST(Diff, MeasuredRetries2FiveTimelineMatches) {
  Conversation c = retries2_five();
  DiffResult r = diff_of(c, rto_options(c));
  EXPECT_TRUE(r.ok) << r.to_table();
  ASSERT_EQ(r.rows.size(), 6u) << r.to_table();
  EXPECT_EQ(r.rows[0].event, "TLP");
  EXPECT_EQ(r.rows[0].frame, 5u);
  EXPECT_EQ(r.rows[5].event, "RTO#5");
  EXPECT_EQ(r.rows[5].frame, 10u);
  for (const DiffRow& row : r.rows) EXPECT_EQ(row.verdict, Verdict::kOk) << row.event;
  EXPECT_EQ(r.give_up.verdict, Verdict::kOk);
  ASSERT_TRUE(r.origin);
  EXPECT_EQ(r.origin->frame, 4u);
  EXPECT_EQ(r.expectation.origin.substr(0, 21), "original transmission");
  EXPECT_EQ(r.observed_events, 5);
  EXPECT_THAT(r.to_table(), HasSubstr("result: ok"));
  auto j = r.to_json();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["origin"]["frame"], 4);
  EXPECT_EQ(j["events"].size(), 6u);
  EXPECT_EQ(j["events"][3]["event"], "RTO#3");
  EXPECT_NEAR(j["events"][3]["observed_s"].get<double>(), 1.676, 1e-6);
  EXPECT_EQ(j["give_up"]["verdict"], "ok");
}

TEST(Diff, ARetransmissionMovedBy200msIsLateWithItsFrame) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 1.876, 3.340, 6.828});
  DiffResult r = diff_of(c, rto_options(c));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch, "capture.pcap#8: retransmission 3 expected in [1.664, 1.696] s but seen at 1.876 s");
  EXPECT_EQ(r.rows[3].verdict, Verdict::kLate);
  EXPECT_EQ(r.rows[3].deviation, 180ms);  // past the window anchored on RTO#2 (0.844 s)
  EXPECT_EQ(r.rows[4].verdict, Verdict::kOk);
}

// A timer the softirq ran late moves the rest of the chain (the kernel re-arms from the
// late jiffy): the late one is reported, the ones after it are not reported again (before,
// each later event was judged from the origin and every one of them was late too, as CI saw
// with RTO#8 to RTO#15 of icmp-rto-revert-ipv6 after one late softirq).
TEST(Diff, ALateTimerIsReportedOnceAndTheChainAfterItFollowsIt) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 1.676 + 0.030, 3.340 + 0.030, 6.828 + 0.030});
  DiffResult r = diff_of(c, rto_options(c, 13.518));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rows[3].verdict, Verdict::kLate) << r.to_table();
  EXPECT_EQ(r.rows[4].verdict, Verdict::kOk) << r.to_table();
  EXPECT_EQ(r.rows[5].verdict, Verdict::kOk) << r.to_table();
  // A step after the late one that is itself too long is still caught: neither the chain
  // from the origin nor the late event's re-arming allows RTO#4 another 50 ms.
  Conversation twice = retries2_five({0.208, 0.416, 0.844, 1.676 + 0.030, 3.340 + 0.080, 6.828 + 0.080});
  DiffResult t = diff_of(twice, rto_options(twice, 13.568));
  EXPECT_EQ(t.rows[3].verdict, Verdict::kLate) << t.to_table();
  EXPECT_EQ(t.rows[4].verdict, Verdict::kLate) << t.to_table();
  EXPECT_EQ(t.rows[5].verdict, Verdict::kOk) << t.to_table();
}

TEST(Diff, AnEarlyRetransmissionIsReported) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 1.400, 3.340, 6.828});
  DiffResult r = diff_of(c, rto_options(c));
  EXPECT_EQ(r.first_mismatch, "capture.pcap#8: retransmission 3 expected in [1.664, 1.696] s but seen at 1.400 s");
  EXPECT_EQ(r.rows[3].verdict, Verdict::kEarly);
}

// A timer handler that runs a tick late moves every later timer by a tick (the kernel
// re-arms from `jiffies`): the chain stays inside windows anchored on the observed event
// before each one, where windows from the origin alone would fail every later event.
TEST(Diff, ATickOfLatenessEarlyInTheChainDoesNotFailTheRest) {
  // docs/kernel-timing.md section 13 (b), with RTO#1 a tick late (53 jiffies after the
  // TLP instead of 52: outside its window from the origin, [0.412, 0.416] + 2 ms) and everything after it
  // moved by the same tick.
  Conversation c = retries2_five({0.208, 0.420, 0.848, 1.680, 3.344, 6.832});
  DiffResult r = diff_of(c, rto_options(c, 13.488));
  EXPECT_TRUE(r.ok) << r.to_table();
  // But a step longer than its timer allows is still caught, anchored on the event before.
  Conversation slow = retries2_five({0.208, 0.416, 0.844, 1.676, 3.340 + 0.040, 6.828 + 0.040});
  DiffResult s = diff_of(slow, rto_options(slow, 13.524));
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.rows[4].verdict, Verdict::kLate) << s.to_table();
}

// Two packets sent by timers are a whole number of jiffies apart, which places the jiffy
// the next timer was armed in: the wheel cannot run it before that jiffy + delay + 1 (13 (b):
// the TLP at 0.208 arms RTO#1 for 51 jiffies, sent 52 later at 0.416). A retransmission
// 51 jiffies after the TLP fired a tick early and is reported; one that answered a frame at
// some other phase of its jiffy (off the grid) keeps the window a jiffy wider.
TEST(Diff, ATimerThatFiresATickEarlyIsCaught) {
  Conversation early = retries2_five({0.208, 0.412, 0.840, 1.672, 3.336, 6.824});
  DiffResult r = diff_of(early, rto_options(early, 13.480));
  EXPECT_FALSE(r.ok) << r.to_table();
  EXPECT_EQ(r.rows[1].verdict, Verdict::kEarly) << r.to_table();
  EXPECT_EQ(r.first_mismatch, "capture.pcap#6: retransmission 1 expected in [0.416, 0.420] s but seen at 0.412 s");
  // The window's start: 0.3 ms (kCaptureLatency) before the tick, so the measured timeline's
  // RTO#1 is 300 us inside it.
  Conversation measured = retries2_five();
  DiffResult m = diff_of(measured, rto_options(measured));
  EXPECT_EQ(m.rows[1].earliest, m.rows[0].observed.value() + 52 * 4ms - kCaptureLatency);
  EXPECT_EQ(m.rows[1].latest, m.rows[0].observed.value() + 53 * 4ms);
  // 1.5 ms off the jiffy grid: not two timer packets, so the phase is unknown and the
  // window starts at 51 jiffies after the TLP.
  Conversation off_grid = retries2_five({0.2095, 0.416, 0.844, 1.676, 3.340, 6.828});
  DiffResult o = diff_of(off_grid, rto_options(off_grid));
  EXPECT_EQ(o.rows[1].earliest, o.rows[0].observed.value() + 51 * 4ms) << o.to_table();
}

// A packet an ICMP clocked out (model::ExpectedEvent::from_timer false) is not a timer's,
// even when it happens to fall on the jiffy grid: its window keeps the extra jiffy.
TEST(DiffAnchor, OnlyTimerPacketsGetTheNarrowWindow) {
  auto rows_with = [](bool from_timer) {
    std::vector<DiffRow> rows(2);
    rows[0].nominal = 208ms;
    rows[0].observed = 208ms;
    rows[1].nominal = 412ms;  // 51 jiffies after
    rows[1].observed = 416ms;
    rows[1].from_timer = from_timer;
    anchor_rows_on_observed(rows, 2ms, 250, Nanos::zero());
    return rows[1];
  };
  EXPECT_EQ(rows_with(true).earliest, 208ms + 52 * 4ms - kCaptureLatency);
  EXPECT_EQ(rows_with(false).earliest, 208ms + 51 * 4ms);
  EXPECT_EQ(rows_with(true).latest, rows_with(false).latest);
}

// The zero-window ACK is a frame the kernel receives: handled in the next jiffy, the first
// probe comes up to a jiffy later than from the frame's time; more than that is still late.
TEST(Diff, FirstProbeMayTrailAReceivedOriginByAJiffyButNoMore) {
  auto run = [](double first_probe) {
    Conversation c;
    c.handshake(0);
    c.kernel_data(1.0, 1, 100);
    const double zw = 1.0001;
    c.peer_ack(zw, 101, 0);
    for (double x : {first_probe, first_probe + 0.424}) {
      c.kernel_ack(zw + x, 100, 1);
      c.peer_ack(zw + x + 0.0001, 101, 0);
    }
    DiffOptions o;
    o.model.kind = ModelKind::kPersist;
    o.model.rtt.rto = 204000us;
    o.capture_name = "capture.pcap";
    return diff_of(c, o);
  };
  EXPECT_TRUE(run(0.212).ok) << run(0.212).to_table();  // window [0.204, 0.208] + 4 ms + 2 ms slack
  EXPECT_FALSE(run(0.220).ok);
}

// An ETIMEDOUT seen by the application (no RST) comes after the client wakes up: up to
// kApplicationWakeSlack past the window is the kernel's give-up, far more is not.
TEST(Diff, ApplicationErrnoMayTrailTheGiveUpByItsWakeUp) {
  Conversation c = retries2_five();
  EXPECT_TRUE(diff_of(c, rto_options(c, 13.484 + 0.008)).ok);
  EXPECT_FALSE(diff_of(c, rto_options(c, 13.484 + 0.400)).ok);
  // 204 ms late (one minimum RTO) is caught in every build, the ASan one included.
  EXPECT_FALSE(diff_of(c, rto_options(c, 13.484 + 0.204)).ok);
}

TEST(Diff, AMissingRetransmissionIsReported) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 3.340, 6.828});
  DiffResult r = diff_of(c, rto_options(c));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch, "capture.pcap: retransmission 3 expected in [1.656, 1.688] s but not seen");
  EXPECT_EQ(r.rows[3].verdict, Verdict::kMissing);
  EXPECT_EQ(r.rows[4].verdict, Verdict::kOk);  // RTO#4 still matched to its own window
  EXPECT_EQ(r.rows[4].frame, 8u);
}

TEST(Diff, AnExtraRetransmissionIsUnexpected) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 1.676, 3.340, 6.828, 13.4});
  DiffResult r = diff_of(c, rto_options(c));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch, "capture.pcap#11: unexpected retransmission 6 at 13.400 s (the model expects 5)");
}

TEST(Diff, GiveUpTimeAndErrorAreChecked) {
  Conversation c = retries2_five();
  DiffResult early = diff_of(c, rto_options(c, 10.0));
  EXPECT_EQ(early.first_mismatch,
            "capture.pcap: give-up expected in [13.272, 13.528] s (ETIMEDOUT, no RST) but the application saw "
            "ETIMEDOUT at 10.000 s");
  DiffOptions o = rto_options(c);
  o.give_up.error = "EHOSTUNREACH";
  DiffResult wrong = diff_of(c, o);
  EXPECT_EQ(wrong.give_up.verdict, Verdict::kWrongError);
  EXPECT_EQ(wrong.first_mismatch,
            "capture.pcap: give-up: the model expects ETIMEDOUT but the application saw EHOSTUNREACH at 13.484 s");
}

TEST(Diff, TheErrnoIsCheckedEvenWithoutItsTime) {
  Conversation c = retries2_five();
  DiffOptions o = rto_options(c, std::nullopt);
  o.give_up.error = "ECONNRESET";
  DiffResult r = diff_of(c, o);
  EXPECT_EQ(r.give_up.verdict, Verdict::kWrongError);
  EXPECT_EQ(r.first_mismatch, "capture.pcap: give-up: the model expects ETIMEDOUT but the application saw ECONNRESET");
}

TEST(Diff, WithoutTheApplicationsErrorTheGiveUpIsUnobservedNotAMismatch) {
  Conversation c = retries2_five();
  DiffResult ends_early = diff_of(c, rto_options(c, std::nullopt));
  EXPECT_TRUE(ends_early.ok) << ends_early.to_table();
  EXPECT_EQ(ends_early.give_up.verdict, Verdict::kBeyondCapture);  // the capture stops at RTO#5

  // An ARP request at 20 s: the capture covers the give-up, which still cannot show.
  std::vector<std::uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x5e, 0, 0x53, 2, 0x08, 0x06};
  arp.resize(60, 0);
  c.frames.push_back({c.at(20.0), arp, false});
  DiffResult r = diff_of(c, rto_options(c, std::nullopt));
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.give_up.verdict, Verdict::kUnobserved);
}

TEST(Diff, AnRstOnAnRtoGiveUpIsUnexpected) {
  Conversation c = retries2_five();
  c.kernel_rst(kSend + 13.484, 101);
  DiffResult r = diff_of(c, rto_options(c, std::nullopt));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch, "capture.pcap#11: RST at 13.484 s but the model expects ETIMEDOUT, no RST");
}

TEST(Diff, ExtraToleranceWidensTheWindows) {
  Conversation c = retries2_five({0.208, 0.416, 0.844, 1.700, 3.340, 6.828});
  DiffOptions o = rto_options(c);
  EXPECT_FALSE(diff_of(c, o).ok);  // 12 ms past the window, beyond the 2 ms capture slack
  o.tolerance = 15ms;
  EXPECT_TRUE(diff_of(c, o).ok);
}

TEST(Diff, NoRetransmissionMeansNothingToCompare) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  c.peer_ack(1.001, 101);
  DiffResult r = diff_of(c, rto_options(c, std::nullopt));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch,
            "capture.pcap: connection 1 (192.0.2.1:40000 -> 192.0.2.2:8080): nothing to compare with the rto model: "
            "the kernel never retransmitted on this connection");
}

TEST(Diff, AFlowSelectorMatchingNothingIsBadInput) {
  Conversation c = retries2_five();
  DiffOptions o = rto_options(c);
  o.flow = *FlowSelector::parse(":9999");
  try {
    diff_of(c, o);
    FAIL() << "no CaptureError";
  } catch (const CaptureError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no connection matches --flow :9999; the capture has:"));
    EXPECT_THAT(e.what(), HasSubstr("1: 192.0.2.1:40000 -> 192.0.2.2:8080"));
  }
}

TEST(Diff, TheFlowIsChosenByItsRetransmissions) {
  Conversation quiet(false, 41000, 77);
  quiet.handshake(0);
  Conversation lossy = retries2_five();
  quiet.frames.insert(quiet.frames.end(), lossy.frames.begin(), lossy.frames.end());
  DiffResult r = diff_of(quiet, rto_options(lossy));
  EXPECT_EQ(r.flow_index, 2);
  EXPECT_TRUE(r.ok) << r.to_table();
}

class DiffLinkTypes : public ::testing::TestWithParam<int> {};

TEST_P(DiffLinkTypes, TheSameTimelineMatchesInEveryLinkType) {
  Conversation c = retries2_five();
  DiffResult r = diff_of(c, rto_options(c), GetParam());
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.rows.size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(LinkTypes, DiffLinkTypes,
                         ::testing::Values(DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4),
                         [](const auto& info) {
                           switch (info.param) {
                             case DLT_EN10MB: return std::string("Ethernet");
                             case DLT_LINUX_SLL: return std::string("LinuxSll");
                             case DLT_LINUX_SLL2: return std::string("LinuxSll2");
                             case DLT_RAW: return std::string("RawIp");
                             default: return std::string("Ipv4");
                           }
                         });

TEST(Diff, Ipv6RawCaptureMatches) {
  Conversation c(true);
  c.handshake(0);
  c.kernel_data(kSend, 1, 100);
  for (double x : {0.208, 0.416, 0.844, 1.676, 3.340, 6.828}) c.kernel_data(kSend + x, 1, 100);
  DiffResult r = diff_of(c, rto_options(c), DLT_IPV6);
  EXPECT_TRUE(r.ok) << r.to_table();
}

// Section 13 (c): keepalive 1/1/3, U = 0: probes 1.014, 2.038, 3.062; RST + ETIMEDOUT 4.086.
TEST(Diff, MeasuredKeepaliveTimelineMatches) {
  Conversation c;
  c.handshake(0);  // the SYN-ACK at 0.0001 s is the last segment received
  const double last = 0.0001;
  for (double x : {1.014, 2.038, 3.062}) c.kernel_ack(last + x, 0, 1);
  c.kernel_rst(last + 4.086, 1);
  DiffOptions o;
  o.model.kind = ModelKind::kKeepalive;
  o.model.socket_options = {{"TCP_KEEPIDLE", 1}, {"TCP_KEEPINTVL", 1}, {"TCP_KEEPCNT", 3}};
  o.capture_name = "capture.pcap";
  DiffResult r = diff_of(c, o);
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.origin->frame, 2u);
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_TRUE(r.give_up.observed_rst);
  EXPECT_EQ(r.give_up.rst_frame, 7u);
  EXPECT_EQ(r.give_up.verdict, Verdict::kOk);

  Conversation no_rst;
  no_rst.handshake(0);
  for (double x : {1.014, 2.038, 3.062}) no_rst.kernel_ack(last + x, 0, 1);
  no_rst.peer_ack(last + 5.0, 1);  // the capture goes on past the give-up
  DiffResult missing = diff_of(no_rst, o);
  EXPECT_EQ(missing.first_mismatch,
            "capture.pcap: give-up expected in [4.062, 4.098] s (ETIMEDOUT and an RST) but no RST was seen");
}

// keepalive-user-timeout-short: TCP_USER_TIMEOUT 500 ms, idle and interval 1 s. The kernel
// probes at the first firing (no probe out yet) and resets at the next, one interval after
// the probe as it was sent: RSTs were seen 1.004-1.012 s after a probe that came early in
// its window, before the model's own [2.024, 2.056] (issue 17, 2 runs of 5). Moved by 40 ms
// either way, the RST is still a mismatch.
TEST(Diff, AKeepaliveGiveUpFollowsTheProbeAsItWasSent) {
  const double last = 0.0001;
  auto diff_rst_at = [&](double rst) {
    Conversation c;
    c.handshake(0);
    c.kernel_ack(last + 1.000, 0, 1);
    c.kernel_rst(last + rst, 1);
    DiffOptions o;
    o.model.kind = ModelKind::kKeepalive;
    o.model.socket_options = {{"TCP_KEEPIDLE", 1}, {"TCP_KEEPINTVL", 1}, {"TCP_KEEPCNT", 10}, {"TCP_USER_TIMEOUT", 500}};
    o.capture_name = "capture.pcap";
    return diff_of(c, o);
  };
  for (double rst : {2.006, 2.012, 2.030}) {
    DiffResult r = diff_rst_at(rst);
    EXPECT_TRUE(r.ok) << rst << ":\n" << r.to_table();
    EXPECT_EQ(r.give_up.verdict, Verdict::kOk) << rst;
  }
  EXPECT_EQ(diff_rst_at(2.006 - 0.040).give_up.verdict, Verdict::kEarly);
  EXPECT_EQ(diff_rst_at(2.012 + 0.060).give_up.verdict, Verdict::kLate);
}

// Section 13 (d): zero window, U = 3000, base 208 ms: probes +0.212, +0.636 (unanswered),
// +1.500, +3.196; ETIMEDOUT +3.216.
TEST(Diff, MeasuredZeroWindowTimelineMatches) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  const double zw = 1.0001;
  c.peer_ack(zw, 101, 0);
  for (double x : {0.212, 0.636, 1.500, 3.196}) {
    c.kernel_ack(zw + x, 100, 1);
    if (x != 0.636) c.peer_ack(zw + x + 0.0001, 101, 0);
  }
  DiffOptions o;
  o.model.kind = ModelKind::kPersist;
  o.model.socket_options = {{"TCP_USER_TIMEOUT", 3000}};
  o.model.rtt.rto = 208000us;
  o.capture_name = "capture.pcap";
  o.give_up.error = "ETIMEDOUT";
  o.give_up.at = c.at(zw + 3.216);
  DiffResult r = diff_of(c, o);
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.origin->frame, 5u);
  EXPECT_EQ(r.rows.size(), 4u);
}

// Zero-window probes whose base is 220 ms, diffed against a model given 204 ms: each
// interval is 8% too long (more than the timer wheel's slack), so each probe is later than
// the one before by a growing amount. That is the model's input, not a late
// timer, and the diff says which RTO fits.
Conversation probes_with_base(double base, std::vector<double> extra_delay = {0, 0, 0, 0}) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  const double zw = 1.0001;
  c.peer_ack(zw, 101, 0);
  double t = zw;
  for (int k = 0; k < 4; ++k) {
    t += base * (1 << k) + extra_delay[static_cast<std::size_t>(k)];
    c.kernel_ack(t, 100, 1);
    c.peer_ack(t + 0.0001, 101, 0);
  }
  return c;
}

DiffOptions persist_options(std::chrono::microseconds rto) {
  DiffOptions o;
  o.model.kind = ModelKind::kPersist;
  o.model.rtt.rto = rto;
  o.capture_name = "capture.pcap";
  return o;
}

TEST(Diff, ProbesLaterAndLaterAreReportedAsAWrongRto) {
  DiffResult r = diff_of(probes_with_base(0.220), persist_options(204000us));
  EXPECT_FALSE(r.ok) << r.to_table();
  EXPECT_THAT(r.input_error, HasSubstr("came later and later"));
  EXPECT_THAT(r.input_error, HasSubstr("as from an RTO of about 220 ms instead of the model's 204 ms"));
  EXPECT_THAT(r.first_mismatch, HasSubstr("a wrong model input, not a late timer"));
  EXPECT_TRUE(r.to_json().contains("input_error"));
}

TEST(Diff, OneLateProbeIsNotAWrongRto) {
  // Probes as the timer wheel sends them for a 208 ms base (1 jiffy, then up to a level-1
  // slot late), the third 30 ms later still (a softirq run late once): only it is late.
  DiffResult r = diff_of(probes_with_base(0.208, {0.004, 0.008, 0.050, 0.030}), persist_options(208000us));
  EXPECT_FALSE(r.ok) << r.to_table();
  int late = 0;
  for (const DiffRow& row : r.rows) late += row.verdict == Verdict::kLate;
  EXPECT_EQ(late, 1) << r.to_table();
  EXPECT_EQ(r.input_error, "") << r.to_table();
}

// Section 13 (e): SYN, tcp_syn_retries = 3: 1.025, 2.049, 3.073, 4.097, 5.121, 7.137,
// 11.393; ETIMEDOUT 19.585.
TEST(Diff, MeasuredSynTimelineMatches) {
  Conversation c;
  c.syn(0);
  for (double x : {1.025, 2.049, 3.073, 4.097, 5.121, 7.137, 11.393}) c.syn(x);
  DiffOptions o;
  o.model.kind = ModelKind::kSyn;
  o.model.sysctls["tcp_syn_retries"] = "3";
  o.capture_name = "capture.pcap";
  o.give_up.error = "ETIMEDOUT";
  o.give_up.at = c.at(19.585);
  DiffResult r = diff_of(c, o);
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.rows.size(), 7u);
  EXPECT_EQ(r.rows.back().event, "SYN#7");
}

TEST(Diff, ExpectedEventCountIsChecked) {
  Conversation c = retries2_five();
  DiffOptions o = rto_options(c);
  o.expected_events = 5;
  EXPECT_TRUE(diff_of(c, o).ok);
  o.expected_events = 4;
  EXPECT_EQ(diff_of(c, o).first_mismatch, "capture.pcap: 5 RTO retransmissions seen, the scenario expects 4");
}

TEST(Diff, BadParametersNameTheSysctl) {
  Conversation c = retries2_five();
  DiffOptions o = rto_options(c);
  o.model.sysctls["net.ipv4.tcp_retries2"] = "five";
  EXPECT_THROW(
      {
        try {
          diff_of(c, o);
        } catch (const ModelInputError& e) {
          EXPECT_STREQ(e.what(), "net.ipv4.tcp_retries2: not an integer: \"five\"");
          throw;
        }
      },
      ModelInputError);
}

// Section 8.2 / docs/models.md: ICMP host-unreachable answering RTO#4, #6 and #7 (router
// rate limit); the diff feeds the ICMPs it sees into the model's RFC 6069 reverts.
TEST(Diff, IcmpErrorsSeenInTheCaptureFeedTheModel) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(kSend, 1, 100);
  c.icmp_for_last_kernel_frame(kSend + 0.0001, 3, 1, "198.51.100.1");
  // Intervals measured: 0.21 (TLP), 0.21, 0.41, 0.83, 1.66, 1.63, 3.42, 3.33, then 3.33 to
  // the give-up; ICMPs answered the original, the TLP, RTO#4, #6 and #7.
  double t = kSend;
  int sent = 0;  // 0 = the TLP, then RTO#n
  for (double step : {0.208, 0.208, 0.416, 0.832, 1.66, 1.63, 3.42, 3.33}) {
    t += step;
    c.kernel_data(t, 1, 100);
    if (sent == 0 || sent == 4 || sent == 6 || sent == 7) c.icmp_for_last_kernel_frame(t + 0.0001, 3, 1, "198.51.100.1");
    ++sent;
  }
  DiffOptions o = rto_options(c, std::nullopt);
  o.give_up.error = "EHOSTUNREACH";
  o.give_up.at = c.at(kSend + 15.036);
  o.tolerance = 25ms;  // the intervals above were printed to 10 ms
  DiffResult r = diff_of(c, o);
  EXPECT_TRUE(r.ok) << r.to_table();
  EXPECT_EQ(r.observed_events, 7);
}

}  // namespace
}  // namespace tapfault::replay
