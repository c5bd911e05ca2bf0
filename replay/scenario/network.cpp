// Scenario parser: `network:` (family, MTU, addresses, gateway) with the defaults of
// docs/scenarios.md and docs/architecture.md "Boundaries" (the 192.0.2.0/24 and
// 2001:db8::/32 documentation prefixes, RFC 5737 and RFC 3849).
#include <algorithm>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

constexpr std::uint64_t kMaxMtu = 65535;
constexpr std::uint64_t kMinMtuV4 = 68;    // RFC 791
constexpr std::uint64_t kMinMtuV6 = 1280;  // RFC 8200 section 5

stack::IpAddress address(const char* text) { return *stack::IpAddress::parse(text); }

}  // namespace

std::uint32_t as_link_mtu(const Field& f) {
  const bool v6 = f.ctx().family == stack::Family::kIpv6;
  const std::uint64_t min = v6 ? kMinMtuV6 : kMinMtuV4;
  const std::uint64_t v = as_uint(f, 0, UINT64_MAX);
  if (v < min || v > kMaxMtu) {
    f.fail("must be between " + std::to_string(min) + " and " + std::to_string(kMaxMtu) +
           (v6 ? " in an ipv6 run (IPv6 needs a link MTU of at least 1280)" : "") + ", got " +
           std::to_string(v));
  }
  return static_cast<std::uint32_t>(v);
}

std::vector<stack::Family> parse_families(const Field& f) {
  auto one = [](const Field& item) {
    if (item.is_map() || item.is_list()) item.fail("must be ipv4, ipv6 or a list of them, got " + item.describe());
    auto family = family_from_name(as_string(item));
    if (!family) item.fail("unknown family " + item.describe() + "; allowed: ipv4, ipv6");
    return *family;
  };
  if (!f.is_list()) return {one(f)};
  std::vector<stack::Family> families;
  for (const Field& item : f.items()) {
    const stack::Family family = one(item);
    if (std::find(families.begin(), families.end(), family) != families.end()) {
      item.fail(std::string(family_name(family)) + " is listed twice");
    }
    families.push_back(family);
  }
  if (families.empty()) f.fail("an empty list; allowed: ipv4, ipv6 or [ipv4, ipv6]");
  return families;
}

NetworkSpec parse_network(const Field& f, const Context& ctx) {
  const Mapping m(f, {"family", "mtu", "kernel_address", "peer_address", "gateway", "router_address"});
  NetworkSpec n;
  n.line = f.line();
  n.family = ctx.family;  // parse_scenario() read the list and chose the family already
  const bool v6 = n.family == stack::Family::kIpv6;

  if (auto x = m.get("mtu")) n.mtu = as_link_mtu(*x);
  n.kernel_address = v6 ? IpPrefix{address("2001:db8:a::1"), 64} : IpPrefix{address("192.0.2.1"), 24};
  if (auto x = m.get("kernel_address")) n.kernel_address = as_prefix(*x, v6 ? 64 : 24);
  n.peer_address = v6 ? address("2001:db8::2") : address("192.0.2.2");
  if (auto x = m.get("peer_address")) n.peer_address = as_address(*x);
  if (v6) n.gateway = address("2001:db8:a::2");
  if (auto x = m.get("gateway")) {
    if (x->is_scalar() && !x->is_quoted() && x->scalar() == "none") n.gateway.reset();
    else n.gateway = as_address(*x);
  }
  if (auto x = m.get("router_address")) n.router_address = as_address(*x);

  // Messages point at the key that was written, or at `network:` when a default clashes.
  auto at = [&](std::string_view key) -> const Field& {
    const Mapping::Entry* e = m.find(key);
    return e != nullptr ? e->value : f;
  };
  const stack::IpAddress& kernel = n.kernel_address.address;
  if (n.peer_address == kernel) {
    at("peer_address").fail("peer_address " + kernel.to_string() + " is the kernel's own address");
  }
  if (n.gateway) {
    if (*n.gateway == kernel) at("gateway").fail("gateway " + kernel.to_string() + " is the kernel's own address");
    if (!n.kernel_address.contains(*n.gateway)) {
      at("gateway").fail("gateway " + n.gateway->to_string() + " is not in kernel_address " +
                         n.kernel_address.to_string() + "; the next hop must be on-link");
    }
  }
  if (n.router_address && *n.router_address == kernel) {
    at("router_address").fail("router_address " + kernel.to_string() + " is the kernel's own address");
  }
  return n;
}

}  // namespace tapfault::replay::detail
