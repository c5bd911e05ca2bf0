// The peer host: neighbour answers, ping, and malformed frames of every layer counted and dropped.
#include <gtest/gtest.h>

#include <tins/tins.h>

#include "support/peer_harness.hpp"

namespace tapfault::testing {
namespace {

std::vector<std::uint8_t> serialize(Tins::PDU& p) { return p.serialize(); }

Tins::EthernetII eth() { return Tins::EthernetII("02:00:5e:00:53:02", "02:00:5e:00:53:01"); }

TEST(Neighbor, ArpRequestForPeerAddressGetsReply) {
  PeerHarness h;
  auto req = Tins::ARP::make_arp_request("192.0.2.2", "192.0.2.1", "02:00:5e:00:53:01");
  h.feed(serialize(req), 0ms);
  ASSERT_EQ(h.frames_out.size(), 1u);
  auto& arp = std::get<DecodedArp>(h.frames_out[0].body);
  EXPECT_EQ(arp.opcode, 2);
  EXPECT_EQ(arp.sender_ip, ip("192.0.2.2"));
  EXPECT_EQ(arp.sender_mac, peer_mac());
  EXPECT_EQ(arp.target_ip, ip("192.0.2.1"));
  EXPECT_EQ(h.frames_out[0].dst_mac, kernel_mac());
}

TEST(Neighbor, ArpRequestForAnotherAddressIsIgnored) {
  PeerHarness h;
  auto req = Tins::ARP::make_arp_request("192.0.2.99", "192.0.2.1", "02:00:5e:00:53:01");
  h.feed(serialize(req), 0ms);
  EXPECT_TRUE(h.frames_out.empty());
  EXPECT_EQ(h.host->stats().dropped.at("not-for-us.arp"), 1u);
}

std::vector<std::uint8_t> neighbor_solicit(const char* src, const char* target) {
  Tins::ICMPv6 ns(Tins::ICMPv6::NEIGHBOUR_SOLICIT);
  ns.target_addr(target);
  ns.source_link_layer_addr("02:00:5e:00:53:01");
  Tins::IPv6 ip6("ff02::1:ff00:2", src);
  ip6.hop_limit(255);
  Tins::EthernetII pkt = Tins::EthernetII("33:33:ff:00:00:02", "02:00:5e:00:53:01") / ip6 / ns;
  return pkt.serialize();
}

TEST(Neighbor, SolicitationForGatewayGetsAdvertisementWithTargetLinkAddress) {
  PeerHarness h(true);
  h.feed(neighbor_solicit("2001:db8:a::1", "2001:db8:a::2"), 0ms);
  ASSERT_EQ(h.raw_out.size(), 1u);
  Tins::EthernetII na(h.raw_out[0].data(), static_cast<std::uint32_t>(h.raw_out[0].size()));
  const auto& icmp = na.rfind_pdu<Tins::ICMPv6>();
  EXPECT_EQ(icmp.type(), Tins::ICMPv6::NEIGHBOUR_ADVERT);
  EXPECT_EQ(icmp.target_addr(), Tins::IPv6Address("2001:db8:a::2"));
  EXPECT_EQ(icmp.solicited(), 1);
  EXPECT_EQ(icmp.target_link_layer_addr(), Tins::HWAddress<6>("02:00:5e:00:53:02"));
  EXPECT_EQ(na.rfind_pdu<Tins::IPv6>().hop_limit(), 255);
  EXPECT_EQ(h.host->stats().neighbor_adverts, 1u);
}

TEST(Neighbor, DuplicateAddressDetectionIsNotAnswered) {
  PeerHarness h(true);
  h.feed(neighbor_solicit("::", "2001:db8::2"), 0ms);
  EXPECT_TRUE(h.raw_out.empty());
  EXPECT_EQ(h.host->stats().dropped.at("ignored.dad"), 1u);
}

TEST(Ping, Ipv4EchoRequestGetsReplyWithSamePayload) {
  PeerHarness h;
  Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
  icmp.id(7);
  icmp.sequence(3);
  Tins::EthernetII pkt = eth() / Tins::IP("192.0.2.2", "192.0.2.1") / icmp / Tins::RawPDU("ping!");
  h.feed(serialize(pkt), 0ms);
  ASSERT_EQ(h.raw_out.size(), 1u);
  Tins::EthernetII reply(h.raw_out[0].data(), static_cast<std::uint32_t>(h.raw_out[0].size()));
  const auto& r = reply.rfind_pdu<Tins::ICMP>();
  EXPECT_EQ(r.type(), Tins::ICMP::ECHO_REPLY);
  EXPECT_EQ(r.id(), 7);
  EXPECT_EQ(r.sequence(), 3);
  const auto& raw = reply.rfind_pdu<Tins::RawPDU>();
  EXPECT_EQ(std::string(raw.payload().begin(), raw.payload().end()), "ping!");
}

TEST(Ping, Ipv6EchoRequestGetsReply) {
  PeerHarness h(true);
  Tins::ICMPv6 icmp(Tins::ICMPv6::ECHO_REQUEST);
  icmp.identifier(9);
  icmp.sequence(1);
  Tins::EthernetII pkt = eth() / Tins::IPv6("2001:db8::2", "2001:db8:a::1") / icmp / Tins::RawPDU("six");
  h.feed(serialize(pkt), 0ms);
  ASSERT_EQ(h.raw_out.size(), 1u);
  Tins::EthernetII reply(h.raw_out[0].data(), static_cast<std::uint32_t>(h.raw_out[0].size()));
  EXPECT_EQ(reply.rfind_pdu<Tins::ICMPv6>().type(), Tins::ICMPv6::ECHO_REPLY);
  EXPECT_EQ(reply.rfind_pdu<Tins::ICMPv6>().identifier(), 9);
}

TEST(Host, FramesForAnotherMacAreDropped) {
  PeerHarness h;
  Tins::EthernetII pkt = Tins::EthernetII("02:00:00:00:00:99", "02:00:5e:00:53:01") /
                         Tins::IP("192.0.2.2", "192.0.2.1") / Tins::TCP(8080, 40000);
  h.feed(serialize(pkt), 0ms);
  EXPECT_TRUE(h.raw_out.empty());
  EXPECT_EQ(h.host->stats().dropped.at("not-for-us.mac"), 1u);
}

// A well-formed SYN from the kernel, to corrupt byte by byte.
std::vector<std::uint8_t> good_syn(bool v6 = false) {
  Tins::TCP tcp(8080, 40000);
  tcp.flags(Tins::TCP::SYN);
  tcp.mss(1460);
  if (v6) {
    Tins::EthernetII p = eth() / Tins::IPv6("2001:db8::2", "2001:db8:a::1") / tcp;
    return p.serialize();
  }
  Tins::EthernetII p = eth() / Tins::IP("192.0.2.2", "192.0.2.1") / tcp;
  return p.serialize();
}

struct Malformed {
  const char* name;
  bool v6;
  std::function<void(std::vector<std::uint8_t>&)> mangle;
  const char* reason;
};

class MalformedFrame : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedFrame, IsCountedAndDroppedWithoutReply) {
  const Malformed& m = GetParam();
  PeerHarness h(m.v6);
  auto frame = good_syn(m.v6);
  m.mangle(frame);
  h.feed(frame, 0ms);
  EXPECT_TRUE(h.raw_out.empty()) << m.name;
  const auto& dropped = h.host->stats().dropped;
  ASSERT_TRUE(dropped.count(m.reason)) << m.name << ": dropped as "
                                       << (dropped.empty() ? "nothing" : dropped.begin()->first);
  EXPECT_EQ(dropped.at(m.reason), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryLayer, MalformedFrame,
    ::testing::Values(
        Malformed{"ethernet_truncated", false, [](auto& f) { f.resize(10); }, "truncated.ethernet"},
        Malformed{"ipv4_truncated_header", false, [](auto& f) { f.resize(14 + 12); }, "truncated.ipv4"},
        Malformed{"ipv4_bad_version", false, [](auto& f) { f[14] = 0x65; }, "malformed.ipv4"},
        Malformed{"ipv4_total_length_past_end", false, [](auto& f) { f[16] = 0x7f; }, "malformed.ipv4"},
        Malformed{"ipv4_bad_header_checksum", false, [](auto& f) { f[24] ^= 0xff; }, "checksum.ipv4"},
        Malformed{"tcp_bad_checksum", false, [](auto& f) { f[14 + 20 + 16] ^= 0x55; }, "checksum.tcp"},
        Malformed{"tcp_header_truncated", false,
                  [](auto& f) {
                    f.resize(14 + 20 + 10);
                    f[16] = 0;
                    f[17] = 30;  // IP length now covers only 10 TCP bytes
                    f[24] = f[25] = 0;
                    std::uint32_t s = 0;
                    for (int i = 14; i < 34; i += 2) s += static_cast<std::uint32_t>(f[i] << 8 | f[i + 1]);
                    while (s >> 16) s = (s & 0xffff) + (s >> 16);
                    f[24] = static_cast<std::uint8_t>(~s >> 8);
                    f[25] = static_cast<std::uint8_t>(~s);
                  },
                  "truncated.tcp"},
        Malformed{"tcp_data_offset_past_end", false, [](auto& f) { f[14 + 20 + 12] = 0xf0; }, "malformed.tcp"},
        Malformed{"tcp_option_length_zero", false, [](auto& f) { f[14 + 20 + 21] = 0; }, "malformed.tcp"},
        Malformed{"ipv6_truncated", true, [](auto& f) { f.resize(14 + 30); }, "truncated.ipv6"},
        Malformed{"ipv6_payload_length_past_end", true, [](auto& f) { f[18] = 0x7f; }, "malformed.ipv6"},
        Malformed{"ipv6_bad_version", true, [](auto& f) { f[14] = 0x45; }, "malformed.ipv6"},
        Malformed{"ipv6_tcp_bad_checksum", true, [](auto& f) { f[14 + 40 + 16] ^= 0x01; }, "checksum.tcp"},
        Malformed{"arp_truncated", false,
                  [](auto& f) {
                    f.resize(14 + 10);
                    f[12] = 0x08;
                    f[13] = 0x06;
                  },
                  "truncated.arp"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Fragments, Ipv4FragmentsAreReassembledIntoOneSegment) {
  PeerHarness h;
  h.handshake();
  // The kernel's 36-byte segment through a locked 68-byte path MTU: two fragments.
  Tins::TCP tcp(8080, 40000);
  tcp.flags(Tins::TCP::ACK | Tins::TCP::PSH);
  tcp.seq(h.k.snd_nxt.value());
  tcp.ack_seq(h.k.rcv_nxt.value());
  tcp.window(502);
  Tins::IP whole("192.0.2.2", "192.0.2.1");
  whole.id(77);
  Tins::EthernetII pkt = eth() / whole / tcp / Tins::RawPDU(std::string(36, 'q'));
  auto bytes = pkt.serialize();
  const std::size_t ip_at = 14, payload = bytes.size() - ip_at - 20;  // TCP header + data
  auto fragment = [&](std::size_t off, std::size_t len, bool more) {
    Tins::IP ip("192.0.2.2", "192.0.2.1");
    ip.id(77);
    ip.protocol(6);
    ip.fragment_offset(static_cast<std::uint16_t>(off / 8));
    if (more) ip.flags(Tins::IP::MORE_FRAGMENTS);
    std::vector<std::uint8_t> part(bytes.begin() + ip_at + 20 + off, bytes.begin() + ip_at + 20 + off + len);
    Tins::EthernetII f = eth() / ip / Tins::RawPDU(part.data(), static_cast<std::uint32_t>(part.size()));
    return f.serialize();
  };
  EXPECT_TRUE(h.feed(fragment(0, 48, true), 1ms).empty());
  auto out = h.feed(fragment(48, payload - 48, false), 1ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_text(out[0]), std::string(36, 'q'));
  EXPECT_EQ(h.host->stats().fragments, 2u);
  EXPECT_EQ(h.host->stats().reassembled, 1u);
}

}  // namespace
}  // namespace tapfault::testing
