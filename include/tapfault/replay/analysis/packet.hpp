// One captured IP packet as the analysis sees it: addresses, and either a TCP segment or
// an ICMP error quoting one. Built from a link-layer record by decode_link_record().
//
// Why not stack::decode_frame(): that codec guards the peer and drops any segment whose
// checksum is wrong, but a capture taken where the kernel transmits (tcpdump on a veth,
// AF_PACKET on an interface with checksum offload) shows the kernel's own segments with
// partial checksums (CHECKSUM_PARTIAL is completed later, by the "hardware"). The
// analysis needs those segments, option kinds in wire order, SACK blocks and ICMP
// type/code/MTU with the quoted TCP header, so it has this small bounds-checked decoder
// and reuses the stack's value types (IpAddress, MacAddress, SeqNum, TcpHeader).
// Layouts: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 3.1 (TCP), RFC 792 / RFC 1191
// (ICMP, next-hop MTU), RFC 4443 (ICMPv6); Linux cooked headers: pcap-linktype(7)
// LINKTYPE_LINUX_SLL and LINKTYPE_LINUX_SLL2.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/seq.hpp"

namespace tapfault::replay {

// What the link layer says about a packet's direction (SLL/SLL2 packet type), if anything.
enum class LinkDirection : std::uint8_t { kUnknown, kIncoming, kOutgoing };

struct SackBlock {
  stack::SeqNum left;
  stack::SeqNum right;
};

struct TcpSegment {
  stack::TcpHeader header;  // seq, ack, flags, window as on the wire (unscaled), MSS/WS/TS
  // Option kinds in wire order (NOP = 1 included, EOL and the padding after it not).
  std::vector<std::uint8_t> option_kinds;
  std::vector<SackBlock> sack_blocks;
  // Payload bytes from the IP length, so a record cut by the snap length still counts
  // what was on the wire.
  std::uint32_t payload_length = 0;

  bool has(std::uint8_t flag) const { return header.has(flag); }
  // Sequence space the segment occupies: payload plus SYN and FIN.
  std::uint32_t seq_len() const {
    return payload_length + (has(stack::tcp_flags::kSyn) ? 1u : 0u) + (has(stack::tcp_flags::kFin) ? 1u : 0u);
  }
};

// The TCP header an ICMP error quotes (RFC 792: the IP header and the first 8 bytes of
// the datagram, enough for the ports and the sequence number).
struct QuotedTcp {
  stack::IpAddress src;
  stack::IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  stack::SeqNum seq;
};

// An ICMP or ICMPv6 error (destination unreachable, packet too big, time exceeded,
// parameter problem, source quench). Echo, NDP and MLD are not errors and are skipped.
struct IcmpMessage {
  bool v6 = false;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t mtu = 0;  // ICMP frag-needed next-hop MTU, ICMPv6 packet-too-big MTU; else 0
  std::optional<QuotedTcp> quoted;  // when the quoted datagram is TCP
};
// "dest-unreachable/host-unreachable", "packet-too-big", "time-exceeded/0", ...
std::string describe(const IcmpMessage& e);

struct Packet {
  std::uint64_t frame = 0;            // 1-based record number in the file
  std::chrono::nanoseconds time{};    // capture clock: the record's time stamp since the epoch
  LinkDirection direction = LinkDirection::kUnknown;
  std::optional<stack::MacAddress> src_mac;  // Ethernet records only
  std::optional<stack::MacAddress> dst_mac;
  stack::IpAddress src;
  stack::IpAddress dst;
  std::variant<TcpSegment, IcmpMessage> body;

  const TcpSegment* tcp() const { return std::get_if<TcpSegment>(&body); }
  const IcmpMessage* icmp() const { return std::get_if<IcmpMessage>(&body); }
};

// What a record turned out to be when it is not a TCP segment or an ICMP error.
enum class RecordKind : std::uint8_t {
  kPacket,     // decoded into Packet
  kIgnored,    // ARP, NDP, UDP, echo, other protocols and ethertypes
  kFragment,   // a non-first IPv4/IPv6 fragment (or a first one: TCP is never fragmented by Linux)
  kMalformed,  // a header cut short by the snap length or with impossible lengths
};

struct DecodedRecord {
  RecordKind kind = RecordKind::kIgnored;
  std::optional<Packet> packet;  // kPacket only; frame and time are left to the caller
  std::string why;               // kMalformed: which layer ("truncated.tcp")
};

// Decodes one record of link type `dlt` (DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
// DLT_RAW, DLT_IPV4, DLT_IPV6). `bytes` is what was captured; never throws and never
// reads outside `bytes`.
DecodedRecord decode_link_record(int dlt, std::span<const std::uint8_t> bytes);

// Whether decode_link_record() understands this link type.
bool supported_link_type(int dlt);

}  // namespace tapfault::replay
