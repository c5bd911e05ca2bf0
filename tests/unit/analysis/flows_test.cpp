// The extractor: every kind of kernel segment classified as the kernel would explain it,
// the peer's ACKs, windows and ICMP errors, the kernel side, flows and origins.
#include "tapfault/replay/analysis/flows.hpp"

#include <gtest/gtest.h>

#include "support/test_files.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using testing::Conversation;

std::vector<Flow> flows_of(const Conversation& c, int dlt = DLT_EN10MB) {
  auto path = testing::scratch_dir() / "capture.pcap";
  testing::write_pcap(path, c.frames, dlt);
  return extract_flows(read_capture(path));
}

std::vector<KernelEventKind> kinds(const Flow& f) {
  std::vector<KernelEventKind> v;
  for (const KernelEvent& e : f.kernel_events) v.push_back(e.kind);
  return v;
}

using K = KernelEventKind;

TEST(Extract, ClassifiesEveryKindOfKernelSegment) {
  Conversation c;
  c.syn(0);
  c.syn(1.0);  // same ISN: a SYN retry
  c.syn_ack(1.0001);
  c.kernel_ack(1.0002, 1, 1);
  c.kernel_data(2.0, 1, 100);   // original
  c.peer_ack(2.0001, 101);
  c.kernel_data(3.0, 101, 100);  // original, then lost
  c.kernel_data(3.208, 101, 100);  // TLP: the last segment again, SACK on
  c.kernel_data(3.416, 101, 100);  // RTO
  c.peer_ack(3.4161, 201, 0);      // recovers, and closes the window
  c.kernel_ack(3.620, 200, 1);     // seq = snd_una - 1 with the window at 0: zero-window probe
  c.peer_ack(3.6201, 201, 509);    // window open again
  c.kernel_ack(10.0, 200, 1);      // seq = snd_una - 1, window open: keepalive probe
  c.kernel_fin(11.0, 201);
  c.kernel_fin(11.3, 201);         // the FIN again: a retransmission
  c.kernel_rst(12.0, 202);

  auto flows = flows_of(c);
  ASSERT_EQ(flows.size(), 1u);
  const Flow& f = flows[0];
  EXPECT_EQ(f.kernel.to_string(), "192.0.2.1:40000");
  EXPECT_EQ(f.peer.to_string(), "192.0.2.2:8080");
  EXPECT_EQ(f.kernel_side_reason, "sent the SYN");
  EXPECT_TRUE(f.sack_permitted);
  EXPECT_TRUE(f.timestamps);
  EXPECT_EQ(kinds(f), (std::vector<K>{K::kSyn, K::kSynRetransmit, K::kData, K::kData, K::kTlp, K::kRetransmit,
                                      K::kZeroWindowProbe, K::kKeepaliveProbe, K::kFin, K::kTlp, K::kRst}));
  EXPECT_EQ(f.kernel_events[4].rel_seq, 101u);
  EXPECT_EQ(f.kernel_events[4].len, 100u);
  EXPECT_EQ(f.kernel_events[4].frame, 8u);
  ASSERT_EQ(f.episodes.size(), 2u);
  EXPECT_TRUE(f.episodes[0].recovered);
  EXPECT_EQ(f.episodes[0].trigger_frame, 7u);  // the send before the TLP
  EXPECT_EQ(f.episodes[0].packets_out, 1);
  EXPECT_EQ(f.episodes[0].retransmissions, 2);
  EXPECT_FALSE(f.episodes[1].recovered);  // the FIN was never acknowledged
  // Karn: a retried SYN gives an RTT sample only with timestamps, from the last SYN.
  ASSERT_TRUE(f.handshake_rtt.has_value());
  EXPECT_EQ(*f.handshake_rtt, 100us);
}

TEST(Extract, PeerEventsCarryAcksWindowsAndIcmp) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  c.peer_ack(1.001, 101, 0);
  c.kernel_data(2.0, 101, 50);  // (ignores the window: a test)
  c.icmp_for_last_kernel_frame(2.001, 3, 1, "198.51.100.1");
  auto flows = flows_of(c);
  ASSERT_EQ(flows.size(), 1u);
  const Flow& f = flows[0];
  ASSERT_EQ(f.peer_events.size(), 3u);
  EXPECT_EQ(f.peer_events[0].kind, PeerEventKind::kSynAck);
  EXPECT_EQ(f.peer_events[1].kind, PeerEventKind::kZeroWindow);
  EXPECT_EQ(f.peer_events[1].rel_ack, 101u);
  EXPECT_TRUE(f.peer_events[1].acks_everything);
  EXPECT_EQ(f.peer_events[2].kind, PeerEventKind::kIcmp);
  ASSERT_TRUE(f.peer_events[2].icmp.has_value());
  EXPECT_EQ(f.peer_events[2].icmp->type, 3);
  EXPECT_EQ(f.peer_events[2].icmp->code, 1);
  EXPECT_EQ(f.peer_events[2].rel_ack, 101u);  // the quoted sequence number
  EXPECT_EQ(describe(*f.peer_events[2].icmp), "dest-unreachable/host-unreachable");
}

TEST(Extract, WindowIsScaledOutsideTheSyn) {
  Conversation c;
  c.handshake(0);
  c.peer_ack(0.5, 1, 10);
  auto flows = flows_of(c);
  EXPECT_EQ(flows[0].peer_events[0].window, 65160u);      // SYN-ACK: never scaled
  EXPECT_EQ(flows[0].peer_events[1].window, 10u << 7);     // wscale 7 both ways
}

TEST(Extract, AShiftAbove14IsTreatedAs14) {
  // RFC 7323 2.3; found by fuzz_capture (fuzz/regressions/fuzz_capture/window-scale-83-...):
  // a shift of 83 made the window a shift past 32 bits.
  Conversation c;
  c.wscale = 83;
  c.handshake(0);
  c.peer_ack(0.5, 1, 10);
  auto flows = flows_of(c);
  EXPECT_EQ(flows[0].peer_events[1].window, 10u << 14);
}

TEST(Extract, TlpRepeatsTheTailAndTheRtoTheHead) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.000, 1, 100);
  c.kernel_data(1.001, 101, 100);
  c.kernel_data(1.002, 201, 100);
  c.kernel_data(1.010, 201, 100);  // TLP: the last segment
  c.kernel_data(1.220, 1, 100);    // RTO: the head
  c.kernel_data(1.650, 1, 100);
  auto flows = flows_of(c);
  const Flow& f = flows[0];
  EXPECT_EQ(kinds(f), (std::vector<K>{K::kSyn, K::kData, K::kData, K::kData, K::kTlp, K::kRetransmit, K::kRetransmit}));
  ASSERT_EQ(f.episodes.size(), 1u);
  EXPECT_EQ(f.episodes[0].packets_out, 3);
  EXPECT_EQ(f.episodes[0].trigger_frame, 6u);  // the last send armed the loss probe
  auto o = find_origin(f, OriginRule::kTriggeringSend);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->frame, 6u);
  EXPECT_NE(o->what.find("seq 201:301"), std::string::npos) << o->what;
}

TEST(Extract, WithoutSackTheFirstRetransmissionIsAnRtoFromTheHead) {
  Conversation c;
  c.sack = false;
  c.handshake(0);
  c.kernel_data(1.000, 1, 100);
  c.kernel_data(1.001, 101, 100);
  c.kernel_data(1.205, 1, 100);
  auto flows = flows_of(c);
  const Flow& f = flows[0];
  EXPECT_EQ(f.kernel_events.back().kind, K::kRetransmit);
  EXPECT_EQ(f.episodes[0].trigger_frame, 4u);  // the head's original
}

TEST(Extract, SegmentsOfOneTimerFiringFoldIntoOneEvent) {
  Conversation c;
  c.sack = false;
  c.handshake(0);
  c.kernel_data(1.000, 1, 100);
  c.kernel_data(1.001, 101, 100);
  c.kernel_data(1.205, 1, 100);
  c.kernel_data(1.2052, 101, 100);
  auto flows = flows_of(c);
  const Flow& f = flows[0];
  ASSERT_EQ(f.kernel_events.back().kind, K::kRetransmit);
  EXPECT_EQ(f.kernel_events.back().segments, 2);
  EXPECT_EQ(f.episodes[0].retransmissions, 1);
}

TEST(Extract, OriginsOfEachModel) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  c.peer_ack(1.0001, 101, 0);  // zero window, nothing in flight
  c.kernel_ack(1.21, 100, 1);  // zero-window probe
  c.peer_ack(1.2101, 101, 0);
  c.peer_ack(2.0, 101, 509);   // opens
  c.peer_data(3.0, 1, 10, 101);
  c.kernel_ack(3.00005, 101, 11);
  c.kernel_ack(4.014, 100, 11);  // keepalive
  auto flows = flows_of(c);
  const Flow& f = flows[0];
  auto syn = find_origin(f, OriginRule::kFirstSyn);
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->frame, 1u);
  auto zw = find_origin(f, OriginRule::kZeroWindowAck);
  ASSERT_TRUE(zw);
  EXPECT_EQ(zw->frame, 5u);
  auto ka = find_origin(f, OriginRule::kLastReceived);
  ASSERT_TRUE(ka);
  EXPECT_EQ(ka->frame, 9u);  // the peer's data, the last thing received
  std::string why;
  EXPECT_FALSE(find_origin(f, OriginRule::kTriggeringSend, &why));
  EXPECT_EQ(why, "the kernel never retransmitted on this connection");
  Flow g = f;
  set_origin(g, *ka);
  EXPECT_EQ(g.kernel_events.back().t, 1014ms);  // the keepalive, from the last received segment
}

TEST(Extract, KernelSideWithoutHandshakeIsTheSideThatRetransmits) {
  Conversation c;
  // The capture starts mid-connection: the peer sends more data, the kernel retransmits.
  c.peer_data(0.0, 1, 1000, 1);
  c.peer_data(0.001, 1001, 1000, 1);
  c.kernel_data(0.5, 1, 10, 2001);
  c.kernel_data(0.9, 1, 10, 2001);
  auto flows = flows_of(c);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].kernel.to_string(), "192.0.2.1:40000");
  EXPECT_EQ(flows[0].kernel_side_reason, "retransmits (no handshake in the capture)");
  EXPECT_FALSE(flows[0].handshake_seen);
}

TEST(Extract, KernelSideWithoutHandshakeFromALinuxCookedCapturesDirection) {
  Conversation c;
  c.peer_data(0.0, 1, 1000, 1);  // the peer sends more; nobody retransmits
  c.kernel_ack(0.001, 1, 1001);
  auto flows = flows_of(c, DLT_LINUX_SLL2);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].kernel.to_string(), "192.0.2.1:40000");
  EXPECT_EQ(flows[0].kernel_side_reason, "sent by the capturing host (Linux cooked capture, no handshake)");
  auto ethernet = flows_of(c);
  EXPECT_EQ(ethernet[0].kernel.to_string(), "192.0.2.2:8080");  // Ethernet cannot tell: more data wins
}

TEST(Extract, AReusedFourTupleWithANewIsnIsANewFlow) {
  Conversation a(false, 40000, 1000);
  a.handshake(0);
  a.kernel_rst(1.0, 1);
  Conversation b(false, 40000, 900000);
  b.handshake(2.0);
  a.frames.insert(a.frames.end(), b.frames.begin(), b.frames.end());
  auto flows = flows_of(a);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].index, 2);
  EXPECT_EQ(flows[1].first_frame, 5u);
}

TEST(Extract, FlowSelectorForms) {
  auto by_index = FlowSelector::parse("2");
  ASSERT_TRUE(by_index);
  EXPECT_EQ(*by_index->index, 2);
  auto by_port = FlowSelector::parse(":40000");
  ASSERT_TRUE(by_port);
  EXPECT_EQ(*by_port->port, 40000);
  auto v4 = FlowSelector::parse("192.0.2.2:8080-192.0.2.1:40000");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->endpoints->first.to_string(), "192.0.2.2:8080");
  auto v6 = FlowSelector::parse("[2001:db8:a::1]:40000-[2001:db8:a::2]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->endpoints->second.to_string(), "[2001:db8:a::2]:80");
  EXPECT_FALSE(FlowSelector::parse("x"));
  EXPECT_FALSE(FlowSelector::parse("0"));
  EXPECT_FALSE(FlowSelector::parse(":70000"));
  EXPECT_FALSE(FlowSelector::parse("192.0.2.1-192.0.2.2"));

  Conversation c;
  c.handshake(0);
  auto flows = flows_of(c);
  EXPECT_TRUE(v4->matches(flows[0]));  // either order
  EXPECT_TRUE(by_port->matches(flows[0]));
  EXPECT_FALSE(by_index->matches(flows[0]));
}

TEST(Extract, Ipv6ConnectionsWork) {
  Conversation c(true);
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  c.kernel_data(1.208, 1, 100);
  auto flows = flows_of(c);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].kernel.to_string(), "[2001:db8:a::1]:40000");
  EXPECT_EQ(flows[0].kernel_events.back().kind, K::kTlp);
}

}  // namespace
}  // namespace tapfault::replay
