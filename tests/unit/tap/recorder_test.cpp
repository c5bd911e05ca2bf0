// tap::Recorder: frames in both directions on a real TAP, then the pcap read back with
// libpcap (and tshark when installed).
#include "tapfault/tap/recorder.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

#include "support/tap_test_env.hpp"
#include "tapfault/tap/network.hpp"

namespace tapfault::tap {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Seen {
  Bytes bytes;
  bool outgoing;
  std::chrono::nanoseconds kernel_time;
  std::uint64_t index;
};

constexpr std::uint8_t kPeerMac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x02};

// An ARP request from the peer (192.0.2.2): who has 192.0.2.1 (RFC 826).
Bytes arp_request_from_peer() {
  Bytes frame = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  frame.insert(frame.end(), kPeerMac, kPeerMac + 6);
  const Bytes arp = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
  frame.insert(frame.end(), arp.begin(), arp.end());
  frame.insert(frame.end(), kPeerMac, kPeerMac + 6);
  const Bytes rest = {192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1};
  frame.insert(frame.end(), rest.begin(), rest.end());
  frame.resize(60, 0);  // Ethernet minimum without the FCS
  return frame;
}

bool is_arp(const Bytes& frame, std::uint16_t op, std::uint8_t target_last_octet) {
  return frame.size() >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[20] == 0 &&
         frame[21] == op && frame[38] == 192 && frame[39] == 0 && frame[40] == 2 &&
         frame[41] == target_last_octet;
}

void send_udp_to(const char* address) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ::inet_pton(AF_INET, address, &to.sin_addr);
  const char payload[] = "tapfault";
  EXPECT_EQ(::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(sizeof payload));
  ::close(fd);
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pcap_path_ = std::filesystem::path(::testing::TempDir()) /
                 ("tap_recorder_" + std::to_string(::getpid()) + ".pcap");
  }
  void TearDown() override { std::filesystem::remove(pcap_path_); }

  NetworkConfig config() {
    NetworkConfig config;
    config.kernel_addresses = {{*stack::IpAddress::parse("192.0.2.1"), 24}};
    return config;
  }

  // Drains the recorder until `done` holds or two seconds pass.
  template <typename Done>
  void record_until(Recorder& recorder, Done done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      pollfd ready{recorder.fd(), POLLIN, 0};
      ::poll(&ready, 1, 50);
      recorder.drain([this](const RecordedFrame& frame) {
        seen_.push_back({Bytes(frame.bytes.begin(), frame.bytes.end()), frame.outgoing,
                         frame.kernel_time, frame.index});
      });
    }
  }

  bool saw(const Bytes& bytes, bool outgoing) const {
    return std::any_of(seen_.begin(), seen_.end(), [&](const Seen& s) {
      return s.outgoing == outgoing && s.bytes == bytes;
    });
  }
  bool saw_arp(std::uint16_t op, std::uint8_t target, bool outgoing) const {
    return std::any_of(seen_.begin(), seen_.end(), [&](const Seen& s) {
      return s.outgoing == outgoing && is_arp(s.bytes, op, target);
    });
  }

  std::filesystem::path pcap_path_;
  std::vector<Seen> seen_;
};

TEST_F(RecorderTest, RecordsBothDirectionsWithKernelTimestamps) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  std::optional<Recorder> recorder;
  Network network(config(), [&](const TapDevice& tap) { recorder.emplace(tap.name(), pcap_path_); });
  ASSERT_TRUE(recorder.has_value());

  const Bytes request = arp_request_from_peer();
  ASSERT_EQ(network.tap().write(request), static_cast<ssize_t>(request.size()));
  send_udp_to("192.0.2.3");  // unresolved neighbour: the kernel asks who has 192.0.2.3
  record_until(*recorder, [&] {
    return saw(request, false) && saw_arp(1, 3, true) && saw_arp(2, 2, true);
  });

  EXPECT_TRUE(saw(request, /*outgoing=*/false)) << "the frame written into the TAP";
  EXPECT_TRUE(saw_arp(1, 3, /*outgoing=*/true)) << "the kernel's ARP request for 192.0.2.3";
  EXPECT_TRUE(saw_arp(2, 2, /*outgoing=*/true)) << "the kernel's ARP reply to the peer";
  for (std::size_t i = 0; i < seen_.size(); ++i) EXPECT_EQ(seen_[i].index, i + 1);

  const auto now = std::chrono::system_clock::now().time_since_epoch();
  for (const Seen& s : seen_) {
    EXPECT_GT(s.kernel_time, now - std::chrono::minutes(1));
    EXPECT_LE(s.kernel_time, now);
  }
  EXPECT_EQ(recorder->stats().frames, seen_.size());
  EXPECT_EQ(recorder->stats().missing_timestamps, 0u);
  EXPECT_EQ(recorder->stats().truncated, 0u);
}

TEST_F(RecorderTest, PcapReadsBackWithNanosecondTimestampsInOrder) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  std::optional<Recorder> recorder;
  Network network(config(), [&](const TapDevice& tap) { recorder.emplace(tap.name(), pcap_path_); });
  const Bytes request = arp_request_from_peer();
  ASSERT_EQ(network.tap().write(request), static_cast<ssize_t>(request.size()));
  send_udp_to("192.0.2.3");
  record_until(*recorder, [&] { return saw(request, false) && saw_arp(1, 3, true); });
  const std::uint64_t recorded = recorder->stats().frames;
  ASSERT_GE(recorded, 2u);
  recorder->close();
  recorder->close();  // idempotent
  EXPECT_EQ(recorder->fd(), -1);

  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* file = pcap_open_offline_with_tstamp_precision(pcap_path_.c_str(),
                                                         PCAP_TSTAMP_PRECISION_NANO, error);
  ASSERT_NE(file, nullptr) << error;
  EXPECT_EQ(pcap_datalink(file), DLT_EN10MB);
  EXPECT_EQ(pcap_get_tstamp_precision(file), PCAP_TSTAMP_PRECISION_NANO);
  std::vector<std::chrono::nanoseconds> stamps;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  bool found_request = false;
  while (pcap_next_ex(file, &header, &data) == 1) {
    stamps.push_back(std::chrono::seconds(header->ts.tv_sec) +
                     std::chrono::nanoseconds(header->ts.tv_usec));
    found_request |= Bytes(data, data + header->caplen) == request;
  }
  pcap_close(file);

  EXPECT_EQ(stamps.size(), recorded);
  EXPECT_TRUE(found_request);
  EXPECT_GT(stamps.front().count(), 0);
  EXPECT_TRUE(std::is_sorted(stamps.begin(), stamps.end()));
  EXPECT_LT(stamps.front(), stamps.back());

  if (::tapfault::testing::tool_available("tshark")) {
    auto r = ::tapfault::testing::shell("tshark -r '" + pcap_path_.string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

// At link down the kernel reports ENETDOWN on the packet socket once; the recorder counts
// it and records again after link up.
TEST_F(RecorderTest, SurvivesLinkDownAndRecordsAgainAfterLinkUp) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  std::optional<Recorder> recorder;
  Network network(config(), [&](const TapDevice& tap) { recorder.emplace(tap.name(), pcap_path_); });
  network.link_down();
  EXPECT_NO_THROW(recorder->drain());
  EXPECT_EQ(recorder->stats().link_down_events, 1u);
  const Bytes request = arp_request_from_peer();
  EXPECT_EQ(network.tap().write(request), -1) << "the TAP took a frame while down";
  EXPECT_EQ(errno, EIO);

  network.link_up();
  ASSERT_EQ(network.tap().write(request), static_cast<ssize_t>(request.size()));
  record_until(*recorder, [&] { return saw(request, false) && saw_arp(2, 2, true); });
  EXPECT_TRUE(saw(request, false));
  EXPECT_TRUE(saw_arp(2, 2, true)) << "the kernel's ARP reply after link up";
}

TEST_F(RecorderTest, UnknownInterfaceIsASetupError) {
  TAPFAULT_ENTER_NETNS();
  EXPECT_THROW(Recorder("nosuch0", pcap_path_), SetupError);
}

TEST_F(RecorderTest, UnwritablePcapPathIsASetupErrorNamingIt) {
  TAPFAULT_ENTER_NETNS();
  try {
    Recorder recorder("lo", "/nonexistent-dir/capture.pcap");
    FAIL() << "created a pcap in a directory that does not exist";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/capture.pcap"), std::string::npos);
  }
}

}  // namespace
}  // namespace tapfault::tap
