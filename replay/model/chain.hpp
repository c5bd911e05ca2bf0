// Internal to tapfault_model: the machinery every model shares.
//
// A model is written as a plain simulation of the kernel's timer chain in absolute
// jiffies (rto.cpp, syn.cpp, ...). It asks a TimerClock when each timer
// it arms will run. enumerate_phases() runs the simulation once without the wheel
// (nominal) and then once per timer-wheel phase: the only unknown is the absolute
// jiffy A of the origin modulo the coarsest granularity P the chain uses (every finer
// granularity divides P), plus whether base->clk led jiffies by one when the first
// timer was armed outside a timer callback. The windows are the min and max over all
// phases, which is exact for the kernel arithmetic modelled here: tighter than
// widening each event by its level's granularity, and it keeps decisions that depend
// on the accumulated lateness (which retransmission is the last) consistent per phase.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model::detail {

enum class ArmedFrom : std::uint8_t {
  kTimerCallback,  // re-armed by a timer's own callback: base->clk = jiffies + 1
  kElsewhere,      // process context or packet softirq: base->clk = jiffies or jiffies + 1
};

// When the timers of one simulation run: the wheel at one phase, or nominal.
class TimerClock {
 public:
  static TimerClock nominal(int hz);
  // origin: the absolute jiffy of the model's origin. clk_lead: base->clk - jiffies (0
  // or 1) for timers armed outside a timer callback.
  static TimerClock wheel(int hz, std::int64_t origin, std::int64_t clk_lead);

  int hz() const { return hz_; }
  bool wheel_on() const { return wheel_; }
  Jiffies origin() const { return Jiffies{origin_}; }
  // The jiffy at which a timer armed at `now` for `delay` runs.
  Jiffies fire(Jiffies now, Jiffies delay, ArmedFrom from) const;
  // The longest delay armed so far (sizes the phase enumeration).
  Jiffies longest_delay() const { return Jiffies{longest_}; }

 private:
  int hz_ = kDefaultHz;
  bool wheel_ = false;
  std::int64_t origin_ = 0;
  std::int64_t clk_lead_ = 0;
  mutable std::int64_t longest_ = 0;
};

// One event of one run, at an absolute jiffy. `extra` is a continuous delay after
// that jiffy (an ICMP arriving after the segment that drew it); `on_origin` marks an
// event timed from the origin packet itself rather than from a jiffy tick.
struct Firing {
  EventKind kind = EventKind::kRto;
  int index = 1;
  Jiffies at{};
  Duration extra{};
  bool on_origin = false;
  // Sent by a timer armed when the event before it was sent (in its callback or in the
  // same jiffy), for a whole number of jiffies: false for a packet sent on a received
  // frame (an ICMP that clocks out a retransmission at once).
  bool from_timer = true;
};

struct Run {
  std::vector<Firing> events;
  std::optional<Firing> give_up;
  std::string error = "ETIMEDOUT";
  bool rst = false;
  std::string reason;
  bool truncated = false;
};

// True, and marks the run truncated, when an event at `at` would exceed the limits.
bool over_limits(Run& run, const TimerClock& clock, Jiffies at, const Limits& limits);

struct ChainSpec {
  std::string model;
  std::string origin;
  int hz = kDefaultHz;
  Duration slack{};
  Limits limits;
  std::vector<std::string> notes;
};

using Simulation = std::function<Run(const TimerClock&)>;

Expectation enumerate_phases(const Simulation& simulate, ChainSpec spec);

// min(base << shift, cap) without overflow: inet_csk_rto_backoff(), tcp_probe0_when().
Jiffies backoff_capped(Jiffies base, int shift, Jiffies cap);

// tcp_timer.c tcp_orphan_retries(): the sysctl; 0 when an ICMP left a soft error and the
// socket is no longer alive; 8 when that leaves 0 while it still is.
int tcp_orphan_retries(int sysctl, bool soft_error, bool alive);

// "12.600 s", "204 ms", "51 j" helpers for the notes.
std::string seconds_text(Duration d);
std::string jiffies_text(Jiffies j, int hz);

}  // namespace tapfault::replay::model::detail
