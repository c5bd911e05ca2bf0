// Scenario parser: `peer.faults`, each a trigger, one action and an optional end, into
// stack::FaultPlan (include/tapfault/stack/fault.hpp explains how the peer applies them).
// Besides the syntax it rejects faults that can never fire or never be active: on_segment 0,
// an `at` after the run ends, `until` not after the trigger, `after` naming an unknown fault
// or a cycle, and ICMP messages of the other family.
#include <map>
#include <string>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

const std::vector<std::string_view> kActions = {"silent", "window", "icmp", "rst"};
const std::vector<std::string_view> kTriggers = {"at", "on_segment", "on_rx_bytes", "on_state", "after"};

bool contains(const std::vector<std::string_view>& words, std::string_view w) {
  for (std::string_view x : words)
    if (x == w) return true;
  return false;
}

// `after: {fault: NAME}` references, checked once every fault has its name.
struct FaultReference {
  std::size_t fault = 0;  // index of the fault that refers
  bool in_until = false;
  Field name;             // the `fault:` value
};

struct PeerStateName {
  std::string_view normalized;
  stack::TcpState state;
};

// Our own table rather than stack::tcp_state_from_string: the parser names the peer's
// states in messages and rejects the client-only ones with a reason.
constexpr PeerStateName kPeerStates[] = {
    {"SYNRECEIVED", stack::TcpState::kSynReceived}, {"SYNRECV", stack::TcpState::kSynReceived},
    {"ESTABLISHED", stack::TcpState::kEstablished}, {"ESTAB", stack::TcpState::kEstablished},
    {"CLOSEWAIT", stack::TcpState::kCloseWait},     {"LASTACK", stack::TcpState::kLastAck},
    {"FINWAIT1", stack::TcpState::kFinWait1},       {"FINWAIT2", stack::TcpState::kFinWait2},
    {"CLOSING", stack::TcpState::kClosing},         {"TIMEWAIT", stack::TcpState::kTimeWait},
    {"CLOSED", stack::TcpState::kClosed},           {"CLOSE", stack::TcpState::kClosed},
};
constexpr std::string_view kPeerStateList =
    "syn-received, established, close-wait, last-ack, fin-wait-1, fin-wait-2, closing, time-wait, closed";

stack::TcpState as_peer_state(const Field& f) {
  const std::string n = normalize_state_name(as_string(f));
  for (const PeerStateName& s : kPeerStates)
    if (s.normalized == n) return s.state;
  if (n == "SYNSENT" || n == "LISTEN") {
    f.fail("never fires: the peer only accepts connections, so it is never in " + f.describe() +
           "; allowed: " + std::string(kPeerStateList));
  }
  f.fail("unknown TCP state " + f.describe() + "; allowed: " + std::string(kPeerStateList) +
         " (any case, '-' or '_')");
}

// One trigger key and its value; shared by the fault's trigger and by `until: {KEY: ...}`.
stack::Trigger parse_trigger(std::string_view key, const Field& value, std::size_t fault_index,
                             bool in_until, std::vector<FaultReference>& references) {
  stack::Trigger t;
  const Duration run = value.ctx().duration;
  if (key == "at") {
    t.kind = stack::TriggerKind::kAt;
    t.at = as_duration(value);
    if (t.at > run && !in_until) {
      value.fail("never fires: at " + format_duration(t.at) + " is after the run ends (duration " +
                 format_duration(run) + ")");
    }
  } else if (key == "on_segment") {
    t.kind = stack::TriggerKind::kOnSegment;
    t.count = as_uint(value, 0, UINT64_MAX);
    if (t.count == 0) value.fail("never fires: segments count from 1 (on_segment: 1 is the first data segment)");
  } else if (key == "on_rx_bytes") {
    t.kind = stack::TriggerKind::kOnRxBytes;
    t.count = as_size(value);
    if (t.count == 0) value.fail("0 bytes is reached before anything arrives; leave out the trigger for a fault active from the start");
  } else if (key == "on_state") {
    t.kind = stack::TriggerKind::kOnState;
    t.state = as_peer_state(value);
  } else {  // after
    t.kind = stack::TriggerKind::kAfterFault;
    if (!value.is_map()) value.fail("must be a mapping such as {fault: NAME, delay: 2s}, got " + value.describe());
    const Mapping m(value, {"fault", "delay", "segments"});
    const Field name = m.required("fault", "the name of the fault this one follows");
    t.fault = as_nonempty_string(name);
    references.push_back(FaultReference{fault_index, in_until, name});
    if (m.has("delay") && m.has("segments")) m.key_field("segments").fail("give delay or segments, not both");
    if (auto x = m.get("delay")) t.delay = as_duration(*x);
    if (auto x = m.get("segments")) {
      t.count = as_uint(*x, 0, UINT64_MAX);
      if (t.count == 0) x->fail("segments count from 1; for no wait write delay: 0s");
    }
  }
  return t;
}

// `until:` a duration (the same as {at: D}) or a mapping with one trigger key.
stack::Trigger parse_until(const Field& f, const stack::Trigger& start, std::size_t fault_index,
                           std::vector<FaultReference>& references) {
  stack::Trigger end;
  const std::string one_of = "a duration or a mapping with one of: " + join(kTriggers);
  if (f.is_scalar()) {
    end = parse_trigger("at", f, fault_index, true, references);
  } else if (f.is_map()) {
    const Mapping m(f, kTriggers);
    if (m.entries().size() != 1) f.fail("needs exactly one end: " + one_of);
    const Mapping::Entry& e = m.entries().front();
    end = parse_trigger(e.key, e.value, fault_index, true, references);
  } else {
    f.fail("must be " + one_of + ", got " + f.describe());
  }

  const bool starts_at_time = start.kind == stack::TriggerKind::kAt || start.kind == stack::TriggerKind::kImmediate;
  if (end.kind == stack::TriggerKind::kAt && starts_at_time && end.at <= start.at) {
    f.fail("never active: until " + format_duration(end.at) + " is not after " +
           (start.kind == stack::TriggerKind::kAt ? "at " + format_duration(start.at) : std::string("the start (0s)")));
  }
  const bool same_count = end.kind == start.kind && (end.kind == stack::TriggerKind::kOnSegment ||
                                                     end.kind == stack::TriggerKind::kOnRxBytes);
  if (same_count && end.count <= start.count) {
    const char* key = end.kind == stack::TriggerKind::kOnSegment ? "on_segment" : "on_rx_bytes";
    f.fail(std::string("never active: until ") + key + " " + std::to_string(end.count) + " is not after " + key +
           " " + std::to_string(start.count));
  }
  return end;
}

stack::SilentAction parse_silent(const Field& f) {
  std::optional<Field> mode_field;
  if (f.is_scalar()) mode_field = f;
  else if (f.is_map() || f.is_null()) mode_field = Mapping(f, {"mode"}).get("mode");
  else f.fail("must be a mode or {mode: MODE}, got " + f.describe());

  stack::SilentAction a;
  if (!mode_field) return a;  // `silent:` or `silent: {}`: all
  const std::string mode = as_string(*mode_field);
  if (mode == "all") a.mode = stack::SilentMode::kAll;
  else if (mode == "data") a.mode = stack::SilentMode::kData;
  else if (mode == "input") a.mode = stack::SilentMode::kInput;
  else if (mode == "output") a.mode = stack::SilentMode::kOutput;
  else if (mode == "once") a.mode = stack::SilentMode::kOnce;
  else mode_field->fail("unknown silent mode " + mode_field->describe() + "; allowed: all, data, input, output, once");
  return a;
}

stack::WindowAction parse_window(const Field& f, const PeerSpec& peer) {
  const std::string allowed = "a size (0, 64KiB), reopen, or {size: 0, ignore_probes: true}";
  stack::WindowAction a;
  std::optional<Field> size;
  if (f.is_scalar() && !f.is_quoted() && f.scalar() == "reopen") {
    a.reopen = true;
    return a;
  }
  if (f.is_scalar()) {
    if (f.scalar().empty() || f.scalar()[0] < '0' || f.scalar()[0] > '9') {
      f.fail("must be " + allowed + ", got " + f.describe());
    }
    size = f;
  } else if (f.is_map()) {
    const Mapping m(f, {"size", "ignore_probes"});
    size = m.required("size", "the window to advertise, 0 for a zero window");
    if (auto x = m.get("ignore_probes")) a.ignore_probes = as_bool(*x);
  } else {
    f.fail("must be " + allowed + ", got " + f.describe());
  }
  const std::uint64_t max_window = std::uint64_t{65535} << peer.window_scale;
  a.window_bytes = static_cast<std::uint32_t>(as_size(*size, UINT32_MAX));
  if (a.window_bytes > max_window) {
    size->fail("at most " + std::to_string(max_window) + " bytes with peer.window_scale " +
               std::to_string(peer.window_scale) + " (65535 << scale)");
  }
  if (a.ignore_probes && a.window_bytes != 0) {
    f.fail("ignore_probes needs size 0: only a zero window is probed");
  }
  return a;
}

struct IcmpType {
  std::string_view name;
  stack::Family family;
  stack::IcmpKind kind;
};

constexpr IcmpType kIcmpTypes[] = {
    {"net-unreachable", stack::Family::kIpv4, stack::IcmpKind::kNetUnreachable},
    {"host-unreachable", stack::Family::kIpv4, stack::IcmpKind::kHostUnreachable},
    {"protocol-unreachable", stack::Family::kIpv4, stack::IcmpKind::kProtocolUnreachable},
    {"port-unreachable", stack::Family::kIpv4, stack::IcmpKind::kPortUnreachable},
    {"frag-needed", stack::Family::kIpv4, stack::IcmpKind::kFragNeeded},
    {"admin-prohibited", stack::Family::kIpv4, stack::IcmpKind::kAdminProhibited},
    {"no-route", stack::Family::kIpv6, stack::IcmpKind::kNoRoute},
    {"admin-prohibited", stack::Family::kIpv6, stack::IcmpKind::kAdminProhibited6},
    {"address-unreachable", stack::Family::kIpv6, stack::IcmpKind::kAddressUnreachable},
    {"port-unreachable", stack::Family::kIpv6, stack::IcmpKind::kPortUnreachable6},
    {"packet-too-big", stack::Family::kIpv6, stack::IcmpKind::kPacketTooBig},
};

// The nearest type of the other family, for "use X" in messages.
constexpr std::pair<std::string_view, std::string_view> kIcmpCounterparts[] = {
    {"frag-needed", "packet-too-big"},   {"packet-too-big", "frag-needed"},
    {"net-unreachable", "no-route"},     {"no-route", "net-unreachable"},
    {"host-unreachable", "address-unreachable"}, {"address-unreachable", "host-unreachable"},
};

stack::IcmpKind as_icmp_kind(const Field& f) {
  const std::string name = as_string(f);
  const stack::Family family = f.ctx().family;
  const bool v6 = family == stack::Family::kIpv6;
  std::vector<std::string_view> allowed;
  bool other_family = false;
  for (const IcmpType& t : kIcmpTypes) {
    if (t.family == family) {
      if (t.name == name) return t.kind;
      allowed.push_back(t.name);
    } else if (t.name == name) {
      other_family = true;
    }
  }
  if (other_family) {
    std::string message = name + " is " + (v6 ? "ICMPv4" : "ICMPv6") + " but the run is " + (v6 ? "ipv6" : "ipv4");
    for (const auto& [from, to] : kIcmpCounterparts)
      if (from == name) message += "; use " + std::string(to);
    f.fail(message + " (allowed: " + join(allowed) + ")");
  }
  f.fail("unknown ICMP type " + f.describe() + "; allowed in an " + (v6 ? "ipv6" : "ipv4") + " run: " + join(allowed));
}

std::optional<stack::IpAddress> as_icmp_source(const Field& f) {
  const std::string text = as_string(f);
  if (text == "peer") return std::nullopt;
  if (text == "router") {
    const NetworkSpec& n = *f.ctx().network;
    if (n.router_address) return n.router_address;
    if (n.gateway) return n.gateway;
    f.fail("from: router needs network.router_address (or network.gateway)");
  }
  return as_address(f);
}

stack::IcmpAction parse_icmp(const Field& f) {
  stack::IcmpAction a;
  if (f.is_scalar()) {
    a.kind = as_icmp_kind(f);
    if (a.kind == stack::IcmpKind::kFragNeeded || a.kind == stack::IcmpKind::kPacketTooBig) {
      f.fail(f.scalar() + " carries an MTU: write {type: " + f.scalar() + ", mtu: 1280}");
    }
    return a;
  }
  if (!f.is_map()) f.fail("must be an ICMP type or {type: TYPE, mtu: N, from: router, every: true}, got " + f.describe());
  const Mapping m(f, {"type", "mtu", "from", "every"});
  a.kind = as_icmp_kind(m.required("type", "e.g. host-unreachable, frag-needed, packet-too-big"));
  const bool carries_mtu = a.kind == stack::IcmpKind::kFragNeeded || a.kind == stack::IcmpKind::kPacketTooBig;
  if (carries_mtu) {
    // frag-needed has a 16-bit next-hop MTU (RFC 1191); packet-too-big a 32-bit MTU (RFC 4443).
    const std::uint64_t max = a.kind == stack::IcmpKind::kFragNeeded ? 65535 : UINT32_MAX;
    a.mtu = static_cast<std::uint32_t>(as_uint(m.required("mtu", "the MTU the message reports"), 0, max));
  } else if (m.has("mtu")) {
    m.key_field("mtu").fail("only frag-needed and packet-too-big carry an MTU");
  }
  if (auto x = m.get("from")) a.source = as_icmp_source(*x);
  if (auto x = m.get("every")) a.every = as_bool(*x);
  return a;
}

stack::RstAction parse_rst(const Field& f) {
  stack::RstAction a;
  if (f.is_null()) return a;
  if (f.is_scalar()) {
    if (as_bool(f)) return a;
    f.fail("rst: false is no action; remove the fault, or write rst: {} or rst: {offset: N}");
  }
  if (!f.is_map()) f.fail("must be true, {} or {offset: N}, got " + f.describe());
  const Mapping m(f, {"offset"});
  if (auto x = m.get("offset")) a.offset = as_int(*x, INT32_MIN, INT32_MAX);
  return a;
}

// Fails when a fault's `after:` chain comes back to a fault already on it: none of them fires.
void check_after_cycles(const std::vector<stack::Fault>& faults, const std::vector<FaultReference>& references) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < faults.size(); ++i) index[faults[i].name] = i;
  for (const FaultReference& r : references) {
    if (r.in_until) continue;
    std::vector<std::size_t> chain{r.fault};
    std::size_t at = r.fault;
    while (faults[at].trigger.kind == stack::TriggerKind::kAfterFault) {
      at = index.at(faults[at].trigger.fault);
      bool seen = false;
      for (std::size_t c : chain) seen = seen || c == at;
      chain.push_back(at);
      if (!seen) continue;
      if (at != r.fault) break;  // a cycle further on; reported from one of its own faults
      std::string names;
      for (std::size_t c : chain) names += (names.empty() ? "" : " -> ") + faults[c].name;
      r.name.fail(chain.size() == 2 ? "never fires: a fault cannot follow itself"
                                    : "never fires: the after chain " + names + " is a cycle");
    }
  }
}

stack::Fault parse_fault(const Field& item, std::size_t index, const PeerSpec& peer,
                         std::vector<FaultReference>& references) {
  const std::vector<std::string_view> others = {"name", "until", "connection"};
  std::vector<std::string_view> allowed = others;
  allowed.insert(allowed.end(), kActions.begin(), kActions.end());
  allowed.insert(allowed.end(), kTriggers.begin(), kTriggers.end());
  if (!item.is_map()) {
    item.fail("a fault must be a mapping with one action (" + join(kActions) + "), got " + item.describe());
  }
  const Mapping m(item, allowed,
                  "unknown fault action or key; actions: " + join(kActions) + "; triggers: " + join(kTriggers) +
                      "; other keys: " + join(others));

  stack::Fault fault;
  fault.line = item.line();
  fault.name = "fault#" + std::to_string(index + 1);
  if (auto x = m.get("name")) fault.name = as_nonempty_string(*x);

  const Mapping::Entry* action = nullptr;
  const Mapping::Entry* trigger = nullptr;
  for (const Mapping::Entry& e : m.entries()) {
    if (contains(kActions, e.key)) {
      if (action != nullptr) {
        e.key_field.fail("one action per fault; this one already has " + action->key + " (write a second fault)");
      }
      action = &e;
    } else if (contains(kTriggers, e.key)) {
      if (trigger != nullptr) {
        e.key_field.fail("at most one trigger per fault (" + join(kTriggers) + "); this one already has " +
                         trigger->key);
      }
      trigger = &e;
    }
  }
  if (action == nullptr) item.fail("a fault needs one action: " + join(kActions));

  if (trigger != nullptr) fault.trigger = parse_trigger(trigger->key, trigger->value, index, false, references);
  if (action->key == "silent") {
    fault.action = stack::ActionKind::kSilent;
    fault.silent = parse_silent(action->value);
  } else if (action->key == "window") {
    fault.action = stack::ActionKind::kWindow;
    fault.window = parse_window(action->value, peer);
  } else if (action->key == "icmp") {
    fault.action = stack::ActionKind::kIcmp;
    fault.icmp = parse_icmp(action->value);
  } else {
    fault.action = stack::ActionKind::kRst;
    fault.rst = parse_rst(action->value);
  }
  if (auto x = m.get("until")) {
    if (fault.action == stack::ActionKind::kSilent && fault.silent.mode == stack::SilentMode::kOnce) {
      m.key_field("until").fail("silent: once ends by itself after one segment; remove until");
    }
    fault.until = parse_until(*x, fault.trigger, index, references);
  }
  if (auto x = m.get("connection")) {
    fault.connection = static_cast<std::uint32_t>(as_uint(*x, 0, UINT32_MAX));
    if (fault.connection == 0) {
      x->fail("connections count from 1 (the first accepted); leave out connection for every connection");
    }
  }
  return fault;
}

}  // namespace

stack::FaultPlan parse_faults(const Field& f, const PeerSpec& peer) {
  if (!f.is_null() && !f.is_list()) f.fail("must be a list of faults, got " + f.describe());
  stack::FaultPlan plan;
  std::vector<FaultReference> references;
  const std::vector<Field> items = f.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    stack::Fault fault = parse_fault(items[i], i, peer, references);
    for (const stack::Fault& other : plan.faults) {
      if (other.name != fault.name) continue;
      const Mapping m = Mapping::open(items[i]);
      const Field& where = m.has("name") ? *m.get("name") : items[i];
      where.fail("duplicate fault name '" + fault.name + "' (the fault at line " + std::to_string(other.line) +
                 (m.has("name") ? ")" : " is named so; name this one)"));
    }
    plan.faults.push_back(std::move(fault));
  }

  std::vector<std::string_view> names;
  for (const stack::Fault& fault : plan.faults) names.push_back(fault.name);
  for (const FaultReference& r : references) {
    if (!contains(names, r.name.scalar())) {
      r.name.fail("unknown fault '" + r.name.scalar() + "'; faults: " + join(names));
    }
  }
  check_after_cycles(plan.faults, references);
  return plan;
}

}  // namespace tapfault::replay::detail
