// Anchoring each expected event on the observed event before it.
//
// The kernel re-arms each timer from the jiffy its handler ran (tcp_retransmit_timer(),
// tcp_probe_timer(), tcp_keepalive_timer() all re-arm relative to `jiffies`), so lateness
// does not average out: a handler that runs a tick late (a busy machine delays the timer
// softirq) moves every later event by a tick. Windows computed from the origin alone
// would then fail the whole rest of the chain for one late tick. Given the model's
// windows [E(k-1), L(k-1)] and [E(k), L(k)], the time from event k-1 to event k lies in
// [E(k) - L(k-1), L(k) - E(k-1)] for every timer-wheel phase, so event k is checked in
// [o(k-1) + E(k) - L(k-1), o(k-1) + L(k) - E(k-1)] where o(k-1) is when k-1 was seen.
// For a level-0 chain that is the armed delay plus one jiffy (the wheel runs a timer on the
// tick after it expires), or one more when that tick's handler ran late. Where the jiffy
// starts is known when both packets were sent by timers (a whole number of jiffies apart, up
// to kCaptureLatency): the window then starts at the previous packet + (delay + 1) jiffies -
// kCaptureLatency, so a timer that fired a tick early is caught; otherwise (the previous
// packet answered a frame, at any phase of its jiffy) a jiffy earlier. The first event
// keeps its window.
#pragma once

#include <optional>
#include <vector>

#include "tapfault/replay/analysis/diff.hpp"

namespace tapfault::replay {

// How long after its tick a packet sent from the timer softirq may be captured, and by how
// much two such packets' latencies may differ: on this 2-core VM 5-70 us when quiet, up to
// ~1.8 ms when the host steals CPU time (bench/RESULTS.md, figure 4). Pairs further off the
// jiffy grid get the wider window.
inline constexpr Nanos kCaptureLatency = std::chrono::microseconds(300);

// Re-anchors the expected rows (in chain order, as diff_capture() sorts them) and
// re-judges their timing verdicts with `tolerance`. Rows without an observation, or whose
// predecessor was not observed, keep the model's windows from the origin.
// `first_late_slack` widens the first event's window on the late side (kReceivedOriginSlack
// when the origin is a frame the kernel received).
void anchor_rows_on_observed(std::vector<DiffRow>& rows, Nanos tolerance, int hz, Nanos first_late_slack);

// The give-up is not always a chained step (TCP_USER_TIMEOUT clamps it to the first
// retransmission or probe plus the timeout), so it keeps the model's window, moved by
// however far the last event that was seen drifted outside its own window from the model,
// except for keepalive, whose give-up is always the firing after the last probe: a step
// armed at that probe as seen (where it was on time).
void anchor_give_up(model::GiveUp& give_up, const std::vector<DiffRow>& rows, const model::Expectation& model);

}  // namespace tapfault::replay
