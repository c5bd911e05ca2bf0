// One scenario file, both families: `tapfault run FILE` runs each listed family in turn into
// OUT/<family> and exits with the worst exit code; `--family` runs one straight into OUT.
#include <gtest/gtest.h>

#include <fstream>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

// The SYN is refused at once in both families (well under a second each); the ipv6 run
// expects an error it will not see, so it fails while the ipv4 run passes.
constexpr const char* kRefusedSyn =
    "name: refused\n"
    "duration: 5s\n"
    "network:\n"
    "  family: [ipv4, ipv6]\n"
    "peer:\n"
    "  port: 8080\n"
    "  faults:\n"
    "    - icmp: {type: port-unreachable, every: true}\n"
    "client:\n"
    "  actions:\n"
    "    - connect\n"
    "expect:\n"
    "  error: {ipv4: ECONNREFUSED, ipv6: EHOSTUNREACH}\n";

TEST(Families, WithoutFamilyEachRunsInItsOwnFolderAndTheWorstExitCodeWins) {
  TAPFAULT_REQUIRE_NETNS();
  auto dir = fresh_out_dir("families");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "refused.yaml") << kRefusedSyn;
  auto r = run_tapfault("run " + (dir / "refused.yaml").string() + " --out " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  auto v4 = read_json(dir / "out" / "ipv4" / "report.json");
  auto v6 = read_json(dir / "out" / "ipv6" / "report.json");
  EXPECT_EQ(v4["scenario"]["name"], "refused-ipv4");
  EXPECT_EQ(v4["verdict"], "pass");
  EXPECT_EQ(v6["scenario"]["name"], "refused-ipv6");
  EXPECT_EQ(v6["verdict"], "fail");
  EXPECT_EQ(v6["client"]["final_error"], "ECONNREFUSED");
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "report.json")) << "nothing straight into OUT";
  EXPECT_NE(r.output.find("refused-ipv4: PASS"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("refused-ipv6: FAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("refused: ipv4 pass, ipv6 exit 1"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(Families, FamilyRunsOneStraightIntoTheOutputFolder) {
  TAPFAULT_REQUIRE_NETNS();
  auto dir = fresh_out_dir("families-one");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "refused.yaml") << kRefusedSyn;
  auto r = run_tapfault("run " + (dir / "refused.yaml").string() + " --family ipv4 -q --out " +
                        (dir / "out").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(dir / "out" / "report.json")["scenario"]["name"], "refused-ipv4");
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "ipv6"));
  std::filesystem::remove_all(dir);
}

TEST(Families, AFamilyTheScenarioDoesNotListIsBadInputBeforeAnythingRuns) {
  auto dir = fresh_out_dir("families-unlisted");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "v6.yaml") << "network:\n  family: ipv6\npeer:\n  port: 8080\nclient: {}\n";
  auto r = run_tapfault("run " + (dir / "v6.yaml").string() + " --family ipv4 --out " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("v6.yaml:2:11: network.family: the run asks for ipv4, which this scenario does not list"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  auto bad = run_tapfault("run " + scenario_path("echo/echo.yaml").string() + " --family ipv5");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tapfault::testing
