// evaluate(): what the report says about the capture's completeness.
#include <gtest/gtest.h>

#include <string>

#include "replay/run/runner_parts.hpp"
#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {
namespace {

Scenario minimal() {
  return parse_scenario("name: minimal\nnetwork:\n  family: ipv4\npeer:\n  port: 8080\n", "minimal.yaml");
}

TEST(EvaluateCapture, ACompleteCaptureHasZeroCountsAndNoWarning) {
  const Scenario s = minimal();
  RunFacts f;
  f.frames = 12;
  RunResult r = evaluate(s, f);
  EXPECT_EQ(r.report["capture"]["frames"], 12);
  EXPECT_EQ(r.report["capture"]["recorder_drops"], 0);
  EXPECT_EQ(r.report["capture"]["tap_queue_drops"], 0);
  EXPECT_EQ(r.report["capture"]["missing_kernel_timestamps"], 0);
  EXPECT_FALSE(r.report["capture"].contains("warning"));
  EXPECT_EQ(format_summary(s, r).find("WARNING"), std::string::npos);
}

TEST(EvaluateCapture, EveryKindOfLossIsNamedInTheReportAndTheSummary) {
  const Scenario s = minimal();
  RunFacts f;
  f.recorder_drops = 3;
  f.tap_queue_drops = 8898;
  f.missing_timestamps = 1;
  RunResult r = evaluate(s, f);
  const std::string w = r.report["capture"]["warning"];
  EXPECT_NE(w.find("3 frames crossed the TAP but are missing from the capture"), std::string::npos) << w;
  EXPECT_NE(w.find("8898 frames the kernel sent are in the capture but the peer never saw them"), std::string::npos) << w;
  EXPECT_NE(w.find("1 frames carry tapfault's clock"), std::string::npos) << w;
  const std::string summary = format_summary(s, r);
  EXPECT_NE(summary.find("WARNING capture incomplete: 3 frames"), std::string::npos) << summary;
}

}  // namespace
}  // namespace tapfault::replay
