// Interrupted runs: SIGINT/SIGTERM give a complete pcap, timeline and a report marked
// interrupted (exit 130/143); after SIGKILL the pcap is still readable up to the last flush.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

// Starts `tapfault run` on a scenario, sends `signo` after `delay`, returns the exit status.
// `scenario` lists both families: the run is its ipv4 one, in this process (no child per family).
int run_and_signal(const std::string& scenario, const std::filesystem::path& out, int signo,
                   std::chrono::milliseconds delay) {
  std::string bin = TAPFAULT_BINARY, file = scenario_path(scenario + ".yaml").string(), dir = out.string();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(bin.c_str(), bin.c_str(), "run", file.c_str(), "--family", "ipv4", "--out", dir.c_str(), "-q",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, signo);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class Interrupt : public ::testing::TestWithParam<int> {};

TEST_P(Interrupt, RunStopsCleanlyWithACompleteCaptureAndAReportMarkedInterrupted) {
  TAPFAULT_REQUIRE_NETNS();
  int signo = GetParam();
  auto out = fresh_out_dir(std::string("interrupt-") + std::to_string(signo));
  int rc = run_and_signal("lost-peer/lost-peer", out, signo, std::chrono::milliseconds(1500));
  EXPECT_EQ(rc, 128 + signo);
  auto report = read_json(out / "report.json");
  EXPECT_EQ(report["verdict"], "interrupted");
  EXPECT_EQ(report["interrupted"], true);
  EXPECT_EQ(report["ended_by"], signo == SIGINT ? "SIGINT" : "SIGTERM");
  auto frames = read_pcap(out / "capture.pcap");
  EXPECT_GE(frames.size(), 5u) << "handshake and data were captured";
  if (have_tool("tshark")) {
    EXPECT_EQ(shell("tshark -r " + (out / "capture.pcap").string()).exit_code, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, Interrupt, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) { return info.param == SIGINT ? "sigint" : "sigterm"; });

TEST(Kill, AfterSigkillThePcapIsReadableUpToTheLastFlush) {
  TAPFAULT_REQUIRE_NETNS();
  auto out = fresh_out_dir("sigkill");
  int rc = run_and_signal("lost-peer/lost-peer", out, SIGKILL, std::chrono::milliseconds(1500));
  EXPECT_EQ(rc, 128 + SIGKILL);
  // The handshake, the exchange and the first retransmissions happened well before the
  // kill: with a flush at least every 100 ms they are on disk.
  auto frames = read_pcap(out / "capture.pcap");
  EXPECT_GE(frames.size(), 8u);
  if (have_tool("tshark")) {
    auto ts = shell("tshark -r " + (out / "capture.pcap").string());
    EXPECT_EQ(ts.exit_code, 0) << ts.output;
  }
}

}  // namespace
}  // namespace tapfault::testing
