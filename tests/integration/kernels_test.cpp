// What a run does about the kernel it runs on: `compress:` by the mechanism the kernel has,
// `kernels:` for a scenario that cannot pass here, a sysctl the kernel lacks, and the
// kernel facts the report records. (The same runs on Debian's 6.1 and 6.12 are
// scripts/kernels.sh's; docs/kernels.md has what they did.)
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

// lost-peer's file with its `compress:` and `kernels:` lines replaced by `replacement`, and
// `tcp_retries2` renamed to `retries2` when given.
std::filesystem::path lost_peer_with(const std::string& name, const std::string& replacement,
                                     const std::string& retries2 = "tcp_retries2") {
  std::ifstream in(scenario_path("lost-peer/lost-peer.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = std::regex_replace(text, std::regex("compress:.*\n"), replacement + "\n");
  text = std::regex_replace(text, std::regex("net.ipv4.tcp_retries2:"), "net.ipv4." + retries2 + ":");
  text = std::regex_replace(text, std::regex("kernels:\n.*\n.*\n"), "");
  auto dir = fresh_out_dir(name + "-file");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "lost-peer.yaml") << text;
  return dir / "lost-peer.yaml";
}

RunOutput run_file(const std::filesystem::path& file, const std::string& name) {
  RunOutput r;
  auto out = fresh_out_dir(name);
  r.cli = run_repeating_late_timers(std::string(TAPFAULT_BINARY) + " run " + file.string() + " --family ipv4 --out " +
                                        out.string() + " -q",
                                    {out}, name);
  if (std::filesystem::exists(out / "report.json")) r.report = read_json(out / "report.json");
  return r;
}

// The floor by the route metric, the mechanism of kernels before 6.11, chosen here on a
// kernel that has both: the RTO starts at 24 ms (20 ms + one jiffy of srtt rounding), not
// 204 ms, and the model, told of the metric, passes.
TEST(Compress, TheRouteMetricLowersTheRtoFloorWhereTheSysctlIsNotUsed) {
  TAPFAULT_REQUIRE_NETNS();
  auto file = lost_peer_with("compress-route", "compress: {rto_min: 20ms, rto_max: 1s, via: route}");
  RunOutput run = run_file(file, "compress-route");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output << run.report.dump(2);
  const std::string used = run.report["kernel"]["compression"];
  EXPECT_NE(used.find("rto_min 20 ms by the route to the peer (rto_min lock, RTAX_RTO_MIN)"), std::string::npos) << used;
  bool noted = false;
  for (const auto& n : run.report["model"]["model_notes"])
    if (n.get<std::string>().find("the route's locked rto_min metric") != std::string::npos) noted = true;
  for (const auto& n : run.report["model"]["notes"])
    if (n.get<std::string>().find("the route's locked rto_min metric") != std::string::npos) noted = true;
  EXPECT_TRUE(noted) << run.report["model"].dump(2);
  const auto rto1 = run.report["model"]["events"][1];
  ASSERT_EQ(rto1["event"], "RTO#1");
  EXPECT_LT(rto1["observed_s"].get<double>(), 0.2) << "the floor stayed at 200 ms";
}

TEST(Kernels, AScenarioForOtherKernelsIsNotApplicableHereAndSaysWhy) {
  TAPFAULT_REQUIRE_NETNS();
  auto file = lost_peer_with("kernels-future",
                             "kernels: {versions: \">= 99.0\", reason: \"it needs a kernel from the future\"}");
  RunOutput run = run_file(file, "kernels-future");
  EXPECT_EQ(run.cli.exit_code, 3) << run.cli.output;
  EXPECT_NE(run.cli.output.find("lost-peer.yaml:"), std::string::npos) << run.cli.output;
  EXPECT_NE(run.cli.output.find("kernels: not applicable on this kernel"), std::string::npos) << run.cli.output;
  EXPECT_EQ(run.report["verdict"], "not-applicable");
  EXPECT_EQ(run.report["kernel"]["needs"], ">= 99.0");
}

TEST(Kernels, ASysctlNoKernelHasIsATypoAndBadInput) {
  TAPFAULT_REQUIRE_NETNS();
  auto file = lost_peer_with("sysctl-typo", "", "tcp_retires2");
  RunOutput run = run_file(file, "sysctl-typo");
  EXPECT_EQ(run.cli.exit_code, 2) << run.cli.output;
  EXPECT_NE(run.cli.output.find("sysctl.net.ipv4.tcp_retires2: this kernel"), std::string::npos) << run.cli.output;
  EXPECT_NE(run.cli.output.find("a typo?"), std::string::npos) << run.cli.output;
}

// The report says what the run ran on: uname's release, HZ from the jiffies counter, the
// sysctls older kernels lack, and the TAP's queue as set.
TEST(Kernels, TheReportRecordsTheKernelItsHzAndWhatItHas) {
  TAPFAULT_REQUIRE_NETNS();
  RunOutput run = run_scenario_file("lost-peer/lost-peer", "--family ipv4 -q");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  const auto& k = run.report["kernel"];
  EXPECT_EQ(k["release"], shell("uname -r").output.substr(0, k["release"].get<std::string>().size()));
  ASSERT_TRUE(k["hz"].is_number()) << k.dump();
  EXPECT_TRUE(k["hz"] == 100 || k["hz"] == 250 || k["hz"] == 300 || k["hz"] == 1000) << k.dump();
  EXPECT_TRUE(k["sysctls_present"].contains("net.ipv4.tcp_syn_linear_timeouts")) << k.dump();
  EXPECT_GE(k["tap_tx_queue_length"].get<int>(), 500);
  EXPECT_NE(k["compression"].get<std::string>().find("rto_max 1000 ms"), std::string::npos) << k.dump();
}

}  // namespace
}  // namespace tapfault::testing
