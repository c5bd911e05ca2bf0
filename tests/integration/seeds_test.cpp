// The three field reports run with the tools they used (captures/scenarios/seeds/): socat
// for seed 000, netcat for seed 001, and the project's own C client for seed 002, each an
// external client in the run's namespace whose socket is sampled to the end of the run.
#include <gtest/gtest.h>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

#define TAPFAULT_REQUIRE_TOOL(tool)                                                                     \
  do {                                                                                                  \
    if (!have_tool(tool)) {                                                                             \
      if (in_ci()) FAIL() << tool << " is missing; scripts/install-deps.sh --test installs it";         \
      GTEST_SKIP() << tool << " is not installed (scripts/install-deps.sh --test)";                     \
    }                                                                                                   \
  } while (0)

std::string checks_of(const nlohmann::json& report) {
  std::string s;
  for (const auto& c : report.value("checks", nlohmann::json::array()))
    s += c.dump() + "\n";
  return s;
}

// Seed 000: socat's socket after the route to the peer is gone and "ff" was typed keeps
// its data queued under the persist timer, with the blackhole route's MTU, to the end.
TEST(SeedReports, SocatWriteAfterRouteDeletionPersistsWithBlackholeMtu) {
  TAPFAULT_REQUIRE_NETNS();
  TAPFAULT_REQUIRE_TOOL("socat");
  auto run = run_scenario_file("seeds/seed-000-socat-ipv6",
                               "--as-root -- sh -c '(sleep 1.5; echo ff; sleep 10) | socat STDIO "
                               "\"TCP-CONNECT:[2001:db8::2]:80\"'");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  EXPECT_EQ(run.report["verdict"], "pass") << checks_of(run.report);
  // socat was still running when the socket was sampled for the last time.
  EXPECT_EQ(run.report["external"]["signal"], SIGTERM);
  EXPECT_EQ(run.report["socket"]["send_q"], 3);  // "ff\n", queued
  const std::string ss = run.report["socket"]["ss"];
  EXPECT_NE(ss.find("timer:(persist,"), std::string::npos) << ss;
  EXPECT_NE(ss.find(",3) "), std::string::npos) << ss;
}

// Seed 001: nc's "is anyone there?" to a peer that vanished after its "hi" is retransmitted
// with the backoff the RTO model predicts from the socket's own RTO.
TEST(SeedReports, NetcatToAVanishedPeerRetransmitsAsTheModelSays) {
  TAPFAULT_REQUIRE_NETNS();
  TAPFAULT_REQUIRE_TOOL("nc");
  auto run = run_scenario_file("seeds/seed-001-nc-lost-peer-ipv4",
                               "--as-root -- sh -c '(echo hello; sleep 1; echo \"is anyone there?\"; sleep 30) | nc "
                               "192.0.2.2 12345'");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  EXPECT_EQ(run.report["verdict"], "pass") << checks_of(run.report);
  EXPECT_EQ(run.report["external"]["stdout"], "hi\n");
  ASSERT_EQ(run.report["peer"]["connections"].size(), 1u);
  EXPECT_EQ(run.report["peer"]["connections"][0]["bytes_received"], 6);  // "hello\n"; then silent
  EXPECT_EQ(run.report["socket"]["send_q"], 17);  // "is anyone there?\n"
  int retransmissions = 0;
  for (const auto& e : run.report["model"]["events"])
    if (e.value("verdict", "") == "ok") ++retransmissions;
  EXPECT_GE(retransmissions, 4) << run.report["model"].dump(2);
}

// Seed 002: the C client blocked in recv() with SO_KEEPALIVE and TCP_USER_TIMEOUT sees
// keepalive probes go out, then recv() fails with ETIMEDOUT once the user timeout passed.
TEST(SeedReports, CClientBlockedInRecvTimesOutThroughKeepaliveAndUserTimeout) {
  TAPFAULT_REQUIRE_NETNS();
  auto run = run_scenario_file("seeds/seed-002-c-client-keepalive-ipv4",
                               std::string("--as-root -- ") + TAPFAULT_KEEPALIVE_CLIENT +
                                   " 192.0.2.2 8990 --keepidle 1 --keepintvl 1 --keepcnt 10 --user-timeout 2500");
  ASSERT_EQ(run.cli.exit_code, 0) << run.cli.output;
  EXPECT_EQ(run.report["verdict"], "pass") << checks_of(run.report);
  EXPECT_EQ(run.report["external"]["exit_code"], 0);
  EXPECT_EQ(run.report["external"]["stdout"],
            "connected\nsent 6\nreceived 3\nrecv: ETIMEDOUT (Connection timed out)\n");
  EXPECT_EQ(run.report["socket_at"]["timer"], "keepalive");
}

}  // namespace
}  // namespace tapfault::testing
