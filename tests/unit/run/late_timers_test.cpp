// The library test's retry rule (tests/support/late_timers.hpp): only a run whose sole
// failure is kernel timers firing after their windows may be run again.
#include <gtest/gtest.h>

#include "support/late_timers.hpp"

namespace tapfault::testing {
namespace {

// The shape of report.json's checks and model sections, as the CI failure of
// keepalive-count-ipv6 wrote them: probe 3 seen 11 ms past its window and tolerance.
nlohmann::json keepalive_report() {
  return nlohmann::json::parse(R"({
    "verdict": "fail",
    "capture": {"recorder_drops": 0, "tap_queue_drops": 0, "missing_kernel_timestamps": 0},
    "machine": {"steal_percent": 12.5},
    "checks": [
      {"field": "expect.error", "ok": true},
      {"field": "expect.rst_from_kernel", "ok": true},
      {"field": "expect.model", "ok": false}
    ],
    "model": {
      "events": [
        {"event": "keepalive#1", "verdict": "ok", "deviation_ms": 0.0},
        {"event": "keepalive#2", "verdict": "ok", "deviation_ms": 0.0},
        {"event": "keepalive#3", "verdict": "late", "deviation_ms": 11.04}
      ],
      "give_up": {"verdict": "ok", "deviation_ms": 0.0}
    }
  })");
}

TEST(LateTimersOnly, ALateKeepaliveProbeIsTheOnlyFailure) {
  auto why = late_timers_only(keepalive_report());
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "keepalive#3 11.0 ms late (steal 12.5%)");
}

TEST(LateTimersOnly, LateTimersOnAQuietMachineAreAFailure) {
  auto r = keepalive_report();
  r["machine"]["steal_percent"] = 0.0;
  EXPECT_FALSE(late_timers_only(r));
  r["machine"]["steal_percent"] = kStealThresholdPercent;
  EXPECT_TRUE(late_timers_only(r));
  r.erase("machine");  // a report that measured nothing
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, EventsLaterAndLaterAreAModelInputError) {
  auto r = keepalive_report();
  r["model"]["input_error"] = "probe#2 to probe#4 came later and later (12.0, 28.0, 60.0 ms late)";
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, ALateGiveUpCountsToo) {
  auto r = keepalive_report();
  r["model"]["events"][2]["verdict"] = "ok";
  r["model"]["give_up"] = {{"verdict", "late"}, {"deviation_ms", 30.0}};
  EXPECT_EQ(late_timers_only(r).value_or(""), "give-up 30.0 ms late (steal 12.5%)");
}

TEST(LateTimersOnly, APassingRunIsNotRetried) {
  auto r = keepalive_report();
  r["verdict"] = "pass";
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, AnEarlyEventIsAlwaysAFailure) {
  auto r = keepalive_report();
  r["model"]["events"][0]["verdict"] = "early";
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, AMissingOrUnexpectedEventIsAlwaysAFailure) {
  for (const char* v : {"missing", "unexpected", "wrong-error", "unobserved"}) {
    auto r = keepalive_report();
    r["model"]["events"][1]["verdict"] = v;
    EXPECT_FALSE(late_timers_only(r)) << v;
  }
}

TEST(LateTimersOnly, AnotherFailedCheckIsAlwaysAFailure) {
  auto r = keepalive_report();
  r["checks"][0]["ok"] = false;  // expect.error: the application saw another errno
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, AnIncompleteCaptureIsAlwaysAFailure) {
  auto r = keepalive_report();
  r["capture"]["warning"] = "the recorder dropped 3 frames";
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, AModelCheckThatFailedWithoutALateEventIsAFailure) {
  auto r = keepalive_report();
  r["model"]["events"][2]["verdict"] = "ok";  // e.g. the wrong number of events
  EXPECT_FALSE(late_timers_only(r));
}

TEST(LateTimersOnly, AReportWithoutAModelIsAFailure) {
  auto r = keepalive_report();
  r.erase("model");
  EXPECT_FALSE(late_timers_only(r));
}

}  // namespace
}  // namespace tapfault::testing
