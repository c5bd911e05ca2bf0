// Seed report 001 in real time, with the kernel's defaults: about 939 s. Label `realtime`:
// run on purpose with `ctest -L realtime`; the default suite leaves it out.
#include <gtest/gtest.h>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

TEST(LostPeerRealtime, DefaultsGiveUpAfterFifteenRetransmissionsWithEtimedout) {
  TAPFAULT_REQUIRE_NETNS();
  auto run = run_scenario_file("lost-peer/lost-peer-realtime-ipv4");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  auto kernel = *stack::IpAddress::parse("192.0.2.1");
  std::vector<double> sends;
  for (const auto& s : timed_segments(run.frames)) {
    EXPECT_FALSE(s.seg.src == kernel && s.seg.tcp.has(stack::tcp_flags::kRst));
    if (s.seg.src == kernel && s.seg.payload.size() == 17) sends.push_back(s.t);
  }
  // The original, the tail-loss probe and 15 RTO retransmissions (docs/kernel-timing.md
  // section 13 (a)).
  EXPECT_EQ(sends.size(), 17u);
  EXPECT_EQ(run.report["client"]["final_error"], "ETIMEDOUT");
  double died = run.report["client"]["final_error_at_s"].get<double>();
  double wrote = 0;
  for (const auto& e : run.report["client"]["events"])
    if (e["action"] == "send" && e["bytes"] == 17) wrote = e["t"].get<double>();
  // tcp_model_timeout(15) = 924.6 s after the first retransmission; the wheel makes it ~939 s.
  EXPECT_GT(died - wrote, 924.6);
  EXPECT_LT(died - wrote, 945.0);
}

}  // namespace
}  // namespace tapfault::testing
