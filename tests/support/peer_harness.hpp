// A test harness for stack::Host: plays the kernel's side with hand-built frames,
// an explicit clock, and decodes everything the peer sends.
#pragma once

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/host.hpp"

namespace tapfault::testing {

using namespace tapfault::stack;
using namespace std::chrono_literals;

inline MacAddress kernel_mac() { return *MacAddress::parse("02:00:5e:00:53:01"); }
inline MacAddress peer_mac() { return *MacAddress::parse("02:00:5e:00:53:02"); }
inline IpAddress ip(const char* s) { return *IpAddress::parse(s); }

struct KernelSide {
  IpAddress addr;
  IpAddress peer;
  std::uint16_t port = 40000;
  std::uint16_t peer_port = 8080;
  SeqNum isn{1000};
  SeqNum snd_nxt{1000};
  SeqNum rcv_nxt{};
  TcpOptions syn_options;
};

class PeerHarness {
 public:
  explicit PeerHarness(bool v6 = false, HostConfig cfg = {}, FaultPlan plan = {}) {
    k.addr = v6 ? ip("2001:db8:a::1") : ip("192.0.2.1");
    k.peer = v6 ? ip("2001:db8::2") : ip("192.0.2.2");
    if (cfg.addresses.empty()) {
      cfg.addresses = {v6 ? ip("2001:db8::2") : ip("192.0.2.2")};
      if (v6) cfg.addresses.push_back(ip("2001:db8:a::2"));
    }
    if (cfg.listeners.empty()) cfg.listeners.push_back(ListenerConfig{.port = 8080, .mode = AppMode::kEcho});
    host = std::make_unique<Host>(std::move(cfg), std::move(plan));
    k.syn_options.mss = 1460;
    k.syn_options.sack_permitted = true;
    k.syn_options.timestamp = TcpTimestamp{5000, 0};
    k.syn_options.window_scale = 7;
  }

  Instant at(Duration d) const { return Instant(d); }

  // Sends a segment from the kernel side at time `t`; returns the decoded TCP segments the peer sent.
  std::vector<DecodedTcp> send(std::uint8_t flags, SeqNum seq, SeqNum ack,
                               std::vector<std::uint8_t> payload = {}, Duration t = 0ms,
                               std::uint16_t window = 502, std::optional<TcpOptions> opts = {}) {
    payload_store_.push_back(std::move(payload));
    TcpSegmentOut s;
    s.src = k.addr;
    s.dst = k.peer;
    s.tcp.src_port = k.port;
    s.tcp.dst_port = k.peer_port;
    s.tcp.seq = seq;
    s.tcp.ack = ack;
    s.tcp.flags = flags;
    s.tcp.window = window;
    if (opts) s.tcp.options = *opts;
    else if (k.syn_options.timestamp) s.tcp.options.timestamp = TcpTimestamp{5000 + static_cast<std::uint32_t>(t / 1ms), 0};
    s.payload = payload_store_.back();
    return feed(encode_tcp({kernel_mac(), peer_mac()}, s), t);
  }

  std::vector<DecodedTcp> feed(const std::vector<std::uint8_t>& frame, Duration t) {
    host->on_frame(frame, at(t));
    return collect();
  }
  std::vector<DecodedTcp> poll(Duration t) {
    host->poll(at(t));
    return collect();
  }

  // Completes the handshake; returns the SYN-ACK.
  DecodedTcp handshake(Duration t = 0ms) {
    auto out = send(tcp_flags::kSyn, k.isn, SeqNum(0), {}, t, 64240, k.syn_options);
    EXPECT_EQ(out.size(), 1u);
    DecodedTcp synack = out.at(0);
    k.snd_nxt = k.isn + 1;
    k.rcv_nxt = synack.tcp.seq + 1;
    after_handshake = send(tcp_flags::kAck, k.snd_nxt, k.rcv_nxt, {}, t);
    return synack;
  }

  std::vector<DecodedTcp> send_data(const std::string& text, Duration t) {
    auto out = send(tcp_flags::kAck | tcp_flags::kPsh, k.snd_nxt, k.rcv_nxt,
                    std::vector<std::uint8_t>(text.begin(), text.end()), t);
    k.snd_nxt += static_cast<std::uint32_t>(text.size());
    return out;
  }

  std::vector<DecodedTcp> after_handshake;  // what the peer sent on the handshake's last ACK
  std::vector<std::vector<std::uint8_t>> raw_out;
  std::vector<DecodedFrame> frames_out;
  std::unique_ptr<Host> host;
  KernelSide k;

 private:
  std::vector<DecodedTcp> collect() {
    std::vector<DecodedTcp> segs;
    for (const Frame& f : host->pending_output()) {
      raw_out.push_back(f);
      auto d = decode_frame(raw_out.back());
      if (auto* e = std::get_if<DecodeError>(&d)) {
        ADD_FAILURE() << "peer sent an undecodable frame: " << e->reason;
        continue;
      }
      frames_out.push_back(std::get<DecodedFrame>(d));
      if (auto* t = std::get_if<DecodedTcp>(&frames_out.back().body)) segs.push_back(*t);
    }
    host->clear_output();
    return segs;
  }
  std::vector<std::vector<std::uint8_t>> payload_store_;
};

inline std::string payload_text(const DecodedTcp& s) { return std::string(s.payload.begin(), s.payload.end()); }

}  // namespace tapfault::testing
