// Good scenarios: every field of the format lands in the data model, defaults fill the rest,
// and the example files under tests/data/scenarios/good parse. Read docs/scenarios.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

stack::IpAddress ip(const char* text) { return *stack::IpAddress::parse(text); }

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// A scratch directory with the files a scenario refers to; removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tapfault-scenario-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

constexpr std::string_view kFull = R"(# every field of the format, once
name: full-ipv4
description: every field
tags: [smoke, ipv4, realtime]
seed: 7
duration: 40s
settle: 500ms
network:
  family: ipv4
  mtu: 1400
  kernel_address: 10.1.0.1/16
  peer_address: 10.1.0.2
  gateway: 10.1.0.254
  router_address: 198.51.100.1
sysctl:
  net.ipv4.tcp_retries2: 5
  net.ipv4.tcp_rmem: "4096 131072 6291456"
peer:
  ports: [8080, 8081]
  mode: respond
  response_file: response.txt
  respond_on_connect: true
  close_after_response: yes
  window: 64KiB
  window_scale: 2
  faults:
    - name: vanish
      at: 1.5s
      silent: all
    - window: 0
      on_rx_bytes: 6
      until: 5s
      connection: 2
    - icmp: {type: frag-needed, mtu: 68, from: router, every: true}
      on_segment: 2
      until: {on_segment: 4}
    - rst: {offset: -1}
      after: {fault: vanish, delay: 2s}
    - silent: {mode: output}
      on_state: FIN_WAIT1
    - window: {size: 0, ignore_probes: true}
      after: {fault: vanish, segments: 3}
    - window: reopen
      at: 10s
    - icmp: host-unreachable
      until: {after: {fault: vanish}}
    - rst: true
      name: last
client:
  local_port: 41000
  peer_port: 8081
  socket_options:
    SO_KEEPALIVE: true
    TCP_KEEPIDLE: 1
    TCP_KEEPINTVL: 2s
    TCP_KEEPCNT: 3
    TCP_USER_TIMEOUT: 3s
    TCP_NODELAY: 1
    TCP_MAXSEG: 536
    SO_SNDBUF: 64KiB
    SO_RCVBUF: 100000
    TCP_CONGESTION: reno
    IP_MTU_DISCOVER: do
  actions:
    - connect
    - send: "hello\n"
      at: 100ms
    - send: {size: 1MiB}
    - send: {file: payload.bin}
      after: 50ms
    - recv: 1MiB
    - recv: {bytes: any, timeout: 10s}
    - recv: eof
    - wait: 2s
    - wait_error: {timeout: 1000s}
    - connect_again: {timeout: 1s, local_port: 41001}
    - shutdown: both
    - close
actions:
  - at: 4s
    link-down: {}
  - at: 2s
    route-del: peer
  - at: 3s
    route-add: {prefix: 10.2.0.0/16}
  - at: 5s
    link-up:
  - at: 6s
    mtu: 1280
  - at: 7s
    sysctl: {net.ipv4.tcp_retries2: 3}
  - at: 8s
    route-del: 10.2.0.9
expect:
  client_received: 1MiB
  peer_received: 17
  error: ETIMEDOUT
  error_before: 30s
  connect_error: ENETUNREACH
  state: SYN-SENT
  tcp_info: {snd_mss: 36, pmtu: 68, rto: 200ms, state: ESTAB, bytes_acked: 1KiB, rtt: 1500}
  timer: persist
  rst_from_kernel: false
  model:
    kind: rto
    tolerance: 4ms
    events: 6
)";

class FullScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("response.txt", "HTTP/1.0 200 OK\r\n\r\nhi");
    dir_.write("payload.bin", std::string("\0\1\2", 3));
    file_ = dir_.write("full.yaml", kFull);
    s_ = parse_scenario_file(file_);
  }
  ScratchDir dir_;
  std::filesystem::path file_;
  Scenario s_;
};

TEST_F(FullScenario, TopLevelFields) {
  EXPECT_EQ(s_.name, "full-ipv4");
  EXPECT_EQ(s_.description, "every field");
  EXPECT_THAT(s_.tags, ElementsAre("smoke", "ipv4", "realtime"));
  EXPECT_TRUE(s_.realtime());
  EXPECT_TRUE(s_.has_tag("smoke"));
  EXPECT_FALSE(s_.has_tag("ipv6"));
  EXPECT_EQ(s_.seed, 7u);
  EXPECT_EQ(s_.duration, 40s);
  EXPECT_EQ(s_.settle, 500ms);
  EXPECT_EQ(s_.file, file_);
}

TEST_F(FullScenario, NetworkAndSysctlsInFileOrder) {
  const NetworkSpec& n = s_.network;
  EXPECT_EQ(n.family, stack::Family::kIpv4);
  EXPECT_EQ(n.mtu, 1400u);
  EXPECT_EQ(n.kernel_address, (IpPrefix{ip("10.1.0.1"), 16}));
  EXPECT_EQ(n.peer_address, ip("10.1.0.2"));
  EXPECT_EQ(n.gateway, ip("10.1.0.254"));
  EXPECT_EQ(n.router_address, ip("198.51.100.1"));
  EXPECT_EQ(n.line, 9);
  ASSERT_EQ(s_.sysctls.size(), 2u);
  EXPECT_EQ(s_.sysctls[0].name, "net.ipv4.tcp_retries2");
  EXPECT_EQ(s_.sysctls[0].value, "5");
  EXPECT_EQ(s_.sysctls[0].line, 16);
  EXPECT_EQ(s_.sysctls[1].name, "net.ipv4.tcp_rmem");
  EXPECT_EQ(s_.sysctls[1].value, "4096 131072 6291456");
}

TEST_F(FullScenario, PeerWithResponseFileResolvedAgainstTheScenarioDirectory) {
  const PeerSpec& p = s_.peer;
  EXPECT_THAT(p.ports, ElementsAre(8080, 8081));
  EXPECT_EQ(p.mode, stack::AppMode::kRespond);
  EXPECT_EQ(p.response_file, dir_.path() / "response.txt");
  EXPECT_EQ(p.response, bytes("HTTP/1.0 200 OK\r\n\r\nhi"));
  EXPECT_TRUE(p.respond_on_connect);
  EXPECT_TRUE(p.close_after_response);
  EXPECT_EQ(p.window_bytes, 64u * 1024);
  EXPECT_EQ(p.window_scale, 2);
  const auto listeners = p.listeners();
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[1].port, 8081);
  EXPECT_EQ(listeners[1].mode, stack::AppMode::kRespond);
  EXPECT_EQ(listeners[1].response, p.response);
  EXPECT_TRUE(listeners[1].respond_on_connect);
  EXPECT_TRUE(listeners[1].close_after_response);
}

TEST_F(FullScenario, FaultsWithEveryTriggerAndAction) {
  const auto& f = s_.peer.faults.faults;
  ASSERT_EQ(f.size(), 9u);

  EXPECT_EQ(f[0].name, "vanish");
  EXPECT_EQ(f[0].line, 27);
  EXPECT_EQ(f[0].trigger.kind, stack::TriggerKind::kAt);
  EXPECT_EQ(f[0].trigger.at, 1500ms);
  EXPECT_EQ(f[0].action, stack::ActionKind::kSilent);
  EXPECT_EQ(f[0].silent.mode, stack::SilentMode::kAll);
  EXPECT_FALSE(f[0].until.has_value());
  EXPECT_EQ(f[0].connection, 0u);

  EXPECT_EQ(f[1].name, "fault#2");
  EXPECT_EQ(f[1].trigger.kind, stack::TriggerKind::kOnRxBytes);
  EXPECT_EQ(f[1].trigger.count, 6u);
  EXPECT_EQ(f[1].action, stack::ActionKind::kWindow);
  EXPECT_EQ(f[1].window.window_bytes, 0u);
  EXPECT_FALSE(f[1].window.reopen);
  EXPECT_FALSE(f[1].window.ignore_probes);
  ASSERT_TRUE(f[1].until.has_value());
  EXPECT_EQ(f[1].until->kind, stack::TriggerKind::kAt);
  EXPECT_EQ(f[1].until->at, 5s);
  EXPECT_EQ(f[1].connection, 2u);

  EXPECT_EQ(f[2].trigger.kind, stack::TriggerKind::kOnSegment);
  EXPECT_EQ(f[2].trigger.count, 2u);
  EXPECT_EQ(f[2].action, stack::ActionKind::kIcmp);
  EXPECT_EQ(f[2].icmp.kind, stack::IcmpKind::kFragNeeded);
  EXPECT_EQ(f[2].icmp.mtu, 68u);
  EXPECT_EQ(f[2].icmp.source, ip("198.51.100.1"));
  EXPECT_TRUE(f[2].icmp.every);
  ASSERT_TRUE(f[2].until.has_value());
  EXPECT_EQ(f[2].until->kind, stack::TriggerKind::kOnSegment);
  EXPECT_EQ(f[2].until->count, 4u);

  EXPECT_EQ(f[3].action, stack::ActionKind::kRst);
  EXPECT_EQ(f[3].rst.offset, -1);
  EXPECT_EQ(f[3].trigger.kind, stack::TriggerKind::kAfterFault);
  EXPECT_EQ(f[3].trigger.fault, "vanish");
  EXPECT_EQ(f[3].trigger.delay, 2s);
  EXPECT_EQ(f[3].trigger.count, 0u);

  EXPECT_EQ(f[4].silent.mode, stack::SilentMode::kOutput);
  EXPECT_EQ(f[4].trigger.kind, stack::TriggerKind::kOnState);
  EXPECT_EQ(f[4].trigger.state, stack::TcpState::kFinWait1);

  EXPECT_EQ(f[5].window.window_bytes, 0u);
  EXPECT_TRUE(f[5].window.ignore_probes);
  EXPECT_EQ(f[5].trigger.kind, stack::TriggerKind::kAfterFault);
  EXPECT_EQ(f[5].trigger.count, 3u);
  EXPECT_EQ(f[5].trigger.delay, 0s);

  EXPECT_TRUE(f[6].window.reopen);
  EXPECT_EQ(f[6].trigger.at, 10s);

  EXPECT_EQ(f[7].icmp.kind, stack::IcmpKind::kHostUnreachable);
  EXPECT_FALSE(f[7].icmp.source.has_value());
  EXPECT_FALSE(f[7].icmp.every);
  EXPECT_EQ(f[7].trigger.kind, stack::TriggerKind::kImmediate);
  ASSERT_TRUE(f[7].until.has_value());
  EXPECT_EQ(f[7].until->kind, stack::TriggerKind::kAfterFault);
  EXPECT_EQ(f[7].until->fault, "vanish");

  EXPECT_EQ(f[8].name, "last");
  EXPECT_EQ(f[8].action, stack::ActionKind::kRst);
  EXPECT_EQ(f[8].rst.offset, 0);
}

TEST_F(FullScenario, ClientSocketOptionsWithLevelsNamesAndValues) {
  ASSERT_TRUE(s_.client.has_value());
  const ClientSpec& c = *s_.client;
  EXPECT_EQ(c.local_port, 41000);
  EXPECT_EQ(c.peer_port, 8081);
  const auto& o = c.socket_options;
  ASSERT_EQ(o.size(), 11u);
  auto expect_option = [&](std::size_t i, const char* name, int level, int optname, std::variant<int, std::string> v) {
    SCOPED_TRACE(name);
    EXPECT_EQ(o[i].name, name);
    EXPECT_EQ(o[i].level, level);
    EXPECT_EQ(o[i].optname, optname);
    EXPECT_EQ(o[i].value, v);
  };
  expect_option(0, "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1);
  expect_option(1, "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 1);
  expect_option(2, "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 2);
  expect_option(3, "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 3);
  expect_option(4, "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 3000);
  expect_option(5, "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1);
  expect_option(6, "TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, 536);
  expect_option(7, "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 65536);
  expect_option(8, "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 100000);
  expect_option(9, "TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, std::string("reno"));
  expect_option(10, "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
  EXPECT_EQ(o[0].line, 53);
}

TEST_F(FullScenario, ClientActionsInOrderWithTheirTiming) {
  const auto& a = s_.client->actions;
  using K = ClientAction::Kind;
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(a[0].kind, K::kConnect);
  EXPECT_FALSE(a[0].at.has_value());
  EXPECT_EQ(a[0].after, 0s);
  EXPECT_FALSE(a[0].timeout.has_value());
  EXPECT_EQ(a[0].line, 65);

  EXPECT_EQ(a[1].kind, K::kSend);
  EXPECT_EQ(a[1].source, ClientAction::SendSource::kText);
  EXPECT_EQ(a[1].data, bytes("hello\n"));
  EXPECT_EQ(a[1].bytes, 6u);
  EXPECT_EQ(a[1].at, 100ms);

  EXPECT_EQ(a[2].source, ClientAction::SendSource::kPattern);
  EXPECT_EQ(a[2].bytes, 1u << 20);
  EXPECT_TRUE(a[2].data.empty());
  const auto pattern = a[2].payload();
  ASSERT_EQ(pattern.size(), 1u << 20);
  EXPECT_EQ(pattern[0], 'a');
  EXPECT_EQ(pattern[27], 'b');

  EXPECT_EQ(a[3].source, ClientAction::SendSource::kFile);
  EXPECT_EQ(a[3].file, dir_.path() / "payload.bin");
  EXPECT_EQ(a[3].data, bytes(std::string_view("\0\1\2", 3)));
  EXPECT_EQ(a[3].bytes, 3u);
  EXPECT_EQ(a[3].after, 50ms);
  EXPECT_FALSE(a[3].at.has_value());

  EXPECT_EQ(a[4].kind, K::kRecv);
  EXPECT_EQ(a[4].until, ClientAction::RecvUntil::kBytes);
  EXPECT_EQ(a[4].bytes, 1u << 20);
  EXPECT_EQ(a[5].until, ClientAction::RecvUntil::kAny);
  EXPECT_EQ(a[5].timeout, 10s);
  EXPECT_EQ(a[6].until, ClientAction::RecvUntil::kEof);

  EXPECT_EQ(a[7].kind, K::kWait);
  EXPECT_EQ(a[7].duration, 2s);
  EXPECT_EQ(a[8].kind, K::kWaitError);
  EXPECT_EQ(a[8].timeout, 1000s);
  EXPECT_EQ(a[9].kind, K::kConnectAgain);
  EXPECT_EQ(a[9].timeout, 1s);
  EXPECT_EQ(a[9].local_port, 41001);
  EXPECT_EQ(a[10].kind, K::kShutdown);
  EXPECT_EQ(a[10].shutdown_how, SHUT_RDWR);
  EXPECT_EQ(a[11].kind, K::kClose);
}

TEST_F(FullScenario, KernelActionsSortedByTime) {
  const auto& k = s_.kernel_actions;
  using K = KernelAction::Kind;
  ASSERT_EQ(k.size(), 7u);
  EXPECT_EQ(k[0].kind, K::kRouteDel);
  EXPECT_EQ(k[0].at, 2s);
  EXPECT_FALSE(k[0].prefix.has_value());
  EXPECT_EQ(k[1].kind, K::kRouteAdd);
  EXPECT_EQ(k[1].prefix, (IpPrefix{ip("10.2.0.0"), 16}));
  EXPECT_EQ(k[1].via, ip("10.1.0.254"));  // network.gateway by default
  EXPECT_EQ(k[2].kind, K::kLinkDown);
  EXPECT_EQ(k[2].at, 4s);
  EXPECT_EQ(k[2].line, 80);
  EXPECT_EQ(k[3].kind, K::kLinkUp);
  EXPECT_EQ(k[4].kind, K::kMtu);
  EXPECT_EQ(k[4].mtu, 1280u);
  EXPECT_EQ(k[5].kind, K::kSysctl);
  ASSERT_EQ(k[5].sysctls.size(), 1u);
  EXPECT_EQ(k[5].sysctls[0].name, "net.ipv4.tcp_retries2");
  EXPECT_EQ(k[5].sysctls[0].value, "3");
  EXPECT_EQ(k[6].prefix, (IpPrefix{ip("10.2.0.9"), 32}));
}

TEST_F(FullScenario, Expectations) {
  const Expectations& e = s_.expect;
  EXPECT_EQ(e.client_received->value, 1u << 20);
  EXPECT_EQ(e.client_received->line, 95);
  EXPECT_EQ(e.peer_received->value, 17u);
  EXPECT_EQ(e.error->value, ETIMEDOUT);
  EXPECT_EQ(e.error_before->value, 30s);
  EXPECT_EQ(e.connect_error->value, ENETUNREACH);
  EXPECT_EQ(e.state->value, SocketState::kSynSent);
  ASSERT_EQ(e.tcp_info.size(), 6u);
  EXPECT_EQ(e.tcp_info[0].field, "snd_mss");
  EXPECT_EQ(e.tcp_info[0].value, 36);
  EXPECT_EQ(e.tcp_info[1].field, "pmtu");
  EXPECT_EQ(e.tcp_info[1].value, 68);
  EXPECT_EQ(e.tcp_info[2].field, "rto");
  EXPECT_EQ(e.tcp_info[2].value, 200000);  // microseconds, as tcp_info reports
  EXPECT_EQ(e.tcp_info[3].value, static_cast<int>(SocketState::kEstablished));
  EXPECT_EQ(e.tcp_info[4].value, 1024);
  EXPECT_EQ(e.tcp_info[5].value, 1500);
  EXPECT_EQ(e.timer->value, SocketTimer::kPersist);
  EXPECT_EQ(e.rst_from_kernel->value, false);
  ASSERT_TRUE(e.model.has_value());
  EXPECT_EQ(e.model->kind, ModelExpectation::Kind::kRto);
  EXPECT_EQ(e.model->tolerance, 4ms);
  EXPECT_EQ(e.model->events, 6u);
}

TEST(ScenarioDefaults, MinimalIpv4ScenarioGetsDocumentedDefaults) {
  const Scenario s = parse_scenario("network: {family: ipv4}\npeer: {port: 80}\n", "some/dir/echo-test.yaml");
  EXPECT_EQ(s.name, "echo-test");
  EXPECT_EQ(s.description, "");
  EXPECT_THAT(s.tags, ElementsAre("ipv4")) << "each run is tagged with its family";
  EXPECT_FALSE(s.realtime());
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration, 30s);
  EXPECT_EQ(s.settle, 200ms);
  EXPECT_EQ(s.network.mtu, 1500u);
  EXPECT_EQ(s.network.kernel_address, (IpPrefix{ip("192.0.2.1"), 24}));
  EXPECT_EQ(s.network.peer_address, ip("192.0.2.2"));
  EXPECT_FALSE(s.network.gateway.has_value());
  EXPECT_FALSE(s.network.router_address.has_value());
  EXPECT_TRUE(s.sysctls.empty());
  EXPECT_THAT(s.peer.ports, ElementsAre(80));
  EXPECT_EQ(s.peer.mode, stack::AppMode::kEcho);
  EXPECT_TRUE(s.peer.response.empty());
  EXPECT_EQ(s.peer.window_bytes, 256u * 1024);
  EXPECT_EQ(s.peer.window_scale, 7);
  EXPECT_FALSE(s.peer.delayed_ack.has_value()) << "every segment acknowledged at once unless the scenario says";
  EXPECT_TRUE(s.peer.faults.faults.empty());
  EXPECT_FALSE(s.client.has_value());
  EXPECT_TRUE(s.kernel_actions.empty());
  EXPECT_FALSE(s.expect.error.has_value());
  EXPECT_FALSE(s.expect.model.has_value());
  EXPECT_TRUE(s.expect.tcp_info.empty());
}

TEST(ScenarioDefaults, Ipv6DefaultsRouteThePeerThroughTheGateway) {
  const Scenario s = parse_scenario("network:\n  family: ipv6\npeer:\n  port: 80\n", "v6.yaml");
  EXPECT_EQ(s.network.family, stack::Family::kIpv6);
  EXPECT_EQ(s.network.mtu, 1500u);
  EXPECT_EQ(s.network.kernel_address, (IpPrefix{ip("2001:db8:a::1"), 64}));
  EXPECT_EQ(s.network.peer_address, ip("2001:db8::2"));
  EXPECT_EQ(s.network.gateway, ip("2001:db8:a::2"));
}

TEST(ScenarioDefaults, Ipv6GatewayNoneMeansOnLink) {
  const Scenario s = parse_scenario(
      "network:\n  family: ipv6\n  peer_address: 2001:db8:a::2\n  gateway: none\npeer:\n  port: 80\n", "v6.yaml");
  EXPECT_FALSE(s.network.gateway.has_value());
}

TEST(ScenarioDefaults, EmptyClientConnectsOnceToTheFirstPeerPort) {
  const Scenario s = parse_scenario("network: {family: ipv4}\npeer: {ports: [81, 82]}\nclient: {}\n", "c.yaml");
  ASSERT_TRUE(s.client.has_value());
  EXPECT_EQ(s.client->local_port, 40000);
  EXPECT_EQ(s.client->peer_port, 81);
  EXPECT_TRUE(s.client->socket_options.empty());
  ASSERT_EQ(s.client->actions.size(), 1u);
  EXPECT_EQ(s.client->actions[0].kind, ClientAction::Kind::kConnect);
  EXPECT_EQ(s.client->actions[0].line, 3);
}

TEST(ScenarioExpect, AtNamesTheTimeOfTheSocketChecks) {
  const Scenario s = parse_scenario(
      "duration: 6s\nnetwork: {family: ipv4}\npeer: {port: 80}\nexpect:\n  at: 2500ms\n  timer: keepalive\n"
      "  tcp_info: {probes: 2}\n",
      "t.yaml");
  ASSERT_TRUE(s.expect.socket_at.has_value());
  EXPECT_EQ(s.expect.socket_at->value, 2500ms);
  EXPECT_EQ(s.expect.socket_at->line, 5);
  EXPECT_EQ(s.expect.timer->value, SocketTimer::kKeepalive);
  EXPECT_FALSE(parse_scenario("network: {family: ipv4}\npeer: {port: 80}\nexpect: {timer: on}\n", "t.yaml")
                   .expect.socket_at.has_value());
}

TEST(ScenarioValues, DurationsTakeEveryUnitAndFractions) {
  const Scenario s = parse_scenario(
      "network: {family: ipv4}\npeer:\n  port: 80\n  faults:\n"
      "    - {silent: all, at: 2min}\n    - {silent: all, at: 1.5s}\n    - {silent: all, at: 200ms}\n"
      "    - {silent: all, at: 50us}\n    - {silent: all, at: 0s}\n    - {silent: all, at: 0.25ms}\n"
      "duration: 3min\n",
      "d.yaml");
  const auto& f = s.peer.faults.faults;
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].trigger.at, 120s);
  EXPECT_EQ(f[1].trigger.at, 1500ms);
  EXPECT_EQ(f[2].trigger.at, 200ms);
  EXPECT_EQ(f[3].trigger.at, 50us);
  EXPECT_EQ(f[4].trigger.at, 0s);
  EXPECT_EQ(f[5].trigger.at, 250us);
}

TEST(ScenarioValues, SizesTakeBinaryAndDecimalUnits) {
  const Scenario s = parse_scenario(
      "network: {family: ipv4}\npeer: {port: 80}\n"
      "expect:\n  tcp_info: {bytes_sent: 17, bytes_acked: 1000000, bytes_received: 64KiB, notsent_bytes: 1MiB,"
      " snd_wnd: 2kB, rcv_wnd: 1GiB}\n",
      "s.yaml");
  const auto& t = s.expect.tcp_info;
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].value, 17);
  EXPECT_EQ(t[1].value, 1000000);
  EXPECT_EQ(t[2].value, 65536);
  EXPECT_EQ(t[3].value, 1 << 20);
  EXPECT_EQ(t[4].value, 2000);
  EXPECT_EQ(t[5].value, 1 << 30);
}

TEST(ScenarioValues, StateNamesInAnySpelling) {
  for (const char* name : {"ESTAB", "ESTABLISHED", "established", "Established"}) {
    EXPECT_EQ(socket_state_from_string(name), SocketState::kEstablished) << name;
  }
  for (const char* name : {"FIN-WAIT-1", "fin_wait1", "TCP_FIN_WAIT1", "finwait1"}) {
    EXPECT_EQ(socket_state_from_string(name), SocketState::kFinWait1) << name;
  }
  EXPECT_EQ(socket_state_from_string("SYN-RECEIVED"), SocketState::kSynRecv);
  EXPECT_EQ(socket_state_from_string("CLOSED"), SocketState::kClose);
  EXPECT_EQ(socket_state_from_string("nonsense"), std::nullopt);
  EXPECT_STREQ(to_string(SocketState::kEstablished), "ESTAB");
}

TEST(ScenarioValues, ErrnoTableMapsNamesToNumbersBothWays) {
  EXPECT_EQ(errno_from_name("none"), 0);
  EXPECT_EQ(errno_from_name("ETIMEDOUT"), ETIMEDOUT);
  EXPECT_EQ(errno_from_name("EMSGSIZE"), EMSGSIZE);
  EXPECT_EQ(errno_from_name("etimedout"), std::nullopt);
  EXPECT_EQ(errno_to_name(EHOSTUNREACH), "EHOSTUNREACH");
  EXPECT_EQ(errno_to_name(0), "none");
  EXPECT_EQ(errno_to_name(9999), "errno 9999");
  for (const char* name : {"ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "ECONNREFUSED", "EMSGSIZE", "EPIPE"}) {
    EXPECT_TRUE(errno_from_name(name).has_value()) << name;
  }
}

TEST(ScenarioIpv6, IcmpV6FaultsAndMtuDiscoverBecomeIpv6Options) {
  const Scenario s = parse_scenario(
      "network: {family: ipv6}\n"
      "peer:\n  port: 80\n  faults:\n"
      "    - icmp: {type: packet-too-big, mtu: 1280, from: router}\n"
      "    - icmp: admin-prohibited\n"
      "    - icmp: {type: port-unreachable, from: 2001:db8::99}\n"
      "client:\n  socket_options: {IP_MTU_DISCOVER: probe}\n",
      "v6.yaml");
  const auto& f = s.peer.faults.faults;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].icmp.kind, stack::IcmpKind::kPacketTooBig);
  EXPECT_EQ(f[0].icmp.mtu, 1280u);
  EXPECT_EQ(f[0].icmp.source, ip("2001:db8:a::2"));  // no router_address: the gateway
  EXPECT_EQ(f[1].icmp.kind, stack::IcmpKind::kAdminProhibited6);
  EXPECT_EQ(f[2].icmp.kind, stack::IcmpKind::kPortUnreachable6);
  EXPECT_EQ(f[2].icmp.source, ip("2001:db8::99"));
  const SocketOption& o = s.client->socket_options.at(0);
  EXPECT_EQ(o.level, IPPROTO_IPV6);
  EXPECT_EQ(o.optname, IPV6_MTU_DISCOVER);
  EXPECT_EQ(o.value, (std::variant<int, std::string>(IPV6_PMTUDISC_PROBE)));
}

TEST(ScenarioFiles, EveryExampleUnderGoodParses) {
  const std::filesystem::path dir = std::filesystem::path(TAPFAULT_SOURCE_DIR) / "tests/data/scenarios/good";
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(parse_scenario_file(entry.path()));
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
}

// network.family as a list: one Scenario per family, each named after the case and its family.
TEST(ScenarioFamilies, AListRunsTheFirstFamilyUnlessAnotherIsAsked) {
  const std::string yaml = "name: lost\nnetwork:\n  family: [ipv4, ipv6]\npeer: {port: 80}\n";
  const Scenario v4 = parse_scenario(yaml, "lost.yaml");
  EXPECT_THAT(v4.families, ElementsAre(stack::Family::kIpv4, stack::Family::kIpv6));
  EXPECT_EQ(v4.network.family, stack::Family::kIpv4);
  EXPECT_EQ(v4.case_name, "lost");
  EXPECT_EQ(v4.name, "lost-ipv4");
  EXPECT_EQ(v4.network.peer_address, ip("192.0.2.2"));
  const Scenario v6 = parse_scenario(yaml, "lost.yaml", stack::Family::kIpv6);
  EXPECT_EQ(v6.network.family, stack::Family::kIpv6);
  EXPECT_EQ(v6.name, "lost-ipv6");
  EXPECT_EQ(v6.network.peer_address, ip("2001:db8::2"));
  EXPECT_EQ(v6.network.gateway, ip("2001:db8:a::2"));
}

TEST(ScenarioFamilies, ASingleFamilyKeepsItsNameAsWritten) {
  const Scenario s = parse_scenario("name: echo-ipv6\nnetwork: {family: ipv6}\npeer: {port: 80}\n", "e.yaml");
  EXPECT_THAT(s.families, ElementsAre(stack::Family::kIpv6));
  EXPECT_EQ(s.name, "echo-ipv6");
  EXPECT_EQ(s.case_name, "echo-ipv6");
  const Scenario listed = parse_scenario("network: {family: [ipv6]}\npeer: {port: 80}\n", "dir/echo.yaml");
  EXPECT_EQ(listed.name, "echo") << "a list of one is one family: the default name is the file's stem";
}

TEST(ScenarioFamilies, EachRunIsTaggedWithItsFamily) {
  const std::string yaml = "tags: [rto]\nnetwork: {family: [ipv4, ipv6]}\npeer: {port: 80}\n";
  EXPECT_THAT(parse_scenario(yaml, "t.yaml").tags, ElementsAre("rto", "ipv4"));
  EXPECT_THAT(parse_scenario(yaml, "t.yaml", stack::Family::kIpv6).tags, ElementsAre("rto", "ipv6"));
  EXPECT_THAT(parse_scenario("tags: [ipv4, x]\nnetwork: {family: ipv4}\npeer: {port: 80}\n", "t.yaml").tags,
              ElementsAre("ipv4", "x"));
}

// `{ipv4: X, ipv6: Y}` stands for X in the ipv4 run and Y in the ipv6 run, in any field:
// scalars (the ICMP type, the MTU, errno names, addresses) and whole mappings alike.
TEST(ScenarioFamilies, PerFamilyValuesTakeTheRunsFamily) {
  const std::string yaml =
      "network:\n"
      "  family: [ipv4, ipv6]\n"
      "  router_address: {ipv4: 198.51.100.1, ipv6: \"2001:db8:a::2\"}\n"
      "peer:\n"
      "  port: 80\n"
      "  faults:\n"
      "    - on_segment: 1\n"
      "      icmp: {type: {ipv4: frag-needed, ipv6: packet-too-big}, mtu: {ipv4: 1000, ipv6: 1280}, from: router}\n"
      "expect:\n"
      "  error: {ipv4: EHOSTUNREACH, ipv6: ENETUNREACH}\n"
      "  tcp_info: {ipv4: {pmtu: 1000}, ipv6: {pmtu: 1280, snd_mss: 1208}}\n";
  const Scenario v4 = parse_scenario(yaml, "t.yaml");
  const Scenario v6 = parse_scenario(yaml, "t.yaml", stack::Family::kIpv6);
  EXPECT_EQ(v4.network.router_address, ip("198.51.100.1"));
  EXPECT_EQ(v6.network.router_address, ip("2001:db8:a::2"));
  ASSERT_EQ(v4.peer.faults.faults.size(), 1u);
  ASSERT_EQ(v6.peer.faults.faults.size(), 1u);
  ASSERT_EQ(v4.peer.faults.faults[0].action, stack::ActionKind::kIcmp);
  const stack::IcmpAction* icmp4 = &v4.peer.faults.faults[0].icmp;
  const stack::IcmpAction* icmp6 = &v6.peer.faults.faults[0].icmp;
  EXPECT_EQ(icmp4->kind, stack::IcmpKind::kFragNeeded);
  EXPECT_EQ(icmp4->mtu, 1000u);
  EXPECT_EQ(icmp6->kind, stack::IcmpKind::kPacketTooBig);
  EXPECT_EQ(icmp6->mtu, 1280u);
  EXPECT_EQ(v4.expect.error->value, EHOSTUNREACH);
  EXPECT_EQ(v6.expect.error->value, ENETUNREACH);
  EXPECT_EQ(v4.expect.error->line, 10);
  ASSERT_EQ(v4.expect.tcp_info.size(), 1u);
  ASSERT_EQ(v6.expect.tcp_info.size(), 2u);
  EXPECT_EQ(v6.expect.tcp_info[1].field, "snd_mss");
  EXPECT_EQ(v6.expect.tcp_info[1].value, 1208);
}

TEST(ScenarioFamilies, TheFileParsesOnceForEachListedFamilyInOrder) {
  ScratchDir dir;
  const auto file = dir.write("both.yaml", "network: {family: [ipv6, ipv4]}\npeer: {port: 80}\n");
  const std::vector<Scenario> runs = parse_scenario_families(file);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].name, "both-ipv6");
  EXPECT_EQ(runs[1].name, "both-ipv4");
  EXPECT_EQ(runs[1].network.family, stack::Family::kIpv4);
}

// The library holds one file per case: an ipv4/ipv6 pair is one file listing both families.
TEST(ScenarioFiles, EveryLibraryScenarioParsesForEachFamilyAndHasNoTwinOfTheOtherFamily) {
  const std::filesystem::path dir = std::filesystem::path(TAPFAULT_SOURCE_DIR) / "captures/scenarios";
  int parsed = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(parse_scenario_families(entry.path()));
    std::string stem = entry.path().stem().string();
    if (stem.size() > 5 && stem.substr(stem.size() - 5) == "-ipv4") {
      EXPECT_FALSE(std::filesystem::exists(entry.path().parent_path() / (stem.substr(0, stem.size() - 5) + "-ipv6.yaml")))
          << "list both families in one file: network.family: [ipv4, ipv6]";
    }
    ++parsed;
  }
  EXPECT_GE(parsed, 20);
}

TEST(PeerAckPolicy, DelayedIsLinuxsDelackMinAndEachIsTheDefault) {
  const Scenario delayed =
      parse_scenario("network: {family: ipv4}\npeer: {port: 80, mode: discard, ack: delayed}\n", "d.yaml");
  EXPECT_EQ(delayed.peer.delayed_ack, std::chrono::milliseconds(40));  // TCP_DELACK_MIN
  const Scenario each = parse_scenario("network: {family: ipv4}\npeer: {port: 80, ack: each}\n", "e.yaml");
  EXPECT_FALSE(each.peer.delayed_ack.has_value());
}

}  // namespace
}  // namespace tapfault::replay
