// The codec's raw-bytes path for TCP against libtins: the frames encode_tcp() writes are
// the bytes libtins wrote, and decode_frame() agrees with decode_frame_reference() (every
// layer through libtins) on every frame: the same fields, or the same drop reason.
// Frames: every option layout the peer and the kernel send, the fuzz_peer seeds, and
// deterministic mutations of both (with and without repaired checksums).
#include <gtest/gtest.h>

#include <tins/tins.h>

#include <fstream>
#include <iterator>
#include <random>

#include "fuzz/peer_entry.hpp"
#include "stack/wire.hpp"
#include "support/fuzz_replay.hpp"
#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

// The libtins encoder encode_tcp() replaced, kept as the reference for its bytes.
std::vector<std::uint8_t> encode_tcp_with_libtins(const LinkAddresses& link, const TcpSegmentOut& seg) {
  Tins::TCP tcp(seg.tcp.dst_port, seg.tcp.src_port);
  tcp.seq(seg.tcp.seq.value());
  tcp.ack_seq(seg.tcp.ack.value());
  tcp.flags(seg.tcp.flags);
  tcp.window(seg.tcp.window);
  const TcpOptions& o = seg.tcp.options;
  if (o.mss) tcp.mss(*o.mss);
  if (o.sack_permitted && o.timestamp) {
    tcp.sack_permitted();
    tcp.timestamp(o.timestamp->value, o.timestamp->echo_reply);
  } else {
    if (o.sack_permitted) {
      tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
      tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
      tcp.sack_permitted();
    }
    if (o.timestamp) {
      tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
      tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
      tcp.timestamp(o.timestamp->value, o.timestamp->echo_reply);
    }
  }
  if (o.window_scale) {
    tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
    tcp.winscale(*o.window_scale);
  }
  if (!seg.payload.empty())
    tcp.inner_pdu(Tins::RawPDU(seg.payload.data(), static_cast<std::uint32_t>(seg.payload.size())));
  Tins::EthernetII eth(Tins::HWAddress<6>(link.dst.bytes.data()), Tins::HWAddress<6>(link.src.bytes.data()));
  if (seg.src.is_v4()) {
    Tins::IP ip(seg.dst.to_string(), seg.src.to_string());
    ip.ttl(64);
    ip.flags(Tins::IP::DONT_FRAGMENT);
    Tins::EthernetII pkt = eth / ip / tcp;
    return pkt.serialize();
  }
  Tins::IPv6 ip(seg.dst.to_string(), seg.src.to_string());
  ip.hop_limit(64);
  Tins::EthernetII pkt = eth / ip / tcp;
  return pkt.serialize();
}

const LinkAddresses kLink{peer_mac(), kernel_mac()};

// RFC 1071 as written: 16-bit big-endian words, an odd byte padded with zero.
std::uint32_t naive_sum(std::span<const std::uint8_t> b, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i < b.size(); i += 2)
    acc += static_cast<std::uint32_t>(b[i] << 8 | (i + 1 < b.size() ? b[i + 1] : 0));
  return acc;
}

TEST(Checksum, WideWordsSumLikeSixteenBitWordsAtEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<std::uint8_t> bytes(1600);
  for (int round = 0; round < 4; ++round) {
    for (auto& b : bytes) b = static_cast<std::uint8_t>(round == 0 ? 0xff : round == 1 ? 0 : rng());
    for (std::size_t offset = 0; offset < 9; ++offset) {
      for (std::size_t len = 0; len + offset <= bytes.size(); len += len < 80 ? 1 : 37) {
        std::span<const std::uint8_t> b(bytes.data() + offset, len);
        std::uint32_t acc = round * 0x1234u;
        ASSERT_EQ(wire::fold(wire::sum16(b, acc)), wire::fold(naive_sum(b, acc)))
            << "offset " << offset << " length " << len << " round " << round;
      }
    }
  }
}

// Segments with every option layout either side uses, both families, payloads of every parity.
std::vector<TcpSegmentOut> segment_table(std::vector<std::vector<std::uint8_t>>& payloads) {
  payloads = {{}, {'x'}, std::vector<std::uint8_t>(7, 'y'), std::vector<std::uint8_t>(1448, 'z'),
              std::vector<std::uint8_t>(1220, 0xff)};
  std::vector<TcpSegmentOut> out;
  const std::pair<const char*, const char*> families[] = {{"192.0.2.2", "192.0.2.1"},
                                                          {"2001:db8::2", "2001:db8:a::1"}};
  for (auto [src, dst] : families) {
    for (int layout = 0; layout < 32; ++layout) {
      for (const auto& payload : payloads) {
        TcpSegmentOut s;
        s.src = ip(src);
        s.dst = ip(dst);
        s.tcp.src_port = 8080;
        s.tcp.dst_port = static_cast<std::uint16_t>(40000 + layout);
        s.tcp.seq = SeqNum(0xfffffff0u + static_cast<std::uint32_t>(layout));
        s.tcp.ack = SeqNum(12345u * static_cast<std::uint32_t>(layout));
        s.tcp.flags = static_cast<std::uint8_t>(layout * 7);
        s.tcp.window = static_cast<std::uint16_t>(501 * layout);
        if (layout & 1) s.tcp.options.mss = static_cast<std::uint16_t>(1460 - layout);
        if (layout & 2) s.tcp.options.sack_permitted = true;
        if (layout & 4) s.tcp.options.timestamp = TcpTimestamp{0x01020304u * static_cast<std::uint32_t>(layout), 77};
        if (layout & 8) s.tcp.options.window_scale = static_cast<std::uint8_t>(layout & 15);
        if (layout & 16) s.tcp.flags = tcp_flags::kAck;
        s.payload = payload;
        out.push_back(s);
      }
    }
  }
  return out;
}

TEST(CodecTcpEncode, WritesTheBytesLibtinsWrote) {
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<std::uint8_t> reused;
  for (const auto& s : segment_table(payloads)) {
    auto expected = encode_tcp_with_libtins(kLink, s);
    ASSERT_EQ(encode_tcp(kLink, s), expected) << s.src.to_string() << " options " << int(s.tcp.options.mss.has_value())
                                              << int(s.tcp.options.sack_permitted)
                                              << int(s.tcp.options.timestamp.has_value())
                                              << int(s.tcp.options.window_scale.has_value()) << " payload "
                                              << s.payload.size();
    encode_tcp(kLink, s, reused);  // into a buffer that held a longer frame before
    ASSERT_EQ(reused, expected);
  }
}

// "" when both decoders agree on `frame`; else what differs.
std::string disagreement(std::span<const std::uint8_t> frame) {
  auto fast = decode_frame(frame);
  auto ref = decode_frame_reference(frame);
  if (fast.index() != ref.index()) {
    auto reason = [](const auto& d) {
      return std::holds_alternative<DecodeError>(d) ? std::get<DecodeError>(d).reason : std::string("a frame");
    };
    return "decoded as " + reason(fast) + ", libtins: " + reason(ref);
  }
  if (auto* e = std::get_if<DecodeError>(&fast)) {
    const auto& r = std::get<DecodeError>(ref).reason;
    return e->reason == r ? "" : "dropped as " + e->reason + ", libtins: " + r;
  }
  const auto& a = std::get<DecodedFrame>(fast);
  const auto& b = std::get<DecodedFrame>(ref);
  if (a.src_mac != b.src_mac || a.dst_mac != b.dst_mac) return "MAC addresses differ";
  if (a.body.index() != b.body.index()) return "body kinds differ";
  const auto* x = std::get_if<DecodedTcp>(&a.body);
  if (!x) return "";
  const auto& y = std::get<DecodedTcp>(b.body);
  auto same_span = [](auto p, auto q) { return p.data() == q.data() && p.size() == q.size(); };
  if (x->src != y.src || x->dst != y.dst) return "addresses differ";
  if (x->tcp.src_port != y.tcp.src_port || x->tcp.dst_port != y.tcp.dst_port) return "ports differ";
  if (x->tcp.seq != y.tcp.seq || x->tcp.ack != y.tcp.ack) return "seq/ack differ";
  if (x->tcp.flags != y.tcp.flags) return "flags differ";
  if (x->tcp.window != y.tcp.window) return "window differs";
  const auto& o = x->tcp.options;
  const auto& p = y.tcp.options;
  if (o.mss != p.mss) return "mss differs";
  if (o.window_scale != p.window_scale) return "window scale differs";
  if (o.sack_permitted != p.sack_permitted) return "sack-permitted differs";
  if (o.timestamp.has_value() != p.timestamp.has_value() ||
      (o.timestamp && (o.timestamp->value != p.timestamp->value || o.timestamp->echo_reply != p.timestamp->echo_reply)))
    return "timestamp differs";
  if (!same_span(x->payload, y.payload)) return "payload differs";
  if (!same_span(x->ip_packet, y.ip_packet)) return "ip_packet differs";
  return "";
}

std::string hex(std::span<const std::uint8_t> f) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : f.first(std::min<std::size_t>(f.size(), 96))) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

// The frames of a fuzz_peer input (fuzz/peer_entry.hpp: a setup byte, then u16 length records).
std::vector<std::vector<std::uint8_t>> frames_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::size_t pos = 1; pos + 2 <= data.size();) {
    std::size_t len = std::min<std::size_t>((data[pos] << 8 | data[pos + 1]) & 0x3fff, data.size() - pos - 2);
    pos += 2;
    frames.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(pos),
                        data.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  return frames;
}

// Hand-made layouts at the edges of what the raw path takes.
std::vector<std::vector<std::uint8_t>> edge_frames() {
  std::vector<std::vector<std::uint8_t>> out;
  TcpSegmentOut s;
  s.src = ip("192.0.2.1");
  s.dst = ip("192.0.2.2");
  s.tcp.src_port = 40000;
  s.tcp.dst_port = 8080;
  s.tcp.flags = tcp_flags::kAck;
  s.tcp.options.mss = 1460;
  s.tcp.options.timestamp = TcpTimestamp{1, 2};
  s.tcp.options.window_scale = 7;
  std::vector<std::uint8_t> payload(40, 'p');
  s.payload = payload;
  auto base = encode_tcp({kernel_mac(), peer_mac()}, s);
  const std::size_t opt = 14 + 20 + 20;  // MSS(4) NOP NOP TS(10) NOP WS(3): 20 bytes
  auto with = [&](std::initializer_list<std::pair<std::size_t, std::uint8_t>> edits) {
    auto f = base;
    for (auto [at, v] : edits) f[opt + at] = v;
    fuzz::peer_detail::fix_checksums(f);
    out.push_back(f);
  };
  with({{0, 0}});                      // End of Option List first: nothing after it is read
  with({{4, 0}});                      // EOL after MSS
  with({{16, 0}});                     // EOL where the window scale starts
  with({{4, 30}, {5, 2}});             // an unknown option without data (libtins counts 1 byte)
  with({{4, 4}, {5, 2}});              // SACK-permitted in the NOP NOP
  with({{0, 2}, {1, 3}, {2, 1}});      // MSS with one byte of data, then the rest as padding...
  with({{0, 3}, {1, 4}});              // window scale with two bytes of data
  with({{6, 8}, {7, 9}});              // timestamp with 7 bytes of data
  with({{4, 2}, {5, 4}, {6, 5}, {7, 0xb4}});  // a second MSS where the NOP NOP were
  // IPv4 with a header option (NOP NOP NOP EOL): libtins reads it.
  {
    auto f = base;
    f.insert(f.begin() + 14 + 20, {1, 1, 1, 0});
    f[14] = 0x46;
    std::uint16_t tot = static_cast<std::uint16_t>((f[16] << 8 | f[17]) + 4);
    f[16] = static_cast<std::uint8_t>(tot >> 8);
    f[17] = static_cast<std::uint8_t>(tot);
    fuzz::peer_detail::fix_checksums(f);
    out.push_back(f);
  }
  // Ethernet padding after the IP packet.
  {
    auto f = base;
    f.insert(f.end(), 20, 0xee);
    out.push_back(f);
  }
  // IPv6: TCP behind a hop-by-hop header, and TCP directly.
  {
    TcpSegmentOut v6 = s;
    v6.src = ip("2001:db8:a::1");
    v6.dst = ip("2001:db8::2");
    auto f = encode_tcp({kernel_mac(), peer_mac()}, v6);
    out.push_back(f);
    Tins::TCP tcp(8080, 40000);
    tcp.flags(Tins::TCP::ACK);
    Tins::IPv6 ip6("2001:db8::2", "2001:db8:a::1");
    const std::uint8_t padn[6] = {1, 4, 0, 0, 0, 0};  // a PadN option filling the header
    ip6.add_header(Tins::IPv6::ext_header(Tins::IPv6::HOP_BY_HOP, sizeof padn, padn));
    Tins::EthernetII pkt = Tins::EthernetII("02:00:5e:00:53:02", "02:00:5e:00:53:01") / ip6 / tcp;
    out.push_back(pkt.serialize());
  }
  return out;
}

TEST(CodecTcpDecode, AgreesWithLibtinsOnEveryLayoutAndEveryMutation) {
  std::vector<std::vector<std::uint8_t>> frames = edge_frames();
  std::vector<std::vector<std::uint8_t>> payloads;
  for (auto s : segment_table(payloads)) {
    std::swap(s.src, s.dst);  // as the kernel sends them
    frames.push_back(encode_tcp({kernel_mac(), peer_mac()}, s));
  }
  auto seeds = fuzz_inputs(fuzz_dir("corpus", "fuzz_peer"));
  ASSERT_FALSE(seeds.empty());
  for (const auto& file : seeds)
    for (auto& f : frames_of(file)) frames.push_back(std::move(f));

  std::mt19937 rng(6);
  std::size_t checked = 0, raw_tcp = 0;
  auto check = [&](const std::vector<std::uint8_t>& f) {
    ++checked;
    std::string why = disagreement(f);
    ASSERT_EQ(why, "") << "frame " << hex(f);
    auto d = decode_frame(f);
    if (auto* df = std::get_if<DecodedFrame>(&d); df && std::holds_alternative<DecodedTcp>(df->body)) ++raw_tcp;
  };
  for (const auto& base : frames) {
    check(base);
    for (int m = 0; m < 60 && !base.empty(); ++m) {
      auto f = base;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        // Mostly the headers and options, where the paths could part.
        std::size_t at = rng() % std::min<std::size_t>(f.size(), m % 4 == 0 ? f.size() : 94);
        f[at] = static_cast<std::uint8_t>(m % 2 ? rng() : f[at] ^ (1u << (rng() % 8)));
      }
      if (m % 3 != 0) fuzz::peer_detail::fix_checksums(f);
      check(f);
      if (m % 5 == 0) {
        f.resize(rng() % (f.size() + 1));
        check(f);
      }
    }
  }
  EXPECT_GT(checked, 20000u);
  EXPECT_GT(raw_tcp, 5000u) << "most frames are TCP segments both decoders accept";
}

}  // namespace
}  // namespace tapfault::testing
