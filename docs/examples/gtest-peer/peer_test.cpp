// Using tapfault from another project's GoogleTests.
//
// 1. The peer alone (tapfault::stack::Host), driven frame by frame with a fake clock: no
//    privileges, no network, exact times. The test plays the kernel: it builds a SYN with
//    the stack's encoder, feeds it at t = 1 ms, and expects the SYN-ACK, then the SYN-ACK's
//    retransmission at exactly the peer's retransmission timeout.
// 2. A whole scenario against the real kernel (tapfault::replay::run_scenario) when root:
//    a run enters a private network namespace, which a process can do only once and which
//    would take the test program with it, so the run happens in a forked child.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <variant>

#include "tapfault/replay/run/run.hpp"
#include "tapfault/replay/scenario/scenario.hpp"
#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/host.hpp"

namespace {

using namespace std::chrono_literals;
namespace stack = tapfault::stack;

const stack::MacAddress kKernelMac = *stack::MacAddress::parse("02:00:5e:00:53:01");
const stack::MacAddress kPeerMac = *stack::MacAddress::parse("02:00:5e:00:53:02");
const stack::IpAddress kKernelIp = *stack::IpAddress::parse("192.0.2.1");
const stack::IpAddress kPeerIp = *stack::IpAddress::parse("192.0.2.2");

stack::Instant at(stack::Duration d) { return stack::Instant(d); }  // the fake clock

std::vector<std::uint8_t> syn_frame(std::uint32_t isn) {
  stack::TcpSegmentOut syn;
  syn.src = kKernelIp;
  syn.dst = kPeerIp;
  syn.tcp.src_port = 40000;
  syn.tcp.dst_port = 8080;
  syn.tcp.seq = stack::SeqNum(isn);
  syn.tcp.flags = stack::tcp_flags::kSyn;
  syn.tcp.window = 64240;
  syn.tcp.options.mss = 1460;
  return stack::encode_tcp({kKernelMac, kPeerMac}, syn);
}

// The host's output after a step, taken and cleared (pending_output() + clear_output()).
std::vector<stack::Frame> take_output(stack::Host& host) {
  std::vector<stack::Frame> frames(host.pending_output().begin(), host.pending_output().end());
  host.clear_output();
  return frames;
}

std::optional<stack::DecodedTcp> only_segment(const std::vector<stack::Frame>& frames) {
  if (frames.size() != 1) return std::nullopt;
  auto d = stack::decode_frame(frames[0]);
  auto* f = std::get_if<stack::DecodedFrame>(&d);
  if (!f) return std::nullopt;
  auto* tcp = std::get_if<stack::DecodedTcp>(&f->body);
  if (!tcp) return std::nullopt;
  return *tcp;
}

stack::HostConfig echo_peer() {
  stack::HostConfig cfg;
  cfg.mac = kPeerMac;
  cfg.addresses = {kPeerIp};
  cfg.listeners = {stack::ListenerConfig{.port = 8080, .mode = stack::AppMode::kEcho}};
  cfg.retransmit_timeout = 200ms;
  return cfg;
}

TEST(PeerHandshake, SynGetsSynAckAcknowledgingTheIsn) {
  stack::Host host(echo_peer());
  host.on_frame(syn_frame(1000), at(1ms));
  auto seg = only_segment(take_output(host));
  ASSERT_TRUE(seg) << "one TCP segment in answer to the SYN";
  EXPECT_EQ(seg->tcp.flags, stack::tcp_flags::kSyn | stack::tcp_flags::kAck);
  EXPECT_EQ(seg->tcp.ack, stack::SeqNum(1001));
  EXPECT_EQ(seg->tcp.src_port, 8080);
  EXPECT_EQ(seg->tcp.dst_port, 40000);
  EXPECT_EQ(seg->src, kPeerIp);
  EXPECT_EQ(seg->dst, kKernelIp);
}

TEST(PeerHandshake, UnansweredSynAckIsRetransmittedAtTheRtoExactly) {
  stack::Host host(echo_peer());
  host.on_frame(syn_frame(1000), at(1ms));
  ASSERT_TRUE(only_segment(take_output(host)));
  ASSERT_TRUE(host.next_deadline());
  EXPECT_EQ(*host.next_deadline(), at(201ms));
  host.poll(at(200ms));
  EXPECT_TRUE(take_output(host).empty()) << "nothing before the deadline";
  host.poll(at(201ms));
  auto again = only_segment(take_output(host));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tcp.flags, stack::tcp_flags::kSyn | stack::tcp_flags::kAck);
}

constexpr const char* kEchoScenario = R"(
name: example-echo
duration: 10s
network:
  family: ipv4
peer:
  port: 8080
client:
  actions:
    - connect
    - send: "hello\n"
    - recv: 6
    - close
expect:
  error: none
  client_received: 6
  peer_received: 6
)";

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

TEST(RealKernel, EchoScenarioPassesInAForkedChild) {
  std::string why;
  if (geteuid() != 0) why = "not root";
  else if (access("/dev/net/tun", R_OK | W_OK) != 0) why = "/dev/net/tun is not usable";
  if (!why.empty()) {
    if (in_ci()) FAIL() << "CI=true but the scenario cannot run: " << why;
    GTEST_SKIP() << why;
  }
  tapfault::replay::Scenario s = tapfault::replay::parse_scenario(kEchoScenario, "example-echo.yaml");
  auto out = std::filesystem::temp_directory_path() / ("tapfault-example-" + std::to_string(getpid()));
  std::filesystem::remove_all(out);

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 3;
    try {
      tapfault::replay::RunOptions o;
      o.out_dir = out;
      o.quiet = true;
      rc = tapfault::replay::run_scenario(s, o).exit_code;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "run_scenario: %s\n", e.what());
    }
    std::fflush(nullptr);
    _exit(rc);  // no gtest teardown in the child
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), tapfault::replay::kExitPass);
  EXPECT_TRUE(std::filesystem::exists(out / "capture.pcap"));
  EXPECT_TRUE(std::filesystem::exists(out / "report.json"));
  std::filesystem::remove_all(out);
}

}  // namespace
