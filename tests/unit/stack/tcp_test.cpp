// The peer's TCP, driven frame by frame with an explicit clock: one fixture per state.
#include <gtest/gtest.h>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

using F = std::uint8_t;
constexpr F kSyn = tcp_flags::kSyn, kAck = tcp_flags::kAck, kFin = tcp_flags::kFin,
            kRst = tcp_flags::kRst, kPsh = tcp_flags::kPsh;

TEST(Listen, SynGetsSynAckEchoingEveryOfferedOption) {
  PeerHarness h;
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  ASSERT_EQ(out.size(), 1u);
  const auto& sa = out[0];
  EXPECT_EQ(sa.tcp.flags, kSyn | kAck);
  EXPECT_EQ(sa.tcp.ack, h.k.isn + 1);
  EXPECT_EQ(sa.src, ip("192.0.2.2"));
  EXPECT_EQ(sa.tcp.src_port, 8080);
  EXPECT_EQ(sa.tcp.dst_port, 40000);
  ASSERT_TRUE(sa.tcp.options.mss);
  EXPECT_EQ(*sa.tcp.options.mss, 1460);
  EXPECT_TRUE(sa.tcp.options.sack_permitted);
  ASSERT_TRUE(sa.tcp.options.timestamp);
  EXPECT_EQ(sa.tcp.options.timestamp->echo_reply, 5000u);
  ASSERT_TRUE(sa.tcp.options.window_scale);
  EXPECT_EQ(*sa.tcp.options.window_scale, 7);
}

TEST(Listen, SynWithoutOptionsGetsOnlyMss) {
  PeerHarness h;
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, TcpOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tcp.options.mss);
  EXPECT_FALSE(out[0].tcp.options.sack_permitted);
  EXPECT_FALSE(out[0].tcp.options.timestamp);
  EXPECT_FALSE(out[0].tcp.options.window_scale);
}

TEST(Listen, Ipv6SynAdvertisesMssForIpv6Headers) {
  PeerHarness h(true);
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].tcp.options.mss, 1440);
  EXPECT_EQ(out[0].src, ip("2001:db8::2"));
}

TEST(Listen, SynToClosedPortGetsRstAck) {
  PeerHarness h;
  h.k.peer_port = 9;
  auto out = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, kRst | kAck);
  EXPECT_EQ(out[0].tcp.ack, h.k.isn + 1);
  EXPECT_EQ(h.host->stats().resets_sent, 1u);
}

TEST(Listen, AckForNoConnectionGetsRstWithItsAckAsSeq) {
  PeerHarness h;
  auto out = h.send(kAck, SeqNum(5), SeqNum(777), {}, 0ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, kRst);
  EXPECT_EQ(out[0].tcp.seq, SeqNum(777));
}

TEST(Listen, SameSeedGivesSameIsnDifferentSeedDifferentIsn) {
  PeerHarness a, b;
  HostConfig other;
  other.seed = 2;
  PeerHarness c(false, other);
  auto sa = a.handshake(), sb = b.handshake(), sc = c.handshake();
  EXPECT_EQ(sa.tcp.seq, sb.tcp.seq);
  EXPECT_NE(sa.tcp.seq, sc.tcp.seq);
}

TEST(SynReceived, RetransmittedSynGetsTheSameSynAck) {
  PeerHarness h;
  auto first = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  auto again = h.send(kSyn, h.k.isn, SeqNum(0), {}, 1000ms, 64240, h.k.syn_options);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].tcp.seq, first[0].tcp.seq);
  EXPECT_EQ(again[0].tcp.flags, kSyn | kAck);
}

TEST(SynReceived, PeerRetransmitsSynAckAfterItsRto) {
  PeerHarness h;
  h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 64240, h.k.syn_options);
  EXPECT_EQ(h.host->next_deadline(), h.at(200ms));
  EXPECT_TRUE(h.poll(199ms).empty());
  auto out = h.poll(200ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.flags, kSyn | kAck);
  EXPECT_EQ(h.host->next_deadline(), h.at(600ms));
}

TEST(SynReceived, AckCompletesHandshake) {
  PeerHarness h;
  h.handshake();
  auto conns = h.host->connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].state, TcpState::kEstablished);
  EXPECT_FALSE(h.host->next_deadline());
}

TEST(Established, DataIsAckedAndEchoedInOneSegment) {
  PeerHarness h;
  h.handshake();
  EXPECT_TRUE(h.after_handshake.empty());
  auto out = h.send_data("hello", 10ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), "hello");
  EXPECT_EQ(out[0].tcp.ack, h.k.isn + 1 + 5);
  EXPECT_EQ(out[0].tcp.flags, kAck | kPsh);
  ASSERT_TRUE(out[0].tcp.options.timestamp);
  EXPECT_EQ(out[0].tcp.options.timestamp->echo_reply, 5010u);
  EXPECT_EQ(h.host->connections()[0].bytes_received, 5u);
}

TEST(Established, DiscardModeAcksWithoutData) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kDiscard});
  PeerHarness h(false, cfg);
  h.handshake();
  auto out = h.send_data("hello", 10ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].payload.empty());
  EXPECT_EQ(out[0].tcp.ack, h.k.isn + 6);
}

TEST(Established, RespondModeSendsResponseAfterFirstData) {
  HostConfig cfg;
  std::string resp = "HTTP/1.0 200 OK\r\n\r\nhi";
  cfg.listeners.push_back(ListenerConfig{.port = 8080,
                                          .mode = AppMode::kRespond,
                                          .response = {resp.begin(), resp.end()},
                                          .close_after_response = true});
  PeerHarness h(false, cfg);
  h.handshake();
  auto out = h.send_data("GET / HTTP/1.0\r\n\r\n", 10ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(payload_text(out[0]), resp);
  EXPECT_EQ(out[1].tcp.flags, kFin | kAck);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kFinWait1);
}

TEST(Established, OutOfOrderDataIsDroppedWithDuplicateAck) {
  PeerHarness h;
  h.handshake();
  std::vector<std::uint8_t> data{'x', 'y'};
  auto out = h.send(kAck, h.k.snd_nxt + 10, h.k.rcv_nxt, data, 5ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].payload.empty());
  EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt);
  EXPECT_EQ(h.host->connections()[0].bytes_received, 0u);
}

TEST(Established, OverlappingRetransmissionDeliversOnlyNewBytes) {
  PeerHarness h;
  h.handshake();
  h.send_data("abc", 1ms);
  std::vector<std::uint8_t> data{'a', 'b', 'c', 'd', 'e'};
  auto out = h.send(kAck, h.k.isn + 1, h.k.rcv_nxt + 3, data, 2ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), "de");
  EXPECT_EQ(h.host->connections()[0].bytes_received, 5u);
}

TEST(Established, WindowIsAdvertisedScaled) {
  HostConfig cfg;
  cfg.window_bytes = 1 << 20;
  cfg.window_scale = 7;
  PeerHarness h(false, cfg);
  h.handshake();
  auto out = h.send_data("a", 1ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.window, (1u << 20) >> 7);
}

TEST(Established, PeerSegmentsRespectKernelWindowAndMss) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080,
                                          .mode = AppMode::kRespond,
                                          .response = std::vector<std::uint8_t>(5000, 'z'),
                                          .respond_on_connect = true});
  PeerHarness h(false, cfg);
  h.k.syn_options.window_scale.reset();
  h.k.syn_options.timestamp.reset();
  auto sa = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 3000, h.k.syn_options);
  h.k.rcv_nxt = sa[0].tcp.seq + 1;
  auto out = h.send(kAck, h.k.isn + 1, h.k.rcv_nxt, {}, 1ms, 3000, TcpOptions{});
  ASSERT_EQ(out.size(), 3u);  // 1460 + 1460 + 80 = 3000: the kernel's window
  EXPECT_EQ(out[0].payload.size(), 1460u);
  EXPECT_EQ(out[2].payload.size(), 80u);
  auto more = h.send(kAck, h.k.isn + 1, h.k.rcv_nxt + 3000, {}, 2ms, 3000, TcpOptions{});
  std::size_t total = 0;
  for (auto& s : more) total += s.payload.size();
  EXPECT_EQ(total, 2000u);
}

TEST(Established, SourceModeSendsPatternBytesAsTheWindowAllowsThenFin) {
  HostConfig cfg;
  ListenerConfig source{8080, AppMode::kSource, {}, false, true};
  source.source_bytes = 5000;
  cfg.listeners.push_back(source);
  PeerHarness h(false, cfg);
  h.k.syn_options.window_scale.reset();
  h.k.syn_options.timestamp.reset();
  auto sa = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 3000, h.k.syn_options);
  h.k.rcv_nxt = sa[0].tcp.seq + 1;
  std::string stream;
  for (auto& s : h.send(kAck, h.k.isn + 1, h.k.rcv_nxt, {}, 1ms, 3000, TcpOptions{})) stream += payload_text(s);
  EXPECT_EQ(stream.size(), 3000u);  // the kernel's window, from the handshake's ACK on
  auto rest = h.send(kAck, h.k.isn + 1, h.k.rcv_nxt + 3000, {}, 2ms, 3000, TcpOptions{});
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().tcp.flags, kFin | kAck);
  EXPECT_EQ(rest.back().tcp.seq, h.k.rcv_nxt + 5000);
  for (auto& s : rest) stream += payload_text(s);
  ASSERT_EQ(stream.size(), 5000u);
  for (std::size_t i = 0; i < stream.size(); ++i) ASSERT_EQ(stream[i], 'a' + static_cast<char>(i % 26)) << i;
}

TEST(Established, SourceModeBuffersAtMostSendBufferLimit) {
  HostConfig cfg;
  cfg.send_buffer_limit = 4000;
  ListenerConfig source{8080, AppMode::kSource, {}, false, false};
  source.source_bytes = 1'000'000;
  cfg.listeners.push_back(source);
  PeerHarness h(false, cfg);
  h.k.syn_options.window_scale.reset();
  h.k.syn_options.timestamp.reset();
  auto sa = h.send(kSyn, h.k.isn, SeqNum(0), {}, 0ms, 60000, h.k.syn_options);
  h.k.rcv_nxt = sa[0].tcp.seq + 1;
  std::size_t sent = 0;
  for (auto& s : h.send(kAck, h.k.isn + 1, h.k.rcv_nxt, {}, 1ms, 60000, TcpOptions{})) sent += s.payload.size();
  EXPECT_EQ(sent, 4000u);  // a 60000-byte window, but the app's buffer holds 4000
  std::size_t more = 0;
  for (auto& s : h.send(kAck, h.k.isn + 1, h.k.rcv_nxt + 1000, {}, 2ms, 60000, TcpOptions{}))
    more += s.payload.size();
  EXPECT_EQ(more, 1000u);  // what the kernel acknowledged is written again; no FIN without close
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kEstablished);
}

TEST(Established, UnackedPeerDataIsRetransmittedAt200msThen400ms) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kRespond, .response = {'o', 'k'}, .respond_on_connect = true});
  PeerHarness h(false, cfg);
  h.handshake(0ms);
  ASSERT_EQ(h.after_handshake.size(), 1u);
  EXPECT_EQ(payload_text(h.after_handshake[0]), "ok");
  ASSERT_EQ(h.host->next_deadline(), h.at(200ms));
  EXPECT_TRUE(h.poll(199ms).empty());
  auto r1 = h.poll(200ms);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(payload_text(r1[0]), "ok");
  EXPECT_EQ(h.host->next_deadline(), h.at(600ms));
  EXPECT_EQ(h.poll(600ms).size(), 1u);
}

TEST(Established, ZeroWindowProbeFromKernelIsAcked) {
  PeerHarness h;
  h.handshake();
  // tcp_xmit_probe_skb(): a bare ACK with seq = SND.UNA - 1.
  auto out = h.send(kAck, h.k.snd_nxt + static_cast<std::uint32_t>(-1), h.k.rcv_nxt, {}, 5ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt);
}

TEST(Established, InWindowRstClosesExactRstOnly) {
  PeerHarness h;
  h.handshake();
  auto challenge = h.send(kRst, h.k.snd_nxt + 5, SeqNum(0), {}, 1ms);
  ASSERT_EQ(challenge.size(), 1u);  // RFC 5961 challenge ACK
  EXPECT_EQ(challenge[0].tcp.flags, kAck);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kEstablished);
  EXPECT_TRUE(h.send(kRst, h.k.snd_nxt, SeqNum(0), {}, 2ms).empty());
  auto conns = h.host->connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].state, TcpState::kClosed);
  EXPECT_TRUE(conns[0].reset);
}

TEST(CloseWait, KernelFinGetsAckAndPeerFinThenClosesOnLastAck) {
  PeerHarness h;
  h.handshake();
  auto out = h.send(kFin | kAck, h.k.snd_nxt, h.k.rcv_nxt, {}, 3ms);
  ASSERT_EQ(out.size(), 1u);  // FIN+ACK acknowledging the kernel's FIN
  EXPECT_EQ(out[0].tcp.flags, kFin | kAck);
  EXPECT_EQ(out[0].tcp.ack, h.k.snd_nxt + 1);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kLastAck);
  EXPECT_TRUE(h.send(kAck, h.k.snd_nxt + 1, h.k.rcv_nxt + 1, {}, 4ms).empty());
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kClosed);
}

TEST(CloseWait, EchoDataGoesOutBeforeFin) {
  PeerHarness h;
  h.handshake();
  std::vector<std::uint8_t> data{'b', 'y', 'e'};
  auto out = h.send(kFin | kAck | kPsh, h.k.snd_nxt, h.k.rcv_nxt, data, 3ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(payload_text(out[0]), "bye");
  EXPECT_EQ(out[1].tcp.flags, kFin | kAck);
  EXPECT_EQ(out[1].tcp.seq, h.k.rcv_nxt + 3);
  EXPECT_EQ(out[1].tcp.ack, h.k.snd_nxt + 4);
}

TEST(FinWait, PeerActiveCloseGoesThroughTimeWait) {
  HostConfig cfg;
  cfg.listeners.push_back(ListenerConfig{.port = 8080,
                                          .mode = AppMode::kRespond,
                                          .response = {'x'},
                                          .respond_on_connect = true,
                                          .close_after_response = true});
  PeerHarness h(false, cfg);
  h.handshake(0ms);
  ASSERT_EQ(h.after_handshake.size(), 2u);  // 'x', then FIN
  auto conns = h.host->connections();
  ASSERT_EQ(conns[0].state, TcpState::kFinWait1);
  // The kernel acknowledges data and FIN, then sends its own FIN.
  h.send(kAck, h.k.snd_nxt, h.k.rcv_nxt + 2, {}, 1ms);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kFinWait2);
  auto fin_ack = h.send(kFin | kAck, h.k.snd_nxt, h.k.rcv_nxt + 2, {}, 2ms);
  ASSERT_EQ(fin_ack.size(), 1u);
  EXPECT_EQ(fin_ack[0].tcp.ack, h.k.snd_nxt + 1);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kTimeWait);
  h.poll(2002ms);
  EXPECT_EQ(h.host->connections()[0].state, TcpState::kClosed);
}

TEST(Established, Ipv6EchoWorks) {
  PeerHarness h(true);
  h.handshake();
  auto out = h.send_data("six", 1ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), "six");
  EXPECT_EQ(out[0].dst, ip("2001:db8:a::1"));
}

}  // namespace
}  // namespace tapfault::testing
