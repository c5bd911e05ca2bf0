// Broken scenarios: each must fail with `FILE:LINE:COL: FIELD:` pointing at the culprit and a
// message that says what is wrong and what is allowed. Read docs/scenarios.md for the format.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Lines 1-4; cases append from line 5, and peer keys (indented) continue the peer mapping.
const std::string kBase = "network:\n  family: ipv4\npeer:\n  port: 80\n";
const std::string kBase6 = "network:\n  family: ipv6\npeer:\n  port: 80\n";
const std::string kBoth = "network:\n  family: [ipv4, ipv6]\npeer:\n  port: 80\n";

struct BrokenCase {
  std::string name;    // the test's name: what the scenario does wrong
  std::string yaml;
  std::string prefix;  // exact start of what(): FILE:LINE:COL: FIELD:
  std::string phrase;  // a key phrase of the message
};

std::string describe(const BrokenCase& c) { return c.name; }

const std::vector<BrokenCase> kBroken = {
    // Syntax and structure
    {"YamlSyntaxErrorKeepsTheMark", "network:\n  family: ipv4\n  mtu: [1500\npeer:\n  port: 80\n",
     "t.yaml:4:5: YAML syntax error:", "end of sequence flow not found"},
    {"EmptyDocument", "", "t.yaml:1:1: empty scenario", "network and peer"},
    {"TopLevelListIsNotAScenario", "- network\n", "t.yaml:1:1: a scenario must be a mapping", "got a list"},
    {"UnknownTopLevelKeyListsAllowedKeys", kBase + "colour: red\n", "t.yaml:5:1: colour:",
     "unknown key; allowed: name, description, tags, seed, duration, settle, network, sysctl, peer, client, "
     "actions, expect"},
    {"DuplicateKeyNamesTheFirst", kBase + "seed: 1\nseed: 2\n", "t.yaml:6:1: seed:", "duplicate key (first at line 5)"},
    {"UnknownAckPolicyListsTheAllowedOnes", kBase + "  ack: sometimes\n", "t.yaml:5:8: peer.ack:",
     "unknown ack policy 'sometimes'; allowed: each, delayed"},
    {"UnknownKeyInPeer", kBase + "  colour: red\n", "t.yaml:5:3: peer.colour:",
     "unknown key; allowed: port, ports, mode"},
    {"UnknownKeyInFault", kBase + "  faults:\n    - silent: all\n      colour: red\n", "t.yaml:7:7: peer.faults[0].colour:",
     "unknown fault action or key; actions: silent, window, icmp, rst"},
    {"UnknownKeyInClientAction", kBase + "client:\n  actions:\n    - connect\n    - send: hi\n      colour: red\n",
     "t.yaml:9:7: client.actions[1].colour:", "unknown client action or key; actions: connect, send"},
    {"UnknownKeyInsideAnActionValue", kBase + "client:\n  actions:\n    - connect\n    - send: {size: 1, colour: red}\n",
     "t.yaml:8:23: client.actions[1].send.colour:", "unknown key; allowed: size, file"},

    // Types and value syntaxes
    {"StringForMtu", "network:\n  family: ipv4\n  mtu: big\npeer:\n  port: 80\n", "t.yaml:3:8: network.mtu:",
     "must be an integer, got 'big'"},
    {"QuotedNumberForMtu", "network:\n  family: ipv4\n  mtu: \"1500\"\npeer:\n  port: 80\n", "t.yaml:3:8: network.mtu:",
     "must be an integer, got a quoted string \"1500\""},
    {"NegativeDuration", kBase + "duration: -1s\n", "t.yaml:5:11: duration:", "must not be negative, got -1s"},
    {"DurationWithoutUnit", kBase + "duration: 10\n", "t.yaml:5:11: duration:", "duration needs a unit: s, ms, us, min"},
    {"DurationWithUnknownUnit", kBase + "settle: 5h\n", "t.yaml:5:9: settle:", "not a duration: '5h'"},
    {"ZeroRunDuration", kBase + "duration: 0s\n", "t.yaml:5:11: duration:", "must be more than 0s"},
    {"BadSize", kBase + "client:\n  actions:\n    - connect\n    - recv: lots\n", "t.yaml:8:13: client.actions[1].recv:",
     "must be a byte count (1MiB), any or eof"},
    {"QuotedBoolean", kBase + "expect:\n  rst_from_kernel: \"no\"\n", "t.yaml:6:20: expect.rst_from_kernel:",
     "must be true or false"},

    // network
    {"MissingNetworkFamily", "network:\n  mtu: 1500\npeer:\n  port: 80\n", "t.yaml:2:3: network.family:",
     "missing required field; allowed: ipv4, ipv6"},
    {"MissingNetwork", "peer:\n  port: 80\n", "t.yaml:1:1: network:", "missing required field"},
    {"UnknownFamily", "network:\n  family: ipx\npeer:\n  port: 80\n", "t.yaml:2:11: network.family:",
     "unknown family 'ipx'; allowed: ipv4, ipv6"},
    {"EmptyFamilyList", "network:\n  family: []\npeer:\n  port: 80\n", "t.yaml:2:11: network.family:",
     "network.family: an empty list; allowed: ipv4, ipv6 or [ipv4, ipv6]"},
    {"FamilyListedTwice", "network:\n  family: [ipv4, ipv4]\npeer:\n  port: 80\n", "t.yaml:2:18: network.family[1]:",
     "network.family[1]: ipv4 is listed twice"},
    {"UnknownFamilyInTheList", "network:\n  family: [ipv4, ipx]\npeer:\n  port: 80\n", "t.yaml:2:18: network.family[1]:",
     "network.family[1]: unknown family 'ipx'; allowed: ipv4, ipv6"},
    {"FamilyWrittenPerFamily", "network:\n  family: {ipv4: ipv4}\npeer:\n  port: 80\n", "t.yaml:2:11: network.family:",
     "network.family: must be ipv4, ipv6 or a list of them, got a mapping"},
    {"PerFamilyValueWithoutTheSecondFamily", kBoth + "duration: {ipv4: 5s}\n", "t.yaml:5:11: duration:",
     "duration: no value for ipv6; a value written per family names each family of network.family (ipv4, ipv6)"},
    {"PerFamilyValueNamesAFamilyNotListed", kBase + "duration: {ipv4: 5s, ipv6: 6s}\n", "t.yaml:5:22: duration.ipv6:",
     "duration.ipv6: network.family does not list ipv6 (it lists ipv4)"},
    {"PerFamilyValueNamesAFamilyTwice", kBoth + "duration: {ipv4: 5s, ipv4: 6s, ipv6: 1s}\n",
     "t.yaml:5:22: duration.ipv4:", "duration.ipv4: duplicate key"},
    {"BadIpAddress", "network:\n  family: ipv4\n  peer_address: 192.0.2.300\npeer:\n  port: 80\n",
     "t.yaml:3:17: network.peer_address:", "not an IP address: '192.0.2.300'"},
    {"Ipv4AddressInIpv6Run", "network:\n  family: ipv6\n  peer_address: 192.0.2.2\npeer:\n  port: 80\n",
     "t.yaml:3:17: network.peer_address:", "an IPv4 address in an ipv6 run"},
    {"Ipv6MtuBelow1280", "network:\n  family: ipv6\n  mtu: 1000\npeer:\n  port: 80\n", "t.yaml:3:8: network.mtu:",
     "must be between 1280 and 65535 in an ipv6 run"},
    {"Ipv4MtuBelow68", "network:\n  family: ipv4\n  mtu: 67\npeer:\n  port: 80\n", "t.yaml:3:8: network.mtu:",
     "must be between 68 and 65535, got 67"},
    {"GatewayNotOnLink", "network:\n  family: ipv4\n  gateway: 198.51.100.1\npeer:\n  port: 80\n",
     "t.yaml:3:12: network.gateway:", "is not in kernel_address 192.0.2.1/24"},
    {"PrefixLengthTooLong", "network:\n  family: ipv4\n  kernel_address: 192.0.2.1/33\npeer:\n  port: 80\n",
     "t.yaml:3:19: network.kernel_address:", "prefix length must be between 0 and 32"},

    // sysctl
    {"SysctlOutsideNet", kBase + "sysctl:\n  kernel.panic: 1\n", "t.yaml:6:3: sysctl.kernel.panic:",
     "sysctl names must start with net."},

    // peer
    {"PortZero", "network:\n  family: ipv4\npeer:\n  port: 0\n", "t.yaml:4:9: peer.port:",
     "must be between 1 and 65535, got 0"},
    {"Port70000", "network:\n  family: ipv4\npeer:\n  port: 70000\n", "t.yaml:4:9: peer.port:",
     "must be between 1 and 65535, got 70000"},
    {"MissingPeerPort", "network:\n  family: ipv4\npeer:\n  mode: echo\n", "t.yaml:4:3: peer.port:",
     "missing required field; or `ports: [8080, 8081]`"},
    {"PortAndPorts", kBase + "  ports: [81]\n", "t.yaml:5:3: peer.ports:", "give port or ports, not both"},
    {"UnknownPeerMode", kBase + "  mode: mirror\n", "t.yaml:5:9: peer.mode:", "allowed: echo, discard, respond"},
    {"ResponseWithoutRespondMode", kBase + "  response: hi\n", "t.yaml:5:3: peer.response:",
     "only used with mode: respond (mode is echo)"},
    {"MissingResponseFileNamesThePath", kBase + "  mode: respond\n  response_file: missing.bin\n",
     "t.yaml:6:18: peer.response_file:", "cannot read response file 'missing.bin': no such file"},
    {"WindowTooLargeForScale", kBase + "  window_scale: 0\n  window: 64KiB\n", "t.yaml:6:11: peer.window:",
     "at most 65535 bytes with window_scale 0"},

    // faults
    {"UnknownFaultKind", kBase + "  faults:\n    - drop: all\n", "t.yaml:6:7: peer.faults[0].drop:",
     "unknown fault action or key; actions: silent, window, icmp, rst; triggers: at, on_segment"},
    {"FaultWithoutAction", kBase + "  faults:\n    - at: 1s\n", "t.yaml:6:7: peer.faults[0]:",
     "a fault needs one action: silent, window, icmp, rst"},
    {"TwoActionsInOneFault", kBase + "  faults:\n    - silent: all\n      rst: {}\n", "t.yaml:7:7: peer.faults[0].rst:",
     "one action per fault; this one already has silent"},
    {"TwoTriggersInOneFault", kBase + "  faults:\n    - silent: all\n      at: 1s\n      on_segment: 2\n",
     "t.yaml:8:7: peer.faults[0].on_segment:", "at most one trigger per fault"},
    {"OnSegmentZeroNeverFires", kBase + "  faults:\n    - silent: all\n      on_segment: 0\n",
     "t.yaml:7:19: peer.faults[0].on_segment:", "never fires: segments count from 1"},
    {"FaultAtAfterTheRunEndsNeverFires", "duration: 10s\n" + kBase + "  faults:\n    - silent: all\n      at: 20s\n",
     "t.yaml:8:11: peer.faults[0].at:", "never fires: at 20s is after the run ends (duration 10s)"},
    {"AfterNamesUnknownFault", kBase + "  faults:\n    - name: a\n      silent: all\n    - rst: {}\n      after: {fault: b}\n",
     "t.yaml:9:22: peer.faults[1].after.fault:", "unknown fault 'b'; faults: a, fault#2"},
    {"AfterCycleNeverFires",
     kBase + "  faults:\n    - name: a\n      silent: all\n      after: {fault: b}\n    - name: b\n      rst: {}\n"
             "      after: {fault: a}\n",
     "t.yaml:8:22: peer.faults[0].after.fault:", "never fires: the after chain a -> b -> a is a cycle"},
    {"FaultFollowingItself", kBase + "  faults:\n    - name: a\n      silent: all\n      after: {fault: a}\n",
     "t.yaml:8:22: peer.faults[0].after.fault:", "a fault cannot follow itself"},
    {"DuplicateFaultName", kBase + "  faults:\n    - name: a\n      silent: all\n    - name: a\n      rst: {}\n",
     "t.yaml:8:13: peer.faults[1].name:", "duplicate fault name 'a' (the fault at line 6)"},
    {"UntilBeforeAt", kBase + "  faults:\n    - silent: all\n      at: 2s\n      until: 1s\n",
     "t.yaml:8:14: peer.faults[0].until:", "never active: until 1s is not after at 2s"},
    {"UntilSegmentNotAfterTriggerSegment",
     kBase + "  faults:\n    - silent: all\n      on_segment: 3\n      until: {on_segment: 3}\n",
     "t.yaml:8:14: peer.faults[0].until:", "never active: until on_segment 3 is not after on_segment 3"},
    {"OnStateSynSentNeverFires", kBase + "  faults:\n    - silent: all\n      on_state: syn-sent\n",
     "t.yaml:7:17: peer.faults[0].on_state:", "never fires: the peer only accepts connections"},
    {"UnknownSilentMode", kBase + "  faults:\n    - silent: sometimes\n", "t.yaml:6:15: peer.faults[0].silent:",
     "unknown silent mode 'sometimes'; allowed: all, data, input, output, once"},
    {"PacketTooBigInIpv4Run", kBase + "  faults:\n    - icmp: {type: packet-too-big, mtu: 1280}\n",
     "t.yaml:6:20: peer.faults[0].icmp.type:", "packet-too-big is ICMPv6 but the run is ipv4; use frag-needed"},
    {"FragNeededInIpv6Run", kBase6 + "  faults:\n    - icmp: {type: frag-needed, mtu: 1280}\n",
     "t.yaml:6:20: peer.faults[0].icmp.type:", "frag-needed is ICMPv4 but the run is ipv6; use packet-too-big"},
    {"UnknownIcmpType", kBase + "  faults:\n    - icmp: teapot\n", "t.yaml:6:13: peer.faults[0].icmp:",
     "unknown ICMP type 'teapot'; allowed in an ipv4 run: net-unreachable"},
    {"FragNeededWithoutMtu", kBase + "  faults:\n    - icmp: frag-needed\n", "t.yaml:6:13: peer.faults[0].icmp:",
     "frag-needed carries an MTU: write {type: frag-needed, mtu: 1280}"},
    {"IcmpFromRouterWithoutRouter", kBase + "  faults:\n    - icmp: {type: host-unreachable, from: router}\n",
     "t.yaml:6:44: peer.faults[0].icmp.from:", "from: router needs network.router_address"},
    {"IgnoreProbesOnOpenWindow", kBase + "  faults:\n    - window: {size: 1000, ignore_probes: true}\n",
     "t.yaml:6:15: peer.faults[0].window:", "ignore_probes needs size 0"},
    {"ConnectionZero", kBase + "  faults:\n    - silent: all\n      connection: 0\n", "t.yaml:7:19: peer.faults[0].connection:",
     "connections count from 1"},
    {"ConnectionBeyondTheClientsConnections", kBase + "  faults:\n    - silent: all\n      connection: 2\nclient: {}\n",
     "t.yaml:7:19: peer.faults[0].connection:", "never fires: the client makes 1 connection"},

    // client
    {"UnknownSocketOption", kBase + "client:\n  socket_options:\n    TCP_FOO: 1\n",
     "t.yaml:7:5: client.socket_options.TCP_FOO:", "unknown socket option; allowed: SO_KEEPALIVE, TCP_KEEPIDLE"},
    {"IpMtuDiscoverBadValue", kBase + "client:\n  socket_options:\n    IP_MTU_DISCOVER: sometimes\n",
     "t.yaml:7:22: client.socket_options.IP_MTU_DISCOVER:", "must be dont, want, do, probe, interface, omit or an int"},
    {"UserTimeoutFinerThanMilliseconds", kBase + "client:\n  socket_options:\n    TCP_USER_TIMEOUT: 1500us\n",
     "t.yaml:7:23: client.socket_options.TCP_USER_TIMEOUT:", "must be a whole number of milliseconds, got 1.5ms"},
    {"KeepCountOutOfRange", kBase + "client:\n  socket_options:\n    TCP_KEEPCNT: 128\n",
     "t.yaml:7:18: client.socket_options.TCP_KEEPCNT:", "must be between 1 and 127, got 128"},
    {"UnknownClientAction", kBase + "client:\n  actions:\n    - connect\n    - jump\n", "t.yaml:8:7: client.actions[1]:",
     "unknown client action 'jump'; allowed: connect, send, recv, wait, wait_error, close, shutdown, connect_again"},
    {"UnknownClientActionKey", kBase + "client:\n  actions:\n    - connect\n    - jump: 1\n",
     "t.yaml:8:7: client.actions[1].jump:", "unknown client action or key"},
    {"SendWithNoData", kBase + "client:\n  actions:\n    - connect\n    - send:\n", "t.yaml:8:7: client.actions[1].send:",
     "send with no data"},
    {"SendEmptyString", kBase + "client:\n  actions:\n    - connect\n    - send: \"\"\n",
     "t.yaml:8:13: client.actions[1].send:", "send with no data: the string is empty"},
    {"SendBeforeConnect", kBase + "client:\n  actions:\n    - send: hi\n", "t.yaml:7:7: client.actions[0]:",
     "send before connect"},
    {"SendAfterClose", kBase + "client:\n  actions:\n    - connect\n    - close\n    - send: hi\n",
     "t.yaml:9:7: client.actions[2]:", "send after close"},
    {"TwoConnects", kBase + "client:\n  actions:\n    - connect\n    - connect\n", "t.yaml:8:7: client.actions[1]:",
     "use connect_again"},
    {"ActionAtGoesBackInTime",
     kBase + "client:\n  actions:\n    - connect\n    - send: a\n      at: 2s\n    - send: b\n      at: 1s\n",
     "t.yaml:11:11: client.actions[2].at:", "at 1s is before the at 2s of the action at line 8"},
    {"AtAndAfterTogether", kBase + "client:\n  actions:\n    - connect:\n      at: 1s\n      after: 1s\n",
     "t.yaml:9:7: client.actions[0].after:", "give at or after, not both"},
    {"UnknownShutdownDirection", kBase + "client:\n  actions:\n    - connect\n    - shutdown: sideways\n",
     "t.yaml:8:17: client.actions[1].shutdown:", "allowed: read, write (the default), both"},

    // kernel actions
    {"KernelActionWithoutAt", kBase + "actions:\n  - link-down: {}\n", "t.yaml:6:5: actions[0].at:",
     "missing required field"},
    {"UnknownKernelAction", kBase + "actions:\n  - at: 1s\n    unplug: {}\n", "t.yaml:7:5: actions[0].unplug:",
     "unknown kernel action or key; actions: route-del, route-add, link-down, link-up, mtu, sysctl"},
    {"RoutePrefixOfOtherFamily", kBase + "actions:\n  - at: 1s\n    route-del: 2001:db8::2/128\n",
     "t.yaml:7:16: actions[0].route-del:", "an IPv6 address in an ipv4 run"},
    {"KernelSysctlOutsideNet", kBase + "actions:\n  - at: 1s\n    sysctl: {vm.swappiness: 1}\n",
     "t.yaml:7:14: actions[0].sysctl.vm.swappiness:", "sysctl names must start with net."},

    // expect
    {"UnknownErrnoName", kBase + "expect:\n  error: EFOO\n", "t.yaml:6:10: expect.error:",
     "unknown errno name 'EFOO'; allowed: none, ETIMEDOUT"},
    {"UnknownTcpInfoField", kBase + "expect:\n  tcp_info: {snd_mss: 36, foo: 1}\n", "t.yaml:6:27: expect.tcp_info.foo:",
     "unknown tcp_info field; allowed: state, rto, ato"},
    {"UnknownTimerKind", kBase + "expect:\n  timer: sometimes\n", "t.yaml:6:10: expect.timer:",
     "unknown timer 'sometimes'; allowed: on, persist, keepalive, timewait, off"},
    {"UnknownModelKind", kBase + "expect:\n  model: {kind: linear}\n", "t.yaml:6:17: expect.model.kind:",
     "unknown model kind 'linear'; allowed: rto, syn, persist, keepalive"},
    {"UnknownSocketState", kBase + "expect:\n  state: DAZED\n", "t.yaml:6:10: expect.state:",
     "unknown TCP state 'DAZED'; allowed: ESTAB, SYN-SENT"},
    {"ErrorBeforeWithErrorNone", kBase + "expect:\n  error: none\n  error_before: 2s\n", "t.yaml:7:3: expect.error_before:",
     "error: none and error_before contradict"},
    {"SocketTimeWithoutSocketCheck", kBase + "expect:\n  error: none\n  at: 2s\n", "t.yaml:7:3: expect.at:",
     "checks nothing: `at` names the time for state, timer and tcp_info"},
    {"SocketTimeAfterTheEnd", kBase + "expect:\n  timer: persist\n  at: 99s\n", "t.yaml:7:7: expect.at:",
     "checks nothing: 99s is after the run ends (duration 30s)"},
    {"ConnectErrorWithoutConnectAgain", kBase + "client: {}\nexpect:\n  connect_error: ENETUNREACH\n",
     "t.yaml:7:18: expect.connect_error:", "needs a connect_again action"},
};

class BrokenScenario : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenScenario, FailsAtTheCulpritWithWhatIsAllowed) {
  const BrokenCase& c = GetParam();
  try {
    parse_scenario(c.yaml, "t.yaml");
    FAIL() << "parsed without error:\n" << c.yaml;
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), StartsWith(c.prefix));
    EXPECT_THAT(e.what(), HasSubstr(c.phrase));
  }
}

INSTANTIATE_TEST_SUITE_P(Scenario, BrokenScenario, ::testing::ValuesIn(kBroken),
                         [](const ::testing::TestParamInfo<BrokenCase>& info) { return describe(info.param); });

// Parsed for ipv6 (`tapfault run --family ipv6`, or the second run of [ipv4, ipv6]): the
// value that fails is that family's.
const std::vector<BrokenCase> kBrokenForIpv6 = {
    {"RunAsksForAFamilyTheScenarioDoesNotList", kBase, "t.yaml:2:11: network.family:",
     "network.family: the run asks for ipv6, which this scenario does not list"},
    {"PerFamilyValueIsCheckedAsTheFieldItStandsFor", kBoth + "duration: {ipv4: 5s, ipv6: 10}\n",
     "t.yaml:5:28: duration:", "duration: duration needs a unit: s, ms, us, min"},
    {"PerFamilyIcmpTypeOfTheOtherFamily",
     kBoth + "  faults:\n    - icmp: {type: {ipv4: frag-needed, ipv6: frag-needed}, mtu: 1280}\n",
     "t.yaml:6:46: peer.faults[0].icmp.type:",
     "peer.faults[0].icmp.type: frag-needed is ICMPv4 but the run is ipv6; use packet-too-big"},
};

class BrokenScenarioForIpv6 : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenScenarioForIpv6, FailsAtTheCulpritOfThatFamily) {
  const BrokenCase& c = GetParam();
  try {
    parse_scenario(c.yaml, "t.yaml", stack::Family::kIpv6);
    FAIL() << "parsed without error:\n" << c.yaml;
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), StartsWith(c.prefix));
    EXPECT_THAT(e.what(), HasSubstr(c.phrase));
  }
}

INSTANTIATE_TEST_SUITE_P(Scenario, BrokenScenarioForIpv6, ::testing::ValuesIn(kBrokenForIpv6),
                         [](const ::testing::TestParamInfo<BrokenCase>& info) { return describe(info.param); });

TEST(ScenarioError, CarriesItsPartsAndFormatsThemAsFileLineColumnField) {
  try {
    parse_scenario(kBase + "client:\n  socket_options:\n    TCP_FOO: 1\n", "dir/echo.yaml");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.file(), "dir/echo.yaml");
    EXPECT_EQ(e.line(), 7);
    EXPECT_EQ(e.column(), 5);
    EXPECT_EQ(e.field(), "client.socket_options.TCP_FOO");
    EXPECT_THAT(e.message(), StartsWith("unknown socket option; allowed: SO_KEEPALIVE, TCP_KEEPIDLE, "));
    EXPECT_EQ(std::string(e.what()), "dir/echo.yaml:7:5: client.socket_options.TCP_FOO: " + e.message());
  }
}

TEST(ScenarioError, UnreadableFileHasNoPosition) {
  try {
    parse_scenario_file("/nonexistent/tapfault/scenario.yaml");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_THAT(e.what(), StartsWith("/nonexistent/tapfault/scenario.yaml: cannot read: "));
  }
}

TEST(ScenarioError, ResponseFileIsResolvedAgainstTheScenarioDirectory) {
  try {
    parse_scenario(kBase + "  mode: respond\n  response_file: body.bin\n", "/nonexistent/dir/t.yaml");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read response file '/nonexistent/dir/body.bin'"));
  }
}

}  // namespace
}  // namespace tapfault::replay
