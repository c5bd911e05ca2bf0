// The rest of the fault vocabulary, each scenario run against the real kernel with its
// own expectations (the scenario's `expect:`), plus what the capture must show.
#include <gtest/gtest.h>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

// Every scenario in captures/scenarios that runs on its own (a built-in client, not tagged
// realtime), found when the test binary starts: a new scenario file is a new test.
std::vector<std::string> library() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(scenario_path(""))) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("realtime") != std::string::npos || text.find("\nclient:") == std::string::npos) continue;
    names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ScenarioLibrary : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioLibrary, ExpectationsHoldOnTheRealKernel) {
  TAPFAULT_REQUIRE_NETNS();
  auto run = run_scenario_file(GetParam());
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  EXPECT_EQ(run.report["verdict"], "pass");
  EXPECT_FALSE(run.report["checks"].empty()) << "a scenario without expectations proves nothing";
}

INSTANTIATE_TEST_SUITE_P(Captures, ScenarioLibrary, ::testing::ValuesIn(library()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(WindowReopen, QueuedDataLeavesRightAfterTheWindowUpdate) {
  TAPFAULT_REQUIRE_NETNS();
  auto run = run_scenario_file("window-reopen-ipv4");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  auto kernel = *stack::IpAddress::parse("192.0.2.1");
  double update = -1, next_data = -1;
  bool closed = false;
  for (const auto& s : timed_segments(run.frames)) {
    bool from_kernel = s.seg.src == kernel;
    if (!from_kernel && s.seg.tcp.window == 0) closed = true;
    if (!from_kernel && closed && s.seg.tcp.window > 0 && update < 0) update = s.t;
    if (from_kernel && update >= 0 && !s.seg.payload.empty()) {
      next_data = s.t;
      break;
    }
  }
  ASSERT_GE(update, 0) << "the peer sent a window update";
  ASSERT_GE(next_data, 0);
  EXPECT_LT(next_data - update, 0.05) << "the data follows the update, not the next persist probe";
}

TEST(PeerReset, TheKernelSeesOneRstAndSendsNone) {
  TAPFAULT_REQUIRE_NETNS();
  auto run = run_scenario_file("peer-reset-ipv4");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  auto kernel = *stack::IpAddress::parse("192.0.2.1");
  int peer_rst = 0, after_rst = 0;
  for (const auto& s : timed_segments(run.frames)) {
    if (peer_rst && !(s.seg.src == kernel)) ++after_rst;
    if (!(s.seg.src == kernel) && s.seg.tcp.has(stack::tcp_flags::kRst)) ++peer_rst;
  }
  EXPECT_EQ(peer_rst, 1);
  EXPECT_EQ(after_rst, 0) << "the peer sends nothing after its reset";
  EXPECT_EQ(run.report["client"]["final_error"], "ECONNRESET");
}

}  // namespace
}  // namespace tapfault::testing
