// TCP segments on the raw bytes (see codec_tcp.hpp): a bounds-checked view for decoding,
// a direct writer for encoding. Both produce exactly what the libtins path did: the same
// fields, the same drop reasons, the same bytes on the wire (Linux's option order, the
// Ethernet minimum of 60 bytes padded with zeros, IPv4 id 1 and DF as libtins wrote them).
#include "codec_tcp.hpp"

#include <algorithm>
#include <cstring>

#include "wire.hpp"

namespace tapfault::stack {
namespace {

using wire::be16;
using wire::be32;
using wire::put16;
using wire::put32;

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kEthMinFrame = 60;  // without the FCS; shorter frames are padded
constexpr std::size_t kIpv4Header = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpHeader = 20;
constexpr std::uint8_t kProtoTcp = 6;

namespace tcp_option {
constexpr std::uint8_t kEnd = 0;
constexpr std::uint8_t kNop = 1;
constexpr std::uint8_t kMss = 2;
constexpr std::uint8_t kWindowScale = 3;
constexpr std::uint8_t kSackPermitted = 4;
constexpr std::uint8_t kTimestamp = 8;
}  // namespace tcp_option

// Sum of the pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6).
std::uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst, std::size_t len) {
  std::uint32_t acc = wire::sum16({src.bytes.data(), src.size()});
  acc = wire::sum16({dst.bytes.data(), dst.size()}, acc);
  acc += kProtoTcp;
  acc += static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
  return acc;
}

IpAddress address(Family family, const std::uint8_t* p) {
  IpAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), p, family == Family::kIpv4 ? 4 : 16);
  return a;
}

// Reads the options as libtins does (codec.cpp read_options(): the first option of each
// kind, with the size that kind needs). Returns false where libtins would read the header
// differently, and leaves those frames to it: it reads on past End of Option List (and
// fails on what follows unless it is padding), and counts an option without data as one
// byte (SACK-permitted aside), so its header length would not be the data offset.
bool read_options(std::span<const std::uint8_t> header, TcpOptions& o) {
  bool seen_mss = false, seen_wscale = false, seen_ts = false;
  std::size_t counted = 0;
  for (std::size_t i = kTcpHeader; i < header.size();) {
    std::uint8_t kind = header[i];
    if (kind == tcp_option::kEnd || kind == tcp_option::kNop) {
      ++counted;
      ++i;
      continue;
    }
    if (i + 1 >= header.size()) return false;
    std::size_t len = header[i + 1];
    if (len < 2 || i + len > header.size()) return false;
    const std::uint8_t* data = &header[i + 2];
    std::size_t data_len = len - 2;
    counted += data_len != 0 || kind == tcp_option::kSackPermitted ? len : 1;
    switch (kind) {
      case tcp_option::kMss:
        if (!seen_mss && data_len == 2) o.mss = be16(data);
        seen_mss = true;
        break;
      case tcp_option::kWindowScale:
        if (!seen_wscale && data_len == 1) o.window_scale = data[0];
        seen_wscale = true;
        break;
      case tcp_option::kSackPermitted:
        o.sack_permitted = true;
        break;
      case tcp_option::kTimestamp:
        if (!seen_ts && data_len == 8) o.timestamp = TcpTimestamp{be32(data), be32(data + 4)};
        seen_ts = true;
        break;
      default:
        break;
    }
    i += len;
  }
  std::size_t padded = (counted + 3) & ~std::size_t{3};
  return kTcpHeader + padded == header.size();
}

// Linux's order (tcp_options_write()): MSS, SACK_PERM+TS, NOP, WSCALE; NOP NOP TS on data.
std::size_t write_options(const TcpOptions& o, std::uint8_t* p) {
  std::uint8_t* start = p;
  auto timestamp = [&] {
    *p++ = tcp_option::kTimestamp;
    *p++ = 10;
    put32(p, o.timestamp->value);
    put32(p + 4, o.timestamp->echo_reply);
    p += 8;
  };
  if (o.mss) {
    *p++ = tcp_option::kMss;
    *p++ = 4;
    put16(p, *o.mss);
    p += 2;
  }
  if (o.sack_permitted && o.timestamp) {
    *p++ = tcp_option::kSackPermitted;
    *p++ = 2;
    timestamp();
  } else {
    if (o.sack_permitted) {
      *p++ = tcp_option::kNop;
      *p++ = tcp_option::kNop;
      *p++ = tcp_option::kSackPermitted;
      *p++ = 2;
    }
    if (o.timestamp) {
      *p++ = tcp_option::kNop;
      *p++ = tcp_option::kNop;
      timestamp();
    }
  }
  if (o.window_scale) {
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kWindowScale;
    *p++ = 3;
    *p++ = *o.window_scale;
  }
  while ((p - start) % 4 != 0) *p++ = tcp_option::kEnd;
  return static_cast<std::size_t>(p - start);
}

constexpr std::size_t kMaxOptions = 40;

}  // namespace

namespace detail {

std::optional<std::variant<DecodedFrame, DecodeError>> decode_tcp_fast(
    std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeader) return std::nullopt;
  const std::uint16_t ethertype = be16(&frame[12]);
  auto ip = frame.subspan(kEthHeader);
  std::span<const std::uint8_t> packet;
  DecodedTcp seg;
  if (ethertype == 0x0800) {
    if (ip.size() < kIpv4Header || ip[0] != 0x45 || ip[9] != kProtoTcp) return std::nullopt;
    const std::size_t total = be16(&ip[2]);
    if (total < kIpv4Header || total > ip.size()) return std::nullopt;
    if ((be16(&ip[6]) & 0x3fff) != 0) return std::nullopt;  // a fragment: reassembled first
    packet = ip.first(total);
    seg.src = address(Family::kIpv4, &ip[12]);
    seg.dst = address(Family::kIpv4, &ip[16]);
    seg.ip_packet = packet;
    packet = packet.subspan(kIpv4Header);
  } else if (ethertype == 0x86dd) {
    if (ip.size() < kIpv6Header || (ip[0] >> 4) != 6 || ip[6] != kProtoTcp) return std::nullopt;
    const std::size_t total = kIpv6Header + be16(&ip[4]);
    if (total > ip.size()) return std::nullopt;
    packet = ip.first(total);
    seg.src = address(Family::kIpv6, &ip[8]);
    seg.dst = address(Family::kIpv6, &ip[24]);
    seg.ip_packet = packet;
    packet = packet.subspan(kIpv6Header);
  } else {
    return std::nullopt;
  }
  const auto l4 = packet;
  if (l4.size() < kTcpHeader) return std::nullopt;
  const std::size_t header_len = static_cast<std::size_t>(l4[12] >> 4) * 4;
  if (header_len < kTcpHeader || header_len > l4.size()) return std::nullopt;
  // libtins parses every layer before the checksums are checked: a header it would reject
  // (malformed.ipv4 or .ipv6) or read differently goes to it before anything is reported.
  if (!read_options(l4.first(header_len), seg.tcp.options)) return std::nullopt;
  if (seg.src.is_v4() && wire::fold(wire::sum16(seg.ip_packet.first(kIpv4Header))) != 0xffff)
    return DecodeError{"checksum.ipv4"};
  if (wire::fold(wire::sum16(l4, pseudo_header_sum(seg.src, seg.dst, l4.size()))) != 0xffff)
    return DecodeError{"checksum.tcp"};
  seg.tcp.src_port = be16(&l4[0]);
  seg.tcp.dst_port = be16(&l4[2]);
  seg.tcp.seq = SeqNum(be32(&l4[4]));
  seg.tcp.ack = SeqNum(be32(&l4[8]));
  seg.tcp.flags = l4[13];
  seg.tcp.window = be16(&l4[14]);
  seg.payload = l4.subspan(header_len);
  DecodedFrame out;
  std::memcpy(out.dst_mac.bytes.data(), &frame[0], 6);
  std::memcpy(out.src_mac.bytes.data(), &frame[6], 6);
  out.body = seg;
  return out;
}

}  // namespace detail

void encode_tcp(const LinkAddresses& link, const TcpSegmentOut& seg, std::vector<std::uint8_t>& out) {
  std::uint8_t options[kMaxOptions];
  const std::size_t options_len = write_options(seg.tcp.options, options);
  const std::size_t ip_header = seg.src.is_v4() ? kIpv4Header : kIpv6Header;
  const std::size_t l4_len = kTcpHeader + options_len + seg.payload.size();
  const std::size_t ip_len = ip_header + l4_len;
  out.resize(std::max(kEthHeader + ip_len, kEthMinFrame));
  std::uint8_t* f = out.data();

  std::memcpy(f, link.dst.bytes.data(), 6);
  std::memcpy(f + 6, link.src.bytes.data(), 6);
  std::uint8_t* ip = f + kEthHeader;
  if (seg.src.is_v4()) {
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, static_cast<std::uint16_t>(ip_len));
    put16(ip + 4, 1);       // libtins' default id
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = kProtoTcp;
    put16(ip + 10, 0);
    std::memcpy(ip + 12, seg.src.bytes.data(), 4);
    std::memcpy(ip + 16, seg.dst.bytes.data(), 4);
    put16(ip + 10, static_cast<std::uint16_t>(~wire::fold(wire::sum16({ip, kIpv4Header}))));
  } else {
    put16(f + 12, 0x86dd);
    put32(ip, 0x60000000);
    put16(ip + 4, static_cast<std::uint16_t>(l4_len));
    ip[6] = kProtoTcp;
    ip[7] = 64;
    std::memcpy(ip + 8, seg.src.bytes.data(), 16);
    std::memcpy(ip + 24, seg.dst.bytes.data(), 16);
  }
  std::uint8_t* tcp = ip + ip_header;
  put16(tcp, seg.tcp.src_port);
  put16(tcp + 2, seg.tcp.dst_port);
  put32(tcp + 4, seg.tcp.seq.value());
  put32(tcp + 8, seg.tcp.ack.value());
  tcp[12] = static_cast<std::uint8_t>((kTcpHeader + options_len) / 4 << 4);
  tcp[13] = seg.tcp.flags;
  put16(tcp + 14, seg.tcp.window);
  put16(tcp + 16, 0);
  put16(tcp + 18, 0);
  std::memcpy(tcp + kTcpHeader, options, options_len);
  if (!seg.payload.empty())
    std::memcpy(tcp + kTcpHeader + options_len, seg.payload.data(), seg.payload.size());
  std::uint32_t sum = wire::sum16({tcp, l4_len}, pseudo_header_sum(seg.src, seg.dst, l4_len));
  put16(tcp + 16, static_cast<std::uint16_t>(~wire::fold(sum)));
  std::fill(f + kEthHeader + ip_len, f + out.size(), std::uint8_t{0});
}

std::vector<std::uint8_t> encode_tcp(const LinkAddresses& link, const TcpSegmentOut& seg) {
  std::vector<std::uint8_t> out;
  encode_tcp(link, seg, out);
  return out;
}

}  // namespace tapfault::stack
