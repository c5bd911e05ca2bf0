// The established data path allocates nothing: once a connection is up and the host's
// output buffers are warm, a segment in (data into discard or echo, an ACK into source),
// the peer's answer out, poll() and next_deadline() take no heap memory. Counted with a
// replacement of the global operator new for this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/peer_harness.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// GCC 12 with -fsanitize=address inlines these replacements into gtest's `new TestClass`
// and then reports malloc/free as mismatched with new/delete: they are the replacements.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tapfault::testing {
namespace {

class DataPath {
 public:
  explicit DataPath(AppMode mode) {
    HostConfig cfg;
    cfg.addresses = {ip("192.0.2.2")};
    ListenerConfig l{8080, mode, {}, false, false};
    l.source_bytes = std::uint64_t{1} << 62;
    cfg.listeners.push_back(l);
    host_ = std::make_unique<Host>(cfg);
    TcpOptions o;
    o.mss = 1460;
    o.window_scale = 7;
    o.sack_permitted = true;
    o.timestamp = TcpTimestamp{100, 0};
    host_->on_frame(frame(tcp_flags::kSyn, 0, o), now_);
    auto synack = decode_frame(host_->pending_output()[0]);
    peer_nxt_ = std::get<DecodedTcp>(std::get<DecodedFrame>(synack).body).tcp.seq + 1;
    sent_nxt_ = peer_nxt_;
    host_->clear_output();
    kernel_nxt_ = SeqNum(kIsn + 1);
    round(0);
  }

  // One round as tap::Driver does it: the kernel's segment, poll, write out, re-arm. The
  // kernel's segment acknowledges everything the peer sent, or at most `ack_limit` bytes more.
  std::size_t round(std::size_t payload, std::uint32_t ack_limit = 0xffffffff) {
    now_ += std::chrono::microseconds(20);
    std::uint32_t unacked = static_cast<std::uint32_t>(sent_nxt_ - peer_nxt_);
    peer_nxt_ += std::min(unacked, ack_limit);
    auto f = frame(tcp_flags::kAck | (payload ? tcp_flags::kPsh : 0), payload);
    kernel_nxt_ += static_cast<std::uint32_t>(payload);
    std::uint64_t before = g_allocations.load();
    host_->on_frame(f, now_);
    host_->poll(now_);
    std::size_t sent = 0;
    for (const Frame& out : host_->pending_output()) {
      auto d = decode_frame(out);
      if (auto* df = std::get_if<DecodedFrame>(&d))
        if (auto* seg = std::get_if<DecodedTcp>(&df->body))
          if ((seg->tcp.seq + seg->seq_len()).after(sent_nxt_)) sent_nxt_ = seg->tcp.seq + seg->seq_len();
      ++sent;
    }
    host_->clear_output();
    (void)host_->next_deadline();
    allocations_ += g_allocations.load() - before;
    return sent;
  }

  std::uint64_t allocations() const { return allocations_; }
  void reset_count() { allocations_ = 0; }

 private:
  static constexpr std::uint32_t kIsn = 7000;

  std::vector<std::uint8_t> frame(std::uint8_t flags, std::size_t payload, std::optional<TcpOptions> o = {}) {
    TcpSegmentOut s;
    s.src = ip("192.0.2.1");
    s.dst = ip("192.0.2.2");
    s.tcp.src_port = 40000;
    s.tcp.dst_port = 8080;
    s.tcp.seq = flags & tcp_flags::kSyn ? SeqNum(kIsn) : kernel_nxt_;
    s.tcp.ack = flags & tcp_flags::kSyn ? SeqNum(0) : peer_nxt_;
    s.tcp.flags = flags;
    s.tcp.window = flags & tcp_flags::kSyn ? 64240 : 65535;
    s.tcp.options = o.value_or(TcpOptions{});
    if (!o) s.tcp.options.timestamp = TcpTimestamp{static_cast<std::uint32_t>(to_ns(now_) / 1'000'000), 1};
    s.payload = std::span(payload_).first(payload);
    return encode_tcp({kernel_mac(), peer_mac()}, s);
  }

  std::unique_ptr<Host> host_;
  Instant now_{std::chrono::seconds(1)};
  SeqNum kernel_nxt_, peer_nxt_;  // peer_nxt_: what the kernel acknowledges
  SeqNum sent_nxt_;                // the end of what the peer sent
  std::vector<std::uint8_t> payload_ = std::vector<std::uint8_t>(1448, 'd');
  std::uint64_t allocations_ = 0;
};

TEST(DataPath, ASegmentIntoDiscardAllocatesNothingOnceWarm) {
  std::uint64_t at_start = g_allocations.load();
  DataPath p(AppMode::kDiscard);
  ASSERT_GT(g_allocations.load(), at_start) << "the counter sees the host being built";
  for (int i = 0; i < 200; ++i) p.round(1448);
  p.reset_count();
  std::size_t sent = 0;
  for (int i = 0; i < 2000; ++i) sent += p.round(1448);
  EXPECT_EQ(sent, 2000u) << "one ACK per segment";
  EXPECT_EQ(p.allocations(), 0u);
}

TEST(DataPath, ASegmentIntoEchoAllocatesNothingOnceWarm) {
  DataPath p(AppMode::kEcho);
  for (int i = 0; i < 200; ++i) p.round(1448);
  p.reset_count();
  std::size_t sent = 0;
  for (int i = 0; i < 2000; ++i) sent += p.round(1448);
  EXPECT_GE(sent, 2000u) << "the echo of every segment";
  EXPECT_EQ(p.allocations(), 0u);
}

TEST(DataPath, AnAckIntoSourceAllocatesNothingOnceWarm) {
  DataPath p(AppMode::kSource);
  // Two segments acknowledged per ACK, two more sent: the 4 MiB buffer cycles through
  // its whole size (and the compaction of its acknowledged head) during the warm-up.
  for (int i = 0; i < 3000; ++i) p.round(0, 2 * 1448);
  p.reset_count();
  std::size_t sent = 0;
  for (int i = 0; i < 2000; ++i) sent += p.round(0, 2 * 1448);
  EXPECT_EQ(sent, 4000u) << "two new segments for every ACK of two";
  EXPECT_EQ(p.allocations(), 0u);
}

}  // namespace
}  // namespace tapfault::testing
