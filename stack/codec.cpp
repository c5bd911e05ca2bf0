// Wire codec: decode frames into plain structs, encode the peer's frames.
//
// Every frame's layer bounds are checked on the raw bytes first (precheck()). TCP
// segments, nearly every frame of a run, are then read and written on the bytes
// (codec_tcp.cpp); libtins parses and serialises the rest (ARP, NDP, ICMP, IPv4 with
// options, IPv6 extension headers). libtins does not verify checksums on input, so
// decode_frame() checks them on the raw bytes (RFC 1071) before trusting a segment.
// libtins exceptions never leave this file.
#include "tapfault/stack/codec.hpp"

#include <tins/tins.h>

#include <algorithm>
#include <cstring>

#include "codec_tcp.hpp"
#include "wire.hpp"

namespace tapfault::stack {
namespace {

using wire::fold;
using wire::sum16;

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kIcmpv4QuoteLimit = 576;   // RFC 1812 4.3.2.3: the error fits in 576 bytes
constexpr std::size_t kIcmpv6QuoteLimit = 1280;  // RFC 4443 2.4(c): the error fits in the minimum MTU

// Sum of the pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6).
std::uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst, std::uint8_t proto,
                                std::size_t len) {
  std::uint32_t acc = sum16({src.bytes.data(), src.size()});
  acc = sum16({dst.bytes.data(), dst.size()}, acc);
  acc += proto;
  acc += static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
  return acc;
}

bool checksum_ok(const IpAddress& src, const IpAddress& dst, std::uint8_t proto,
                 std::span<const std::uint8_t> l4) {
  return fold(sum16(l4, pseudo_header_sum(src, dst, proto, l4.size()))) == 0xffff;
}

MacAddress to_mac(const Tins::HWAddress<6>& hw) {
  MacAddress m;
  std::copy(hw.begin(), hw.end(), m.bytes.begin());
  return m;
}

Tins::HWAddress<6> to_tins(const MacAddress& m) { return Tins::HWAddress<6>(m.bytes.data()); }

IpAddress to_ip(Tins::IPv4Address a) {
  IpAddress ip;
  std::uint32_t raw = static_cast<std::uint32_t>(a);  // the address bytes in memory order
  std::memcpy(ip.bytes.data(), &raw, 4);
  return ip;
}

IpAddress to_ip(const Tins::IPv6Address& a) {
  IpAddress ip;
  ip.family = Family::kIpv6;
  std::copy(a.begin(), a.end(), ip.bytes.begin());
  return ip;
}

Tins::IPv4Address to_tins4(const IpAddress& a) {
  std::uint32_t be;
  std::memcpy(&be, a.bytes.data(), 4);
  return Tins::IPv4Address(be);
}

Tins::IPv6Address to_tins6(const IpAddress& a) { return Tins::IPv6Address(a.bytes.data()); }

TcpOptions read_options(const Tins::TCP& tcp) {
  TcpOptions o;
  if (const auto* opt = tcp.search_option(Tins::TCP::MSS); opt && opt->data_size() == 2)
    o.mss = static_cast<std::uint16_t>(opt->data_ptr()[0] << 8 | opt->data_ptr()[1]);
  if (const auto* opt = tcp.search_option(Tins::TCP::WSCALE); opt && opt->data_size() == 1)
    o.window_scale = opt->data_ptr()[0];
  o.sack_permitted = tcp.search_option(Tins::TCP::SACK_OK) != nullptr;
  if (const auto* opt = tcp.search_option(Tins::TCP::TSOPT); opt && opt->data_size() == 8) {
    const std::uint8_t* p = opt->data_ptr();
    auto be32 = [](const std::uint8_t* q) {
      return static_cast<std::uint32_t>(q[0]) << 24 | static_cast<std::uint32_t>(q[1]) << 16 |
             static_cast<std::uint32_t>(q[2]) << 8 | q[3];
    };
    o.timestamp = TcpTimestamp{be32(p), be32(p + 4)};
  }
  return o;
}

TcpHeader read_tcp(const Tins::TCP& tcp) {
  TcpHeader h;
  h.src_port = tcp.sport();
  h.dst_port = tcp.dport();
  h.seq = SeqNum(tcp.seq());
  h.ack = SeqNum(tcp.ack_seq());
  h.flags = static_cast<std::uint8_t>(tcp.flags());
  h.window = tcp.window();
  h.options = read_options(tcp);
  return h;
}

// The IP packet inside the frame, trimmed to the IP length (Ethernet pads short frames).
std::span<const std::uint8_t> ip_bytes(std::span<const std::uint8_t> frame, std::size_t ip_len) {
  auto ip = frame.subspan(kEthHeader);
  return ip.first(std::min(ip.size(), ip_len));
}

std::variant<DecodedFrame, DecodeError> decode_tcp(DecodedFrame& out, const IpAddress& src,
                                                   const IpAddress& dst, const Tins::TCP& tcp,
                                                   std::span<const std::uint8_t> ip_packet,
                                                   std::size_t l4_offset, const char* family) {
  if (l4_offset > ip_packet.size())
    return DecodeError{std::string("truncated.tcp.") + family};
  auto l4 = ip_packet.subspan(l4_offset);
  std::size_t hdr = tcp.header_size();
  if (hdr < 20 || hdr > l4.size()) return DecodeError{"malformed.tcp"};
  if (!checksum_ok(src, dst, 6, l4)) return DecodeError{"checksum.tcp"};
  DecodedTcp seg;
  seg.src = src;
  seg.dst = dst;
  seg.tcp = read_tcp(tcp);
  seg.payload = l4.subspan(hdr);
  seg.ip_packet = ip_packet;
  out.body = seg;
  return out;
}

std::variant<DecodedFrame, DecodeError> decode_ipv4(DecodedFrame& out, const Tins::IP& ip,
                                                    std::span<const std::uint8_t> frame) {
  if (ip.version() != 4) return DecodeError{"malformed.ipv4"};
  if (ip.tot_len() < ip.header_size() || ip.tot_len() > frame.size() - kEthHeader)
    return DecodeError{"malformed.ipv4"};
  if (ip.is_fragmented()) return DecodeError{"fragment.ipv4"};
  auto packet = ip_bytes(frame, ip.tot_len());
  if (fold(sum16(packet.first(ip.header_size()))) != 0xffff) return DecodeError{"checksum.ipv4"};
  IpAddress src = to_ip(ip.src_addr());
  IpAddress dst = to_ip(ip.dst_addr());
  if (const auto* tcp = ip.find_pdu<Tins::TCP>())
    return decode_tcp(out, src, dst, *tcp, packet, ip.header_size(), "ipv4");
  if (ip.protocol() == 6) return DecodeError{"malformed.tcp"};
  if (const auto* icmp = ip.find_pdu<Tins::ICMP>()) {
    auto l4 = packet.subspan(ip.header_size());
    if (fold(sum16(l4)) != 0xffff) return DecodeError{"checksum.icmp"};
    if (icmp->type() == Tins::ICMP::ECHO_REQUEST) {
      out.body = DecodedEcho{src, dst, icmp->id(), icmp->sequence(), l4.subspan(std::min<std::size_t>(8, l4.size()))};
      return out;
    }
    out.body = DecodedOther{"icmp", dst};
    return out;
  }
  out.body = DecodedOther{"ipv4", dst};
  return out;
}

std::variant<DecodedFrame, DecodeError> decode_ipv6(DecodedFrame& out, const Tins::IPv6& ip,
                                                    std::span<const std::uint8_t> frame) {
  if (ip.version() != 6) return DecodeError{"malformed.ipv6"};
  std::size_t ip_len = 40u + ip.payload_length();
  if (ip_len > frame.size() - kEthHeader) return DecodeError{"malformed.ipv6"};
  auto packet = ip_bytes(frame, ip_len);
  IpAddress src = to_ip(ip.src_addr());
  IpAddress dst = to_ip(ip.dst_addr());
  if (const auto* tcp = ip.find_pdu<Tins::TCP>())
    return decode_tcp(out, src, dst, *tcp, packet, ip.header_size(), "ipv6");
  if (ip.next_header() == 6) return DecodeError{"malformed.tcp"};
  if (const auto* icmp = ip.find_pdu<Tins::ICMPv6>()) {
    auto l4 = packet.subspan(std::min<std::size_t>(ip.header_size(), packet.size()));
    if (!checksum_ok(src, dst, 58, l4)) return DecodeError{"checksum.icmpv6"};
    switch (icmp->type()) {
      case Tins::ICMPv6::NEIGHBOUR_SOLICIT:
        out.body = DecodedNeighborSolicit{src, to_ip(icmp->target_addr())};
        return out;
      case Tins::ICMPv6::ECHO_REQUEST:
        out.body = DecodedEcho{src, dst, icmp->identifier(), icmp->sequence(),
                               l4.subspan(std::min<std::size_t>(8, l4.size()))};
        return out;
      default:
        out.body = DecodedOther{"icmpv6", dst};
        return out;
    }
  }
  out.body = DecodedOther{"ipv6", dst};
  return out;
}

std::variant<DecodedFrame, DecodeError> decode_arp(DecodedFrame& out, const Tins::ARP& arp) {
  if (arp.hw_addr_format() != 1 || arp.prot_addr_format() != 0x0800 ||
      arp.hw_addr_length() != 6 || arp.prot_addr_length() != 4)
    return DecodeError{"malformed.arp"};
  out.body = DecodedArp{arp.opcode(), to_mac(arp.sender_hw_addr()), to_ip(arp.sender_ip_addr()),
                        to_ip(arp.target_ip_addr())};
  return out;
}

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

// TCP header bounds and option lengths (RFC 9293 3.1: kind 0 ends, kind 1 pads,
// every other option has a length >= 2 that stays inside the header).
const char* check_tcp(std::span<const std::uint8_t> l4) {
  if (l4.size() < 20) return "truncated.tcp";
  std::size_t hdr = static_cast<std::size_t>(l4[12] >> 4) * 4;
  if (hdr < 20 || hdr > l4.size()) return "malformed.tcp";
  for (std::size_t i = 20; i < hdr;) {
    std::uint8_t kind = l4[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= hdr || l4[i + 1] < 2 || i + l4[i + 1] > hdr) return "malformed.tcp";
    i += l4[i + 1];
  }
  return nullptr;
}

// Layer bounds checked on the raw bytes before libtins sees them, so that a bad
// frame is counted against the layer that is wrong.
const char* precheck(std::span<const std::uint8_t> f) {
  auto ip = f.subspan(kEthHeader);
  switch (be16(f, 12)) {
    case 0x0806:
      return ip.size() < 28 ? "truncated.arp" : nullptr;
    case 0x0800: {
      if (ip.size() < 20) return "truncated.ipv4";
      std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
      std::size_t tot = be16(ip, 2);
      if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > ip.size()) return "malformed.ipv4";
      bool fragment = (be16(ip, 6) & 0x3fff) != 0;  // MF set or an offset: TCP is checked once whole
      return ip[9] == 6 && !fragment ? check_tcp(ip.subspan(ihl, tot - ihl)) : nullptr;
    }
    case 0x86dd: {
      if (ip.size() < 40) return "truncated.ipv6";
      std::size_t len = 40u + be16(ip, 4);
      if ((ip[0] >> 4) != 6 || len > ip.size()) return "malformed.ipv6";
      return ip[6] == 6 ? check_tcp(ip.subspan(40, len - 40)) : nullptr;
    }
    default:
      return nullptr;
  }
}

const char* layer_of(std::span<const std::uint8_t> f) {
  switch (be16(f, 12)) {
    case 0x0806: return "malformed.arp";
    case 0x0800: return "malformed.ipv4";
    case 0x86dd: return "malformed.ipv6";
    default: return "malformed.ethernet";
  }
}

}  // namespace

namespace {

// Every layer through libtins, once precheck() has passed.
std::variant<DecodedFrame, DecodeError> decode_with_libtins(std::span<const std::uint8_t> frame) {
  try {
    Tins::EthernetII eth(frame.data(), static_cast<std::uint32_t>(frame.size()));
    DecodedFrame out;
    out.src_mac = to_mac(eth.src_addr());
    out.dst_mac = to_mac(eth.dst_addr());
    switch (eth.payload_type()) {
      case 0x0806:
        if (const auto* arp = eth.find_pdu<Tins::ARP>()) return decode_arp(out, *arp);
        return DecodeError{"truncated.arp"};
      case 0x0800:
        if (const auto* ip = eth.find_pdu<Tins::IP>()) return decode_ipv4(out, *ip, frame);
        return DecodeError{"truncated.ipv4"};
      case 0x86dd:
        if (const auto* ip = eth.find_pdu<Tins::IPv6>()) return decode_ipv6(out, *ip, frame);
        return DecodeError{"truncated.ipv6"};
      default:
        out.body = DecodedOther{"ethertype", std::nullopt};
        return out;
    }
  } catch (const Tins::exception_base&) {
    return DecodeError{layer_of(frame)};
  } catch (const std::exception&) {  // libtins also throws std::runtime_error on bad lengths
    return DecodeError{layer_of(frame)};
  }
}

}  // namespace

std::variant<DecodedFrame, DecodeError> decode_frame(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeader) return DecodeError{"truncated.ethernet"};
  if (const char* bad = precheck(frame)) return DecodeError{bad};
  if (auto segment = detail::decode_tcp_fast(frame)) return std::move(*segment);
  return decode_with_libtins(frame);
}

std::variant<DecodedFrame, DecodeError> decode_frame_reference(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeader) return DecodeError{"truncated.ethernet"};
  if (const char* bad = precheck(frame)) return DecodeError{bad};
  return decode_with_libtins(frame);
}

namespace {

std::vector<std::uint8_t> serialize(Tins::PDU& pdu) {
  try {
    return pdu.serialize();
  } catch (const Tins::exception_base&) {
    return {};
  }
}

}  // namespace

std::vector<std::uint8_t> encode_arp_reply(const LinkAddresses& link, const IpAddress& sender_ip,
                                           const IpAddress& target_ip) {
  Tins::EthernetII pkt = Tins::ARP::make_arp_reply(to_tins4(target_ip), to_tins4(sender_ip),
                                                   to_tins(link.dst), to_tins(link.src));
  pkt.dst_addr(to_tins(link.dst));
  pkt.src_addr(to_tins(link.src));
  return serialize(pkt);
}

std::vector<std::uint8_t> encode_neighbor_advert(const LinkAddresses& link, const IpAddress& src,
                                                 const IpAddress& dst, const IpAddress& target) {
  Tins::ICMPv6 na(Tins::ICMPv6::NEIGHBOUR_ADVERT);
  na.target_addr(to_tins6(target));
  na.solicited(1);
  na.override(1);
  na.target_link_layer_addr(to_tins(link.src));
  Tins::IPv6 ip(to_tins6(dst), to_tins6(src));
  ip.hop_limit(255);  // RFC 4861 7.1.2: NDP messages must carry hop limit 255
  Tins::EthernetII pkt = Tins::EthernetII(to_tins(link.dst), to_tins(link.src)) / ip / na;
  return serialize(pkt);
}

std::vector<std::uint8_t> encode_echo_reply(const LinkAddresses& link, const DecodedEcho& req) {
  Tins::RawPDU data(req.payload.data(), static_cast<std::uint32_t>(req.payload.size()));
  Tins::EthernetII eth(to_tins(link.dst), to_tins(link.src));
  if (req.src.is_v4()) {
    Tins::ICMP icmp(Tins::ICMP::ECHO_REPLY);
    icmp.id(req.id);
    icmp.sequence(req.sequence);
    Tins::IP ip(to_tins4(req.src), to_tins4(req.dst));
    ip.ttl(64);
    Tins::EthernetII pkt = eth / ip / icmp / data;
    return serialize(pkt);
  }
  Tins::ICMPv6 icmp(Tins::ICMPv6::ECHO_REPLY);
  icmp.identifier(req.id);
  icmp.sequence(req.sequence);
  Tins::IPv6 ip(to_tins6(req.src), to_tins6(req.dst));
  ip.hop_limit(64);
  Tins::EthernetII pkt = eth / ip / icmp / data;
  return serialize(pkt);
}

std::vector<std::uint8_t> encode_icmp_error(const LinkAddresses& link, const IcmpErrorOut& err) {
  Tins::EthernetII eth(to_tins(link.dst), to_tins(link.src));
  if (err.src.is_v4()) {
    std::size_t room = kIcmpv4QuoteLimit - 20 - 8;
    auto quote = err.offending_ip_packet.first(std::min(room, err.offending_ip_packet.size()));
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(err.type));
    icmp.code(err.code);
    if (err.mtu) icmp.mtu(static_cast<std::uint16_t>(err.mtu));
    Tins::IP ip(to_tins4(err.dst), to_tins4(err.src));
    ip.ttl(64);
    Tins::EthernetII pkt =
        eth / ip / icmp / Tins::RawPDU(quote.data(), static_cast<std::uint32_t>(quote.size()));
    return serialize(pkt);
  }
  std::size_t room = kIcmpv6QuoteLimit - 40 - 8;
  auto quote = err.offending_ip_packet.first(std::min(room, err.offending_ip_packet.size()));
  Tins::ICMPv6 icmp(static_cast<Tins::ICMPv6::Types>(err.type));
  icmp.code(err.code);
  // Packet Too Big carries the MTU in the 32 bits that echo messages use for id and
  // sequence (RFC 4443 3.2); libtins has no setter of its own for it.
  icmp.identifier(static_cast<std::uint16_t>(err.mtu >> 16));
  icmp.sequence(static_cast<std::uint16_t>(err.mtu & 0xffff));
  Tins::IPv6 ip(to_tins6(err.dst), to_tins6(err.src));
  ip.hop_limit(64);
  Tins::EthernetII pkt =
      eth / ip / icmp / Tins::RawPDU(quote.data(), static_cast<std::uint32_t>(quote.size()));
  return serialize(pkt);
}

}  // namespace tapfault::stack
