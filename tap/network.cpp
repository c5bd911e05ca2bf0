// tap::Network: TAP creation and configuration, and the kernel-side fault actions.
//
// Read first: the kernel's net/ipv6/addrconf.c (addrconf_notify, addrconf_ifdown) for
// why the IPv6 sysctls and keep_addr_on_down are set the way they are.
#include "tapfault/tap/network.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/sysctl.hpp"

namespace tapfault::tap {
namespace {

// For every IPv6 device that the namespace creates or re-creates (ipv6_add_dev copies
// `default`, which matters after an MTU below 1280 destroyed the TAP's IPv6 state):
//   addr_gen_mode=1        IN6_ADDR_GEN_MODE_NONE: no link-local address, hence no
//                          DAD or MLD traffic of its own at link up;
//   accept_ra=0, router_solicitations=0: no router discovery;
//   accept_dad=0, dad_transmits=0: no neighbour solicitations for our own addresses;
//   keep_addr_on_down=1    link_down keeps the addresses, as IPv4 does.
// How long the IPv6 addresses may take to become usable (a workqueue, normally well
// under a millisecond) before setup gives up.
constexpr std::chrono::seconds kAddressReadyTimeout{2};
constexpr std::chrono::microseconds kAddressReadyPoll{200};

constexpr std::pair<std::string_view, std::string_view> kQuietIpv6[] = {
    {"addr_gen_mode", "1"}, {"accept_ra", "0"},         {"router_solicitations", "0"},
    {"accept_dad", "0"},    {"dad_transmits", "0"},     {"keep_addr_on_down", "1"},
};

// `all` is combined with the per-device value (max or or) for these two.
constexpr std::pair<std::string_view, std::string_view> kQuietIpv6All[] = {
    {"accept_dad", "0"},
    {"keep_addr_on_down", "1"},
};

void write_ipv6_conf(std::string_view device, std::string_view key, std::string_view value) {
  std::string name = "net.ipv6.conf.";
  name.append(device).append(".").append(key);
  write_sysctl(name, value);
}

}  // namespace

Network::Network(NetworkConfig config, const BeforeLinkUp& before_link_up)
    : config_(std::move(config)),
      tap_(config_.tap_name),
      routes_(config_.routes),
      mtu_(config_.mtu) {
  write_quiet_ipv6_sysctls();
  netlink_.set_mac(tap_.name(), config_.kernel_mac);
  netlink_.set_mtu(tap_.name(), config_.mtu);
  set_largest_tx_queue_length();
  if (before_link_up) before_link_up(tap_);
  netlink_.set_link_up(tap_.name(), true);
  is_up_ = true;
  add_addresses(IfExists::kFail);
  add_routes(IfExists::kFail);
  wait_until_addresses_usable();
}

// 6.1 and 6.12 refuse 65536 with ERANGE on every device type, where 6.18 takes it; 32767
// is what they take. Below the configured length, each try halves, down to the kernel's own
// default for a TAP (500).
void Network::set_largest_tx_queue_length() {
  std::uint32_t frames = config_.tx_queue_length;
  std::string first_error;
  while (true) {
    try {
      netlink_.set_tx_queue_length(tap_.name(), frames);
      tx_queue_length_ = frames;
      if (!first_error.empty())
        notes_.push_back("the TAP's transmit queue is " + std::to_string(frames) + " frames, the largest this kernel took (" +
                         first_error + ")");
      return;
    } catch (const SetupError& e) {
      if (first_error.empty()) first_error = e.what();
      const std::uint32_t next = frames > 32767 ? 32767 : frames / 2;
      if (next < 500) throw;
      frames = next;
    }
  }
}

void Network::write_quiet_ipv6_sysctls() {
  for (const auto& [key, value] : kQuietIpv6) {
    write_ipv6_conf("default", key, value);
    write_ipv6_conf(tap_.name(), key, value);
  }
  for (const auto& [key, value] : kQuietIpv6All) write_ipv6_conf("all", key, value);
}

bool Network::family_usable(const stack::IpAddress& address) const {
  return address.is_v4() || mtu_ >= kIpv6MinimumMtu;
}

void Network::add_addresses(IfExists if_exists) {
  for (const auto& [address, prefix_len] : config_.kernel_addresses) {
    if (!family_usable(address)) continue;
    netlink_.add_address(tap_.name(), address, prefix_len, /*nodad=*/true, if_exists);
  }
}

// The kernel acknowledges an IPv6 address before it accepts packets for it: the host
// route that makes it local is installed later by addrconf_dad_work, IFA_F_NODAD or not.
// A neighbour advertisement arriving in that window is dropped, which costs the first
// connection a one-second neighbour-solicitation retry. Wait for every local route.
void Network::wait_until_addresses_usable() {
  const auto give_up = std::chrono::steady_clock::now() + kAddressReadyTimeout;
  for (const auto& [address, prefix_len] : config_.kernel_addresses) {
    if (!family_usable(address)) continue;
    while (!netlink_.has_local_route(address)) {
      if (std::chrono::steady_clock::now() > give_up) {
        throw SetupError("address " + address.to_string() + "/" + std::to_string(prefix_len) +
                         " on " + tap_.name() + " is not usable after " +
                         std::to_string(kAddressReadyTimeout.count()) +
                         " s (no local route in the kernel)");
      }
      std::this_thread::sleep_for(kAddressReadyPoll);
    }
  }
}

void Network::add_routes(IfExists if_exists) {
  for (const RouteConfig& route : routes_) {
    if (!family_usable(route.destination)) continue;
    netlink_.add_route(route.destination, route.prefix_len, route.gateway, tap_.name(),
                       if_exists, route.rto_min_ms);
  }
}

void Network::route_del(const RouteConfig& route) {
  auto installed = std::find(routes_.begin(), routes_.end(), route);
  if (!is_up_) {
    // The kernel flushed the TAP's routes at link down; forget the route so that
    // link_up() does not put it back.
    if (installed == routes_.end()) {
      throw SetupError("cannot delete route " +
                       describe_route(route.destination, route.prefix_len, route.gateway,
                                      tap_.name()) +
                       ": not configured (and the link is down)");
    }
    routes_.erase(installed);
    return;
  }
  netlink_.del_route(route.destination, route.prefix_len, route.gateway, tap_.name());
  if (installed != routes_.end()) routes_.erase(installed);
}

void Network::route_add(const RouteConfig& route) {
  // While the link is down the kernel refuses routes through it: link_up() adds it.
  if (is_up_) {
    netlink_.add_route(route.destination, route.prefix_len, route.gateway, tap_.name(), IfExists::kFail,
                       route.rto_min_ms);
  }
  if (std::find(routes_.begin(), routes_.end(), route) == routes_.end()) {
    routes_.push_back(route);
  }
}

void Network::link_down() {
  netlink_.set_link_up(tap_.name(), false);
  is_up_ = false;
}

void Network::link_up() {
  netlink_.set_link_up(tap_.name(), true);
  is_up_ = true;
  add_addresses(IfExists::kSkip);
  add_routes(IfExists::kSkip);
  wait_until_addresses_usable();
}

void Network::set_mtu(std::uint32_t mtu) {
  netlink_.set_mtu(tap_.name(), mtu);
  mtu_ = mtu;
  if (!is_up_) return;  // link_up() restores
  add_addresses(IfExists::kSkip);
  add_routes(IfExists::kSkip);
  wait_until_addresses_usable();
}

}  // namespace tapfault::tap
