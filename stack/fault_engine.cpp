// Trigger evaluation for the fault plan (see fault_engine.hpp).
#include "fault_engine.hpp"

#include <algorithm>

namespace tapfault::stack {

FaultEngine::FaultEngine(FaultPlan plan, Instant origin)
    : plan_(std::move(plan)), origin_(origin), status_(plan_.faults.size()) {}

bool FaultEngine::selects(const Fault& f, std::uint64_t connection) const {
  return f.connection == 0 || f.connection == connection;
}

bool FaultEngine::active_for(std::size_t i, std::uint64_t connection) const {
  return status_[i].active && selects(plan_.faults[i], connection);
}

const FaultStatus* find_named(const std::vector<Fault>& faults, const std::vector<FaultStatus>& st,
                              const std::string& name) {
  for (std::size_t i = 0; i < faults.size(); ++i)
    if (faults[i].name == name) return &st[i];
  return nullptr;
}

bool FaultEngine::matches(const Trigger& t, const FaultOccurrence& occ, const FaultStatus& self) const {
  using K = FaultOccurrence::Kind;
  switch (t.kind) {
    case TriggerKind::kImmediate:
      return true;
    case TriggerKind::kAt:
      return occ.now >= origin_ + t.at;
    case TriggerKind::kOnSegment:
      return occ.kind == K::kSegment && occ.has_data && occ.data_segments == t.count;
    case TriggerKind::kOnRxBytes:
      return occ.kind == K::kDelivered && occ.rx_bytes >= t.count;
    case TriggerKind::kOnState:
      return occ.kind == K::kState && occ.state == t.state;
    case TriggerKind::kAfterFault: {
      const FaultStatus* other = find_named(plan_.faults, status_, t.fault);
      if (!other || !other->fired_at) return false;
      // An `until: {after: ...}` counts from the other fault, never from this one.
      (void)self;
      if (t.count > 0) return other->segments_since >= t.count;
      return occ.now >= *other->fired_at + t.delay;
    }
  }
  return false;
}

void FaultEngine::observe(const FaultOccurrence& occ, std::vector<FaultChange>& changes) {
  if (occ.kind == FaultOccurrence::Kind::kSegment && occ.has_data)
    for (auto& s : status_)
      if (s.fired_at) ++s.segments_since;
  // Repeat so that `after: {fault: X}` with no delay fires in the same step as X.
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < plan_.faults.size(); ++i) {
      const Fault& f = plan_.faults[i];
      FaultStatus& s = status_[i];
      if (s.ended) continue;
      bool conn_ok = occ.connection == 0 || selects(f, occ.connection);
      bool needs_conn = f.trigger.kind == TriggerKind::kOnSegment ||
                        f.trigger.kind == TriggerKind::kOnRxBytes ||
                        f.trigger.kind == TriggerKind::kOnState;
      if (!s.active) {
        if ((needs_conn && (!conn_ok || occ.connection == 0)) || !matches(f.trigger, occ, s)) continue;
        s.active = true;
        s.fired_at = occ.now;
        s.fired_by_connection = needs_conn ? occ.connection : 0;
        changes.push_back({i, true});
        changed = true;
      } else if (f.until && matches(*f.until, occ, s)) {
        s.active = false;
        s.ended = true;
        changes.push_back({i, false});
        changed = true;
      }
    }
  }
}

void FaultEngine::end(std::size_t i, Instant, std::vector<FaultChange>& changes) {
  FaultStatus& s = status_[i];
  if (s.ended) return;
  s.active = false;
  s.ended = true;
  changes.push_back({i, false});
}

std::optional<Instant> FaultEngine::trigger_deadline(const Trigger& t) const {
  if (t.kind == TriggerKind::kAt) return origin_ + t.at;
  if (t.kind == TriggerKind::kAfterFault && t.count == 0) {
    const FaultStatus* other = find_named(plan_.faults, status_, t.fault);
    if (other && other->fired_at) return *other->fired_at + t.delay;
  }
  return std::nullopt;
}

std::optional<Instant> FaultEngine::next_deadline() const {
  std::optional<Instant> best;
  auto consider = [&](std::optional<Instant> d) {
    if (d && (!best || *d < *best)) best = d;
  };
  for (std::size_t i = 0; i < plan_.faults.size(); ++i) {
    const FaultStatus& s = status_[i];
    if (s.ended) continue;
    if (!s.active) consider(trigger_deadline(plan_.faults[i].trigger));
    else if (plan_.faults[i].until) consider(trigger_deadline(*plan_.faults[i].until));
  }
  return best;
}

}  // namespace tapfault::stack
