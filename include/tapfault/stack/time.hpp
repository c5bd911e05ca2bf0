// The peer's notion of time: an injected instant, never read from a clock.
//
// stack/ code receives `now` from its caller (tap::Driver in production, a
// fake clock in tests). PeerClock has no now(): reading the time is the
// caller's job, which is what keeps the peer deterministic.
#pragma once

#include <chrono>
#include <cstdint>

namespace tapfault::stack {

struct PeerClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<PeerClock, duration>;
  static constexpr bool is_steady = true;
};

using Instant = PeerClock::time_point;
using Duration = std::chrono::nanoseconds;

inline Instant instant_from_ns(std::int64_t ns) { return Instant(Duration(ns)); }
inline std::int64_t to_ns(Instant t) { return t.time_since_epoch().count(); }

}  // namespace tapfault::stack
