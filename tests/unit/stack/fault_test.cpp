// Fault actions and triggers on the peer, with exact frames and an explicit clock.
#include <gtest/gtest.h>

#include <tins/tins.h>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

constexpr std::uint8_t kAck = tcp_flags::kAck, kRst = tcp_flags::kRst, kSyn = tcp_flags::kSyn;

Fault silent(SilentMode mode, Trigger t = {}) {
  Fault f;
  f.name = "silent";
  f.action = ActionKind::kSilent;
  f.silent.mode = mode;
  f.trigger = t;
  return f;
}

Trigger at(Duration d) {
  Trigger t;
  t.kind = TriggerKind::kAt;
  t.at = d;
  return t;
}

Trigger on_segment(std::uint64_t n) {
  Trigger t;
  t.kind = TriggerKind::kOnSegment;
  t.count = n;
  return t;
}

PeerHarness with(std::vector<Fault> faults, bool v6 = false) {
  FaultPlan plan;
  plan.faults = std::move(faults);
  return PeerHarness(v6, HostConfig{}, std::move(plan));
}

TEST(SilentFault, AllDropsEverySegmentFromTheTriggerOn) {
  auto h = with({silent(SilentMode::kAll, at(1s))});
  h.handshake(0ms);
  EXPECT_EQ(h.send_data("a", 500ms).size(), 1u);
  EXPECT_TRUE(h.send_data("b", 1000ms).empty());
  EXPECT_TRUE(h.send_data("c", 1200ms).empty());
  EXPECT_EQ(h.host->stats().dropped.at("fault.silent.input"), 2u);
  auto ev = h.host->take_events();
  bool logged = std::any_of(ev.begin(), ev.end(), [](const PeerEvent& e) {
    return e.kind == "fault" && e.detail.find("'silent' (silent) fired") != std::string::npos;
  });
  EXPECT_TRUE(logged);
}

TEST(SilentFault, TimeTriggerIsADeadlineOfTheHost) {
  auto h = with({silent(SilentMode::kAll, at(1500ms))});
  EXPECT_EQ(h.host->next_deadline(), h.at(1500ms));
  h.poll(1500ms);
  EXPECT_FALSE(h.host->next_deadline());
}

TEST(SilentFault, OnSegmentDropsTheNthDataSegmentAndAfter) {
  auto h = with({silent(SilentMode::kAll, on_segment(2))});
  h.handshake();
  EXPECT_EQ(h.send_data("1", 1ms).size(), 1u);
  EXPECT_TRUE(h.send_data("2", 2ms).empty());
  EXPECT_EQ(h.host->connections()[0].bytes_received, 1u);
}

TEST(SilentFault, OnceDropsOnlyTheTriggeringSegment) {
  auto h = with({silent(SilentMode::kOnce, on_segment(2))});
  h.handshake();
  h.send_data("1", 1ms);
  EXPECT_TRUE(h.send_data("2", 2ms).empty());
  // The kernel retransmits "2": now it passes.
  h.k.snd_nxt = h.k.snd_nxt + static_cast<std::uint32_t>(-1);
  auto out = h.send_data("2", 200ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), "2");
}

TEST(SilentFault, DataModeStillAcksPureAcksButDropsData) {
  auto h = with({silent(SilentMode::kData, at(0ms))});
  // The handshake SYN occupies sequence space: dropped too.
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  EXPECT_TRUE(out.empty());
}

TEST(SilentFault, OutputModeProcessesInputButSendsNothing) {
  auto h = with({silent(SilentMode::kOutput, on_segment(1))});
  h.handshake();
  EXPECT_TRUE(h.send_data("x", 1ms).empty());
  EXPECT_EQ(h.host->connections()[0].bytes_received, 1u);
}

TEST(SilentFault, UntilEndsTheFault) {
  Fault f = silent(SilentMode::kAll, at(1s));
  f.until = at(2s);
  auto h = with({f});
  h.handshake();
  EXPECT_TRUE(h.send_data("a", 1100ms).empty());
  h.k.snd_nxt = h.k.snd_nxt + static_cast<std::uint32_t>(-1);
  EXPECT_EQ(h.send_data("a", 2000ms).size(), 1u);
}

Fault window(std::uint32_t bytes, Trigger t, bool ignore_probes = false) {
  Fault f;
  f.name = "win";
  f.action = ActionKind::kWindow;
  f.window.window_bytes = bytes;
  f.window.ignore_probes = ignore_probes;
  f.trigger = t;
  return f;
}

Trigger on_rx_bytes(std::uint64_t n) {
  Trigger t;
  t.kind = TriggerKind::kOnRxBytes;
  t.count = n;
  return t;
}

TEST(WindowFault, ZeroWindowAfterBytesIsAdvertisedInTheAckOfThoseBytes) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  FaultPlan plan;
  plan.faults = {window(0, on_rx_bytes(6))};
  PeerHarness h(false, cfg, plan);
  h.handshake();
  auto out = h.send_data("hello!", 1ms);
  // The window update sent when the fault fires, and the ACK of the data: both zero.
  ASSERT_FALSE(out.empty());
  for (const auto& s : out) EXPECT_EQ(s.tcp.window, 0) << "seg ack " << s.tcp.ack.value();
  EXPECT_EQ(out.back().tcp.ack, h.k.snd_nxt);
}

TEST(WindowFault, ZeroWindowProbesAreAckedWithZeroWindow) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  FaultPlan plan;
  plan.faults = {window(0, on_rx_bytes(1))};
  PeerHarness h(false, cfg, plan);
  h.handshake();
  h.send_data("x", 1ms);
  for (auto t : {200ms, 600ms, 1400ms}) {
    auto probe = h.send(kAck, h.k.snd_nxt + static_cast<std::uint32_t>(-1), h.k.rcv_nxt, {}, t);
    ASSERT_EQ(probe.size(), 1u);
    EXPECT_EQ(probe[0].tcp.window, 0);
    EXPECT_EQ(probe[0].tcp.ack, h.k.snd_nxt);
  }
  // Data pushed into the zero window is not accepted.
  auto data = h.send_data("y", 2000ms);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].tcp.ack, h.k.snd_nxt + static_cast<std::uint32_t>(-1));
  EXPECT_EQ(h.host->connections()[0].bytes_received, 1u);
}

TEST(WindowFault, IgnoreProbesLeavesProbesUnanswered) {
  FaultPlan plan;
  plan.faults = {window(0, on_rx_bytes(1), true)};
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  PeerHarness h(false, cfg, plan);
  h.handshake();
  h.send_data("x", 1ms);
  EXPECT_TRUE(h.send(kAck, h.k.snd_nxt + static_cast<std::uint32_t>(-1), h.k.rcv_nxt, {}, 200ms).empty());
}

TEST(WindowFault, ReopenSendsAWindowUpdate) {
  Fault close = window(0, at(1s));
  Fault reopen;
  reopen.name = "reopen";
  reopen.action = ActionKind::kWindow;
  reopen.window.reopen = true;
  reopen.trigger = at(2s);
  auto h = with({close, reopen});
  h.handshake();
  auto closed = h.poll(1s);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].tcp.window, 0);
  auto opened = h.poll(2s);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_GT(opened[0].tcp.window, 0);
}

Fault icmp(IcmpKind kind, std::uint32_t mtu, bool every, Trigger t = {}) {
  Fault f;
  f.name = "icmp";
  f.action = ActionKind::kIcmp;
  f.icmp.kind = kind;
  f.icmp.mtu = mtu;
  f.icmp.every = every;
  f.trigger = t;
  return f;
}

TEST(IcmpFault, FragNeededQuotesTheSegmentWithNextHopMtu) {
  auto h = with({icmp(IcmpKind::kFragNeeded, 68, false, on_segment(1))});
  h.handshake();
  std::size_t before = h.raw_out.size();
  EXPECT_TRUE(h.send_data("0123456789", 1ms).empty());
  ASSERT_EQ(h.raw_out.size(), before + 1);
  Tins::EthernetII e(h.raw_out.back().data(), static_cast<std::uint32_t>(h.raw_out.back().size()));
  const auto& ip4 = e.rfind_pdu<Tins::IP>();
  EXPECT_EQ(ip4.src_addr(), Tins::IPv4Address("192.0.2.2"));
  EXPECT_EQ(ip4.dst_addr(), Tins::IPv4Address("192.0.2.1"));
  const auto& icmp4 = e.rfind_pdu<Tins::ICMP>();
  EXPECT_EQ(icmp4.type(), Tins::ICMP::DEST_UNREACHABLE);
  EXPECT_EQ(icmp4.code(), 4);
  EXPECT_EQ(icmp4.mtu(), 68);
  // The quote holds the whole offending packet: IP header, TCP header (with the sequence number).
  auto quote = h.raw_out.back();
  std::size_t q = 14 + 20 + 8;
  ASSERT_GE(quote.size(), q + 20 + 20 + 12 + 10);
  EXPECT_EQ(quote[q] >> 4, 4);
  EXPECT_EQ(quote[q + 20] << 8 | quote[q + 21], 40000);  // quoted source port
  // Without `every`, the next segment passes.
  h.k.snd_nxt = h.k.snd_nxt + static_cast<std::uint32_t>(-10);
  EXPECT_EQ(h.send_data("0123456789", 300ms).size(), 1u);
}

TEST(IcmpFault, HostUnreachableOnEverySynFromARouterAddress) {
  Fault f = icmp(IcmpKind::kHostUnreachable, 0, true);
  f.icmp.source = ip("198.51.100.1");
  auto h = with({f});
  for (auto t : {0ms, 1000ms}) {
    auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, t, 64240, h.k.syn_options);
    EXPECT_TRUE(out.empty());
  }
  ASSERT_EQ(h.raw_out.size(), 2u);
  Tins::EthernetII e(h.raw_out[1].data(), static_cast<std::uint32_t>(h.raw_out[1].size()));
  EXPECT_EQ(e.rfind_pdu<Tins::IP>().src_addr(), Tins::IPv4Address("198.51.100.1"));
  EXPECT_EQ(e.rfind_pdu<Tins::ICMP>().code(), 1);
  EXPECT_EQ(h.host->stats().connections_accepted, 0u);
}

TEST(IcmpFault, PacketTooBigCarriesTheMtuForIpv6) {
  auto h = with({icmp(IcmpKind::kPacketTooBig, 1280, false, on_segment(1))}, true);
  h.handshake();
  std::size_t before = h.raw_out.size();
  h.send_data("x", 1ms);
  ASSERT_EQ(h.raw_out.size(), before + 1);
  const auto& f = h.raw_out.back();
  std::size_t icmp_at = 14 + 40;
  EXPECT_EQ(f[icmp_at], 2);  // Packet Too Big
  std::uint32_t mtu = static_cast<std::uint32_t>(f[icmp_at + 4] << 24 | f[icmp_at + 5] << 16 |
                                                 f[icmp_at + 6] << 8 | f[icmp_at + 7]);
  EXPECT_EQ(mtu, 1280u);
  EXPECT_EQ(f[icmp_at + 8] >> 4, 6);  // the quote starts with the IPv6 header
  auto d = decode_frame(f);
  EXPECT_TRUE(std::holds_alternative<DecodedFrame>(d));  // checksum valid
}

TEST(RstFault, SendsInWindowResetAndClosesTheConnection) {
  Fault f;
  f.name = "rst";
  f.action = ActionKind::kRst;
  f.trigger = at(1s);
  auto h = with({f});
  h.handshake();
  auto out = h.poll(1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, kRst | kAck);
  EXPECT_EQ(out[0].tcp.seq, h.k.rcv_nxt);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kClosed);
}

TEST(RstFault, OffsetMovesTheSequenceNumber) {
  Fault f;
  f.name = "rst";
  f.action = ActionKind::kRst;
  f.rst.offset = 100000;
  f.trigger = on_segment(1);
  auto h = with({f});
  h.handshake();
  auto out = h.send_data("x", 1ms);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].tcp.flags, kRst | kAck);
  EXPECT_EQ(out[0].tcp.seq, h.k.rcv_nxt + 100000);
}

TEST(Triggers, OnStateEstablishedFires) {
  Trigger t;
  t.kind = TriggerKind::kOnState;
  t.state = TcpState::kEstablished;
  auto h = with({silent(SilentMode::kAll, t)});
  h.handshake();
  EXPECT_TRUE(h.send_data("x", 1ms).empty());
}

TEST(Triggers, AfterAnotherFaultWithDelay) {
  Trigger after;
  after.kind = TriggerKind::kAfterFault;
  after.fault = "first";
  after.delay = 500ms;
  Fault first = window(0, at(1s));
  first.name = "first";
  Fault second = silent(SilentMode::kAll, after);
  auto h = with({first, second});
  h.handshake();
  h.poll(1s);
  EXPECT_EQ(h.host->next_deadline(), h.at(1500ms));
  h.poll(1500ms);
  EXPECT_TRUE(h.send(kAck, h.k.snd_nxt + static_cast<std::uint32_t>(-1), h.k.rcv_nxt, {}, 1600ms).empty());
}

TEST(Triggers, AfterAnotherFaultBySegments) {
  Trigger after;
  after.kind = TriggerKind::kAfterFault;
  after.fault = "first";
  after.count = 2;
  Fault first = silent(SilentMode::kOutput, on_segment(1));
  first.name = "first";
  first.until = after;
  auto h = with({first});
  h.handshake();
  EXPECT_TRUE(h.send_data("1", 1ms).empty());
  EXPECT_TRUE(h.send_data("2", 2ms).empty());
  EXPECT_FALSE(h.send_data("3", 3ms).empty());
}

TEST(Triggers, ConnectionSelectorLimitsTheFaultToOneConnection) {
  Fault f = silent(SilentMode::kAll, at(0ms));
  f.connection = 2;
  auto h = with({f});
  h.handshake();  // connection 1: unaffected
  EXPECT_EQ(h.send_data("a", 1ms).size(), 1u);
  h.k.port = 40001;
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 2ms, 64240, h.k.syn_options);
  EXPECT_TRUE(out.empty());  // connection 2's SYN is dropped
}

}  // namespace
}  // namespace tapfault::testing

namespace tapfault::testing {
namespace {

TEST(RstFault, ResetOnDeliveredBytesIsTheLastSegmentThePeerSends) {
  Fault f;
  f.name = "rst";
  f.action = ActionKind::kRst;
  f.trigger.kind = TriggerKind::kOnRxBytes;
  f.trigger.count = 6;
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  FaultPlan plan;
  plan.faults = {f};
  PeerHarness h(false, cfg, plan);
  h.handshake();
  auto out = h.send_data("hello!", 1ms);
  ASSERT_EQ(out.size(), 1u) << "no ACK after the reset";
  EXPECT_TRUE(out[0].tcp.has(tcp_flags::kRst));
}

TEST(SilentFault, InputModeDropsKernelSegmentsButPeerTimersStillSend) {
  Fault f;
  f.name = "deaf";
  f.action = ActionKind::kSilent;
  f.silent.mode = SilentMode::kInput;
  f.trigger.kind = TriggerKind::kAt;
  f.trigger.at = 1s;
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kRespond, .response = {'o', 'k'}, .respond_on_connect = true});
  FaultPlan plan;
  plan.faults = {f};
  PeerHarness h(false, cfg, plan);
  h.handshake(0ms);  // the peer sends "ok" at once
  h.poll(1s);
  // The kernel's ACK of "ok" is dropped, so the peer retransmits it on its own timer.
  EXPECT_TRUE(h.send(tcp_flags::kAck, h.k.snd_nxt, h.k.rcv_nxt + 2, {}, 1s).empty());
  auto again = h.poll(1400ms);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(payload_text(again[0]), "ok");
}

}  // namespace
}  // namespace tapfault::testing
