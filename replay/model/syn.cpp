// SYN_SENT retransmissions: linear then exponential backoff, count and time limits,
// TCP_USER_TIMEOUT, and the ICMP abort. See include/tapfault/replay/model/syn.hpp.
#include "tapfault/replay/model/syn.hpp"

#include <algorithm>
#include <stdexcept>

#include "chain.hpp"

namespace tapfault::replay::model {

using detail::ArmedFrom;
using detail::Firing;
using detail::Run;
using detail::TimerClock;

namespace {

using std::chrono::milliseconds;

struct Derived {
  Jiffies init;     // tcp_timeout_init()
  Jiffies rto_max;  // icsk_rto_max
  int max_retransmits = 0;
  milliseconds timeout{0};  // U, or tcp_model_timeout(syn_retries, init)
};

Run simulate(const SynParams& p, const Derived& d, const TimerClock& c) {
  const int hz = p.hz;
  const Jiffies origin = c.origin();
  Run run;
  std::optional<std::string> soft;
  const bool icmp = p.icmp.error != IcmpError::kNone;

  // tcp_v4_err() SYN_SENT: tcp_done_with_error() at once unless the user owns the
  // socket, in which case only sk_err_soft is set.
  if (icmp) {
    if (!p.icmp.first_lost_to_lock) {
      run.give_up = Firing{EventKind::kGiveUp, 1, origin, p.icmp.delay, true};
      run.error = icmp_errno(p.icmp.error);
      run.reason = "ICMP error answering the SYN (tcp_v4_err, SYN_SENT)";
      return run;
    }
    soft = icmp_errno(p.icmp.error);
  }

  // tcp_connect(): retrans_stamp = SYN time; RETRANS timer at icsk_rto.
  Jiffies rto = std::min(d.init, d.rto_max);
  Jiffies next = c.fire(origin, rto, ArmedFrom::kElsewhere);
  int retransmits = 0;  // icsk_retransmits, and total_rto on a fresh socket
  for (;;) {
    const Jiffies now = next;
    if (detail::over_limits(run, c, now, p.limits)) break;

    // tcp_write_timeout(), SYN_SENT branch.
    bool expired = retransmits >= d.max_retransmits;
    std::string reason = "tcp_syn_retries + tcp_syn_linear_timeouts retransmissions";
    if (!expired && retransmits > 0) {
      expired = jiffies_to_msecs(now - origin, hz) >= d.timeout;
      reason = p.user_timeout.count() > 0 ? "TCP_USER_TIMEOUT since the SYN"
                                          : "tcp_model_timeout(syn_retries, TCP_TIMEOUT_INIT) since the SYN";
    }
    if (expired) {
      run.give_up = Firing{EventKind::kGiveUp, 1, now};
      run.error = soft.value_or("ETIMEDOUT");
      run.reason = reason;
      break;
    }

    ++retransmits;
    run.events.push_back(Firing{EventKind::kSyn, retransmits, now});
    if (icmp) {
      // The ICMP for a retransmission finds connect() asleep: abort.
      run.give_up = Firing{EventKind::kGiveUp, 1, now, p.icmp.delay};
      run.error = icmp_errno(p.icmp.error);
      run.reason = "ICMP error answering a SYN retransmission (tcp_v4_err, SYN_SENT)";
      break;
    }
    // out_reset_timer: no doubling while total_rto <= tcp_syn_linear_timeouts.
    if (retransmits > p.linear_timeouts) rto = std::min(rto * 2, d.rto_max);
    next = c.fire(now, tcp_clamp_rto_to_user_timeout(rto, p.user_timeout, jiffies_to_msecs(now - origin, hz), hz),
                  ArmedFrom::kTimerCallback);
  }
  return run;
}

}  // namespace

Expectation syn_model(const SynParams& p) {
  if (p.hz <= 0) throw std::invalid_argument("syn_model: hz must be positive");
  const int hz = p.hz;
  Derived d;
  d.init = msecs_to_jiffies(p.timeout_init, hz);
  if (d.init.count <= 0) throw std::invalid_argument("syn_model: timeout_init must be positive");
  d.rto_max = msecs_to_jiffies(p.rto_max, hz);
  d.max_retransmits = p.syn_retries + p.linear_timeouts;
  d.timeout = p.user_timeout.count() > 0 ? p.user_timeout : tcp_model_timeout_ms(p.syn_retries, d.init, d.rto_max, hz);

  detail::ChainSpec spec;
  spec.model = "syn";
  spec.origin = "first SYN";
  spec.hz = hz;
  spec.slack = p.slack;
  spec.limits = p.limits;
  spec.notes.push_back("SYN RTO starts at tcp_timeout_init() = " + detail::jiffies_text(d.init, hz) + ", stays for " +
                       std::to_string(p.linear_timeouts) +
                       " retransmissions (tcp_syn_linear_timeouts), then doubles up to rto_max");
  spec.notes.push_back("give-up at the first firing with " + std::to_string(d.max_retransmits) +
                       " retransmissions done, or (after one) now - SYN >= " + std::to_string(d.timeout.count()) +
                       " ms" + (p.user_timeout.count() > 0 ? " (TCP_USER_TIMEOUT)" : " (tcp_model_timeout)"));
  if (p.icmp.error != IcmpError::kNone) {
    spec.notes.push_back(std::string("ICMP ") + icmp_errno(p.icmp.error) + " aborts connect() when it arrives" +
                         (p.icmp.first_lost_to_lock ? " (the first SYN's ICMP only sets the soft error)" : ""));
  }
  return detail::enumerate_phases([&](const TimerClock& c) { return simulate(p, d, c); }, std::move(spec));
}

}  // namespace tapfault::replay::model
