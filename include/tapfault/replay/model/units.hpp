// Units of the expected-backoff models: kernel jiffies and the conversions of
// include/linux/jiffies.h, plus the TCP timer constants of include/net/tcp.h.
//
// Read first: docs/kernel-timing.md section 1 (clocks, units, quantisation).
// The kernel keeps its timers in jiffies (1/HZ s) and rounds every conversion from
// micro- or milliseconds UP to a whole jiffy, so at HZ=250 a 200 ms + 100 us RTO is
// 51 jiffies = 204 ms. Jiffies is its own type so that a jiffy count is never
// mistaken for milliseconds; hz is a run-time parameter (CONFIG_HZ of the kernel
// under test, 250 by default).
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>

namespace tapfault::replay::model {

// Times the models report: offsets from the model's origin.
using Duration = std::chrono::nanoseconds;

inline constexpr int kDefaultHz = 250;

// A count of kernel jiffies. Arithmetic stays within jiffies; crossing to real time
// goes through the named conversions below, which need the hz.
struct Jiffies {
  std::int64_t count = 0;

  constexpr auto operator<=>(const Jiffies&) const = default;
  constexpr Jiffies& operator+=(Jiffies o) {
    count += o.count;
    return *this;
  }
  constexpr Jiffies& operator-=(Jiffies o) {
    count -= o.count;
    return *this;
  }
};
constexpr Jiffies operator+(Jiffies a, Jiffies b) { return Jiffies{a.count + b.count}; }
constexpr Jiffies operator-(Jiffies a, Jiffies b) { return Jiffies{a.count - b.count}; }
constexpr Jiffies operator*(Jiffies a, std::int64_t k) { return Jiffies{a.count * k}; }
constexpr Jiffies operator*(std::int64_t k, Jiffies a) { return Jiffies{a.count * k}; }

namespace literals {
// 51_j: a literal jiffy count, for tables written in jiffies.
constexpr Jiffies operator""_j(unsigned long long n) { return Jiffies{static_cast<std::int64_t>(n)}; }
}  // namespace literals

// include/linux/jiffies.h: msecs_to_jiffies() and usecs_to_jiffies() round UP
// (for HZ dividing 1000, (m + 1000/HZ - 1) / (1000/HZ)); nsecs_to_jiffies() rounds down.
// For an HZ that does not divide 1000 the exact rational ceiling/floor is used.
// Negative inputs give 0 jiffies, as the kernel's callers never pass them.
Jiffies msecs_to_jiffies(std::chrono::milliseconds m, int hz = kDefaultHz);
Jiffies usecs_to_jiffies(std::chrono::microseconds u, int hz = kDefaultHz);
Jiffies nsecs_to_jiffies(std::chrono::nanoseconds n, int hz = kDefaultHz);
// jiffies_to_msecs(): exact for HZ dividing 1000 (4 ms per jiffy at 250), floor otherwise.
std::chrono::milliseconds jiffies_to_msecs(Jiffies j, int hz = kDefaultHz);
std::chrono::microseconds jiffies_to_usecs(Jiffies j, int hz = kDefaultHz);
// The real time a jiffy count spans (j * 1e9 / hz ns, floor).
Duration to_duration(Jiffies j, int hz = kDefaultHz);
// Socket options and sysctls given in whole seconds are stored as s * HZ
// (TCP_KEEPIDLE, tcp_keepalive_time, ...).
constexpr Jiffies seconds_to_jiffies(std::chrono::seconds s, int hz = kDefaultHz) {
  return Jiffies{s.count() * hz};
}

// include/net/tcp.h constants, in jiffies at a given HZ.
constexpr Jiffies tcp_rto_min_constant(int hz = kDefaultHz) { return Jiffies{hz / 5}; }    // TCP_RTO_MIN
constexpr Jiffies tcp_rto_max_constant(int hz = kDefaultHz) { return Jiffies{120 * hz}; }  // TCP_RTO_MAX
constexpr Jiffies tcp_timeout_init(int hz = kDefaultHz) { return Jiffies{hz}; }  // TCP_TIMEOUT_INIT
constexpr Jiffies tcp_timeout_fallback(int hz = kDefaultHz) { return Jiffies{3 * hz}; }  // TCP_TIMEOUT_FALLBACK
constexpr Jiffies kTcpTimeoutMin{2};                                               // TCP_TIMEOUT_MIN
inline constexpr std::chrono::microseconds kTcpTimeoutMinUs{2000};                  // TCP_TIMEOUT_MIN_US

// ilog2() of include/linux/log2.h for a positive value; 0 for 0 (the kernel's
// callers never pass 0: the models guard their divisions instead).
constexpr int ilog2(std::int64_t v) {
  int r = -1;
  while (v > 0) {
    v >>= 1;
    ++r;
  }
  return r < 0 ? 0 : r;
}

}  // namespace tapfault::replay::model
