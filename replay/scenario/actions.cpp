// Scenario parser: the top-level `actions:` list, what the runner does in the kernel's
// namespace at given times (routes, link state, MTU, sysctls).
#include <algorithm>
#include <string>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

const std::vector<std::string_view> kKinds = {"route-del", "route-add", "link-down", "link-up", "mtu", "sysctl"};

// `peer` (the route the run set up to the peer address) or a prefix; a bare address is a host route.
std::optional<IpPrefix> as_route(const Field& f) {
  if (f.is_scalar() && !f.is_quoted() && f.scalar() == "peer") return std::nullopt;
  if (f.is_null() || !f.is_scalar()) f.fail("must be peer or a prefix such as 2001:db8::2/128, got " + f.describe());
  return as_prefix(f, f.ctx().family == stack::Family::kIpv6 ? 128 : 32);
}

void parse_route_add(const Field& f, KernelAction& a) {
  a.via = f.ctx().network->gateway;
  if (!f.is_map()) {
    a.prefix = as_route(f);
    if (!a.prefix) a.via.reset();  // `peer`: exactly as at setup
    return;
  }
  const Mapping m(f, {"prefix", "via"});
  a.prefix = as_route(m.required("prefix", "peer or a prefix such as 2001:db8::/64"));
  if (auto x = m.get("via")) {
    if (!a.prefix) m.key_field("via").fail("route-add: peer goes the way the run set it up; via is for a prefix");
    if (x->is_scalar() && !x->is_quoted() && x->scalar() == "none") {
      a.via.reset();
    } else {
      a.via = as_address(*x);
      const IpPrefix& local = f.ctx().network->kernel_address;
      if (!local.contains(*a.via)) {
        x->fail("via " + a.via->to_string() + " is not in kernel_address " + local.to_string() +
                "; the next hop must be on-link");
      }
    }
  }
  if (!a.prefix) a.via.reset();
}

void parse_empty(const Field& f, std::string_view key) {
  if (!f.is_null() && !f.is_map()) f.fail(std::string(key) + " takes no value; write " + std::string(key) + ": {}");
  (void)Mapping(f, {});
}

KernelAction parse_kernel_action(const Field& item) {
  if (!item.is_map()) {
    item.fail("must be a mapping with at and one action (" + join(kKinds) + "), got " + item.describe());
  }
  std::vector<std::string_view> allowed = kKinds;
  allowed.insert(allowed.begin(), "at");
  const Mapping m(item, allowed, "unknown kernel action or key; actions: " + join(kKinds) + "; other keys: at");
  KernelAction a;
  a.line = item.line();
  const Mapping::Entry* action = nullptr;
  for (const Mapping::Entry& e : m.entries()) {
    if (e.key == "at") continue;
    if (action != nullptr) {
      e.key_field.fail("one action per item; this one already has " + action->key + " (start a new item with -)");
    }
    action = &e;
  }
  if (action == nullptr) item.fail("no action; give one of: " + join(kKinds));
  const Field at = m.required("at", "the time since the run started, e.g. at: 2s");
  a.at = as_duration(at);
  if (a.at > item.ctx().duration) {
    at.fail("never runs: at " + format_duration(a.at) + " is after the run ends (duration " +
            format_duration(item.ctx().duration) + ")");
  }

  const Field& v = action->value;
  if (action->key == "route-del") {
    a.kind = KernelAction::Kind::kRouteDel;
    a.prefix = as_route(v);
  } else if (action->key == "route-add") {
    a.kind = KernelAction::Kind::kRouteAdd;
    parse_route_add(v, a);
  } else if (action->key == "link-down") {
    a.kind = KernelAction::Kind::kLinkDown;
    parse_empty(v, action->key);
  } else if (action->key == "link-up") {
    a.kind = KernelAction::Kind::kLinkUp;
    parse_empty(v, action->key);
  } else if (action->key == "mtu") {
    a.kind = KernelAction::Kind::kMtu;
    a.mtu = as_link_mtu(v);
  } else {
    a.kind = KernelAction::Kind::kSysctl;
    if (!v.is_map()) v.fail("must be a mapping of sysctl names to values, got " + v.describe());
    a.sysctls = as_sysctls(v);
  }
  return a;
}

}  // namespace

std::vector<KernelAction> parse_kernel_actions(const Field& f) {
  if (!f.is_null() && !f.is_list()) f.fail("must be a list of actions, got " + f.describe());
  std::vector<KernelAction> actions;
  for (const Field& item : f.items()) actions.push_back(parse_kernel_action(item));
  std::stable_sort(actions.begin(), actions.end(),
                   [](const KernelAction& a, const KernelAction& b) { return a.at < b.at; });
  return actions;
}

}  // namespace tapfault::replay::detail
