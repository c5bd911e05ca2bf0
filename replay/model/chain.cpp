// Phase enumeration and aggregation shared by the models (see chain.hpp).
#include "chain.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "tapfault/replay/model/wheel.hpp"

namespace tapfault::replay::model::detail {

namespace {

// Past this level (delays over ~18 h at HZ=250) the phases are sampled, not enumerated.
constexpr int kMaxEnumeratedLevel = 7;

struct Acc {
  EventKind kind = EventKind::kRto;
  int index = 1;
  std::int64_t min_rel = 0;
  std::int64_t max_rel = 0;
  Duration extra{};
  bool on_origin = false;
  bool from_timer = true;  // in every phase
  std::size_t count = 0;
};

void accumulate(Acc& a, const Firing& f, std::int64_t rel) {
  if (a.count == 0) {
    a.kind = f.kind;
    a.index = f.index;
    a.min_rel = a.max_rel = rel;
    a.extra = f.extra;
    a.on_origin = f.on_origin;
    a.from_timer = f.from_timer;
  } else {
    a.min_rel = std::min(a.min_rel, rel);
    a.max_rel = std::max(a.max_rel, rel);
    a.from_timer = a.from_timer && f.from_timer;
  }
  ++a.count;
}

Duration earliest_of(const Acc& a, int hz) {
  if (a.on_origin) return a.extra;
  // The origin packet left somewhere inside its jiffy: up to one jiffy less.
  const Duration d = to_duration(Jiffies{a.min_rel - 1}, hz) + a.extra;
  return std::max(d, Duration{0});
}

Duration latest_of(const Acc& a, int hz, Duration slack) {
  if (a.on_origin) return a.extra + slack;
  return to_duration(Jiffies{a.max_rel}, hz) + a.extra + slack;
}

Duration nominal_of(const Firing& f, Jiffies origin, int hz) {
  if (f.on_origin) return f.extra;
  return to_duration(f.at - origin, hz) + f.extra;
}

using Key = std::pair<int, int>;
Key key_of(const Firing& f) { return {static_cast<int>(f.kind), f.index}; }

}  // namespace

TimerClock TimerClock::nominal(int hz) {
  TimerClock c;
  c.hz_ = hz;
  return c;
}

TimerClock TimerClock::wheel(int hz, std::int64_t origin, std::int64_t clk_lead) {
  TimerClock c;
  c.hz_ = hz;
  c.wheel_ = true;
  c.origin_ = origin;
  c.clk_lead_ = clk_lead;
  return c;
}

Jiffies TimerClock::fire(Jiffies now, Jiffies delay, ArmedFrom from) const {
  longest_ = std::max(longest_, delay.count);
  if (!wheel_) return now + delay;
  const std::int64_t lead = from == ArmedFrom::kTimerCallback ? 1 : clk_lead_;
  return calc_wheel_index(now + delay, now + Jiffies{lead}, hz_).fires_at;
}

bool over_limits(Run& run, const TimerClock& clock, Jiffies at, const Limits& limits) {
  const Duration t = to_duration(at - clock.origin(), clock.hz());
  if (run.events.size() >= limits.max_events || t > limits.horizon) {
    run.truncated = true;
    return true;
  }
  return false;
}

Expectation enumerate_phases(const Simulation& simulate, ChainSpec spec) {
  if (spec.hz <= 0 || spec.hz > 100000) throw std::invalid_argument("model: hz must be in 1..100000");
  const int hz = spec.hz;

  const TimerClock nominal_clock = TimerClock::nominal(hz);
  const Run nominal = simulate(nominal_clock);

  std::map<Key, Acc> accs;
  Acc give_up;
  std::set<std::string> errors;
  std::string reason;
  bool rst = false;
  bool truncated = false;
  std::size_t runs = 0;

  // The coarsest level any timer of the chain uses fixes the period of the phase.
  // Clamps (user timeout, ICMP revert) only shorten delays, but re-check after the
  // pass in case a phase armed something longer than the nominal run did.
  int level = wheel_level(nominal_clock.longest_delay(), hz);
  for (;;) {
    const int enumerated = std::min(level, kMaxEnumeratedLevel);
    const std::int64_t period = wheel_granularity(level).count;
    const std::int64_t step = period / wheel_granularity(enumerated).count;
    accs.clear();
    give_up = Acc{};
    errors.clear();
    reason.clear();
    rst = false;
    truncated = false;
    runs = 0;
    std::int64_t longest = 0;
    for (std::int64_t phase = 0; phase < period; phase += step) {
      for (std::int64_t lead = 0; lead <= 1; ++lead) {
        const std::int64_t origin = period + phase;
        const TimerClock clock = TimerClock::wheel(hz, origin, lead);
        const Run run = simulate(clock);
        longest = std::max(longest, clock.longest_delay().count);
        ++runs;
        truncated = truncated || run.truncated;
        for (const Firing& f : run.events) accumulate(accs[key_of(f)], f, f.at.count - origin);
        if (run.give_up) {
          accumulate(give_up, *run.give_up, run.give_up->at.count - origin);
          errors.insert(run.error);
          rst = rst || run.rst;
          if (reason.empty()) reason = run.reason;
        }
      }
    }
    const int needed = wheel_level(Jiffies{longest}, hz);
    if (needed <= level) {
      if (level > kMaxEnumeratedLevel) {
        spec.notes.push_back("wheel phases sampled every " + std::to_string(step) +
                             " jiffies (delays beyond level " + std::to_string(kMaxEnumeratedLevel) + ")");
      }
      break;
    }
    level = needed;
  }

  Expectation e;
  e.model = std::move(spec.model);
  e.origin = std::move(spec.origin);
  e.hz = hz;
  e.truncated = truncated;
  e.notes = std::move(spec.notes);

  std::map<Key, const Firing*> nominal_events;
  for (const Firing& f : nominal.events) nominal_events[key_of(f)] = &f;

  for (const auto& [key, a] : accs) {
    ExpectedEvent ev;
    ev.kind = a.kind;
    ev.index = a.index;
    ev.earliest = earliest_of(a, hz);
    ev.latest = latest_of(a, hz, spec.slack);
    ev.certain = a.count == runs;
    ev.from_timer = a.from_timer && !a.on_origin && a.extra == Duration::zero();
    if (auto it = nominal_events.find(key); it != nominal_events.end()) {
      ev.nominal = nominal_of(*it->second, nominal_clock.origin(), hz);
    }
    e.events.push_back(ev);
  }
  std::sort(e.events.begin(), e.events.end(), [](const ExpectedEvent& x, const ExpectedEvent& y) {
    if (x.earliest != y.earliest) return x.earliest < y.earliest;
    if (x.latest != y.latest) return x.latest < y.latest;
    if (x.kind != y.kind) return x.kind < y.kind;
    return x.index < y.index;
  });
  std::vector<std::string> nominal_only;
  for (const Firing& f : nominal.events) {
    if (!accs.contains(key_of(f))) nominal_only.push_back(label(ExpectedEvent{f.kind, f.index, std::nullopt, {}, {}, false}));
  }
  if (!nominal_only.empty()) {
    std::string list = nominal_only.front();
    if (nominal_only.size() > 1) list += (nominal_only.size() > 2 ? " .. " : ", ") + nominal_only.back();
    e.notes.push_back("without the wheel's lateness the kernel would also send " + list + " (" +
                      std::to_string(nominal_only.size()) + " more event(s) in the nominal timeline)");
  }

  if (give_up.count > 0) {
    GiveUp g;
    g.earliest = earliest_of(give_up, hz);
    g.latest = latest_of(give_up, hz, spec.slack);
    if (nominal.give_up) g.nominal = nominal_of(*nominal.give_up, nominal_clock.origin(), hz);
    std::string joined;
    for (const std::string& err : errors) joined += (joined.empty() ? "" : "|") + err;
    g.error = joined;
    g.rst = rst;
    g.reason = reason;
    g.certain = give_up.count == runs;
    ExpectedEvent ev{EventKind::kGiveUp, 1, g.nominal, g.earliest, g.latest, g.certain};
    e.events.push_back(ev);
    e.give_up = g;
  }
  return e;
}

Jiffies backoff_capped(Jiffies base, int shift, Jiffies cap) {
  if (shift >= 40 || base.count > (cap.count >> shift)) return cap;
  return std::min(Jiffies{base.count << shift}, cap);
}

int tcp_orphan_retries(int sysctl, bool soft_error, bool alive) {
  int retries = sysctl;
  if (soft_error && !alive) retries = 0;  // "We know from an ICMP that something is wrong."
  if (retries == 0 && alive) retries = 8;  // "8 corresponds to >100 seconds"
  return retries;
}

std::string seconds_text(Duration d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string jiffies_text(Jiffies j, int hz) {
  return std::to_string(j.count) + " j (" + seconds_text(to_duration(j, hz)) + ")";
}

}  // namespace tapfault::replay::model::detail
