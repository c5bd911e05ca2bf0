// tapfault suite and plot on real runs: run_suite() starts the real `tapfault run` for each
// scenario (two at a time, each in its own namespace) and reads their reports back; plot_run()
// draws a real run folder.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/tapfault_cli.hpp"
#include "support/xml_check.hpp"
#include "tapfault/replay/report/plot.hpp"
#include "tapfault/replay/report/suite.hpp"

namespace tapfault::testing {
namespace {

using namespace tapfault::replay;
namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// echo as it is (both families), and a scenario whose expectation cannot hold (the peer echoes 6 bytes).
fs::path suite_dir(const fs::path& root) {
  fs::create_directories(root / "more");
  std::string echo = read_text(scenario_path("echo/echo.yaml"));
  std::ofstream(root / "echo.yaml") << echo;
  std::string wrong = "name: echo-wrong\nduration: 10s\nnetwork:\n  family: ipv4\npeer:\n  port: 8080\n"
                      "client:\n  actions:\n    - connect\n    - send: \"hello\\n\"\n    - recv: 6\n    - close\n"
                      "expect:\n  client_received: 7\n";
  std::ofstream(root / "more" / "wrong.yaml") << wrong;
  return root;
}

TEST(SuiteOnTheRealKernel, PassAndFailRowsFromRealRunsInParallel) {
  TAPFAULT_REQUIRE_NETNS();
  fs::path root = fresh_out_dir("suite");
  auto selected = select_scenarios(discover_scenarios(suite_dir(root / "scenarios")), {});
  ASSERT_EQ(selected.scenarios.size(), 3u) << "echo is one run per family";
  SuiteOptions o;
  o.out_dir = root / "out";
  o.jobs = 2;
  o.tapfault_binary = TAPFAULT_BINARY;
  std::ostringstream progress;
  auto results = run_suite(selected.scenarios, o, progress);
  ASSERT_EQ(results.size(), 3u);
  for (int i : {0, 1}) {
    const std::string family = i == 0 ? "ipv4" : "ipv6";
    EXPECT_EQ(results[i].scenario.name, "echo-" + family);
    EXPECT_EQ(results[i].verdict, SuiteVerdict::kPass) << results[i].message << "\n" << results[i].output;
    EXPECT_TRUE(fs::exists(o.out_dir / ("echo-" + family) / "capture.pcap"));
    EXPECT_EQ(read_json(o.out_dir / ("echo-" + family) / "report.json")["scenario"]["name"], "echo-" + family);
  }
  EXPECT_EQ(results[2].scenario.name, "more/wrong");
  EXPECT_EQ(results[2].verdict, SuiteVerdict::kFail) << results[2].output;
  EXPECT_NE(results[2].message.find("wrong.yaml:14: expect.client_received: expected 7 but saw 6"), std::string::npos)
      << results[2].message;
  EXPECT_TRUE(fs::exists(o.out_dir / "more" / "wrong" / "report.json"));
  EXPECT_EQ(suite_exit_code(results), 1);
  fs::remove_all(root);
}

TEST(PlotOnTheRealKernel, SilentPeerRunBecomesAnSvgWithRetransmissionsAndTheFault) {
  TAPFAULT_REQUIRE_NETNS();
  fs::path out = fresh_out_dir("plot-silent");
  auto cli = run_repeating_late_timers(
      std::string(TAPFAULT_BINARY) + " run " + scenario_path("lost-peer/silent-peer.yaml").string() +
          " --family ipv4 --out " + out.string() + " -q",
      {out}, "silent-peer-ipv4");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  PlotData d = load_plot_data(out);
  EXPECT_TRUE(d.notes.empty()) << d.notes.front();
  EXPECT_EQ(d.scenario, "silent-peer-ipv4");
  EXPECT_EQ(d.verdict, "pass");
  int syn = 0, retransmissions = 0;
  for (const PlotMark& m : d.marks) {
    syn += m.kind == MarkKind::kSyn;
    retransmissions += m.kind == MarkKind::kRetransmission;
    EXPECT_GE(m.t, -0.1) << m.detail << ": the pcap's times are on the run's clock";
  }
  EXPECT_EQ(syn, 1);
  EXPECT_GE(retransmissions, 3);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].label, "vanish (silent)");
  ASSERT_FALSE(d.socket.empty());
  EXPECT_GT(d.socket.back().backoff, 0) << "the RTO backed off";

  std::ostringstream err;
  ASSERT_EQ(plot_run(out, err), 0) << err.str();
  XmlDocument doc = parse_xml(read_text(out / "timeline.svg"));
  EXPECT_TRUE(doc.ok()) << doc.error;
  fs::remove_all(out);
}

}  // namespace
}  // namespace tapfault::testing
