// Persist (zero-window probe) model: data is queued, nothing is in flight, and the
// peer advertises a zero window (or the segment cannot leave: a failed local route).
//
// Read first: docs/kernel-timing.md sections 4.2, 7, 9 and 12 (d). Kernel:
//   include/net/tcp.h      tcp_check_probe_timer(), tcp_probe0_base() = max(icsk_rto,
//                          TCP_RTO_MIN), tcp_probe0_when() = min(base << min(backoff,
//                          ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1), rto_max)
//   net/ipv4/tcp_output.c  tcp_send_probe0() (probes_out++, backoff++ up to tcp_retries2)
//   net/ipv4/tcp_timer.c   tcp_probe_timer() (probes_tstamp, TCP_USER_TIMEOUT, max_probes
//                          = tcp_retries2 or tcp_orphan_retries()), tcp_clamp_probe0_to_user_timeout()
//   net/ipv4/tcp_input.c   tcp_ack(): an ACK resets probes_out; tcp_ack_probe() re-arms
// Origin (t = 0): the zero-window ACK (or the write whose transmission failed).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/rto.hpp"
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

struct PersistParams {
  int hz = kDefaultHz;
  RttState rtt;                                 // gives icsk_rto, hence the probe base
  std::chrono::microseconds rto_min{200000};   // tcp_rto_min_us (only for rttvar's default)
  std::chrono::milliseconds rto_max{120000};   // tcp_rto_max_ms: the interval cap
  int retries2 = 15;                           // max_probes, and the backoff cap
  std::chrono::milliseconds user_timeout{0};   // TCP_USER_TIMEOUT, counted from the first probe
  // The peer answers every probe with a still-zero window: probes_out returns to 0
  // and the connection never dies without TCP_USER_TIMEOUT (RFC 1122 4.2.2.17).
  bool peer_answers = true;
  // From a probe to its answer. Below one jiffy the ACK re-arms the timer to the
  // same expiry (tcp_ack_probe()), which changes nothing.
  Duration answer_delay{};
  bool orphan = false;     // closed by the application (SOCK_DEAD)
  int orphan_retries = 0;  // tcp_orphan_retries
  // A soft error recorded meanwhile ("ENETUNREACH" when the probes fail in
  // ip6_dst_lookup_flow() after the route was deleted, docs/kernel-timing.md section 9).
  std::optional<std::string> soft_error;
  Duration slack{};
  Limits limits;
};

// probe#1..n, then (if it happens within the limits) the give-up: ETIMEDOUT or the
// soft error, no RST.
Expectation persist_model(const PersistParams& p);

}  // namespace tapfault::replay::model
