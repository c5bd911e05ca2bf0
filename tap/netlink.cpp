// tap::Netlink: link, address and route requests through libnl-route-3.
//
// libnl objects are reference counted; the Owned<> aliases below put them back on
// every path. libnl's rtnl_*_add/_delete/_change send the request and wait for the ACK,
// so a returned error is the kernel's answer (or libnl's own validation).
#include "tapfault/tap/netlink.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

template <typename T, void (*Put)(T*)>
struct Putter {
  void operator()(T* object) const { Put(object); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Putter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<nl_addr, Putter<nl_addr, nl_addr_put>>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, Putter<rtnl_addr, rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Putter<rtnl_route, rtnl_route_put>>;
using CachePtr = std::unique_ptr<nl_cache, Putter<nl_cache, nl_cache_free>>;

std::string nl_error_text(int error) { return nl_geterror(error); }

[[noreturn]] void fail(const std::string& what, int error) {
  throw SetupError(what + ": " + nl_error_text(error));
}

int address_family(const stack::IpAddress& address) {
  return address.is_v4() ? AF_INET : AF_INET6;
}

AddrPtr build_addr(const stack::IpAddress& address, int prefix_len) {
  AddrPtr addr(nl_addr_build(address_family(address), address.bytes.data(), address.size()));
  if (!addr) throw SetupError("cannot build netlink address " + address.to_string());
  nl_addr_set_prefixlen(addr.get(), prefix_len);
  return addr;
}

std::string describe_address(std::string_view name, const stack::IpAddress& address,
                             int prefix_len) {
  return "address " + address.to_string() + "/" + std::to_string(prefix_len) + " on " +
         std::string(name);
}

}  // namespace

std::string describe_route(const stack::IpAddress& destination, int prefix_len,
                           const std::optional<stack::IpAddress>& gateway,
                           std::string_view name) {
  std::string text = destination.to_string() + "/" + std::to_string(prefix_len);
  if (gateway) text += " via " + gateway->to_string();
  return text + " dev " + std::string(name);
}

Netlink::Netlink() : socket_(nl_socket_alloc()) {
  if (socket_ == nullptr) throw SetupError("cannot allocate a netlink socket: out of memory");
  if (int err = nl_connect(socket_, NETLINK_ROUTE); err < 0) {
    nl_socket_free(socket_);
    fail("cannot open a NETLINK_ROUTE socket", err);
  }
}

Netlink::~Netlink() { nl_socket_free(socket_); }

namespace {

LinkPtr get_link(nl_sock* socket, std::string_view name) {
  rtnl_link* raw = nullptr;
  const std::string ifname(name);
  if (int err = rtnl_link_get_kernel(socket, 0, ifname.c_str(), &raw); err < 0) {
    fail("no network interface named " + ifname, err);
  }
  return LinkPtr(raw);
}

}  // namespace

int Netlink::ifindex(std::string_view name) { return rtnl_link_get_ifindex(get_link(socket_, name).get()); }

std::uint32_t Netlink::tx_queue_length(std::string_view name) {
  return rtnl_link_get_txqlen(get_link(socket_, name).get());
}

std::uint64_t Netlink::tx_dropped(std::string_view name) {
  return rtnl_link_get_stat(get_link(socket_, name).get(), RTNL_LINK_TX_DROPPED);
}

namespace {

// Applies `changes` to the link called `name` (RTM_NEWLINK, falling back to RTM_SETLINK).
void change_link(nl_sock* socket, std::string_view name, rtnl_link* changes,
                 const std::string& what) {
  rtnl_link* raw = nullptr;
  const std::string ifname(name);
  if (int err = rtnl_link_get_kernel(socket, 0, ifname.c_str(), &raw); err < 0) {
    fail("cannot " + what + ": no network interface named " + ifname, err);
  }
  LinkPtr orig(raw);
  if (int err = rtnl_link_change(socket, orig.get(), changes, 0); err < 0) {
    fail("cannot " + what, err);
  }
}

LinkPtr new_link() {
  LinkPtr link(rtnl_link_alloc());
  if (!link) throw SetupError("cannot allocate a netlink link object: out of memory");
  return link;
}

}  // namespace

void Netlink::set_link_up(std::string_view name, bool up) {
  LinkPtr changes = new_link();
  if (up) {
    rtnl_link_set_flags(changes.get(), IFF_UP);
  } else {
    rtnl_link_unset_flags(changes.get(), IFF_UP);
  }
  change_link(socket_, name, changes.get(),
              std::string("set link ") + std::string(name) + (up ? " up" : " down"));
}

void Netlink::set_mtu(std::string_view name, std::uint32_t mtu) {
  LinkPtr changes = new_link();
  rtnl_link_set_mtu(changes.get(), mtu);
  change_link(socket_, name, changes.get(),
              "set the MTU of " + std::string(name) + " to " + std::to_string(mtu));
}

void Netlink::set_tx_queue_length(std::string_view name, std::uint32_t frames) {
  LinkPtr changes = new_link();
  rtnl_link_set_txqlen(changes.get(), frames);
  change_link(socket_, name, changes.get(),
              "set the transmit queue length of " + std::string(name) + " to " + std::to_string(frames));
}

void Netlink::set_mac(std::string_view name, const stack::MacAddress& mac) {
  LinkPtr changes = new_link();
  AddrPtr lladdr(nl_addr_build(AF_LLC, mac.bytes.data(), mac.bytes.size()));
  if (!lladdr) throw SetupError("cannot build netlink address " + mac.to_string());
  rtnl_link_set_addr(changes.get(), lladdr.get());
  change_link(socket_, name, changes.get(),
              "set the MAC address of " + std::string(name) + " to " + mac.to_string());
}

bool Netlink::add_address(std::string_view name, const stack::IpAddress& address,
                          int prefix_len, bool nodad, IfExists if_exists) {
  const std::string what = describe_address(name, address, prefix_len);
  RtnlAddrPtr addr(rtnl_addr_alloc());
  if (!addr) throw SetupError("cannot allocate " + what + ": out of memory");
  rtnl_addr_set_ifindex(addr.get(), ifindex(name));
  rtnl_addr_set_family(addr.get(), address_family(address));
  AddrPtr local = build_addr(address, prefix_len);
  if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) fail("cannot add " + what, err);
  rtnl_addr_set_prefixlen(addr.get(), prefix_len);
  if (nodad && address.is_v6()) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  int err = rtnl_addr_add(socket_, addr.get(), NLM_F_EXCL);
  if (err == -NLE_EXIST && if_exists == IfExists::kSkip) return false;
  if (err < 0) fail("cannot add " + what, err);
  return true;
}

namespace {

RoutePtr build_route(const stack::IpAddress& destination, int prefix_len,
                     const std::optional<stack::IpAddress>& gateway, int ifindex) {
  RoutePtr route(rtnl_route_alloc());
  if (!route) throw SetupError("cannot allocate a netlink route object: out of memory");
  rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(address_family(destination)));
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_scope(route.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  AddrPtr dst = build_addr(destination, prefix_len);
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
  if (nexthop == nullptr) throw SetupError("cannot allocate a netlink nexthop: out of memory");
  rtnl_route_nh_set_ifindex(nexthop, ifindex);
  if (gateway) {
    AddrPtr via = build_addr(*gateway, gateway->is_v4() ? 32 : 128);
    rtnl_route_nh_set_gateway(nexthop, via.get());
    // The gateway is the emulated peer on the TAP itself. ONLINK spares the kernel from
    // finding a connected route to it, which IPv6 restores asynchronously after a link flap.
    rtnl_route_nh_set_flags(nexthop, RTNH_F_ONLINK);
  }
  rtnl_route_add_nexthop(route.get(), nexthop);  // the route owns the nexthop from here
  return route;
}

}  // namespace

bool Netlink::add_route(const stack::IpAddress& destination, int prefix_len,
                        const std::optional<stack::IpAddress>& gateway, std::string_view name,
                        IfExists if_exists, std::optional<std::uint32_t> rto_min_ms) {
  std::string what = "route " + describe_route(destination, prefix_len, gateway, name);
  RoutePtr route = build_route(destination, prefix_len, gateway, ifindex(name));
  if (rto_min_ms) {
    // tcp_rto_min() reads the metric only when it is locked (dst_metric_locked()).
    what += " rto_min lock " + std::to_string(*rto_min_ms) + "ms";
    rtnl_route_set_metric(route.get(), RTAX_RTO_MIN, *rto_min_ms);
    rtnl_route_set_metric(route.get(), RTAX_LOCK, 1u << RTAX_RTO_MIN);
  }
  int err = rtnl_route_add(socket_, route.get(), NLM_F_EXCL);
  if (err == -NLE_EXIST && if_exists == IfExists::kSkip) return false;
  if (err < 0) fail("cannot add " + what, err);
  return true;
}

void Netlink::del_route(const stack::IpAddress& destination, int prefix_len,
                        const std::optional<stack::IpAddress>& gateway, std::string_view name) {
  const std::string what = "route " + describe_route(destination, prefix_len, gateway, name);
  RoutePtr route = build_route(destination, prefix_len, gateway, ifindex(name));
  if (int err = rtnl_route_delete(socket_, route.get(), 0); err < 0) {
    fail("cannot delete " + what, err);
  }
}

namespace {

bool is_host_route_of(rtnl_route* route, const stack::IpAddress& address) {
  const nl_addr* dst = rtnl_route_get_dst(route);
  return dst != nullptr && rtnl_route_get_type(route) == RTN_LOCAL &&
         nl_addr_get_prefixlen(dst) == address.size() * 8 &&
         nl_addr_get_len(dst) == address.size() &&
         std::memcmp(nl_addr_get_binary_addr(dst), address.bytes.data(), address.size()) == 0;
}

}  // namespace

bool Netlink::has_local_route(const stack::IpAddress& address) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(socket_, address_family(address), 0, &raw); err < 0) {
    fail("cannot list the routes (looking for local " + address.to_string() + ")", err);
  }
  CachePtr routes(raw);
  for (nl_object* object = nl_cache_get_first(routes.get()); object != nullptr;
       object = nl_cache_get_next(object)) {
    if (is_host_route_of(reinterpret_cast<rtnl_route*>(object), address)) return true;
  }
  return false;
}

}  // namespace tapfault::tap
