// RTO retransmission model: an established connection writes one segment and the
// peer goes silent (or answers each retransmission with an ICMP error).
//
// Read first: docs/kernel-timing.md sections 2, 3, 4.1, 8.2, 10 and 12 (a), (b). Kernel:
//   include/net/tcp.h        __tcp_set_rto(), tcp_bound_rto(), tcp_rto_max()
//   net/ipv4/tcp_output.c    tcp_schedule_loss_probe(), tcp_send_loss_probe()
//   net/ipv4/tcp_input.c     tcp_rtt_estimator(), tcp_rearm_rto()
//   net/ipv4/tcp_timer.c     tcp_retransmit_timer(), tcp_write_timeout(),
//                            retransmits_timed_out(), tcp_model_timeout(),
//                            tcp_clamp_rto_to_user_timeout(), tcp_orphan_retries()
//   net/ipv4/tcp_ipv4.c      tcp_v4_err(), tcp_ld_RTO_revert() (RFC 6069)
//   net/ipv6/tcp_ipv6.c      tcp_v6_err()
// Origin (t = 0): the original transmission of the segment.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

// The RTT estimator's state when the segment is sent (tcp_rtt_estimator()).
struct RttState {
  std::chrono::microseconds srtt{100};  // tp->srtt_us >> 3; 0 = no RTT sample yet
  // tp->rttvar_us. Unset: max(2 * srtt, rto_min), its value after the first sample.
  std::optional<std::chrono::microseconds> rttvar;
  // icsk_rto as read back (TCP_INFO tcpi_rto, `ss` rto:), overriding srtt/rttvar.
  std::optional<Jiffies> rto;
};

// icsk_rto of an established socket when the segment leaves: tcp_set_rto() =
// min(usecs_to_jiffies(srtt + rttvar), rto_max) (__tcp_set_rto(), tcp_bound_rto());
// without an RTT sample from the handshake tcp_init_metrics() leaves
// TCP_TIMEOUT_FALLBACK (3 s). The override (tcpi_rto) wins when set.
Jiffies initial_rto(const RttState& rtt, std::chrono::microseconds rto_min, Jiffies rto_max,
                    int hz = kDefaultHz);
// What tcp_ld_RTO_revert() recomputes before shifting by the backoff:
// srtt ? __tcp_set_rto() : TCP_TIMEOUT_INIT (1 s, not the 3 s fallback).
Jiffies revert_base_rto(const RttState& rtt, std::chrono::microseconds rto_min, int hz = kDefaultHz);

// tcp_timer.c tcp_model_timeout(): how long `boundary` exponentially backed-off
// retransmissions starting at rto_base take, capped per step at rto_max, in ms:
//   thresh = ilog2(rto_max / rto_base)
//   T = (2^(b+1) - 1) * rto_base                                  if b <= thresh
//     = (2^(thresh+1) - 1) * rto_base + (b - thresh) * rto_max    otherwise
// Established connections pass rto_base = TCP_RTO_MIN = HZ/5 (a constant, whatever
// tcp_rto_min_us says); SYN_SENT passes tcp_timeout_init() = 1 s. rto_max is the
// socket's icsk_rto_max (tcp_rto_max_ms). At HZ=250: T(15, 50 j, 30000 j) = 924.6 s,
// T(5) = 12.6 s, and with rto_max 1000 ms T(15) = 14.4 s.
std::chrono::milliseconds tcp_model_timeout_ms(int boundary, Jiffies rto_base, Jiffies rto_max,
                                               int hz = kDefaultHz);

// tcp_timer.c tcp_clamp_rto_to_user_timeout(): the next RTO timer when
// TCP_USER_TIMEOUT is set, given the time since retrans_stamp: min(rto,
// msecs_to_jiffies(U - elapsed)), or 1 jiffy once U has passed; rto when U = 0.
Jiffies tcp_clamp_rto_to_user_timeout(Jiffies rto, std::chrono::milliseconds user_timeout,
                                      std::chrono::milliseconds elapsed, int hz = kDefaultHz);

// ICMP errors the peer (or a router) may send back, as tcp_v4_err()/tcp_v6_err()
// classify them.
enum class IcmpError : std::uint8_t {
  kNone,
  kNetUnreachable,        // ICMPv4 dest unreach code 0: ENETUNREACH, RFC 6069 revert
  kHostUnreachable,       // ICMPv4 code 1: EHOSTUNREACH, RFC 6069 revert
  kPortUnreachable,       // ICMPv4 code 3: ECONNREFUSED, soft error only once established
  kAdminProhibited,       // ICMPv4 code 13: EHOSTUNREACH, no revert
  kNoRoute6,              // ICMPv6 dest unreach code 0: ENETUNREACH, revert (tcp_v6_err)
  kAddressUnreachable6,   // ICMPv6 code 3: EHOSTUNREACH, no revert
  kPortUnreachable6,      // ICMPv6 code 4: ECONNREFUSED, no revert
};
// icmp_err_convert[] / icmpv6_err_convert(): the errno name the socket records.
const char* icmp_errno(IcmpError e);
// Whether tcp_v4_err()/tcp_v6_err() call tcp_ld_RTO_revert() for it.
bool icmp_reverts_backoff(IcmpError e);

// How the network answers the connection's segments with ICMP errors.
struct IcmpReplies {
  IcmpError error = IcmpError::kNone;
  // Which RTO retransmissions draw an ICMP: unset = every one; else the listed RTO
  // numbers (1-based), e.g. {4, 6, 7} when a router's rate limit drops the others.
  std::optional<std::vector<int>> only_rto;
  // The original segment and the TLP also draw one. They only record the soft
  // error (icsk_retransmits is still 0, so tcp_ld_RTO_revert() does nothing).
  bool original_and_tlp = true;
  // From the segment leaving to the ICMP arriving. The revert subtracts
  // usecs_to_jiffies() of it (at least 1 jiffy when non-zero) from the reverted RTO.
  Duration delay = std::chrono::microseconds{100};
};

struct RtoParams {
  int hz = kDefaultHz;
  RttState rtt;
  std::chrono::microseconds rto_min{200000};   // tcp_rto_min_us / TCP_RTO_MIN_US / route
  std::chrono::milliseconds rto_max{120000};   // tcp_rto_max_ms / TCP_RTO_MAX_MS
  int retries1 = 3;                            // only drives dst negative advice, no timing
  int retries2 = 15;                           // tcp_retries2
  std::chrono::milliseconds user_timeout{0};   // TCP_USER_TIMEOUT
  bool sack = true;                            // SACK negotiated
  int early_retrans = 3;                       // tcp_early_retrans: TLP when 3 or 4
  int packets_out = 1;                         // segments in flight when the peer fell silent
  bool usec_ts = false;                        // TCP timestamps in usec (tcp_usec_ts)
  bool orphan = false;                         // closed by the application (SOCK_DEAD)
  int orphan_retries = 0;                      // tcp_orphan_retries
  // A soft error recorded before the give-up (e.g. "EHOSTUNREACH" from a route
  // failure in inet_sk_rebuild_header()); an ICMP error sets it too.
  std::optional<std::string> soft_error;
  IcmpReplies icmp;
  Duration slack{};  // added to every event's latest (scheduling latency)
  Limits limits;
};

// TLP (if enabled), RTO#1..n, then the give-up: ETIMEDOUT (or the soft error), no RST.
Expectation rto_model(const RtoParams& p);

}  // namespace tapfault::replay::model
