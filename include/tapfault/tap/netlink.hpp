// tap::Netlink: the rtnetlink requests tapfault needs, over libnl-route-3.
//
// One NETLINK_ROUTE socket, bound to the network namespace of the thread that created
// it (call enter_private_netns() first). Every request waits for the kernel's ACK, and a
// refusal throws SetupError naming the object ("route 2001:db8::2/128 via 2001:db8:a::2
// dev tf0") and libnl's text for the kernel's errno. libnl builds the messages; nothing
// here hand-writes netlink attributes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tapfault/stack/address.hpp"

struct nl_sock;

namespace tapfault::tap {

// What add_address()/add_route() do when the kernel already has the object.
enum class IfExists : unsigned char {
  kFail,  // throw SetupError (NLM_F_EXCL)
  kSkip,  // leave the existing one alone and return false
};

class Netlink {
 public:
  Netlink();  // throws SetupError when the socket cannot be opened
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Throws SetupError when there is no such interface.
  int ifindex(std::string_view name);

  void set_link_up(std::string_view name, bool up);
  void set_mtu(std::string_view name, std::uint32_t mtu);
  void set_mac(std::string_view name, const stack::MacAddress& mac);
  // The device's transmit queue length (IFLA_TXQLEN; `ip link set NAME txqueuelen N`).
  void set_tx_queue_length(std::string_view name, std::uint32_t frames);
  std::uint32_t tx_queue_length(std::string_view name);
  // The device's count of frames it dropped on transmit (IFLA_STATS64 tx_dropped). For a
  // TAP: frames the kernel sent while the queue towards the reader was full.
  std::uint64_t tx_dropped(std::string_view name);

  // `nodad` sets IFA_F_NODAD (IPv6 only; ignored for IPv4). Returns false only when
  // `if_exists` is kSkip and the address was already there.
  bool add_address(std::string_view name, const stack::IpAddress& address, int prefix_len,
                   bool nodad, IfExists if_exists = IfExists::kFail);

  // A unicast route in the main table; without a gateway the route is on-link, with one
  // the nexthop is marked onlink (the gateway is always directly on the TAP). rto_min_ms:
  // the locked RTAX_RTO_MIN metric, in milliseconds.
  bool add_route(const stack::IpAddress& destination, int prefix_len,
                 const std::optional<stack::IpAddress>& gateway, std::string_view name,
                 IfExists if_exists = IfExists::kFail, std::optional<std::uint32_t> rto_min_ms = {});
  // Throws SetupError naming the route when the kernel refuses (ENOENT: no such route).
  void del_route(const stack::IpAddress& destination, int prefix_len,
                 const std::optional<stack::IpAddress>& gateway, std::string_view name);

  // Whether the local table holds the host route of `address`, i.e. whether the kernel
  // accepts packets sent to it. IPv6 installs that route from a workqueue after the
  // address add is acknowledged (addrconf_dad_work, even with IFA_F_NODAD).
  bool has_local_route(const stack::IpAddress& address);

 private:
  struct nl_sock* socket_ = nullptr;
};

// "2001:db8::2/128 via 2001:db8:a::2 dev tf0", as in messages and logs.
std::string describe_route(const stack::IpAddress& destination, int prefix_len,
                           const std::optional<stack::IpAddress>& gateway,
                           std::string_view name);

}  // namespace tapfault::tap
