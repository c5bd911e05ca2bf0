// See diff_anchor.hpp.
#include "diff_anchor.hpp"

#include <algorithm>

#include "tapfault/replay/model/wheel.hpp"

namespace tapfault::replay {
namespace {

Nanos outside(Nanos t, Nanos lo, Nanos hi) {
  if (t < lo) return t - lo;
  if (t > hi) return t - hi;
  return Nanos::zero();
}

bool timing_verdict(Verdict v) { return v == Verdict::kOk || v == Verdict::kEarly || v == Verdict::kLate; }

// Whether two observed events are a whole number of jiffies apart, give or take
// kCaptureLatency: both were then sent from the timer softirq, each a little after a tick.
bool on_one_tick_grid(Nanos interval, Nanos jiffy) {
  const Nanos off = interval % jiffy;
  return off <= kCaptureLatency || jiffy - off <= kCaptureLatency;
}

// The window of a timer armed for `step` (a step of the model's nominal chain) when the
// previous event was seen at `at` and this one at `seen`; nullopt when the step is not a
// positive delay.
//
// The timer is armed in the jiffy `at` falls in, for d = step in jiffies, and the wheel runs
// it on tick arm + d + 1 at the earliest (calc_index() rounds the expiry up by one granule,
// kernel/time/timer.c; a level-0 timer fires exactly then), arm + d + granularity at the
// latest; a tick's lateness (a busy machine) may add one more. Where that jiffy starts in the
// capture's clock is known when both packets came from the timer softirq, i.e. they are a
// whole number of jiffies apart: `at` is then its tick plus the capture's few microseconds,
// and the window starts at at + (d + 1) jiffies - kCaptureLatency. Otherwise (the previous
// packet answered a received frame, anywhere within its jiffy), or when this packet is not
// a timer's (`from_timer`: an ICMP clocked it out), it starts a jiffy earlier.
std::optional<std::pair<Nanos, Nanos>> armed_window(Nanos at, Nanos seen, bool from_timer, Nanos step, int hz) {
  const Nanos jiffy = std::chrono::duration_cast<Nanos>(std::chrono::seconds(1)) / hz;
  const std::int64_t d = (step + jiffy / 2) / jiffy;
  if (d <= 0) return std::nullopt;
  model::WheelWindow w = model::timer_wheel_window(model::Jiffies{d}, hz);
  const Nanos latest = at + (w.latest.count + 1) * jiffy;
  if (from_timer && seen > at && on_one_tick_grid(seen - at, jiffy))
    return std::make_pair(at + w.earliest.count * jiffy - kCaptureLatency, latest);
  return std::make_pair(at + (w.earliest.count - 1) * jiffy, latest);
}

}  // namespace

void anchor_rows_on_observed(std::vector<DiffRow>& rows, Nanos tolerance, int hz, Nanos first_late_slack) {
  auto judge = [&](DiffRow& r) {
    r.deviation = outside(*r.observed, r.earliest, r.latest);
    Nanos beyond = outside(*r.observed, r.earliest - tolerance, r.latest + tolerance);
    r.verdict = beyond < Nanos::zero() ? Verdict::kEarly : beyond > Nanos::zero() ? Verdict::kLate : Verdict::kOk;
  };
  const DiffRow* prev = nullptr;  // the previous expected row
  for (DiffRow& r : rows) {
    if (!r.expected) continue;
    if (!prev && r.observed && timing_verdict(r.verdict) && first_late_slack > Nanos::zero()) {
      r.latest += first_late_slack;
      judge(r);
    }
    // Every problem is reported once, not again through the event after it. A predecessor
    // that was early or not a timing match at all does not move its successor's window. One
    // that was late may have been a timer the softirq ran late, which re-arms the next one
    // from that late jiffy (tcp_retransmit_timer() -> inet_csk_reset_xmit_timer()), or a
    // packet that something else delayed, which leaves the chain where it was: the
    // successor may fall in either window.
    const bool anchor = prev && prev->observed && prev->nominal && r.observed && r.nominal &&
                        timing_verdict(r.verdict) &&
                        (prev->verdict == Verdict::kOk || prev->verdict == Verdict::kLate);
    if (anchor) {
      if (auto w = armed_window(*prev->observed, *r.observed, r.from_timer, *r.nominal - *prev->nominal, hz)) {
        if (prev->verdict == Verdict::kOk) {
          r.earliest = w->first;
          r.latest = w->second;
        } else {
          r.earliest = std::min(r.earliest, w->first);
          r.latest = std::max(r.latest, w->second);
        }
        judge(r);
      }
    }
    prev = &r;
  }
}

void anchor_give_up(model::GiveUp& give_up, const std::vector<DiffRow>& rows, const model::Expectation& m) {
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if (!it->expected || !it->observed) continue;
    auto ev = std::find_if(m.events.begin(), m.events.end(), [&](const model::ExpectedEvent& e) {
      return e.kind == it->kind && e.index == it->number;
    });
    if (ev == m.events.end()) return;
    Nanos drift = outside(*it->observed, ev->earliest, ev->latest);
    if (drift < Nanos::zero()) give_up.earliest += drift;
    if (drift > Nanos::zero()) give_up.latest += drift;
    // The keepalive give-up is always the next firing of the timer the last probe re-armed
    // (tcp_keepalive_timer() checks the limits before it probes, then re-arms for
    // keepalive_intvl_when()): a step after the probe as seen, wherever in its own window
    // the probe fell. A probe at 1.000 s, early in [1.000, 1.036], is followed by the RST at
    // 2.004-2.012 s, before the [2.024, 2.056] of a chain from the model's nominal probe.
    // (The RTO's give-up may be clamped by TCP_USER_TIMEOUT, counted from the start: it
    // keeps the model's window, moved as above.)
    if (m.model == "keepalive" && give_up.nominal && ev->nominal && it->verdict == Verdict::kOk)
      if (auto w = armed_window(*it->observed, *it->observed, false, *give_up.nominal - *ev->nominal, m.hz)) {
        give_up.earliest = w->first;
        give_up.latest = w->second;
      }
    return;
  }
}

}  // namespace tapfault::replay
