// tap::Network: the kernel's side of the wire: the TAP, its MAC/MTU, addresses and routes.
//
// Built inside the namespace that enter_private_netns() created. Setup order matters:
// the IPv6 sysctls are written while the link is still down so that bringing it up
// sends nothing of its own accord (no link-local address, no router solicitation, no
// DAD probe); the addresses carry IFA_F_NODAD for the same reason. Setup (and link_up,
// set_mtu) returns only once the kernel accepts packets for every address. The fault actions
// (route_del, link_down, set_mtu, ...) are the kernel-side faults a scenario applies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/tap/netlink.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::tap {

// IPv6 needs at least this MTU (RFC 8200 section 5); below it Linux removes IPv6 from
// the device altogether.
inline constexpr std::uint32_t kIpv6MinimumMtu = 1280;

struct RouteConfig {
  stack::IpAddress destination;
  int prefix_len = 0;
  std::optional<stack::IpAddress> gateway;  // none: on-link
  // The route's locked rto_min metric (RTAX_RTO_MIN; `ip route ... rto_min lock 20ms`):
  // tcp_rto_min() takes it over the socket's floor, on every kernel.
  std::optional<std::uint32_t> rto_min_ms;
  bool operator==(const RouteConfig&) const = default;
};

// The TAP's transmit queue, in frames: what the kernel may send before the peer reads.
// The kernel's default for a TAP (500, TUN_READQ_SIZE) drops frames the kernel sent
// whenever a burst outruns the peer's thread (10,000 connections each sending a request
// at once lost 8,898 of them and the client retransmitted each after an RTO), and the
// capture, taken before the queue, would show frames the peer never saw. 65,536 pointers
// cost 512 KiB.
inline constexpr std::uint32_t kTapTxQueueLength = 65536;

struct NetworkConfig {
  std::string tap_name = "tf0";
  std::uint32_t mtu = 1500;
  std::uint32_t tx_queue_length = kTapTxQueueLength;
  stack::MacAddress kernel_mac = *stack::MacAddress::parse("02:00:5e:00:53:01");
  // The kernel's addresses on the TAP, e.g. {192.0.2.1, 24}, {2001:db8:a::1, 64}.
  std::vector<std::pair<stack::IpAddress, int>> kernel_addresses;
  // e.g. 2001:db8::2/128 via 2001:db8:a::2
  std::vector<RouteConfig> routes;
};

class Network {
 public:
  // Runs once the TAP exists and is configured but still down: the place to open a
  // Recorder, so that it sees the very first frame the kernel sends.
  using BeforeLinkUp = std::function<void(const TapDevice&)>;

  // Throws EnvironmentError (no /dev/net/tun, no CAP_NET_ADMIN) or SetupError.
  explicit Network(NetworkConfig config, const BeforeLinkUp& before_link_up = {});

  TapDevice& tap() { return tap_; }
  const TapDevice& tap() const { return tap_; }
  const std::string& name() const { return tap_.name(); }
  int ifindex() { return netlink_.ifindex(tap_.name()); }
  const NetworkConfig& config() const { return config_; }
  // The routes tapfault believes installed: the configured ones, minus route_del,
  // plus route_add.
  const std::vector<RouteConfig>& routes() const { return routes_; }
  std::uint32_t mtu() const { return mtu_; }
  // The TAP's transmit queue as set: config().tx_queue_length, or the largest below it
  // that the kernel took (noted in notes()).
  std::uint32_t tx_queue_length() const { return tx_queue_length_; }
  // What set-up had to do differently from the configuration, one sentence each.
  const std::vector<std::string>& notes() const { return notes_; }
  bool is_up() const { return is_up_; }
  // Frames the kernel sent to the TAP that the queue dropped (it was full): the capture
  // shows them, the peer never saw them. 0 in every healthy run.
  std::uint64_t tx_dropped() { return netlink_.tx_dropped(tap_.name()); }

  // Kernel-side faults. Each throws SetupError when the kernel refuses. While the link
  // is down, route_add/route_del only change the list that link_up() installs (the
  // kernel flushed the TAP's routes and refuses new ones through a down device).
  void route_del(const RouteConfig& route);
  void route_add(const RouteConfig& route);
  void link_down();
  // Brings the link up and puts back what the kernel flushed while it was down: the
  // routes through the TAP (both families) and, should any be gone, the addresses.
  void link_up();
  // Below kIpv6MinimumMtu the kernel drops IPv6 from the TAP; raising the MTU again
  // puts the IPv6 addresses and routes back.
  void set_mtu(std::uint32_t mtu);

 private:
  void write_quiet_ipv6_sysctls();
  void set_largest_tx_queue_length();
  void add_addresses(IfExists if_exists);
  void add_routes(IfExists if_exists);
  void wait_until_addresses_usable();
  bool family_usable(const stack::IpAddress& address) const;

  NetworkConfig config_;
  Netlink netlink_;
  TapDevice tap_;
  std::vector<RouteConfig> routes_;
  std::uint32_t mtu_;
  std::uint32_t tx_queue_length_ = 0;
  std::vector<std::string> notes_;
  bool is_up_ = false;
};

}  // namespace tapfault::tap
