// decode_link_record(): link header (Ethernet, Linux cooked v1/v2, raw IP), IPv4/IPv6,
// then TCP or an ICMP error. Every read is bounds-checked against the captured bytes;
// a header that does not fit is "malformed", never an exception.
//
// Checksums are not verified on purpose (see packet.hpp): captures taken where the
// kernel transmits show its segments before the checksum is completed.
#include <pcap/dlt.h>

#include <cstring>

#include "tapfault/replay/analysis/packet.hpp"

namespace tapfault::replay {
namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;

using Bytes = std::span<const std::uint8_t>;

std::uint16_t be16(Bytes b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }
std::uint32_t be32(Bytes b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

DecodedRecord malformed(std::string why) { return DecodedRecord{RecordKind::kMalformed, std::nullopt, std::move(why)}; }
DecodedRecord ignored() { return DecodedRecord{RecordKind::kIgnored, std::nullopt, {}}; }
DecodedRecord fragment() { return DecodedRecord{RecordKind::kFragment, std::nullopt, {}}; }

stack::IpAddress address(Bytes b, std::size_t at, bool v6) {
  stack::IpAddress a;
  a.family = v6 ? stack::Family::kIpv6 : stack::Family::kIpv4;
  std::memcpy(a.bytes.data(), b.data() + at, v6 ? 16 : 4);
  return a;
}

// The IP layer's result: where the transport header starts and how long the transport
// data is on the wire (which may exceed what was captured).
struct IpLayer {
  stack::IpAddress src;
  stack::IpAddress dst;
  std::uint8_t protocol = 0;
  std::size_t l4_offset = 0;
  std::size_t l4_wire_length = 0;
};

// RFC 791. A total length of 0 appears on segmentation-offload super-packets captured
// before they are split; the captured size stands in for it then.
std::variant<IpLayer, DecodedRecord> ipv4(Bytes ip) {
  if (ip.size() < 20) return malformed("truncated.ipv4");
  std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  std::size_t total = be16(ip, 2);
  if (total == 0) total = ip.size();
  if (ihl < 20 || total < ihl) return malformed("malformed.ipv4");
  if (ip.size() < ihl) return malformed("truncated.ipv4");
  std::uint16_t frag = be16(ip, 6);
  if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) return fragment();
  return IpLayer{address(ip, 12, false), address(ip, 16, false), ip[9], ihl, total - ihl};
}

// RFC 8200: walks hop-by-hop, routing, destination options and fragment headers (and AH,
// RFC 4302) to the transport header.
std::variant<IpLayer, DecodedRecord> ipv6(Bytes ip) {
  if (ip.size() < 40) return malformed("truncated.ipv6");
  std::size_t end = 40u + be16(ip, 4);
  std::uint8_t next = ip[6];
  std::size_t at = 40;
  for (int hops = 0; hops < 8; ++hops) {
    if (next == 0 || next == 43 || next == 60 || next == 51) {
      if (ip.size() < at + 2) return malformed("truncated.ipv6");
      std::size_t len = next == 51 ? (static_cast<std::size_t>(ip[at + 1]) + 2) * 4
                                   : (static_cast<std::size_t>(ip[at + 1]) + 1) * 8;
      next = ip[at];
      at += len;
    } else if (next == 44) {
      if (ip.size() < at + 8) return malformed("truncated.ipv6");
      if ((be16(ip, at + 2) & 0xfff9) != 0) return fragment();  // offset or more-fragments
      next = ip[at];
      at += 8;
    } else {
      break;
    }
  }
  if (at > end) return malformed("malformed.ipv6");
  return IpLayer{address(ip, 8, true), address(ip, 24, true), next, at, end - at};
}

void read_options(Bytes opts, TcpSegment& seg) {
  stack::TcpOptions& o = seg.header.options;
  for (std::size_t i = 0; i < opts.size();) {
    std::uint8_t kind = opts[i];
    if (kind == 0) break;
    seg.option_kinds.push_back(kind);
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= opts.size() || opts[i + 1] < 2 || i + opts[i + 1] > opts.size()) break;
    std::size_t len = opts[i + 1];
    Bytes v = opts.subspan(i + 2, len - 2);
    if (kind == 2 && len == 4) o.mss = be16(v, 0);
    if (kind == 3 && len == 3) o.window_scale = v[0];
    if (kind == 4 && len == 2) o.sack_permitted = true;
    if (kind == 5)
      for (std::size_t b = 0; b + 8 <= v.size(); b += 8)
        seg.sack_blocks.push_back({stack::SeqNum(be32(v, b)), stack::SeqNum(be32(v, b + 4))});
    if (kind == 8 && len == 10) o.timestamp = stack::TcpTimestamp{be32(v, 0), be32(v, 4)};
    i += len;
  }
}

DecodedRecord tcp(const IpLayer& ip, Bytes l4) {
  if (l4.size() < 20) return malformed("truncated.tcp");
  std::size_t doff = static_cast<std::size_t>(l4[12] >> 4) * 4;
  if (doff < 20 || doff > ip.l4_wire_length) return malformed("malformed.tcp");
  if (doff > l4.size()) return malformed("truncated.tcp");
  TcpSegment seg;
  stack::TcpHeader& h = seg.header;
  h.src_port = be16(l4, 0);
  h.dst_port = be16(l4, 2);
  h.seq = stack::SeqNum(be32(l4, 4));
  h.ack = stack::SeqNum(be32(l4, 8));
  h.flags = static_cast<std::uint8_t>(l4[13] & 0x3f);
  h.window = be16(l4, 14);
  read_options(l4.subspan(20, doff - 20), seg);
  seg.payload_length = static_cast<std::uint32_t>(ip.l4_wire_length - doff);
  Packet p;
  p.src = ip.src;
  p.dst = ip.dst;
  p.body = std::move(seg);
  return DecodedRecord{RecordKind::kPacket, std::move(p), {}};
}

// The datagram an ICMP error quotes: its IP header, then ports and sequence number.
std::optional<QuotedTcp> quoted_tcp(Bytes inner, bool v6) {
  auto layer = v6 ? ipv6(inner) : ipv4(inner);
  const IpLayer* ip = std::get_if<IpLayer>(&layer);
  if (!ip || ip->protocol != kProtoTcp || inner.size() < ip->l4_offset + 8) return std::nullopt;
  Bytes t = inner.subspan(ip->l4_offset);
  return QuotedTcp{ip->src, ip->dst, be16(t, 0), be16(t, 2), stack::SeqNum(be32(t, 4))};
}

bool icmp_is_error(bool v6, std::uint8_t type) {
  if (v6) return type >= 1 && type <= 4;  // unreachable, too big, time exceeded, parameter
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

DecodedRecord icmp(const IpLayer& ip, Bytes l4, bool v6) {
  if (l4.size() < 8) return malformed(v6 ? "truncated.icmpv6" : "truncated.icmp");
  if (!icmp_is_error(v6, l4[0])) return ignored();
  IcmpMessage m;
  m.v6 = v6;
  m.type = l4[0];
  m.code = l4[1];
  if (!v6 && m.type == 3 && m.code == 4) m.mtu = be16(l4, 6);  // RFC 1191 next-hop MTU
  if (v6 && m.type == 2) m.mtu = be32(l4, 4);                   // RFC 4443 3.2
  m.quoted = quoted_tcp(l4.subspan(8), v6);
  Packet p;
  p.src = ip.src;
  p.dst = ip.dst;
  p.body = m;
  return DecodedRecord{RecordKind::kPacket, std::move(p), {}};
}

DecodedRecord ip_packet(Bytes ip_bytes, std::optional<bool> want_v6) {
  if (ip_bytes.empty()) return malformed("truncated.ip");
  int version = ip_bytes[0] >> 4;
  if (version != 4 && version != 6) return malformed("malformed.ip");
  bool v6 = version == 6;
  if (want_v6 && *want_v6 != v6) return malformed(v6 ? "malformed.ipv4" : "malformed.ipv6");
  auto layer = v6 ? ipv6(ip_bytes) : ipv4(ip_bytes);
  if (auto* r = std::get_if<DecodedRecord>(&layer)) return std::move(*r);
  const IpLayer& ip = std::get<IpLayer>(layer);
  Bytes l4 = ip_bytes.subspan(std::min(ip.l4_offset, ip_bytes.size()));
  if (l4.size() > ip.l4_wire_length) l4 = l4.first(ip.l4_wire_length);  // Ethernet padding
  if (ip.protocol == kProtoTcp) return tcp(ip, l4);
  if (ip.protocol == (v6 ? kProtoIcmpv6 : kProtoIcmp)) return icmp(ip, l4, v6);
  return ignored();
}

DecodedRecord by_ethertype(std::uint16_t type, Bytes rest) {
  if (type == kEtherIpv4) return ip_packet(rest, false);
  if (type == kEtherIpv6) return ip_packet(rest, true);
  return ignored();
}

// pcap-linktype(7): packet type 0 = to us, 1 broadcast, 2 multicast, 3 to another
// host, 4 = sent by us (PACKET_OUTGOING).
LinkDirection sll_direction(std::uint16_t packet_type) {
  if (packet_type == 4) return LinkDirection::kOutgoing;
  if (packet_type <= 3) return LinkDirection::kIncoming;
  return LinkDirection::kUnknown;
}

DecodedRecord with_direction(DecodedRecord r, LinkDirection d) {
  if (r.packet) r.packet->direction = d;
  return r;
}

DecodedRecord ethernet(Bytes f) {
  if (f.size() < 14) return malformed("truncated.ethernet");
  std::size_t at = 12;
  std::uint16_t type = be16(f, at);
  while (type == 0x8100 || type == 0x88a8) {  // 802.1Q / 802.1ad tags
    at += 4;
    if (f.size() < at + 2) return malformed("truncated.ethernet");
    type = be16(f, at);
  }
  DecodedRecord r = by_ethertype(type, f.subspan(at + 2));
  if (r.packet) {
    stack::MacAddress dst, src;
    std::memcpy(dst.bytes.data(), f.data(), 6);
    std::memcpy(src.bytes.data(), f.data() + 6, 6);
    r.packet->dst_mac = dst;
    r.packet->src_mac = src;
  }
  return r;
}

}  // namespace

std::string describe(const IcmpMessage& e) {
  auto code = [&](std::initializer_list<const char*> names) {
    std::size_t i = 0;
    for (const char* n : names)
      if (i++ == e.code) return std::string(n);
    return std::to_string(e.code);
  };
  if (e.v6) {
    switch (e.type) {
      case 1: return "dest-unreachable/" + code({"no-route", "admin-prohibited", "beyond-scope", "address-unreachable",
                                                 "port-unreachable"});
      case 2: return "packet-too-big mtu " + std::to_string(e.mtu);
      case 3: return "time-exceeded/" + std::to_string(e.code);
      case 4: return "parameter-problem/" + std::to_string(e.code);
      default: return "icmpv6 type " + std::to_string(e.type);
    }
  }
  switch (e.type) {
    case 3:
      if (e.code == 4) return "dest-unreachable/frag-needed mtu " + std::to_string(e.mtu);
      if (e.code == 13) return "dest-unreachable/admin-prohibited";
      return "dest-unreachable/" + code({"net-unreachable", "host-unreachable", "protocol-unreachable",
                                         "port-unreachable"});
    case 4: return "source-quench";
    case 5: return "redirect/" + std::to_string(e.code);
    case 11: return "time-exceeded/" + std::to_string(e.code);
    case 12: return "parameter-problem/" + std::to_string(e.code);
    default: return "icmp type " + std::to_string(e.type);
  }
}

bool supported_link_type(int dlt) {
  return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW ||
         dlt == DLT_IPV4 || dlt == DLT_IPV6;
}

DecodedRecord decode_link_record(int dlt, std::span<const std::uint8_t> b) {
  switch (dlt) {
    case DLT_EN10MB:
      return ethernet(b);
    case DLT_LINUX_SLL:
      if (b.size() < 16) return malformed("truncated.sll");
      return with_direction(by_ethertype(be16(b, 14), b.subspan(16)), sll_direction(be16(b, 0)));
    case DLT_LINUX_SLL2:
      if (b.size() < 20) return malformed("truncated.sll2");
      return with_direction(by_ethertype(be16(b, 0), b.subspan(20)), sll_direction(b[10]));
    case DLT_RAW:
      return ip_packet(b, std::nullopt);
    case DLT_IPV4:
      return ip_packet(b, false);
    case DLT_IPV6:
      return ip_packet(b, true);
    default:
      return ignored();
  }
}

}  // namespace tapfault::replay
