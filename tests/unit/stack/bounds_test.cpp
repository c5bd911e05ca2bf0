// Bounded resources of the peer: a client that ignores the peer's window, or never
// acknowledges what the peer echoes, must not make the peer buffer without bound, and the
// connection table stops at HostConfig::max_connections with a counted, named drop.
//
// The floods are 100k segments of 1000 bytes (100 MB, 25 times the echo buffer limit),
// driven with a fake clock; output and events are drained as tap::Driver does, and
// counted rather than kept.
#include <gtest/gtest.h>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

constexpr int kFloodSegments = 100'000;
constexpr std::size_t kSegmentBytes = 1000;

class FloodingKernel {
 public:
  explicit FloodingKernel(HostConfig cfg, FaultPlan plan = {}, std::uint16_t peer_port = 8080)
      : peer_port_(peer_port) {
    cfg.addresses = {ip("192.0.2.2")};
    if (cfg.listeners.empty()) cfg.listeners.push_back({8080, AppMode::kEcho, {}, false, false});
    host_ = std::make_unique<Host>(std::move(cfg), std::move(plan));
  }

  Host& host() { return *host_; }
  std::uint64_t frames_out() const { return frames_out_; }
  std::uint64_t events() const { return events_; }
  const std::vector<DecodedTcp>& last_output() const { return last_; }

  // Sends one segment from the kernel at the current time; returns what the peer sent.
  const std::vector<DecodedTcp>& send(std::uint8_t flags, SeqNum seq, SeqNum ack, std::size_t payload_bytes,
                                      std::uint16_t src_port = 40000, std::optional<TcpOptions> opts = {}) {
    TcpSegmentOut s;
    s.src = ip("192.0.2.1");
    s.dst = ip("192.0.2.2");
    s.tcp.src_port = src_port;
    s.tcp.dst_port = peer_port_;
    s.tcp.seq = seq;
    s.tcp.ack = ack;
    s.tcp.flags = flags;
    s.tcp.window = 502;
    if (opts) s.tcp.options = *opts;
    s.payload = std::span(payload_).first(payload_bytes);
    host_->on_frame(encode_tcp({kernel_mac(), peer_mac()}, s), now_);
    return drain(true);
  }

  // Moves the clock on and runs the peer's timers when they are due.
  void advance(Duration d) {
    now_ += d;
    if (auto dl = host_->next_deadline(); dl && *dl <= now_) {
      host_->poll(now_);
      drain(false);
    }
  }

  // SYN with the options the kernel sends, the peer's SYN-ACK, the ACK. Returns the peer's ISN.
  SeqNum handshake(SeqNum isn, std::uint16_t src_port = 40000) {
    TcpOptions o;
    o.mss = 1460;
    o.window_scale = 7;
    o.sack_permitted = true;
    auto out = send(tcp_flags::kSyn, isn, SeqNum(0), 0, src_port, o);
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return SeqNum(0);
    SeqNum peer_isn = out[0].tcp.seq;
    send(tcp_flags::kAck, isn + 1, peer_isn + 1, 0, src_port);
    return peer_isn;
  }

 private:
  const std::vector<DecodedTcp>& drain(bool keep) {
    last_.clear();
    frames_.clear();
    frames_.assign(host_->pending_output().begin(), host_->pending_output().end());
    host_->clear_output();
    frames_out_ += frames_.size();
    events_ += host_->take_events().size();
    if (keep) {
      for (const auto& f : frames_) {
        auto d = decode_frame(f);
        if (auto* df = std::get_if<DecodedFrame>(&d))
          if (auto* t = std::get_if<DecodedTcp>(&df->body)) last_.push_back(*t);
      }
    }
    return last_;
  }

  std::unique_ptr<Host> host_;
  std::uint16_t peer_port_;
  Instant now_{};
  std::vector<std::uint8_t> payload_ = std::vector<std::uint8_t>(kSegmentBytes, 'x');
  std::vector<Frame> frames_;
  std::vector<DecodedTcp> last_;
  std::uint64_t frames_out_ = 0;
  std::uint64_t events_ = 0;
};

Fault zero_window_after_first_bytes() {
  Fault f;
  f.name = "close-window";
  f.trigger.kind = TriggerKind::kOnRxBytes;
  f.trigger.count = 1;
  f.action = ActionKind::kWindow;
  f.window.window_bytes = 0;
  return f;
}

TEST(BoundedResources, AClientIgnoringAZeroWindowGetsNothingBufferedAndOneAckPerSegment) {
  HostConfig cfg;
  cfg.listeners.push_back({8081, AppMode::kDiscard, {}, false, false});
  FaultPlan plan;
  plan.faults.push_back(zero_window_after_first_bytes());
  FloodingKernel k(cfg, plan, 8081);
  SeqNum isn(1000);
  SeqNum peer = k.handshake(isn);
  SeqNum seq = isn + 1;
  auto first = k.send(tcp_flags::kAck | tcp_flags::kPsh, seq, peer + 1, kSegmentBytes);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.back().tcp.window, 0) << "the fault closed the window after the first bytes";
  seq += static_cast<std::uint32_t>(kSegmentBytes);
  const SeqNum rcv_nxt = seq;  // the peer's, from now on: the window is closed

  std::uint64_t out_before = k.frames_out();
  for (int i = 0; i < kFloodSegments; ++i) {
    const auto& out = k.send(tcp_flags::kAck | tcp_flags::kPsh, seq, peer + 1, kSegmentBytes);
    ASSERT_LE(out.size(), 1u) << "segment " << i << ": the peer answers a segment with one ACK at most";
    if (!out.empty()) {
      ASSERT_EQ(out[0].tcp.window, 0) << "segment " << i;
      ASSERT_EQ(out[0].tcp.ack, rcv_nxt) << "segment " << i << ": nothing beyond the window is acknowledged";
    }
    seq += static_cast<std::uint32_t>(kSegmentBytes);
    k.advance(std::chrono::microseconds(10));
  }

  auto conns = k.host().connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].bytes_received, kSegmentBytes) << "only the bytes before the window closed";
  EXPECT_EQ(conns[0].state, TcpState::kEstablished);
  EXPECT_LE(k.frames_out() - out_before, static_cast<std::uint64_t>(kFloodSegments));
  EXPECT_LT(k.events(), 20u) << "the peer's log does not grow with the flood";
  EXPECT_LT(k.host().stats().dropped.size(), 5u);
}

TEST(BoundedResources, AnEchoNeverAcknowledgedStopsBufferingAtTheSendBufferLimit) {
  HostConfig cfg;  // the defaults a run uses: 4 MiB echo buffer, 256 KiB window
  FloodingKernel k(cfg);
  SeqNum isn(5000);
  SeqNum peer = k.handshake(isn);
  SeqNum seq = isn + 1;
  const std::uint64_t bound = cfg.send_buffer_limit + cfg.window_bytes;

  std::uint64_t at_half = 0;
  for (int i = 0; i < kFloodSegments; ++i) {
    // The kernel keeps sending where the peer's ACKs say and never acknowledges the echo.
    k.send(tcp_flags::kAck | tcp_flags::kPsh, seq, peer + 1, kSegmentBytes);
    auto received = k.host().connections().at(0).bytes_received;
    seq = isn + 1 + static_cast<std::uint32_t>(received);
    k.advance(std::chrono::microseconds(10));
    if (i == kFloodSegments / 2) at_half = received;
  }

  auto c = k.host().connections().at(0);
  EXPECT_EQ(c.bytes_sent, 0u) << "nothing the peer echoed was acknowledged";
  EXPECT_FALSE(c.reset);
  // In echo mode every byte received is buffered until the kernel acknowledges its echo.
  EXPECT_GE(c.bytes_received, cfg.send_buffer_limit) << "the buffer filled up to its limit";
  EXPECT_LE(c.bytes_received, bound) << "buffered beyond send_buffer_limit + the advertised window";
  EXPECT_EQ(c.bytes_received, at_half) << "the buffer stopped growing long before the flood ended";
  auto last = k.send(tcp_flags::kAck | tcp_flags::kPsh, seq, peer + 1, kSegmentBytes);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back().tcp.window, 0) << "a full echo buffer closes the window";
  EXPECT_LT(k.events(), 20u);
}

TEST(ConnectionTable, SynsBeyondMaxConnectionsAreDroppedAndCounted) {
  HostConfig cfg;
  cfg.max_connections = 4;
  FloodingKernel k(cfg);
  int syn_acks = 0;
  for (std::uint16_t i = 0; i < 10; ++i) {
    auto out = k.send(tcp_flags::kSyn, SeqNum(1000u * i), SeqNum(0), 0, static_cast<std::uint16_t>(41000 + i));
    for (const auto& s : out)
      if (s.tcp.has(tcp_flags::kSyn) && s.tcp.has(tcp_flags::kAck)) ++syn_acks;
  }
  EXPECT_EQ(syn_acks, 4);
  EXPECT_EQ(k.host().connections().size(), 4u);
  EXPECT_EQ(k.host().stats().connections_accepted, 4u);
  const auto& dropped = k.host().stats().dropped;
  ASSERT_TRUE(dropped.count("connection-table-full"));
  EXPECT_EQ(dropped.at("connection-table-full"), 6u);
}

TEST(ConnectionTable, ARetransmittedSynOfAnAcceptedConnectionIsNotCountedAgainstTheLimit) {
  HostConfig cfg;
  cfg.max_connections = 1;
  FloodingKernel k(cfg);
  auto first = k.send(tcp_flags::kSyn, SeqNum(7000), SeqNum(0), 0, 41000);
  auto again = k.send(tcp_flags::kSyn, SeqNum(7000), SeqNum(0), 0, 41000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].tcp.has(tcp_flags::kSyn) && again[0].tcp.has(tcp_flags::kAck));
  EXPECT_FALSE(k.host().stats().dropped.count("connection-table-full"));
}

TEST(ConnectionTable, AClosedConnectionFreesItsSlot) {
  HostConfig cfg;
  cfg.max_connections = 1;
  FloodingKernel k(cfg);
  SeqNum peer = k.handshake(SeqNum(100), 41000);
  k.send(tcp_flags::kRst, SeqNum(101), peer + 1, 0, 41000);  // the kernel aborts it
  ASSERT_EQ(k.host().connections().at(0).state, TcpState::kClosed);
  auto out = k.send(tcp_flags::kSyn, SeqNum(9000), SeqNum(0), 0, 41001);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tcp.has(tcp_flags::kSyn) && out[0].tcp.has(tcp_flags::kAck));
  EXPECT_EQ(k.host().stats().connections_accepted, 2u);
}

}  // namespace
}  // namespace tapfault::testing
