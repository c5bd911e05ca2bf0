// Helpers for the model tests: read an Expectation back as plain numbers so that the
// tests can compare it with tables written out by hand.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/replay/model/model.hpp"

namespace tapfault::replay::model::testing {

inline std::int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
inline std::int64_t to_us(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

// Nominal times, in ms, of the events of one kind (in order); -1 where there is none.
inline std::vector<std::int64_t> nominal_ms(const Expectation& e, EventKind kind) {
  std::vector<std::int64_t> out;
  for (const ExpectedEvent& ev : e.events) {
    if (ev.kind == kind) out.push_back(ev.nominal ? to_ms(*ev.nominal) : -1);
  }
  return out;
}

inline const ExpectedEvent* find_event(const Expectation& e, EventKind kind, int index) {
  for (const ExpectedEvent& ev : e.events) {
    if (ev.kind == kind && ev.index == index) return &ev;
  }
  return nullptr;
}

inline std::size_t count_of(const Expectation& e, EventKind kind) {
  std::size_t n = 0;
  for (const ExpectedEvent& ev : e.events) n += ev.kind == kind ? 1 : 0;
  return n;
}

// [earliest, latest] in ms, for tables of windows.
struct WindowMs {
  std::int64_t earliest = 0;
  std::int64_t latest = 0;
  bool operator==(const WindowMs&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const WindowMs& w) {
  return os << "[" << w.earliest << ", " << w.latest << "] ms";
}
inline WindowMs window_ms(const ExpectedEvent& ev) { return WindowMs{to_ms(ev.earliest), to_ms(ev.latest)}; }
inline WindowMs window_ms(const GiveUp& g) { return WindowMs{to_ms(g.earliest), to_ms(g.latest)}; }

// A measured time (seconds, as printed by tcpdump -tt relative to the origin) must
// fall inside the window, the latest widened by `slack` (and the earliest by `early`,
// for measurements that are themselves uncertain both ways).
inline ::testing::AssertionResult within(const ExpectedEvent* ev, double measured_s, Duration slack,
                                         Duration early = Duration{0}) {
  if (ev == nullptr) return ::testing::AssertionFailure() << "no such event in the model";
  const auto m = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(measured_s));
  // Printed to the ms: allow the half-ms of rounding on both sides.
  const Duration half_ms = std::chrono::microseconds{500};
  if (m + half_ms + early < ev->earliest || m - half_ms > ev->latest + slack) {
    return ::testing::AssertionFailure() << label(*ev) << " measured at " << measured_s << " s, window ["
                                         << to_us(ev->earliest) / 1e6 << ", " << to_us(ev->latest) / 1e6
                                         << "] s + slack " << to_us(slack) / 1e3 << " ms";
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult give_up_within(const Expectation& e, double measured_s, Duration slack) {
  if (!e.give_up) return ::testing::AssertionFailure() << "the model never gives up";
  const ExpectedEvent ev{EventKind::kGiveUp, 1, e.give_up->nominal, e.give_up->earliest, e.give_up->latest, true};
  return within(&ev, measured_s, slack);
}

}  // namespace tapfault::replay::model::testing
