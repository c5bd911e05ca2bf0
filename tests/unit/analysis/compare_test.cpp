// compare: two runs that differ only in ISNs, ports, MACs and timestamp values match;
// a flag, a length, a window, an option or a gap beyond the tolerance is reported with
// both values and both frame numbers.
#include "tapfault/replay/analysis/compare.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_files.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;
using testing::Conversation;

// A short exchange: handshake, request, response, retransmission, close.
// Frames: 1 SYN, 2 SYN-ACK, 3 ACK, 4 request, 5 ACK, 6 response, 7 ACK, 8 FIN, 9 FIN again.
Conversation exchange(std::uint16_t port, std::uint32_t kernel_isn, std::uint32_t peer_isn, double shift = 0) {
  Conversation c(false, port, kernel_isn, peer_isn);
  c.base += std::chrono::seconds(static_cast<int>(shift * 1000));  // another day, same gaps
  c.ts_offset = kernel_isn / 3;
  c.handshake(0);
  c.kernel_data(0.010, 1, 100);
  c.peer_ack(0.0101, 101);
  c.peer_data(0.020, 1, 500, 101);
  c.kernel_ack(0.0201, 101, 501);
  c.kernel_fin(0.100, 101, 501);
  c.kernel_fin(0.308, 101, 501);
  return c;
}

CompareResult compare(const Conversation& a, const Conversation& b, CompareOptions o = {}) {
  auto dir = testing::scratch_dir();
  testing::write_pcap(dir / "a.pcap", a.frames);
  testing::write_pcap(dir / "b.pcap", b.frames);
  o.name_a = "a.pcap";
  o.name_b = "b.pcap";
  return compare_capture_files(dir / "a.pcap", dir / "b.pcap", o);
}

TEST(Compare, NormalisedCapturesMatch) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b = exchange(40123, 777777777, 4000000000u, 3);  // other ISNs (one wraps), port, clock, TS
  for (auto& f : b.frames) f.ethernet[f.from_kernel ? 11 : 5] ^= 0x40;  // another kernel MAC
  CompareResult r = compare(a, b);
  EXPECT_TRUE(r.same) << r.to_text();
  EXPECT_EQ(r.packets_compared, 9u);
  EXPECT_EQ(r.to_text(), "same: 1 connection(s), 9 packets compared\n");
  EXPECT_EQ(r.to_json()["same"], true);
}

TEST(Compare, AFlagDifferenceNamesBothFrames) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b(false, 40001, 2000, 6000);
  b.handshake(0);
  b.kernel_data(0.010, 1, 100);
  b.peer_ack(0.0101, 101);
  b.peer_data(0.020, 1, 500, 101);
  b.kernel_ack(0.0201, 101, 501);
  b.kernel_rst(0.100, 101, 501);  // RST instead of FIN
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#8 vs b.pcap#8: connection 1, packet 8 (kernel -> peer): flags [F.] vs [R.]");
  EXPECT_EQ(r.first_difference->frame_a, 8u);
  EXPECT_EQ(r.first_difference->frame_b, 8u);
  auto j = r.to_json();
  EXPECT_EQ(j["first_difference"]["field"], "flags");
  EXPECT_EQ(j["first_difference"]["a"]["value"], "[F.]");
  EXPECT_EQ(j["first_difference"]["b"]["frame"], 8);
}

TEST(Compare, ALengthDifference) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b(false, 40000, 1000, 5000);
  b.handshake(0);
  b.kernel_data(0.010, 1, 99);
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#4 vs b.pcap#4: connection 1, packet 4 (kernel -> peer): length 100 vs 99");
}

TEST(Compare, AGapBeyondTheToleranceAndOneWithin) {
  Conversation a = exchange(40000, 1000, 5000);
  // The FIN retransmission 208 ms after the FIN in A; 230 ms in B: 22 ms > max(4 ms, 26 ms)? No: within.
  Conversation within(false, 40000, 1000, 5000);
  within.handshake(0);
  within.kernel_data(0.010, 1, 100);
  within.peer_ack(0.0101, 101);
  within.peer_data(0.020, 1, 500, 101);
  within.kernel_ack(0.0201, 101, 501);
  within.kernel_fin(0.100, 101, 501);
  within.kernel_fin(0.330, 101, 501);
  EXPECT_TRUE(compare(a, within).same);

  Conversation late = within;
  late.frames.back().time = late.at(0.400);  // 300 ms vs 208 ms
  CompareResult r = compare(a, late);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#9 vs b.pcap#9: connection 1, packet 9 (kernel -> peer): gap after the previous packet "
            "(tolerance 26.000 ms) 0.208000 s vs 0.300000 s");

  CompareOptions loose;
  loose.tolerance_floor = std::chrono::milliseconds(100);
  EXPECT_TRUE(compare(a, late, loose).same);
}

TEST(Compare, ShortGapsUseTheFourMillisecondFloor) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b = exchange(40000, 1000, 5000);
  b.frames[3].time = b.at(0.0135);  // request 3.5 ms later: within 4 ms
  EXPECT_TRUE(compare(a, b).same);
  b.frames[3].time = b.at(0.0145);  // 4.5 ms later
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->field, "gap");
  EXPECT_EQ(r.first_difference->frame_a, 4u);
}

TEST(Compare, WindowAndOptionsAreCompared) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b = exchange(40000, 1000, 5000);
  b.timestamps = false;
  b.frames.clear();
  b.handshake(0);
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#1 vs b.pcap#1: connection 1, packet 1 (kernel -> peer): options "
            "mss 1460,sackOK,TS,nop,wscale 7 vs mss 1460,nop,nop,sackOK,nop,wscale 7");

  Conversation c(false, 40000, 1000, 5000);
  c.handshake(0);
  c.kernel_data(0.010, 1, 100);
  c.peer_ack(0.0101, 101, 0);  // zero window
  r = compare(a, c);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#5 vs b.pcap#5: connection 1, packet 5 (peer -> kernel): window 509 vs 0");
}

TEST(Compare, MissingPacketsAndConnections) {
  Conversation a = exchange(40000, 1000, 5000);
  Conversation b = exchange(40000, 1000, 5000);
  b.frames.pop_back();
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_THAT(r.first_difference->message,
              HasSubstr("a.pcap#9 vs b.pcap (none): connection 1: a.pcap has 9 packets, b.pcap has 8; the first extra "
                        "one is kernel -> peer, flags [F.]"));

  Conversation two = exchange(40000, 1000, 5000);
  Conversation second = exchange(40001, 9000, 9999);
  second.base += std::chrono::seconds(1);
  two.frames.insert(two.frames.end(), second.frames.begin(), second.frames.end());
  r = compare(a, two);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap has 1 connections, b.pcap has 2; the first extra one is 192.0.2.1:40001 -> 192.0.2.2:8080 at "
            "b.pcap#10");
}

TEST(Compare, IcmpErrorsAreComparedArpIsNot) {
  Conversation a = exchange(40000, 1000, 5000);
  a.icmp_for_last_kernel_frame(0.31, 3, 1, "198.51.100.1");
  Conversation b = exchange(40000, 1000, 5000);
  b.icmp_for_last_kernel_frame(0.31, 3, 4, "198.51.100.1");
  std::vector<std::uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x5e, 0, 0x53, 2, 0x08, 0x06};
  arp.resize(60, 0);
  b.frames.insert(b.frames.begin(), {b.at(0), arp, false});
  CompareResult r = compare(a, b);
  ASSERT_FALSE(r.same);
  EXPECT_EQ(r.first_difference->message,
            "a.pcap#10 vs b.pcap#11: connection 1, packet 10 (ICMP -> kernel): icmp dest-unreachable/host-unreachable "
            "vs dest-unreachable/frag-needed mtu 0");
}

}  // namespace
}  // namespace tapfault::replay
