// HostConfig::delayed_ack: the peer acknowledges in-order data as Linux does
// (tcp_ack_snd_check(): at once once more than one full-sized segment is unacknowledged,
// else after the delay), and everything else at once. Off by default: scenarios measure a
// peer that ACKs every segment (stack_tcp_test).
#include <gtest/gtest.h>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

using tcp_flags::kAck;
using tcp_flags::kFin;
using tcp_flags::kPsh;

HostConfig delayed(AppMode mode = AppMode::kDiscard) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = mode});
  cfg.delayed_ack = std::chrono::milliseconds(40);
  return cfg;
}

std::string full_segment(char c) { return std::string(1448, c); }

TEST(DelayedAck, OneSegmentIsAcknowledgedAfterTheDelay) {
  PeerHarness h(false, delayed());
  h.handshake();
  EXPECT_TRUE(h.send_data(full_segment('a'), 10ms).empty());
  ASSERT_EQ(h.host->next_deadline(), h.at(50ms));
  EXPECT_TRUE(h.poll(50ms - 1ns).empty());
  auto out = h.poll(50ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt);
  EXPECT_TRUE(out[0].payload.empty());
  EXPECT_FALSE(h.host->next_deadline()) << "nothing left to time";
}

TEST(DelayedAck, EverySecondFullSegmentIsAcknowledgedAtOnce) {
  PeerHarness h(false, delayed());
  h.handshake();
  for (int pair = 0; pair < 3; ++pair) {
    EXPECT_TRUE(h.send_data(full_segment('a'), 10ms).empty()) << "pair " << pair;
    auto out = h.send_data(full_segment('b'), 11ms);
    ASSERT_EQ(out.size(), 1u) << "pair " << pair;
    EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt);
  }
  EXPECT_FALSE(h.host->next_deadline()) << "the ACK cancelled the delayed one";
}

TEST(DelayedAck, SmallSegmentsAreAcknowledgedOnceMoreThanTheLargestIsUnacknowledged) {
  PeerHarness h(false, delayed());
  h.handshake();
  EXPECT_TRUE(h.send_data("0123456789", 10ms).empty());
  auto out = h.send_data("abcdefghij", 11ms);
  ASSERT_EQ(out.size(), 1u) << "20 bytes unacknowledged, the largest segment was 10";
}

TEST(DelayedAck, OutOfOrderDataAndFinAreAcknowledgedAtOnce) {
  PeerHarness h(false, delayed());
  h.handshake();
  EXPECT_TRUE(h.send_data("first", 10ms).empty());
  // A segment beyond RCV.NXT: the duplicate ACK goes out at once (and carries the first's ACK).
  auto dup = h.send(kAck | kPsh, h.k.snd_nxt + 100, h.k.rcv_nxt, {'x'}, 11ms);
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].tcp.ack, h.k.snd_nxt);
  EXPECT_FALSE(h.host->next_deadline());
  auto fin = h.send(kAck | kFin, h.k.snd_nxt, h.k.rcv_nxt, {}, 12ms);
  ASSERT_FALSE(fin.empty());
  EXPECT_EQ(fin[0].tcp.ack, h.k.snd_nxt + 1);
}

TEST(DelayedAck, AnEchoCarriesTheAckAtOnce) {
  PeerHarness h(false, delayed(AppMode::kEcho));
  h.handshake();
  auto out = h.send_data("hello", 10ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), "hello");
  EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt);
}

TEST(DelayedAck, IsOffByDefault) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  PeerHarness h(false, cfg);
  h.handshake();
  EXPECT_EQ(h.send_data(full_segment('a'), 10ms).size(), 1u);
}

}  // namespace
}  // namespace tapfault::testing
