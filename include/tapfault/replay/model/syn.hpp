// SYN retransmission model: connect() to a silent peer (or one whose path answers
// with an ICMP error).
//
// Read first: docs/kernel-timing.md sections 6, 8.1 and 12 (e). Kernel:
//   net/ipv4/tcp_output.c  tcp_connect(), tcp_connect_init() (icsk_rto =
//                          tcp_timeout_init(), retrans_stamp = SYN time)
//   net/ipv4/tcp_timer.c   tcp_write_timeout() SYN_SENT branch (max_retransmits =
//                          syn_retries + tcp_syn_linear_timeouts), retransmits_timed_out()
//                          with rto_base = tcp_timeout_init(), tcp_retransmit_timer()
//                          out_reset_timer (no doubling while total_rto <= linear)
//   net/ipv4/tcp_ipv4.c    tcp_v4_err() SYN_SENT: abort at once unless connect() owns the socket
// Origin (t = 0): the first SYN.
#pragma once

#include <chrono>

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/rto.hpp"
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

struct SynIcmp {
  IcmpError error = IcmpError::kNone;  // every SYN draws this ICMP error
  // The ICMP answering the first SYN arrives while connect() still holds the socket
  // lock (a fast local path), so it only records a soft error; the ICMP for the
  // first retransmission then aborts. Measured so on veth (docs/kernel-timing.md section 8.1).
  bool first_lost_to_lock = false;
  Duration delay = std::chrono::microseconds{100};  // SYN to ICMP arrival
};

struct SynParams {
  int hz = kDefaultHz;
  int syn_retries = 6;                          // tcp_syn_retries or TCP_SYNCNT
  int linear_timeouts = 4;                      // tcp_syn_linear_timeouts (6.18 default 4)
  std::chrono::milliseconds timeout_init{1000};  // tcp_timeout_init(): TCP_TIMEOUT_INIT unless BPF
  std::chrono::milliseconds rto_max{120000};   // tcp_rto_max_ms
  std::chrono::milliseconds user_timeout{0};   // TCP_USER_TIMEOUT (can only shorten)
  SynIcmp icmp;
  Duration slack{};
  Limits limits;
};

// SYN#1..n retransmissions, then the give-up: connect() fails with ETIMEDOUT (or the
// ICMP's error), no RST.
Expectation syn_model(const SynParams& p);

}  // namespace tapfault::replay::model
