// The peer's timers across many connections: every connection retransmits at exactly its
// own deadline, in the order of the deadlines (ties by acceptance), a deadline that moves
// earlier (an ACK resets the backoff, TIME-WAIT replaces a retransmission) is honoured,
// and next_deadline() is always the soonest of them. The host keeps the deadlines in an
// index (stack/timer_index.hpp) instead of scanning every connection.
#include <gtest/gtest.h>

#include <map>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

// Many kernel-side connections to one peer (echo unless told), each on its own port.
class ManyConnections {
 public:
  explicit ManyConnections(int n, ListenerConfig app = {8080, AppMode::kEcho, {}, false, false}) {
    HostConfig cfg;
    cfg.addresses = {ip("192.0.2.2")};
    cfg.listeners.push_back(app);
    host_ = std::make_unique<Host>(cfg);
    for (int i = 0; i < n; ++i) {
      Conn c;
      c.port = static_cast<std::uint16_t>(30000 + i);
      c.snd_nxt = SeqNum(1000u * static_cast<std::uint32_t>(i));
      conns_.push_back(c);
      auto out = send(i, tcp_flags::kSyn, 0ms);
      EXPECT_EQ(out.size(), 1u);
      conns_[i].rcv_nxt = out.at(0).tcp.seq + 1;
      send(i, tcp_flags::kAck, 0ms);
    }
  }

  // The kernel's segment on connection i at time t; returns what the peer sent.
  std::vector<DecodedTcp> send(int i, std::uint8_t flags, Duration t, std::string data = {}) {
    Conn& c = conns_[i];
    TcpSegmentOut s;
    s.src = ip("192.0.2.1");
    s.dst = ip("192.0.2.2");
    s.tcp.src_port = c.port;
    s.tcp.dst_port = 8080;
    s.tcp.seq = c.snd_nxt;
    s.tcp.ack = c.rcv_nxt;
    s.tcp.flags = flags;
    s.tcp.window = 502;
    std::vector<std::uint8_t> payload(data.begin(), data.end());
    s.payload = payload;
    c.snd_nxt += static_cast<std::uint32_t>(payload.size()) + (flags & (tcp_flags::kSyn | tcp_flags::kFin) ? 1 : 0);
    host_->on_frame(encode_tcp({kernel_mac(), peer_mac()}, s), Instant(t));
    return collect();
  }
  // Acknowledges everything the peer sent on connection i (with the kernel's FIN if asked).
  void ack_all(int i, Duration t, std::uint8_t more_flags = 0) {
    conns_[i].rcv_nxt = conns_[i].peer_sent;
    send(i, tcp_flags::kAck | more_flags, t);
  }

  std::optional<Duration> next() const {
    auto d = host_->next_deadline();
    if (!d) return std::nullopt;
    return d->time_since_epoch();
  }
  // Polls at t; returns the ports that sent something, in order.
  std::vector<int> poll(Duration t) {
    host_->poll(Instant(t));
    std::vector<int> who;
    for (const auto& s : collect()) who.push_back(s.tcp.dst_port - 30000);
    return who;
  }
  Host& host() { return *host_; }

 private:
  struct Conn {
    std::uint16_t port = 0;
    SeqNum snd_nxt, rcv_nxt, peer_sent;
  };
  std::vector<DecodedTcp> collect() {
    std::vector<DecodedTcp> segs;
    for (const auto& f : host_->pending_output()) {
      auto d = decode_frame(f);
      auto& seg = std::get<DecodedTcp>(std::get<DecodedFrame>(d).body);
      Conn& c = conns_.at(seg.tcp.dst_port - 30000);
      if ((seg.tcp.seq + seg.seq_len()).after(c.peer_sent) || c.peer_sent == SeqNum()) c.peer_sent = seg.tcp.seq + seg.seq_len();
      segs.push_back(seg);
    }
    host_->clear_output();
    return segs;
  }

  std::unique_ptr<Host> host_;
  std::vector<Conn> conns_;
};

TEST(Timers, EveryConnectionRetransmitsAtItsOwnDeadlineInDeadlineOrder) {
  constexpr int kConns = 300;
  ManyConnections m(kConns);
  EXPECT_FALSE(m.next()) << "nothing in flight, nothing to time";
  // Connection i sends data at about (kConns - i) / 2 ms, two connections at a time: the
  // echo waits for an ACK that never comes, so the peer retransmits it at its RTO, 200 ms
  // later, then 400 ms after that; of two with the same deadline the older goes first.
  std::map<Duration, std::vector<int>> expected;
  for (int i = 0; i < kConns; ++i) {
    Duration at = std::chrono::milliseconds((kConns - i) / 2 + 1);
    ASSERT_EQ(m.send(i, tcp_flags::kAck | tcp_flags::kPsh, at, "x").size(), 1u);
    if (i % 3 == 0) continue;  // acknowledged below: no timer left
    expected[at + 200ms].push_back(i);
    expected[at + 600ms].push_back(i);
  }
  // Every third connection's echo is acknowledged: its timer goes away.
  for (int i = 0; i < kConns; i += 3) m.ack_all(i, std::chrono::milliseconds(kConns + 1));

  std::map<Duration, std::vector<int>> seen;
  while (auto t = m.next()) {
    if (*t > 1000ms) break;
    EXPECT_TRUE(m.poll(*t - 1ns).empty()) << "nothing before the deadline";
    auto who = m.poll(*t);
    ASSERT_FALSE(who.empty()) << "next_deadline() " << t->count() << " ns with nothing due";
    seen[*t] = who;
  }
  EXPECT_EQ(seen, expected);
}

TEST(Timers, AnAckThatResetsTheBackoffMovesTheDeadlineEarlier) {
  ManyConnections m(3);
  m.send(0, tcp_flags::kAck | tcp_flags::kPsh, 10ms, "a");
  m.send(1, tcp_flags::kAck | tcp_flags::kPsh, 10ms, "b");
  ASSERT_EQ(m.next(), 210ms);
  EXPECT_EQ(m.poll(210ms), (std::vector<int>{0, 1}));
  ASSERT_EQ(m.next(), 610ms) << "backed off to 400 ms";
  // Connection 1's retransmission is acknowledged and it sends more: its echo is timed
  // from now with the initial RTO again, before connection 0's backed-off deadline.
  m.ack_all(1, 300ms);
  m.send(1, tcp_flags::kAck | tcp_flags::kPsh, 300ms, "c");
  ASSERT_EQ(m.next(), 500ms);
  EXPECT_EQ(m.poll(500ms), (std::vector<int>{1}));
  ASSERT_EQ(m.next(), 610ms);
  EXPECT_EQ(m.poll(610ms), (std::vector<int>{0}));
}

TEST(Timers, TimeWaitReplacesTheRetransmissionAndEndsTheConnection) {
  // The peer answers at once and closes: response and FIN in flight on both connections.
  ManyConnections m(2, {8080, AppMode::kRespond, {'r'}, true, true});
  ASSERT_EQ(m.next(), 0ms + 200ms);
  // The kernel acknowledges all of it with its own FIN: TIME-WAIT (2 s) replaces the RTO.
  m.ack_all(0, 50ms, tcp_flags::kFin);
  ASSERT_EQ(m.next(), 200ms) << "connection 1's RTO is still the soonest";
  EXPECT_EQ(m.poll(200ms), (std::vector<int>{1, 1})) << "response and FIN again";
  ASSERT_EQ(m.next(), 600ms);
  m.ack_all(1, 300ms, tcp_flags::kFin);
  ASSERT_EQ(m.next(), 2050ms) << "connection 0's TIME-WAIT";
  EXPECT_TRUE(m.poll(2050ms).empty());
  ASSERT_EQ(m.next(), 2300ms);
  EXPECT_TRUE(m.poll(2300ms).empty());
  EXPECT_FALSE(m.next());
  auto c = m.host().connections();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].state, TcpState::kClosed);
  EXPECT_EQ(c[1].state, TcpState::kClosed);
}

}  // namespace
}  // namespace tapfault::testing
