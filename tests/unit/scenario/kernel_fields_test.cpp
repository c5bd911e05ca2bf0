// `kernels:` (the versions a scenario can pass on) and `compress:` (the RTO's floor and
// ceiling, lowered by whatever mechanism the kernel has).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kBase = "network:\n  family: ipv4\npeer:\n  port: 80\n";

std::string error_of(const std::string& yaml) {
  try {
    parse_scenario(yaml, "t.yaml");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(KernelsField, KeepsTheVersionsTheReasonAndTheLine) {
  Scenario s = parse_scenario(kBase + "kernels: {versions: \">= 6.15\", reason: \"tcp_rto_max_ms\"}\n", "t.yaml");
  ASSERT_TRUE(s.kernels);
  EXPECT_EQ(s.kernels->versions, ">= 6.15");
  EXPECT_EQ(s.kernels->reason, "tcp_rto_max_ms");
  EXPECT_EQ(s.kernels->line, 5);
}

TEST(KernelsField, WantsAReason) {
  EXPECT_THAT(error_of(kBase + "kernels: \">= 6.15\"\n"), HasSubstr("t.yaml:5:10: kernels: write it as {versions:"));
  EXPECT_THAT(error_of(kBase + "kernels: {versions: \">= 6.15\"}\n"), HasSubstr("reason"));
}

TEST(CompressField, TakesAFloorACeilingAndAMechanism) {
  Scenario s = parse_scenario(kBase + "compress: {rto_min: 20ms, rto_max: 1s, via: route}\n", "t.yaml");
  ASSERT_TRUE(s.compress);
  EXPECT_EQ(s.compress->rto_min, Duration(20ms));
  EXPECT_EQ(s.compress->rto_max, Duration(1s));
  EXPECT_EQ(s.compress->via, "route");
  EXPECT_EQ(parse_scenario(kBase + "compress: {rto_max: 1s}\n", "t.yaml").compress->via, "auto");
}

TEST(CompressField, RefusesWhatNoKernelTakes) {
  EXPECT_THAT(error_of(kBase + "compress: {rto_max: 500ms}\n"), HasSubstr("compress.rto_max: must be in [1s, 120s]"));
  EXPECT_THAT(error_of(kBase + "compress: {rto_min: 0s}\n"), HasSubstr("compress.rto_min: must be in [1ms, 120s]"));
  EXPECT_THAT(error_of(kBase + "compress: {via: route}\n"), HasSubstr("give rto_min, rto_max or both"));
  EXPECT_THAT(error_of(kBase + "compress: {rto_min: 20ms, via: socket}\n"), HasSubstr("allowed: auto, sysctl, route"));
}

}  // namespace
}  // namespace tapfault::replay
