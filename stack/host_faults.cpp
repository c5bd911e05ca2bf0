// HostFaults: the fault plan applied to the host's traffic (see host_faults.hpp).
#include "host_faults.hpp"

#include <algorithm>
#include <string>

#include "tcp_connection.hpp"

namespace tapfault::stack {
namespace {

// ICMP type and code on the wire for each IcmpKind (RFC 792, RFC 1191, RFC 4443).
std::pair<std::uint8_t, std::uint8_t> icmp_type_code(IcmpKind k) {
  switch (k) {
    case IcmpKind::kNetUnreachable: return {3, 0};
    case IcmpKind::kHostUnreachable: return {3, 1};
    case IcmpKind::kProtocolUnreachable: return {3, 2};
    case IcmpKind::kPortUnreachable: return {3, 3};
    case IcmpKind::kFragNeeded: return {3, 4};
    case IcmpKind::kAdminProhibited: return {3, 13};
    case IcmpKind::kNoRoute: return {1, 0};
    case IcmpKind::kAdminProhibited6: return {1, 1};
    case IcmpKind::kAddressUnreachable: return {1, 3};
    case IcmpKind::kPortUnreachable6: return {1, 4};
    case IcmpKind::kPacketTooBig: return {2, 0};
  }
  return {3, 1};
}

const char* action_name(const Fault& f) {
  switch (f.action) {
    case ActionKind::kSilent: return "silent";
    case ActionKind::kWindow: return "window";
    case ActionKind::kIcmp: return "icmp";
    case ActionKind::kRst: return "rst";
  }
  return "?";
}

}  // namespace

HostFaults::HostFaults(FaultPlan plan, Instant origin, HostOutput& out, ConnectionContext& ctx,
                       ForEachConnection connections)
    : engine_(std::move(plan), origin), out_(out), ctx_(ctx), connections_(std::move(connections)) {}

void HostFaults::on_accept(TcpConnection& c) const {
  for (std::size_t i = 0; i < engine_.faults().size(); ++i) {
    const Fault& f = engine_.faults()[i];
    if (f.action == ActionKind::kWindow && !f.window.reopen && engine_.active_for(i, c.id()))
      c.set_window_override(f.window.window_bytes, f.window.ignore_probes);
  }
}

bool HostFaults::output_silenced(std::uint64_t conn) const {
  for (std::size_t i = 0; i < engine_.faults().size(); ++i) {
    const Fault& f = engine_.faults()[i];
    if (f.action == ActionKind::kSilent && engine_.active_for(i, conn) &&
        (f.silent.mode == SilentMode::kAll || f.silent.mode == SilentMode::kOutput))
      return true;
  }
  return false;
}

void HostFaults::observe(const FaultOccurrence& occ, TcpConnection* trigger_conn) {
  std::size_t first = changes_.size();
  engine_.observe(occ, changes_);
  apply_changes(first, occ.now, trigger_conn);
}

void HostFaults::for_selected(const Fault& f, const std::function<void(TcpConnection&)>& fn) {
  // In order of acceptance, whatever the table's slot order.
  selected_.clear();
  connections_([&](TcpConnection& c) {
    if (f.connection == 0 || f.connection == c.id()) selected_.push_back(&c);
  });
  std::sort(selected_.begin(), selected_.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
  for (TcpConnection* c : selected_) fn(*c);
}

void HostFaults::apply_changes(std::size_t first, Instant now, TcpConnection* trigger_conn) {
  // apply_one() may append more changes_ (a window fault ending the previous one).
  for (std::size_t k = first; k < changes_.size(); ++k) apply_one(changes_[k], now, trigger_conn);
  changes_.resize(first);
}

void HostFaults::apply_one(FaultChange ch, Instant now, TcpConnection* trigger_conn) {
  const Fault& f = engine_.faults()[ch.index];
  std::string what = "fault '" + f.name + "' (" + action_name(f) + ")";
  out_.record(now, "fault", what + (ch.fired ? " fired" : " ended"), trigger_conn);
  if (f.action == ActionKind::kWindow) {
    apply_window(f, ch, now);
  } else if (f.action == ActionKind::kRst && ch.fired) {
    if (engine_.status(ch.index).fired_by_connection && trigger_conn) {
      trigger_conn->send_reset(f.rst.offset, now, ctx_);
    } else {
      for_selected(f, [&](TcpConnection& c) { c.send_reset(f.rst.offset, now, ctx_); });
    }
    engine_.end(ch.index, now, changes_);
  }
}

// The newest window fault owns the advertised window; a fault that ends while it
// owns it gives the configured window back with an update.
void HostFaults::apply_window(const Fault& f, FaultChange ch, Instant now) {
  if (!ch.fired && window_owner_ != ch.index) return;
  std::optional<std::size_t> previous = window_owner_;
  window_owner_.reset();
  if (ch.fired && !f.window.reopen) window_owner_ = ch.index;
  if (ch.fired && previous && *previous != ch.index) engine_.end(*previous, now, changes_);
  for_selected(f, [&](TcpConnection& c) {
    if (window_owner_) c.set_window_override(f.window.window_bytes, f.window.ignore_probes);
    else c.set_window_override(std::nullopt, false);
    c.send_window_update(now, ctx_);
  });
  if (ch.fired && f.window.reopen) engine_.end(ch.index, now, changes_);
}

bool HostFaults::before_input(const DecodedTcp& seg, std::uint64_t conn_index, TcpConnection* c, Instant now) {
  FaultOccurrence occ;
  occ.kind = FaultOccurrence::Kind::kSegment;
  occ.connection = conn_index;
  occ.data_segments = c ? c->data_segments_received() : 0;
  occ.has_data = !seg.payload.empty();
  occ.now = now;
  observe(occ, c);
  for (std::size_t i = 0; i < engine_.faults().size(); ++i) {
    if (!engine_.active_for(i, conn_index)) continue;
    const Fault& f = engine_.faults()[i];
    if (f.action == ActionKind::kSilent) {
      switch (f.silent.mode) {
        case SilentMode::kAll:
        case SilentMode::kInput:
          out_.drop("fault.silent.input");
          return false;
        case SilentMode::kData:
          if (seg.seq_len() == 0) break;
          out_.drop("fault.silent.input");
          return false;
        case SilentMode::kOnce:
          out_.drop("fault.silent.input");
          end_fault(i, now, c);
          return false;
        case SilentMode::kOutput:
          break;
      }
    } else if (f.action == ActionKind::kIcmp) {
      send_icmp(f, seg, now, c);
      if (!f.icmp.every) end_fault(i, now, c);
      return false;
    }
  }
  return true;
}

void HostFaults::end_fault(std::size_t i, Instant now, TcpConnection* c) {
  std::size_t first = changes_.size();
  engine_.end(i, now, changes_);
  apply_changes(first, now, c);
}

void HostFaults::send_icmp(const Fault& f, const DecodedTcp& seg, Instant now, TcpConnection* c) {
  if (is_icmpv6(f.icmp.kind) != seg.src.is_v6()) {
    out_.drop("fault.icmp.family-mismatch");
    return;
  }
  auto [type, code] = icmp_type_code(f.icmp.kind);
  IcmpErrorOut err;
  err.src = f.icmp.source.value_or(seg.dst);
  err.dst = seg.src;
  err.type = type;
  err.code = code;
  err.mtu = f.icmp.mtu;
  err.offending_ip_packet = seg.ip_packet;
  out_.push(encode_icmp_error(out_.link(), err));
  PeerEvent e;
  e.at = now;
  e.kind = "icmp";
  e.detail = std::string(to_string(f.icmp.kind)) + " for seq " +
             std::to_string(c ? static_cast<std::uint32_t>(seg.tcp.seq - SeqNum(c->summary().kernel_isn))
                              : 0) +
             " from " + err.src.to_string() + (f.icmp.mtu ? " mtu " + std::to_string(f.icmp.mtu) : "");
  if (c) e.flow = c->key();
  out_.record(std::move(e));
}

}  // namespace tapfault::stack
