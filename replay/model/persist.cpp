// Zero-window probes: exponential backoff from tcp_probe0_base(), the
// TCP_USER_TIMEOUT and tcp_retries2 limits, orphans. See include/tapfault/replay/model/persist.hpp.
#include "tapfault/replay/model/persist.hpp"

#include <algorithm>
#include <stdexcept>

#include "chain.hpp"

namespace tapfault::replay::model {

using detail::ArmedFrom;
using detail::Firing;
using detail::Run;
using detail::TimerClock;

namespace {

struct Derived {
  Jiffies icsk_rto;
  Jiffies base;     // tcp_probe0_base()
  Jiffies rto_max;  // icsk_rto_max
  int shift_cap = 0;  // ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1 (10: constants, not sysctls)
  Jiffies user_timeout;  // msecs_to_jiffies(U)
};

// tcp_probe0_when() then tcp_clamp_probe0_to_user_timeout() at jiffy `now`.
Jiffies probe_timeout(const PersistParams& p, const Derived& d, int backoff, Jiffies now,
                      std::optional<Jiffies> probes_tstamp) {
  Jiffies when = detail::backoff_capped(d.base, std::min(backoff, d.shift_cap), d.rto_max);
  if (p.user_timeout.count() > 0 && probes_tstamp) {
    Jiffies elapsed = now - *probes_tstamp;
    if (elapsed.count < 0) elapsed = Jiffies{0};
    const Jiffies remaining = std::max(d.user_timeout - elapsed, kTcpTimeoutMin);
    when = std::min(remaining, when);
  }
  return when;
}

Run simulate(const PersistParams& p, const Derived& d, const TimerClock& c) {
  const int hz = p.hz;
  const Jiffies origin = c.origin();
  Run run;

  // tcp_check_probe_timer(): PROBE0 at tcp_probe0_base() (+ pacing delay, ~0).
  Jiffies next = c.fire(origin, d.base, ArmedFrom::kElsewhere);
  int probes_out = 0;  // icsk_probes_out
  int backoff = 0;     // icsk_backoff
  std::optional<Jiffies> probes_tstamp;
  int sent = 0;
  for (;;) {
    const Jiffies now = next;
    if (detail::over_limits(run, c, now, p.limits)) break;

    // tcp_probe_timer().
    std::string abort_reason;
    if (!probes_tstamp) {
      probes_tstamp = now;
    } else if (p.user_timeout.count() > 0 && now - *probes_tstamp >= d.user_timeout) {
      abort_reason = "TCP_USER_TIMEOUT since the first probe";
    }
    int max_probes = p.retries2;
    if (abort_reason.empty() && p.orphan) {
      const bool alive = detail::backoff_capped(d.icsk_rto, backoff, d.rto_max) < d.rto_max;
      max_probes = detail::tcp_orphan_retries(p.orphan_retries, p.soft_error.has_value(), alive);
      if (!alive && backoff >= max_probes) abort_reason = "orphan backed off to rto_max";
    }
    if (abort_reason.empty() && probes_out >= max_probes) {
      abort_reason = p.orphan ? "orphan retries unanswered probes" : "tcp_retries2 unanswered probes";
    }
    if (!abort_reason.empty()) {
      run.give_up = Firing{EventKind::kGiveUp, 1, now};
      run.error = p.soft_error.value_or("ETIMEDOUT");
      run.reason = abort_reason;
      break;
    }

    // tcp_send_probe0(): the probe counts as sent even when the local transmit failed.
    ++sent;
    run.events.push_back(Firing{EventKind::kProbe, sent, now});
    ++probes_out;
    if (backoff < p.retries2) ++backoff;
    next = c.fire(now, probe_timeout(p, d, backoff, now, probes_tstamp), ArmedFrom::kTimerCallback);

    if (p.peer_answers) {
      // tcp_ack(): probes_out = 0; tcp_ack_probe() re-arms from the ACK's jiffy with the
      // same backoff. In the same jiffy that is the same expiry: mod_timer() keeps it.
      probes_out = 0;
      const Jiffies ack = now + nsecs_to_jiffies(p.answer_delay, hz);
      if (ack != now) next = c.fire(ack, probe_timeout(p, d, backoff, ack, probes_tstamp), ArmedFrom::kElsewhere);
    }
  }
  return run;
}

}  // namespace

Expectation persist_model(const PersistParams& p) {
  if (p.hz <= 0) throw std::invalid_argument("persist_model: hz must be positive");
  const int hz = p.hz;
  Derived d;
  d.rto_max = msecs_to_jiffies(p.rto_max, hz);
  d.icsk_rto = initial_rto(p.rtt, p.rto_min, d.rto_max, hz);
  d.base = std::max(d.icsk_rto, tcp_rto_min_constant(hz));
  d.shift_cap = ilog2(tcp_rto_max_constant(hz).count / std::max<std::int64_t>(tcp_rto_min_constant(hz).count, 1)) + 1;
  d.user_timeout = msecs_to_jiffies(p.user_timeout, hz);

  detail::ChainSpec spec;
  spec.model = "persist";
  spec.origin = "zero-window ACK (probe timer armed)";
  spec.hz = hz;
  spec.slack = p.slack;
  spec.limits = p.limits;
  spec.notes.push_back("probe base = max(icsk_rto, TCP_RTO_MIN) = " + detail::jiffies_text(d.base, hz) +
                       " (tcp_probe0_base)");
  spec.notes.push_back("interval after probe k: min(base << min(k, " + std::to_string(d.shift_cap) +
                       "), rto_max = " + detail::jiffies_text(d.rto_max, hz) + ") (tcp_probe0_when)");
  if (p.user_timeout.count() > 0) {
    spec.notes.push_back("give-up at the first firing with now - probe#1 >= msecs_to_jiffies(U) = " +
                         detail::jiffies_text(d.user_timeout, hz) + "; timers clamped to it (min 2 jiffies)");
  }
  if (p.peer_answers) {
    spec.notes.push_back("every probe answered: probes_out returns to 0, so tcp_retries2 never fires");
  } else {
    spec.notes.push_back("probes unanswered: give-up at the firing after " +
                         std::to_string(p.orphan ? detail::tcp_orphan_retries(p.orphan_retries, false, true) : p.retries2) +
                         " probes (probes_out >= max_probes)");
  }
  return detail::enumerate_phases([&](const TimerClock& c) { return simulate(p, d, c); }, std::move(spec));
}

}  // namespace tapfault::replay::model
