// `tapfault diff`, `model` and `compare` as main() runs them: the registration, the
// output, and the exit codes 0 / 1 / 2.
#include "replay/cli/analysis_commands.hpp"

#include <CLI/CLI.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_files.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;
using testing::Conversation;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// What main() does: register, parse, map CLI11's parse errors to 2, return the command's code.
CliRun tapfault(std::vector<std::string> args) {
  CLI::App app{"tapfault"};
  app.require_subcommand(1);
  int analysis_exit = -1;
  add_analysis_commands(app, analysis_exit);
  args.insert(args.begin(), "tapfault");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CliRun r;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    r.exit_code = analysis_exit;
  } catch (const CLI::ParseError& e) {
    r.exit_code = app.exit(e) == 0 ? 0 : 2;
  }
  r.out = ::testing::internal::GetCapturedStdout();
  r.err = ::testing::internal::GetCapturedStderr();
  return r;
}

std::filesystem::path retries2_five_capture(const std::filesystem::path& dir, double rto3 = 1.676) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  for (double x : {0.208, 0.416, 0.844, rto3, 3.340, 6.828}) c.kernel_data(1.0 + x, 1, 100);
  auto p = dir / (rto3 == 1.676 ? "capture.pcap" : "moved.pcap");
  testing::write_pcap(p, c.frames);
  return p;
}

TEST(CliModel, RtoDefaultsPrintTheBudgetAndTheGiveUp) {
  CliRun r = tapfault({"model", "rto", "--sysctl", "net.ipv4.tcp_retries2=15"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcp_model_timeout(tcp_retries2 = 15) = 924.600 s"));
  EXPECT_THAT(r.out, HasSubstr("928.896 s after t = 0 nominal"));
  EXPECT_THAT(r.out, HasSubstr("RTO#15"));
  // 15 is the default.
  EXPECT_THAT(tapfault({"model", "rto"}).out, HasSubstr("tcp_model_timeout(tcp_retries2 = 15) = 924.600 s"));
}

TEST(CliModel, JsonAndOtherModels) {
  CliRun r = tapfault({"model", "syn", "--sysctl", "tcp_syn_retries=3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "syn");
  EXPECT_EQ(j["events"].size(), 8u);  // 7 SYN retransmissions and the give-up
  CliRun ka = tapfault({"model", "keepalive", "--sockopt", "TCP_KEEPIDLE=1", "--sockopt", "TCP_KEEPINTVL=1", "--sockopt",
                     "TCP_KEEPCNT=3"});
  EXPECT_EQ(ka.exit_code, 0) << ka.err;
  EXPECT_THAT(ka.out, HasSubstr("keepalive#3"));
}

// 6.1 has no tcp_syn_linear_timeouts (ccce324dabfe, 6.5): its SYNs double from the first
// retransmission, 1, 3, 7 s, which is what Debian's 6.1.192 sent under qemu (SYN#2 at
// 3.017 s). A sysctl given on the command line still wins over the version's rule.
TEST(CliModel, KernelVersionTakesTheRulesOfThatKernel) {
  CliRun old = tapfault({"model", "syn", "--kernel", "6.1.0-57-cloud-amd64"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_THAT(old.out, HasSubstr("SYN#2               3.000  [3.016, 3.048]"));
  EXPECT_THAT(old.out, HasSubstr("kernel 6.1 has no net.ipv4.tcp_syn_linear_timeouts, added in 6.5 by ccce324dabfe"));
  CliRun now = tapfault({"model", "syn", "--kernel", "6.12"});
  EXPECT_THAT(now.out, HasSubstr("SYN#2               2.000"));
  CliRun given = tapfault({"model", "syn", "--kernel", "6.1", "--sysctl", "tcp_syn_linear_timeouts=4"});
  EXPECT_THAT(given.out, HasSubstr("SYN#2               2.000"));
  CliRun bad = tapfault({"model", "syn", "--kernel", "six"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("\"six\" is not a kernel version"));
}

TEST(CliModel, BadFlagValuesAreBadInputNamingTheFlag) {
  CliRun unit = tapfault({"model", "rto", "--rto", "204"});
  EXPECT_EQ(unit.exit_code, 2);
  EXPECT_THAT(unit.err, HasSubstr("--rto"));
  EXPECT_THAT(unit.err, HasSubstr("not a duration with a unit"));
  CliRun name = tapfault({"model", "rto", "--sysctl", "net.ipv4.tcp_retires2=5"});
  EXPECT_EQ(name.exit_code, 2);
  EXPECT_THAT(name.err, HasSubstr("unknown sysctl \"net.ipv4.tcp_retires2\""));
  CliRun value = tapfault({"model", "rto", "--sysctl", "net.ipv4.tcp_retries2=300"});
  EXPECT_EQ(value.exit_code, 2);
  EXPECT_THAT(value.err, HasSubstr("net.ipv4.tcp_retries2: 300 is out of range [0, 255]"));
  CliRun kind = tapfault({"model", "rtx"});
  EXPECT_EQ(kind.exit_code, 2);
}

TEST(CliDiff, PassMismatchAndBadInput) {
  auto dir = testing::scratch_dir();
  auto good = retries2_five_capture(dir);
  CliRun ok = tapfault({"diff", good.string(), "--model", "rto", "--sysctl", "net.ipv4.tcp_retries2=5"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("result: ok"));
  EXPECT_THAT(ok.out, HasSubstr("t = 0: frame 4, original transmission of seq 1:101"));

  auto moved = retries2_five_capture(dir, 1.876);
  CliRun bad = tapfault({"diff", moved.string(), "-m", "rto", "--sysctl", "tcp_retries2=5"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.out, HasSubstr("result: MISMATCH " + moved.string() +
                                 "#8: retransmission 3 expected in [1.664, 1.696] s but seen at 1.876 s"));

  CliRun json = tapfault({"diff", good.string(), "--model", "rto", "--sysctl", "net.ipv4.tcp_retries2=5", "--json",
                       "--error", "ETIMEDOUT@1700000014.484"});
  EXPECT_EQ(json.exit_code, 0) << json.out;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["give_up"]["verdict"], "ok");

  CliRun missing = tapfault({"diff", (dir / "nope.pcap").string(), "--model", "rto"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.pcap: no such file"));
  CliRun flow = tapfault({"diff", good.string(), "--model", "rto", "--flow", "banana"});
  EXPECT_EQ(flow.exit_code, 2);
  CliRun no_match = tapfault({"diff", good.string(), "--model", "rto", "--flow", ":1"});
  EXPECT_EQ(no_match.exit_code, 2);
  EXPECT_THAT(no_match.err, HasSubstr("no connection matches --flow :1"));
  CliRun no_model = tapfault({"diff", good.string()});
  EXPECT_EQ(no_model.exit_code, 2);
}

TEST(CliCompare, SameAndDifferent) {
  auto dir = testing::scratch_dir();
  auto a = retries2_five_capture(dir);
  auto b = retries2_five_capture(dir, 1.876);
  CliRun same = tapfault({"compare", a.string(), a.string()});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  CliRun diff = tapfault({"compare", a.string(), b.string()});
  EXPECT_EQ(diff.exit_code, 1);
  EXPECT_THAT(diff.out, HasSubstr("gap after the previous packet"));
  CliRun loose = tapfault({"compare", a.string(), b.string(), "--no-gaps", "--json"});
  EXPECT_EQ(loose.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(loose.out)["same"], true);
  CliRun broken = tapfault({"compare", a.string(), (dir / "none.pcap").string()});
  EXPECT_EQ(broken.exit_code, 2);
}

TEST(CliHelp, EveryCommandTeachesWithAnExample) {
  for (const char* cmd : {"diff", "model", "compare"}) {
    CliRun r = tapfault({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("Examples:")) << cmd;
    EXPECT_THAT(r.out, HasSubstr("tapfault " + std::string(cmd))) << cmd;
  }
}

}  // namespace
}  // namespace tapfault::replay
