// Scenario -> network, sysctls and peer configuration (see setup.hpp).
#include "setup.hpp"

namespace tapfault::replay {
namespace {

stack::IpAddress ip(const char* s) { return *stack::IpAddress::parse(s); }

void add_unique(std::vector<stack::IpAddress>& v, const stack::IpAddress& a) {
  for (const auto& x : v)
    if (x == a) return;
  v.push_back(a);
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& pinned_sysctls() {
  static const std::vector<std::pair<std::string, std::string>> kPinned = {
      {"net.ipv4.tcp_congestion_control", "bbr"},
      {"net.ipv4.tcp_syn_linear_timeouts", "4"},
      {"net.ipv4.tcp_syn_retries", "6"},
      {"net.ipv4.tcp_retries1", "3"},
      {"net.ipv4.tcp_retries2", "15"},
      {"net.ipv4.tcp_rto_min_us", "200000"},
      {"net.ipv4.tcp_rto_max_ms", "120000"},
      {"net.ipv4.tcp_keepalive_time", "7200"},
      {"net.ipv4.tcp_keepalive_intvl", "75"},
      {"net.ipv4.tcp_keepalive_probes", "9"},
      {"net.ipv4.tcp_timestamps", "1"},
      {"net.ipv4.tcp_sack", "1"},
      {"net.ipv4.tcp_window_scaling", "1"},
      {"net.ipv4.tcp_early_retrans", "3"},
      {"net.ipv4.tcp_frto", "2"},
      {"net.ipv4.tcp_mtu_probing", "0"},
      {"net.ipv4.tcp_min_snd_mss", "48"},
      {"net.ipv4.tcp_orphan_retries", "0"},
      {"net.ipv4.tcp_no_metrics_save", "1"},
      {"net.ipv4.tcp_ecn", "0"},
      {"net.ipv4.route.min_pmtu", "552"},
  };
  return kPinned;
}

tap::RouteConfig peer_route(const Scenario& s, std::optional<std::uint32_t> rto_min_ms) {
  const NetworkSpec& n = s.network;
  tap::RouteConfig r;
  r.destination = n.peer_address;
  r.prefix_len = n.peer_address.is_v4() ? 32 : 128;
  r.gateway = n.gateway;
  r.rto_min_ms = rto_min_ms;
  return r;
}

tap::NetworkConfig network_config(const Scenario& s, std::optional<std::uint32_t> rto_min_ms) {
  const NetworkSpec& n = s.network;
  tap::NetworkConfig c;
  c.mtu = n.mtu;
  c.kernel_addresses.emplace_back(n.kernel_address.address, n.kernel_address.length);
  // The other family gets the default addresses too, so ping and a second client work on both.
  if (n.family == stack::Family::kIpv4) c.kernel_addresses.emplace_back(ip("2001:db8:a::1"), 64);
  else c.kernel_addresses.emplace_back(ip("192.0.2.1"), 24);
  bool on_link = !n.gateway && n.kernel_address.contains(n.peer_address);
  // A route metric needs a route of its own: an on-link peer gets a host route.
  if (!on_link || rto_min_ms) c.routes.push_back(peer_route(s, rto_min_ms));
  if (n.family == stack::Family::kIpv4) c.routes.push_back({ip("2001:db8::2"), 128, ip("2001:db8:a::2")});
  return c;
}

stack::HostConfig host_config(const Scenario& s, stack::Instant origin) {
  stack::HostConfig h;
  h.addresses = {ip("192.0.2.2"), ip("2001:db8::2"), ip("2001:db8:a::2")};
  add_unique(h.addresses, s.network.peer_address);
  if (s.network.gateway) add_unique(h.addresses, *s.network.gateway);
  if (s.network.router_address) add_unique(h.addresses, *s.network.router_address);
  h.listeners = s.peer.listeners();
  h.mtu = s.network.mtu;
  h.window_bytes = s.peer.window_bytes;
  h.window_scale = s.peer.window_scale;
  h.delayed_ack = s.peer.delayed_ack;
  h.seed = s.seed;
  h.origin = origin;
  return h;
}

}  // namespace tapfault::replay
