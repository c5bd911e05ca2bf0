// The wire codec: Ethernet frames <-> plain structs. The only place libtins is used.
//
// decode_frame() never throws: a frame that does not parse comes back as a
// DecodeError whose `reason` names the layer ("malformed.ipv4", "checksum.tcp"),
// which the host counts and drops. Encoders build complete frames with
// checksums. Payload spans in decoded structs point into the caller's frame and
// are valid only while it is. TCP segments, the frames of the data path, are read
// and written on the raw bytes without allocating; the other kinds go through libtins.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/stack/seq.hpp"

namespace tapfault::stack {

namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
}  // namespace tcp_flags

struct TcpTimestamp {
  std::uint32_t value = 0;
  std::uint32_t echo_reply = 0;
};

struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<TcpTimestamp> timestamp;
};

struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // as on the wire, unscaled
  TcpOptions options;

  bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

struct DecodedTcp {
  IpAddress src;
  IpAddress dst;
  TcpHeader tcp;
  std::span<const std::uint8_t> payload;
  std::span<const std::uint8_t> ip_packet;  // the whole IP packet, for ICMP quotes

  // Sequence space the segment occupies: payload plus SYN and FIN.
  std::uint32_t seq_len() const {
    return static_cast<std::uint32_t>(payload.size()) + (tcp.has(tcp_flags::kSyn) ? 1 : 0) +
           (tcp.has(tcp_flags::kFin) ? 1 : 0);
  }
};

struct DecodedArp {
  std::uint16_t opcode = 0;  // 1 request, 2 reply
  MacAddress sender_mac;
  IpAddress sender_ip;
  IpAddress target_ip;
};

struct DecodedNeighborSolicit {
  IpAddress src;  // :: during duplicate address detection
  IpAddress target;
};

struct DecodedEcho {
  IpAddress src;
  IpAddress dst;
  std::uint16_t id = 0;
  std::uint16_t sequence = 0;
  std::span<const std::uint8_t> payload;
};

// Parsed but of no interest to the peer (MLD, router solicitations, UDP, ...).
struct DecodedOther {
  const char* what = "other";
  std::optional<IpAddress> dst;
};

struct DecodedFrame {
  MacAddress src_mac;
  MacAddress dst_mac;
  std::variant<DecodedTcp, DecodedArp, DecodedNeighborSolicit, DecodedEcho, DecodedOther> body;
};

struct DecodeError {
  std::string reason;  // "<kind>.<layer>": malformed.ethernet, truncated.tcp, checksum.tcp, ...
};

std::variant<DecodedFrame, DecodeError> decode_frame(std::span<const std::uint8_t> frame);
// The same, with every layer parsed by libtins: the reference decode_frame()'s raw-bytes
// path for TCP is tested against (same fields, same drop reasons).
std::variant<DecodedFrame, DecodeError> decode_frame_reference(std::span<const std::uint8_t> frame);

struct TcpSegmentOut {
  IpAddress src;
  IpAddress dst;
  TcpHeader tcp;
  std::span<const std::uint8_t> payload;
};

struct LinkAddresses {
  MacAddress src;
  MacAddress dst;
};

std::vector<std::uint8_t> encode_tcp(const LinkAddresses& link, const TcpSegmentOut& seg);
// The same frame written into `out` (resized to it): no allocation once `out` has the room.
void encode_tcp(const LinkAddresses& link, const TcpSegmentOut& seg, std::vector<std::uint8_t>& out);
std::vector<std::uint8_t> encode_arp_reply(const LinkAddresses& link, const IpAddress& sender_ip,
                                           const IpAddress& target_ip);
std::vector<std::uint8_t> encode_neighbor_advert(const LinkAddresses& link, const IpAddress& src,
                                                 const IpAddress& dst, const IpAddress& target);
std::vector<std::uint8_t> encode_echo_reply(const LinkAddresses& link, const DecodedEcho& request);

// An ICMP or ICMPv6 error quoting `offending_ip_packet` as a router would
// (RFC 1812 section 4.3.2.3: as much as fits in 576 bytes; RFC 4443: 1280).
struct IcmpErrorOut {
  IpAddress src;
  IpAddress dst;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t mtu = 0;  // next-hop MTU (frag-needed) or packet-too-big MTU
  std::span<const std::uint8_t> offending_ip_packet;
};
std::vector<std::uint8_t> encode_icmp_error(const LinkAddresses& link, const IcmpErrorOut& err);

}  // namespace tapfault::stack
