// Keepalive probes to a silent peer and the RST give-up. See include/tapfault/replay/model/keepalive.hpp.
#include "tapfault/replay/model/keepalive.hpp"

#include <stdexcept>

#include "chain.hpp"

namespace tapfault::replay::model {

using detail::ArmedFrom;
using detail::Firing;
using detail::Run;
using detail::TimerClock;

namespace {

struct Derived {
  Jiffies idle;          // keepalive_time_when()
  Jiffies interval;      // keepalive_intvl_when()
  Jiffies user_timeout;  // msecs_to_jiffies(U)
};

Run simulate(const KeepaliveParams& p, const Derived& d, const TimerClock& c) {
  const Jiffies last_received = c.origin();  // icsk_ack.lrcvtime / rcv_tstamp
  Run run;
  Jiffies next = c.fire(last_received, d.idle, ArmedFrom::kElsewhere);
  int probes_out = 0;
  for (;;) {
    const Jiffies now = next;
    if (detail::over_limits(run, c, now, p.limits)) break;
    const Jiffies elapsed = now - last_received;  // keepalive_time_elapsed()
    if (elapsed < d.idle) {
      next = c.fire(now, d.idle - elapsed, ArmedFrom::kTimerCallback);
      continue;
    }
    const bool with_u = p.user_timeout.count() > 0;
    if ((with_u && elapsed >= d.user_timeout && probes_out > 0) || (!with_u && probes_out >= p.probes)) {
      run.give_up = Firing{EventKind::kGiveUp, 1, now};
      run.rst = true;  // tcp_send_active_reset(..., SK_RST_REASON_TCP_KEEPALIVE_TIMEOUT)
      run.error = "ETIMEDOUT";
      run.reason = with_u ? "TCP_USER_TIMEOUT since the last received segment" : "keepalive_probes unanswered";
      break;
    }
    ++probes_out;
    run.events.push_back(Firing{EventKind::kKeepalive, probes_out, now});
    next = c.fire(now, d.interval, ArmedFrom::kTimerCallback);
  }
  return run;
}

}  // namespace

Expectation keepalive_model(const KeepaliveParams& p) {
  if (p.hz <= 0) throw std::invalid_argument("keepalive_model: hz must be positive");
  if (p.idle.count() <= 0 || p.interval.count() <= 0) {
    throw std::invalid_argument("keepalive_model: idle and interval must be at least 1 s");
  }
  const int hz = p.hz;
  Derived d;
  d.idle = seconds_to_jiffies(p.idle, hz);
  d.interval = seconds_to_jiffies(p.interval, hz);
  d.user_timeout = msecs_to_jiffies(p.user_timeout, hz);

  detail::ChainSpec spec;
  spec.model = "keepalive";
  spec.origin = "last segment received from the peer";
  spec.hz = hz;
  spec.slack = p.slack;
  spec.limits = p.limits;
  spec.notes.push_back("probes at idle + k * interval = " + detail::jiffies_text(d.idle, hz) + " + k * " +
                       detail::jiffies_text(d.interval, hz));
  if (p.user_timeout.count() > 0) {
    spec.notes.push_back("give-up (RST) at the first firing after a probe with elapsed >= msecs_to_jiffies(U) = " +
                         detail::jiffies_text(d.user_timeout, hz) + "; TCP_KEEPCNT ignored");
  } else {
    spec.notes.push_back("give-up (RST) at the firing after " + std::to_string(p.probes) + " unanswered probes");
  }
  return detail::enumerate_phases([&](const TimerClock& c) { return simulate(p, d, c); }, std::move(spec));
}

}  // namespace tapfault::replay::model
