// Small captures built in a test: a TCP conversation between "the kernel"
// (192.0.2.1:40000 or 2001:db8:a::1) and "the peer" (192.0.2.2:8080), frames encoded by
// the stack's codec, written with libpcap (pcap_open_dead + pcap_dump) in any of the
// link types the analysis reads. Also copy_capture(), which rewrites a capture without
// some frames (a doctored copy for mismatch tests).
#pragma once

#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapfault/stack/codec.hpp"

namespace tapfault::testing {

struct BuiltFrame {
  std::chrono::nanoseconds time{};
  std::vector<std::uint8_t> ethernet;  // always built as Ethernet, converted on write
  bool from_kernel = false;
};

// Writes `frames` as link type `dlt` (Ethernet headers replaced by SLL/SLL2 headers or
// stripped for raw IP) with nanosecond time stamps.
inline void write_pcap(const std::filesystem::path& path, const std::vector<BuiltFrame>& frames, int dlt = DLT_EN10MB) {
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (!d) throw std::runtime_error("pcap_dump_open " + path.string() + ": " + pcap_geterr(dead));
  for (const BuiltFrame& f : frames) {
    std::vector<std::uint8_t> bytes;
    std::uint16_t ethertype = static_cast<std::uint16_t>(f.ethernet[12] << 8 | f.ethernet[13]);
    auto ip = std::vector<std::uint8_t>(f.ethernet.begin() + 14, f.ethernet.end());
    std::uint8_t pkttype = f.from_kernel ? 4 : 0;  // PACKET_OUTGOING : PACKET_HOST
    if (dlt == DLT_EN10MB) {
      bytes = f.ethernet;
    } else if (dlt == DLT_LINUX_SLL) {
      bytes = {0, pkttype, 0, 1, 0, 6};
      bytes.insert(bytes.end(), f.ethernet.begin() + 6, f.ethernet.begin() + 12);
      bytes.insert(bytes.end(), {0, 0, static_cast<std::uint8_t>(ethertype >> 8), static_cast<std::uint8_t>(ethertype)});
      bytes.insert(bytes.end(), ip.begin(), ip.end());
    } else if (dlt == DLT_LINUX_SLL2) {
      bytes = {static_cast<std::uint8_t>(ethertype >> 8), static_cast<std::uint8_t>(ethertype), 0, 0, 0, 0, 0, 2,
               0, 1, pkttype, 6};
      bytes.insert(bytes.end(), f.ethernet.begin() + 6, f.ethernet.begin() + 12);
      bytes.insert(bytes.end(), {0, 0});
      bytes.insert(bytes.end(), ip.begin(), ip.end());
    } else {
      bytes = ip;
    }
    pcap_pkthdr h{};
    auto s = std::chrono::duration_cast<std::chrono::seconds>(f.time);
    h.ts.tv_sec = s.count();
    h.ts.tv_usec = (f.time - s).count();  // nanoseconds with PCAP_TSTAMP_PRECISION_NANO
    h.caplen = h.len = static_cast<bpf_u_int32>(bytes.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, bytes.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

// Copies a capture (same link type and precision), leaving out the 1-based frame
// numbers in `drop`.
inline void copy_capture(const std::filesystem::path& in, const std::filesystem::path& out,
                         const std::set<std::uint64_t>& drop) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* src = pcap_open_offline_with_tstamp_precision(in.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!src) throw std::runtime_error(std::string("open ") + in.string() + ": " + err);
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(src), 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, out.c_str());
  if (!d) throw std::runtime_error("pcap_dump_open " + out.string());
  pcap_pkthdr* h;
  const u_char* data;
  std::uint64_t n = 0;
  while (pcap_next_ex(src, &h, &data) == 1)
    if (!drop.count(++n)) pcap_dump(reinterpret_cast<u_char*>(d), h, data);
  pcap_dump_close(d);
  pcap_close(dead);
  pcap_close(src);
}

// A TCP conversation seen from the kernel's side. Sequence numbers are given relative
// to each side's ISN (the SYN is 0, the first data byte 1), times in seconds from `base`.
class Conversation {
 public:
  using Seconds = double;

  explicit Conversation(bool v6 = false, std::uint16_t kernel_port = 40000, std::uint32_t kernel_isn = 1000000,
                        std::uint32_t peer_isn = 5000000)
      : kernel_(*stack::IpAddress::parse(v6 ? "2001:db8:a::1" : "192.0.2.1")),
        peer_(*stack::IpAddress::parse(v6 ? "2001:db8:a::2" : "192.0.2.2")),
        kernel_port_(kernel_port),
        kernel_isn_(kernel_isn),
        peer_isn_(peer_isn) {}

  std::chrono::nanoseconds base = std::chrono::seconds(1700000000);
  std::uint16_t peer_port = 8080;
  stack::MacAddress kernel_mac = *stack::MacAddress::parse("02:00:5e:00:53:01");
  stack::MacAddress peer_mac = *stack::MacAddress::parse("02:00:5e:00:53:02");
  bool sack = true;
  bool timestamps = true;
  std::uint8_t wscale = 7;        // the shift both SYNs offer
  std::uint32_t ts_offset = 777;  // the kernel's TSval base

  std::vector<BuiltFrame> frames;

  // SYN (same ISN each time it is called: a retransmission), SYN-ACK, ACK.
  void syn(Seconds t) { add(t, true, 0, 0, stack::tcp_flags::kSyn, 0, 64240, true); }
  void syn_ack(Seconds t, std::uint16_t window = 65160) {
    add(t, false, 0, 1, stack::tcp_flags::kSyn | stack::tcp_flags::kAck, 0, window, true);
  }
  void handshake(Seconds t, Seconds rtt = 0.0001) {
    syn(t);
    syn_ack(t + rtt);
    kernel_ack(t + rtt + 0.00001, 1, 1);
  }
  // The kernel sends `len` bytes at relative `seq` (acknowledging the peer's `ack`).
  void kernel_data(Seconds t, std::uint32_t seq, std::uint32_t len, std::uint32_t ack = 1) {
    add(t, true, seq, ack, stack::tcp_flags::kAck | stack::tcp_flags::kPsh, len, 502, false);
  }
  void kernel_ack(Seconds t, std::uint32_t seq, std::uint32_t ack) {
    add(t, true, seq, ack, stack::tcp_flags::kAck, 0, 502, false);
  }
  void kernel_rst(Seconds t, std::uint32_t seq, std::uint32_t ack = 1) {
    add(t, true, seq, ack, stack::tcp_flags::kRst | stack::tcp_flags::kAck, 0, 0, false);
  }
  void kernel_fin(Seconds t, std::uint32_t seq, std::uint32_t ack = 1) {
    add(t, true, seq, ack, stack::tcp_flags::kFin | stack::tcp_flags::kAck, 0, 502, false);
  }
  // The peer acknowledges up to relative `ack` with `window` (unscaled, as on the wire).
  void peer_ack(Seconds t, std::uint32_t ack, std::uint16_t window = 509, std::uint32_t seq = 1) {
    add(t, false, seq, ack, stack::tcp_flags::kAck, 0, window, false);
  }
  void peer_data(Seconds t, std::uint32_t seq, std::uint32_t len, std::uint32_t ack) {
    add(t, false, seq, ack, stack::tcp_flags::kAck | stack::tcp_flags::kPsh, len, 509, false);
  }
  // An ICMP error from `router` quoting the kernel's last frame.
  void icmp_for_last_kernel_frame(Seconds t, std::uint8_t type, std::uint8_t code, const std::string& router) {
    const BuiltFrame* last = nullptr;
    for (const BuiltFrame& f : frames)
      if (f.from_kernel) last = &f;
    std::span<const std::uint8_t> ip(last->ethernet.data() + 14, last->ethernet.size() - 14);
    stack::IcmpErrorOut e{*stack::IpAddress::parse(router), kernel_, type, code, 0, ip};
    frames.push_back({at(t), stack::encode_icmp_error({peer_mac, kernel_mac}, e), false});
  }

  std::chrono::nanoseconds at(Seconds t) const {
    return base + std::chrono::nanoseconds(static_cast<std::int64_t>(t * 1e9 + (t >= 0 ? 0.5 : -0.5)));
  }

 private:
  void add(Seconds t, bool from_kernel, std::uint32_t rel_seq, std::uint32_t rel_ack, std::uint8_t flags,
           std::uint32_t len, std::uint16_t window, bool syn_options) {
    stack::TcpSegmentOut seg;
    seg.src = from_kernel ? kernel_ : peer_;
    seg.dst = from_kernel ? peer_ : kernel_;
    seg.tcp.src_port = from_kernel ? kernel_port_ : peer_port;
    seg.tcp.dst_port = from_kernel ? peer_port : kernel_port_;
    seg.tcp.seq = stack::SeqNum((from_kernel ? kernel_isn_ : peer_isn_) + rel_seq);
    seg.tcp.ack = (flags & stack::tcp_flags::kAck) ? stack::SeqNum((from_kernel ? peer_isn_ : kernel_isn_) + rel_ack)
                                                   : stack::SeqNum(0);
    seg.tcp.flags = flags;
    seg.tcp.window = window;
    if (syn_options) {
      seg.tcp.options.mss = 1460;
      seg.tcp.options.window_scale = wscale;
      seg.tcp.options.sack_permitted = sack;
    }
    if (timestamps)
      seg.tcp.options.timestamp = stack::TcpTimestamp{
          static_cast<std::uint32_t>(ts_offset + t * 1000) + (from_kernel ? 0u : 5000u), 0};
    std::vector<std::uint8_t> payload(len, 'x');
    seg.payload = payload;
    frames.push_back({at(t), stack::encode_tcp({from_kernel ? kernel_mac : peer_mac, from_kernel ? peer_mac : kernel_mac}, seg),
                      from_kernel});
  }

  stack::IpAddress kernel_;
  stack::IpAddress peer_;
  std::uint16_t kernel_port_;
  std::uint32_t kernel_isn_;
  std::uint32_t peer_isn_;
};

}  // namespace tapfault::testing
