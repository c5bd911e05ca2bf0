// tap::Network, Netlink, TapDevice and enter_private_netns against the real kernel, each
// test in a fresh private network namespace. `ip` (run with popen inside the namespace)
// is the independent witness. (/sys/class/net is no witness: sysfs shows the namespace of
// whoever mounted it, the host's.)
#include "tapfault/tap/network.hpp"

#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include <stdexcept>
#include <string>

#include "support/tap_test_env.hpp"
#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/netlink.hpp"
#include "tapfault/tap/sysctl.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::tap {
namespace {

using tapfault::testing::shell;

stack::IpAddress ip(const char* text) { return *stack::IpAddress::parse(text); }

const RouteConfig kRoute6{ip("2001:db8::2"), 128, ip("2001:db8:a::2")};
const RouteConfig kRoute4{ip("198.51.100.0"), 24, ip("192.0.2.2")};

NetworkConfig make_config() {
  NetworkConfig config;
  config.mtu = 1400;
  config.kernel_addresses = {{ip("192.0.2.1"), 24}, {ip("2001:db8:a::1"), 64}};
  config.routes = {kRoute6, kRoute4};
  return config;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string link() { return shell("ip -o link show dev tf0").output; }
std::string routes6() { return shell("ip -6 route show dev tf0").output; }
std::string routes4() { return shell("ip -4 route show dev tf0").output; }

TEST(Netns, LoopbackIsUpInTheNewNamespace) {
  TAPFAULT_ENTER_NETNS();
  EXPECT_TRUE(contains(shell("ip link show lo").output, "UP")) << shell("ip link").output;
  EXPECT_FALSE(contains(shell("ip link").output, "tf0"));
}

TEST(TapDevice, RejectsNamesThatDoNotFitIfnamsiz) {
  EXPECT_THROW(TapDevice(std::string(IFNAMSIZ, 'x')), std::invalid_argument);
  EXPECT_THROW(TapDevice(""), std::invalid_argument);
}

TEST(TapDevice, InterfaceLivesAsLongAsTheFd) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  {
    TapDevice tap("tf7");
    EXPECT_GE(tap.fd(), 0);
    EXPECT_EQ(tap.name(), "tf7");
    EXPECT_NE(::if_nametoindex("tf7"), 0u);
  }
  EXPECT_EQ(::if_nametoindex("tf7"), 0u);
}

TEST(Netlink, UnknownInterfaceErrorNamesIt) {
  TAPFAULT_ENTER_NETNS();
  Netlink netlink;
  EXPECT_GT(netlink.ifindex("lo"), 0);
  try {
    netlink.ifindex("nosuch0");
    FAIL() << "found an interface that does not exist";
  } catch (const SetupError& e) {
    EXPECT_TRUE(contains(e.what(), "nosuch0")) << e.what();
  }
}

TEST(Network, CreatesTapWithMtuMacAddressesAndRoutes) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  EXPECT_EQ(network.name(), "tf0");
  EXPECT_TRUE(contains(link(), " mtu 1400 ")) << link();
  EXPECT_TRUE(contains(link(), "link/ether 02:00:5e:00:53:01 ")) << link();
  EXPECT_TRUE(contains(link(), ",UP")) << link();
  EXPECT_TRUE(contains(link(), " qlen 65536")) << link();  // kTapTxQueueLength, not the kernel's 500

  const std::string addresses = shell("ip addr show dev tf0").output;
  EXPECT_TRUE(contains(addresses, "inet 192.0.2.1/24")) << addresses;
  EXPECT_TRUE(contains(addresses, "inet6 2001:db8:a::1/64")) << addresses;
  EXPECT_TRUE(contains(addresses, "nodad")) << addresses;
  EXPECT_TRUE(contains(routes6(), "2001:db8::2 via 2001:db8:a::2")) << routes6();
  EXPECT_TRUE(contains(routes4(), "198.51.100.0/24 via 192.0.2.2")) << routes4();
  EXPECT_EQ(network.ifindex(), static_cast<int>(::if_nametoindex("tf0")));
}

// 6.1 and 6.12 refuse a TAP queue of 65536 frames (ERANGE); 6.18 takes it but not one of
// 2^32 - 1 frames, for which tun cannot allocate its ring. Either way the network comes up
// with the largest the kernel takes, 32767 or less, and says so.
TEST(Network, AQueueLengthTheKernelRefusesIsLoweredAndNoted) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  NetworkConfig config = make_config();
  config.tx_queue_length = 0xffffffff;
  Network network(config);
  EXPECT_LE(network.tx_queue_length(), 32767u);
  EXPECT_GE(network.tx_queue_length(), 500u);
  EXPECT_EQ(Netlink().tx_queue_length("tf0"), network.tx_queue_length());
  ASSERT_EQ(network.notes().size(), 1u);
  EXPECT_NE(network.notes()[0].find("the largest this kernel took"), std::string::npos) << network.notes()[0];
  EXPECT_NE(network.notes()[0].find("cannot set the transmit queue length of tf0 to 4294967295"), std::string::npos)
      << network.notes()[0];
}

TEST(Network, TheConfiguredQueueLengthIsUsedWhenTheKernelTakesIt) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  EXPECT_EQ(network.tx_queue_length(), kTapTxQueueLength);
  EXPECT_TRUE(network.notes().empty());
}

// A full TAP queue drops what the kernel sends, and tx_dropped() counts it: with a queue
// of 16 frames and nobody reading, 16 of 100 frames wait for the peer and 84 are dropped.
TEST(Network, FramesDroppedByAFullTapQueueAreCounted) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  NetworkConfig config = make_config();
  config.tx_queue_length = 16;
  Network network(config);
  EXPECT_EQ(network.tx_dropped(), 0u);
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = network.ifindex();
  to.sll_halen = 6;
  std::array<std::uint8_t, 60> frame{};
  frame.fill(0xff);     // broadcast destination ...
  frame[12] = 0x88;     // ... and the local experimental ethertype 0x88b5
  frame[13] = 0xb5;
  for (int i = 0; i < 100; ++i)
    ::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  ::close(fd);
  // The kernel may slip a frame of its own in (IPv6 neighbour discovery, say): count ours.
  int queued = 0, ours = 0;
  std::array<std::uint8_t, 2048> buffer{};
  for (ssize_t n; (n = network.tap().read(buffer)) > 0; ++queued)
    if (n >= 14 && buffer[12] == 0x88 && buffer[13] == 0xb5) ++ours;
  EXPECT_EQ(queued, 16);
  const std::uint64_t dropped = network.tx_dropped();
  EXPECT_GE(dropped, static_cast<std::uint64_t>(100 - ours));
  EXPECT_LE(dropped, static_cast<std::uint64_t>(100 - ours + 4)) << "more than the kernel's own few frames";
}

// IPv6 installs the local route of an address from a workqueue after the netlink ACK;
// until then the kernel drops what is sent to the address (a lost first NA).
TEST(Network, AddressesAcceptPacketsAsSoonAsSetupReturns) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  const std::string local6 = shell("ip -6 route show table local dev tf0").output;
  EXPECT_TRUE(contains(local6, "local 2001:db8:a::1 ")) << local6;
  network.link_down();
  network.link_up();
  const std::string again = shell("ip -6 route show table local dev tf0").output;
  EXPECT_TRUE(contains(again, "local 2001:db8:a::1 ")) << again;
}

TEST(Network, IsQuietOnIpv6NoLinkLocalNoRouterSolicitationNoDad) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  EXPECT_EQ(read_sysctl("net.ipv6.conf.tf0.addr_gen_mode"), "1");
  EXPECT_EQ(read_sysctl("net.ipv6.conf.tf0.accept_ra"), "0");
  EXPECT_EQ(read_sysctl("net.ipv6.conf.tf0.router_solicitations"), "0");
  EXPECT_EQ(read_sysctl("net.ipv6.conf.tf0.dad_transmits"), "0");
  EXPECT_EQ(read_sysctl("net.ipv6.conf.default.addr_gen_mode"), "1");
  const std::string addresses = shell("ip -6 addr show dev tf0").output;
  EXPECT_FALSE(contains(addresses, "fe80")) << addresses;
  EXPECT_FALSE(contains(addresses, "tentative")) << addresses;
}

TEST(Network, RouteDelThenRouteAdd) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  network.route_del(kRoute6);
  EXPECT_FALSE(contains(routes6(), "2001:db8::2 via")) << routes6();
  EXPECT_EQ(network.routes().size(), 1u);
  network.route_add(kRoute6);
  EXPECT_TRUE(contains(routes6(), "2001:db8::2 via 2001:db8:a::2")) << routes6();

  network.route_del(kRoute4);
  EXPECT_FALSE(contains(routes4(), "198.51.100.0/24")) << routes4();
  network.route_add(kRoute4);
  EXPECT_TRUE(contains(routes4(), "198.51.100.0/24 via 192.0.2.2")) << routes4();
}

TEST(Network, DeletingAMissingRouteNamesTheRoute) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  network.route_del(kRoute6);
  try {
    network.route_del(kRoute6);
    FAIL() << "deleted a route twice";
  } catch (const SetupError& e) {
    EXPECT_TRUE(contains(e.what(), "2001:db8::2/128 via 2001:db8:a::2 dev tf0")) << e.what();
  }
}

TEST(Network, AddingAnExistingRouteFails) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  EXPECT_THROW(network.route_add(kRoute4), SetupError);
}

TEST(Network, LinkDownThenUpRestoresAddressesAndRoutes) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  network.link_down();
  EXPECT_FALSE(network.is_up());
  EXPECT_FALSE(contains(link(), ",UP")) << link();
  EXPECT_FALSE(contains(routes6(), "2001:db8::2 via")) << "the kernel flushed nothing?";
  network.link_up();
  EXPECT_TRUE(contains(routes6(), "2001:db8::2 via 2001:db8:a::2")) << routes6();
  EXPECT_TRUE(contains(routes4(), "198.51.100.0/24 via 192.0.2.2")) << routes4();
  const std::string addresses = shell("ip addr show dev tf0").output;
  EXPECT_TRUE(contains(addresses, "192.0.2.1/24")) << addresses;
  EXPECT_TRUE(contains(addresses, "2001:db8:a::1/64")) << addresses;
}

TEST(Network, RouteDeletedWhileLinkIsDownStaysDeleted) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  network.link_down();
  network.route_del(kRoute4);
  network.link_up();
  EXPECT_FALSE(contains(routes4(), "198.51.100.0/24")) << routes4();
  EXPECT_TRUE(contains(routes6(), "2001:db8::2 via 2001:db8:a::2")) << routes6();
}

TEST(Network, MtuBelowIpv6MinimumThenBackRestoresIpv6) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(make_config());
  network.set_mtu(1200);
  EXPECT_TRUE(contains(link(), " mtu 1200 ")) << link();
  EXPECT_FALSE(contains(shell("ip -6 addr show dev tf0").output, "2001:db8:a::1"));
  network.set_mtu(1500);
  EXPECT_TRUE(contains(link(), " mtu 1500 ")) << link();
  const std::string addresses = shell("ip -6 addr show dev tf0").output;
  EXPECT_TRUE(contains(addresses, "2001:db8:a::1/64")) << addresses;
  EXPECT_FALSE(contains(addresses, "fe80")) << addresses;
  EXPECT_TRUE(contains(routes6(), "2001:db8::2 via 2001:db8:a::2")) << routes6();
}

}  // namespace
}  // namespace tapfault::tap
