// FaultEngine: decides when each fault of a FaultPlan fires and ends.
//
// It only evaluates triggers; the host performs the actions (fault.hpp lists
// the hooks). Triggers are evaluated on four kinds of occurrence: a kernel
// segment arriving (before_input), bytes delivered, a state change, and time.
// A fault, once fired, is active for every connection its `connection:` selects.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tapfault/stack/fault.hpp"

namespace tapfault::stack {

struct FaultStatus {
  bool active = false;
  bool ended = false;
  std::optional<Instant> fired_at;
  std::uint64_t segments_since = 0;  // kernel data segments seen since it fired
  std::uint64_t fired_by_connection = 0;  // connection index whose event fired it (0: time)
};

struct FaultChange {
  std::size_t index;
  bool fired;  // false: ended
};

// What happened, for trigger evaluation.
struct FaultOccurrence {
  enum class Kind : std::uint8_t { kSegment, kDelivered, kState, kTime } kind = Kind::kTime;
  std::uint64_t connection = 0;     // 1-based connection index, 0 for none
  std::uint64_t data_segments = 0;  // kSegment: data segments received on it so far
  std::uint64_t rx_bytes = 0;       // kDelivered: bytes delivered on it so far
  bool has_data = false;            // kSegment: this segment carries payload
  TcpState state = TcpState::kEstablished;  // kState
  Instant now{};
};

class FaultEngine {
 public:
  FaultEngine(FaultPlan plan, Instant origin);

  const std::vector<Fault>& faults() const { return plan_.faults; }
  const FaultStatus& status(std::size_t i) const { return status_[i]; }
  bool active_for(std::size_t i, std::uint64_t connection) const;

  // Evaluates every trigger and `until` against the occurrence; appends what fired or ended.
  void observe(const FaultOccurrence& occ, std::vector<FaultChange>& changes);
  // Ends fault i now (one-shot actions, or a window fault replaced by a newer one).
  void end(std::size_t i, Instant now, std::vector<FaultChange>& changes);
  std::optional<Instant> next_deadline() const;

 private:
  bool matches(const Trigger& t, const FaultOccurrence& occ, const FaultStatus& self) const;
  std::optional<Instant> trigger_deadline(const Trigger& t) const;
  bool selects(const Fault& f, std::uint64_t connection) const;

  FaultPlan plan_;
  Instant origin_;
  std::vector<FaultStatus> status_;
};

}  // namespace tapfault::stack
