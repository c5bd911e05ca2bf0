// RTO retransmissions of an established connection to a silent peer, with optional
// TCP_USER_TIMEOUT, orphan limits and RFC 6069 ICMP reverts. See include/tapfault/replay/model/rto.hpp for
// the kernel functions mirrored; each step below names the one it follows.
#include "tapfault/replay/model/rto.hpp"

#include <algorithm>
#include <stdexcept>

#include "chain.hpp"

namespace tapfault::replay::model {

using detail::ArmedFrom;
using detail::Firing;
using detail::Run;
using detail::TimerClock;

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

struct Derived {
  Jiffies rto0;       // icsk_rto when the segment leaves
  Jiffies set_rto;    // what tcp_ld_RTO_revert() shifts by the backoff
  Jiffies rto_max;    // icsk_rto_max
  bool tlp = false;
  Jiffies pto;
};

bool icmp_for_rto(const IcmpReplies& icmp, int n) {
  if (icmp.error == IcmpError::kNone) return false;
  if (!icmp.only_rto) return true;
  return std::find(icmp.only_rto->begin(), icmp.only_rto->end(), n) != icmp.only_rto->end();
}

Run simulate(const RtoParams& p, const Derived& d, const TimerClock& c) {
  const int hz = p.hz;
  const Jiffies origin = c.origin();
  Run run;

  std::optional<std::string> soft = p.soft_error;
  if (p.icmp.error != IcmpError::kNone && p.icmp.original_and_tlp) soft = icmp_errno(p.icmp.error);

  // tcp_write_xmit(): tcp_event_new_data_sent() arms the RTO, then
  // tcp_schedule_loss_probe() replaces it with the TLP timer (PTO <= time to RTO).
  Jiffies next;
  if (d.tlp) {
    const Jiffies tlp = c.fire(origin, d.pto, ArmedFrom::kElsewhere);
    run.events.push_back(Firing{EventKind::kTlp, 1, tlp});
    // tcp_send_loss_probe(): probe sent, icsk_pending cleared, tcp_rearm_rto() arms
    // a full icsk_rto from now.
    next = c.fire(tlp, d.rto0, ArmedFrom::kTimerCallback);
  } else {
    next = c.fire(origin, d.rto0, ArmedFrom::kElsewhere);
  }

  int retransmits = 0;  // icsk_retransmits
  int backoff = 0;      // icsk_backoff
  bool next_from_timer = true;  // whether `next` is a timer's expiry
  Jiffies rto = d.rto0;  // icsk_rto
  std::optional<Jiffies> stamp;  // tp->retrans_stamp: the first RTO retransmission

  for (;;) {
    const Jiffies now = next;
    if (detail::over_limits(run, c, now, p.limits)) break;

    // tcp_write_timeout() runs before the retransmission.
    int retry_until = p.retries2;
    if (p.orphan) retry_until = detail::tcp_orphan_retries(p.orphan_retries, soft.has_value(), rto < d.rto_max);
    if (retransmits > 0) {
      // retransmits_timed_out(): (now - retrans_stamp) >= timeout, in ms (usec with
      // tcp_usec_ts, which adds one jiffy of slack).
      const microseconds elapsed = jiffies_to_usecs(now - *stamp, hz) +
                                   (p.usec_ts ? jiffies_to_usecs(Jiffies{1}, hz) : microseconds{0});
      const milliseconds timeout =
          p.user_timeout.count() > 0
              ? p.user_timeout
              : tcp_model_timeout_ms(retry_until, tcp_rto_min_constant(hz), d.rto_max, hz);
      if (elapsed >= timeout) {
        run.give_up = Firing{EventKind::kGiveUp, 1, now};
        run.error = soft.value_or("ETIMEDOUT");
        run.reason = p.user_timeout.count() > 0 ? "TCP_USER_TIMEOUT since the first retransmission"
                     : p.orphan ? "orphan retries time limit"
                                : "tcp_retries2 time limit (tcp_model_timeout)";
        break;
      }
    }

    // tcp_update_rto_stats(), tcp_retransmit_skb(); retrans_stamp is set by the
    // first RTO retransmission (the TLP does not set it).
    ++retransmits;
    Firing fired{EventKind::kRto, retransmits, now};
    fired.from_timer = next_from_timer;
    run.events.push_back(fired);
    next_from_timer = true;
    if (!stamp) stamp = now;

    // out_reset_timer: icsk_backoff++, icsk_rto = min(icsk_rto << 1, rto_max), then
    // re-arm at tcp_clamp_rto_to_user_timeout().
    ++backoff;
    rto = std::min(rto * 2, d.rto_max);
    const milliseconds since_stamp = jiffies_to_msecs(now - *stamp, hz);
    next = c.fire(now, tcp_clamp_rto_to_user_timeout(rto, p.user_timeout, since_stamp, hz),
                  ArmedFrom::kTimerCallback);

    if (icmp_for_rto(p.icmp, retransmits)) {
      // tcp_v4_err(): sk_err_soft = err; for net/host unreachable tcp_ld_RTO_revert().
      soft = icmp_errno(p.icmp.error);
      if (icmp_reverts_backoff(p.icmp.error) && backoff > 0) {
        const Jiffies arrival = now + nsecs_to_jiffies(p.icmp.delay, hz);
        --backoff;
        // icsk_rto = __tcp_set_rto(); icsk_rto = inet_csk_rto_backoff(icsk, rto_max).
        rto = detail::backoff_capped(d.set_rto, backoff, d.rto_max);
        // remaining = icsk_rto - usecs_to_jiffies(now - head's last transmission).
        const Jiffies remaining =
            rto - usecs_to_jiffies(std::chrono::duration_cast<microseconds>(p.icmp.delay), hz);
        if (remaining.count > 0) {
          next = c.fire(arrival, remaining, ArmedFrom::kElsewhere);
        } else {
          next = arrival;  // "RTO revert clocked out retransmission": tcp_retransmit_timer() now
          next_from_timer = false;  // sent in the ICMP's softirq, at the ICMP's phase
        }
      }
    }
  }
  return run;
}

}  // namespace

const char* icmp_errno(IcmpError e) {
  switch (e) {
    case IcmpError::kNone: return "";
    case IcmpError::kNetUnreachable: return "ENETUNREACH";
    case IcmpError::kHostUnreachable: return "EHOSTUNREACH";
    case IcmpError::kPortUnreachable: return "ECONNREFUSED";
    case IcmpError::kAdminProhibited: return "EHOSTUNREACH";
    case IcmpError::kNoRoute6: return "ENETUNREACH";
    case IcmpError::kAddressUnreachable6: return "EHOSTUNREACH";
    case IcmpError::kPortUnreachable6: return "ECONNREFUSED";
  }
  return "";
}

bool icmp_reverts_backoff(IcmpError e) {
  // tcp_v4_err(): code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH.
  // tcp_v6_err(): type == ICMPV6_DEST_UNREACH && code == ICMPV6_NOROUTE.
  return e == IcmpError::kNetUnreachable || e == IcmpError::kHostUnreachable || e == IcmpError::kNoRoute6;
}

namespace {

// __tcp_set_rto(): usecs_to_jiffies((srtt_us >> 3) + rttvar_us); rttvar defaults to its
// value after the first sample, max(2 * srtt, rto_min) (tcp_rtt_estimator()).
Jiffies tcp_set_rto_value(const RttState& rtt, std::chrono::microseconds rto_min, int hz) {
  if (rtt.rto) return *rtt.rto;
  const microseconds rttvar = rtt.rttvar.value_or(std::max(2 * rtt.srtt, rto_min));
  return usecs_to_jiffies(rtt.srtt + rttvar, hz);
}

bool has_rtt_sample(const RttState& rtt) { return rtt.rto || rtt.srtt.count() > 0; }

}  // namespace

Jiffies initial_rto(const RttState& rtt, std::chrono::microseconds rto_min, Jiffies rto_max, int hz) {
  if (!has_rtt_sample(rtt)) return std::min(tcp_timeout_fallback(hz), rto_max);
  return std::min(tcp_set_rto_value(rtt, rto_min, hz), rto_max);
}

Jiffies revert_base_rto(const RttState& rtt, std::chrono::microseconds rto_min, int hz) {
  if (!has_rtt_sample(rtt)) return tcp_timeout_init(hz);
  return tcp_set_rto_value(rtt, rto_min, hz);
}

std::chrono::milliseconds tcp_model_timeout_ms(int boundary, Jiffies rto_base, Jiffies rto_max, int hz) {
  if (boundary < 0) boundary = 0;
  if (rto_base.count <= 0) throw std::invalid_argument("tcp_model_timeout_ms: rto_base must be positive");
  const int thresh = ilog2(rto_max.count / rto_base.count);
  std::int64_t timeout = 0;
  if (boundary <= thresh) {
    timeout = ((std::int64_t{2} << boundary) - 1) * rto_base.count;
  } else {
    timeout = ((std::int64_t{2} << thresh) - 1) * rto_base.count + (boundary - thresh) * rto_max.count;
  }
  return jiffies_to_msecs(Jiffies{timeout}, hz);
}

Jiffies tcp_clamp_rto_to_user_timeout(Jiffies rto, std::chrono::milliseconds user_timeout,
                                      std::chrono::milliseconds elapsed, int hz) {
  if (user_timeout.count() <= 0) return rto;
  const milliseconds remaining = user_timeout - elapsed;
  if (remaining.count() <= 0) return Jiffies{1};  // "user timeout has passed; fire ASAP"
  return std::min(rto, msecs_to_jiffies(remaining, hz));
}

Expectation rto_model(const RtoParams& p) {
  if (p.hz <= 0) throw std::invalid_argument("rto_model: hz must be positive");
  const int hz = p.hz;
  Derived d;
  d.rto_max = msecs_to_jiffies(p.rto_max, hz);
  d.set_rto = revert_base_rto(p.rtt, p.rto_min, hz);
  d.rto0 = initial_rto(p.rtt, p.rto_min, d.rto_max, hz);
  if (d.rto0.count <= 0) throw std::invalid_argument("rto_model: the RTO must be at least one jiffy");
  // tcp_schedule_loss_probe(): early_retrans 3 or 4, SACK, CA Open, packets in flight.
  d.tlp = p.sack && (p.early_retrans == 3 || p.early_retrans == 4) && p.packets_out > 0;
  if (p.rtt.srtt.count() > 0) {
    const microseconds extra = p.packets_out == 1 ? p.rto_min : kTcpTimeoutMinUs;
    d.pto = usecs_to_jiffies(2 * p.rtt.srtt + extra, hz);
  } else {
    d.pto = tcp_timeout_init(hz);
  }
  // "If the RTO formula yields an earlier time, then use that time."
  d.pto = std::min(d.pto, d.rto0);

  detail::ChainSpec spec;
  spec.model = "rto";
  spec.origin = "original transmission of the segment";
  spec.hz = hz;
  spec.slack = p.slack;
  spec.limits = p.limits;
  spec.notes.push_back(has_rtt_sample(p.rtt)
                           ? "RTO = min(usecs_to_jiffies(srtt + rttvar), rto_max) = " + detail::jiffies_text(d.rto0, hz) +
                                 " (__tcp_set_rto, tcp_bound_rto)"
                           : "no RTT sample: RTO = TCP_TIMEOUT_FALLBACK = " + detail::jiffies_text(d.rto0, hz) +
                                 " (tcp_init_metrics), TLP after TCP_TIMEOUT_INIT");
  if (d.tlp) {
    spec.notes.push_back("TLP after PTO = min(usecs_to_jiffies(2*srtt + " +
                         std::string(p.packets_out == 1 ? "rto_min" : "2 ms") + "), RTO) = " +
                         detail::jiffies_text(d.pto, hz) + "; the RTO chain restarts from the TLP");
  } else {
    spec.notes.push_back("no TLP (needs SACK and tcp_early_retrans 3 or 4)");
  }
  spec.notes.push_back("interval after RTO#k: min(RTO * 2^k, rto_max = " + detail::jiffies_text(d.rto_max, hz) + ")");
  if (p.user_timeout.count() > 0) {
    spec.notes.push_back("give-up at the first RTO firing with now - RTO#1 >= TCP_USER_TIMEOUT = " +
                         std::to_string(p.user_timeout.count()) + " ms; timers clamped to it");
  } else {
    const int boundary = p.orphan ? detail::tcp_orphan_retries(p.orphan_retries, false, true) : p.retries2;
    spec.notes.push_back("give-up at the first RTO firing with now - RTO#1 >= tcp_model_timeout(" +
                         std::to_string(boundary) + ", TCP_RTO_MIN = " +
                         detail::jiffies_text(tcp_rto_min_constant(hz), hz) + ", rto_max) = " +
                         std::to_string(tcp_model_timeout_ms(boundary, tcp_rto_min_constant(hz), d.rto_max, hz).count()) +
                         " ms" + (p.orphan ? " (orphan; 0 retries once backed off to rto_max with a soft error)" : ""));
  }
  if (p.icmp.error != IcmpError::kNone) {
    spec.notes.push_back(std::string("ICMP ") + icmp_errno(p.icmp.error) +
                         (icmp_reverts_backoff(p.icmp.error)
                              ? " reverts one backoff step per answered retransmission (tcp_ld_RTO_revert)"
                              : " only records a soft error (no RFC 6069 revert for this code)"));
  }
  spec.notes.push_back("wheel: windows are min/max over every timer-wheel phase, minus one jiffy for the origin's phase");

  return detail::enumerate_phases([&](const TimerClock& c) { return simulate(p, d, c); }, std::move(spec));
}

}  // namespace tapfault::replay::model
