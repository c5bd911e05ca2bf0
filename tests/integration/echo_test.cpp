// The kernel's TCP client against the peer on a real TAP in a fresh namespace:
// connect, 1 MiB each way, data intact, clean close, capture readable.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

using stack::tcp_flags::kAck;
using stack::tcp_flags::kFin;
using stack::tcp_flags::kRst;
using stack::tcp_flags::kSyn;

class EchoRun : public ::testing::TestWithParam<const char*> {};

TEST_P(EchoRun, OneMebibyteEachWayThenCleanClose) {
  TAPFAULT_REQUIRE_NETNS();
  std::string name = GetParam();
  auto out = fresh_out_dir(name);
  auto r = run_tapfault("run " + scenario_path("echo/echo.yaml").string() + " --family " + name + " --out " +
                        out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto report = read_json(out / "report.json");
  EXPECT_EQ(report["verdict"], "pass");
  EXPECT_EQ(report["client"]["bytes_received"], 1u << 20);
  EXPECT_EQ(report["client"]["bytes_sent"], 1u << 20);
  EXPECT_EQ(report["client"]["final_error"], "none");
  ASSERT_EQ(report["peer"]["connections"].size(), 1u);
  EXPECT_EQ(report["peer"]["connections"][0]["bytes_received"], 1u << 20);
  EXPECT_EQ(report["peer"]["connections"][0]["state"], "CLOSED");
  EXPECT_EQ(report["peer"]["stats"]["dropped"].value("checksum.tcp", 0), 0);

  auto frames = read_pcap(out / "capture.pcap");
  ASSERT_FALSE(frames.empty());
  // The capture is complete: every frame it counts is in the file, none was lost on the
  // way to the recorder or to the peer, each has the kernel's time stamp.
  EXPECT_EQ(report["capture"]["frames"], frames.size());
  EXPECT_EQ(report["capture"]["recorder_drops"], 0);
  EXPECT_EQ(report["capture"]["tap_queue_drops"], 0);
  EXPECT_EQ(report["capture"]["missing_kernel_timestamps"], 0);
  EXPECT_FALSE(report["capture"].contains("warning")) << report["capture"].dump();
  for (std::size_t i = 1; i < frames.size(); ++i) EXPECT_LE(frames[i - 1].t, frames[i].t) << "frame " << i + 1;
  auto segs = tcp_segments(frames);
  bool v6 = name.find("ipv6") != std::string::npos;
  auto kernel = stack::IpAddress::parse(v6 ? "2001:db8:a::1" : "192.0.2.1");
  // Rebuild each direction's byte stream from the capture by sequence number: a
  // retransmission (a tail-loss probe when the machine is loaded) lands on the same bytes.
  std::vector<std::uint8_t> streams[2] = {std::vector<std::uint8_t>(1 << 20, 0), std::vector<std::uint8_t>(1 << 20, 0)};
  std::vector<bool> seen[2] = {std::vector<bool>(1 << 20), std::vector<bool>(1 << 20)};
  std::uint32_t isn[2] = {0, 0};
  int syn = 0, synack = 0, fin_kernel = 0, fin_peer = 0, rst = 0;
  for (const auto& s : segs) {
    int dir = s.src == *kernel ? 0 : 1;
    if (s.tcp.has(kSyn)) isn[dir] = s.tcp.seq.value();
    if (s.tcp.flags == kSyn) ++syn;
    if (s.tcp.flags == (kSyn | kAck)) ++synack;
    if (s.tcp.has(kFin)) ++(dir == 0 ? fin_kernel : fin_peer);
    if (s.tcp.has(kRst)) ++rst;
    std::uint32_t off = s.tcp.seq.value() - isn[dir] - 1;
    for (std::size_t i = 0; i < s.payload.size(); ++i) {
      ASSERT_LT(off + i, streams[dir].size()) << "data beyond 1 MiB";
      streams[dir][off + i] = s.payload[i];
      seen[dir][off + i] = true;
    }
  }
  EXPECT_EQ(syn, 1);
  EXPECT_EQ(synack, 1);
  EXPECT_EQ(fin_kernel, 1);
  EXPECT_EQ(fin_peer, 1);
  EXPECT_EQ(rst, 0);
  for (int dir = 0; dir < 2; ++dir) {
    std::size_t missing = std::count(seen[dir].begin(), seen[dir].end(), false);
    EXPECT_EQ(missing, 0u) << (dir ? "peer" : "kernel") << " stream has holes";
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < streams[dir].size(); ++i) wrong += streams[dir][i] != 'a' + i % 26;
    EXPECT_EQ(wrong, 0u) << (dir ? "peer" : "kernel") << " stream differs from the pattern the client sent";
  }
  for (const auto& [reason, count] : report["peer"]["stats"]["dropped"].items())
    EXPECT_EQ(reason.rfind("ignored.", 0), 0u) << "the peer dropped " << count << " frames as " << reason;

  if (have_tool("tshark")) {
    auto ts = shell("tshark -n -r " + (out / "capture.pcap").string());
    EXPECT_EQ(ts.exit_code, 0) << ts.output.substr(0, 2000);
    EXPECT_EQ(ts.output.find("Malformed"), std::string::npos);
    EXPECT_NE(ts.output.find("[SYN, ACK]"), std::string::npos);
  } else if (in_ci()) {
    ADD_FAILURE() << "tshark is missing; the test script installs it";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, EchoRun, ::testing::Values("ipv4", "ipv6"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace tapfault::testing

namespace tapfault::testing {
namespace {

// peer.ack: delayed acknowledges like Linux (at most every second full-sized segment while
// data flows), ack: each every segment; both deliver every byte. 1 MiB into discard.
struct AckCount {
  int kernel_data = 0;  // segments with payload the kernel sent
  int peer_acks = 0;    // segments without payload, SYN or FIN the peer sent
};

AckCount bulk_into_discard(const std::string& ack) {
  const auto dir = fresh_out_dir("ack-" + ack);
  std::filesystem::create_directories(dir);
  const auto yaml = dir / "ack.yaml";
  std::ofstream(yaml) << "name: ack-" << ack << "\nnetwork:\n  family: ipv4\npeer:\n  port: 9\n  mode: discard\n  ack: " << ack
                      << "\nclient:\n  actions:\n    - connect\n    - send: {size: 1MiB}\n    - close\nexpect:\n  peer_received: 1MiB\n";
  auto r = run_tapfault("run " + yaml.string() + " --out " + (dir / "out").string() + " -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  AckCount n;
  const auto peer = stack::IpAddress::parse("192.0.2.2");
  const auto frames = read_pcap(dir / "out" / "capture.pcap");
  for (const auto& s : tcp_segments(frames)) {
    const bool from_peer = s.src == *peer;
    if (!from_peer && !s.payload.empty()) ++n.kernel_data;
    if (from_peer && s.payload.empty() && !s.tcp.has(stack::tcp_flags::kSyn) && !s.tcp.has(stack::tcp_flags::kFin))
      ++n.peer_acks;
  }
  return n;
}

TEST(PeerAck, DelayedAcknowledgesAboutEverySecondSegmentEachAcknowledgesEvery) {
  TAPFAULT_REQUIRE_NETNS();
  const AckCount each = bulk_into_discard("each");
  const AckCount delayed = bulk_into_discard("delayed");
  ASSERT_GT(each.kernel_data, 700);  // 1 MiB in segments of at most 1448 bytes
  ASSERT_GT(delayed.kernel_data, 700);
  // Every data segment but the one that carried the kernel's FIN (answered by the FIN).
  EXPECT_GE(each.peer_acks, each.kernel_data - 1) << "ack: each answers every data segment";
  EXPECT_LE(delayed.peer_acks, delayed.kernel_data * 6 / 10) << "ack: delayed answers about every second one";
  EXPECT_GE(delayed.peer_acks, delayed.kernel_data * 4 / 10) << "not fewer than one per two full segments";
}

}  // namespace
}  // namespace tapfault::testing
