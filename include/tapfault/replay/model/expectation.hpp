// What a model predicts: the kernel's expected events, each with a nominal time and
// an [earliest, latest] window, and how and when the kernel gives up.
//
// Times are offsets from the model's origin (Expectation::origin says which packet:
// the original data segment, the SYN, the zero-window ACK, the last received segment).
//   nominal   the kernel's arithmetic with no timer-wheel rounding (the tables of
//             docs/kernel-timing.md section 12); absent when the event only exists because
//             of the wheel's lateness (or only without it).
//   earliest  the first instant the event can be seen: the wheel's smallest lateness,
//             minus one jiffy because the origin packet may have left anywhere inside
//             its jiffy while the kernel counts from that jiffy's start.
//   latest    the wheel's largest lateness for any phase, plus the model's `slack`.
// A diff adds its own capture tolerance on top.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

enum class EventKind : std::uint8_t {
  kTlp,        // tail loss probe (tcp_send_loss_probe)
  kRto,        // RTO retransmission (tcp_retransmit_timer)
  kSyn,        // SYN retransmission
  kProbe,      // zero-window probe (tcp_send_probe0)
  kKeepalive,  // keepalive probe (tcp_keepalive_timer)
  kGiveUp,     // the connection is aborted (see GiveUp)
};
const char* to_string(EventKind k);

struct ExpectedEvent {
  EventKind kind = EventKind::kRto;
  int index = 1;  // 1-based within its kind: RTO#1 is the first RTO retransmission
  std::optional<Duration> nominal;
  Duration earliest{};
  Duration latest{};
  // False when the event happens for some timer-wheel phases only (a give-up that
  // comes one retransmission earlier or later depending on the accumulated lateness).
  bool certain = true;
  // Sent by a timer armed, for a whole number of jiffies, when the event before it was
  // sent; false for a packet sent on a received frame (an ICMP that clocks out a
  // retransmission at once). The diff narrows the anchored window of such events only.
  bool from_timer = true;
};
// "RTO#3", "TLP", "probe#2", "give-up".
std::string label(const ExpectedEvent& e);

struct GiveUp {
  std::optional<Duration> nominal;
  Duration earliest{};
  Duration latest{};
  std::string error = "ETIMEDOUT";  // what the application sees: sk_err_soft ?: ETIMEDOUT
  bool rst = false;                 // an RST is sent (keepalive give-up only)
  std::string reason;               // which kernel test fired
  bool certain = true;              // false when some phases were cut by the limits first
};

// Bounds for models that may run for ever (a persist timer whose probes are answered).
struct Limits {
  std::size_t max_events = 10000;
  Duration horizon = std::chrono::hours{24};
};

struct Expectation {
  std::string model;   // "rto", "syn", "persist", "keepalive"
  std::string origin;  // what t = 0 is
  int hz = kDefaultHz;
  // In time order; ends with a kGiveUp event when the kernel gives up within the limits.
  std::vector<ExpectedEvent> events;
  std::optional<GiveUp> give_up;   // the same give-up, with its error and RST
  std::vector<std::string> notes;  // the formulas and numbers the model used
  bool truncated = false;          // Limits cut the timeline
};

// Text for `tapfault model`: columns #, event, nominal s, window [earliest, latest] s.
std::string to_table(const Expectation& e);

}  // namespace tapfault::replay::model
