// The live status line of `tapfault run` on a terminal (script(1) gives it one): on the
// lost-peer scenario it counts the kernel's retransmissions against the model and counts
// down to the next one; it is erased before the summary, and absent with --quiet or
// without a terminal.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

std::vector<std::string> status_lines(const std::string& tty) {
  std::vector<std::string> out;
  std::string line;
  for (char ch : tty) {
    if (ch == '\r' || ch == '\n') {
      if (!line.empty()) out.push_back(line);
      line.clear();
    } else {
      line += ch;
    }
  }
  if (!line.empty()) out.push_back(line);
  for (auto& l : out) l = std::regex_replace(l, std::regex("\x1b\\[K"), "");
  return out;
}

// `tapfault run` of lost-peer's ipv4 run into `out`, with `more` arguments, on a terminal. What is
// checked here is the status line, so a run that failed only because kernel timers came
// late runs again (run_repeating_late_timers).
std::string on_a_terminal(const std::filesystem::path& out, const std::string& more = "") {
  // script -e: its exit code is the command's; -f: flush as it goes; -q: no banner.
  ShellResult r = run_repeating_late_timers("script -qfec '" + std::string(TAPFAULT_BINARY) + " run " +
                                                scenario_path("lost-peer/lost-peer.yaml").string() +
                                                " --family ipv4 --out " + out.string() + more + "' /dev/null",
                                            {out}, "lost-peer-ipv4 on a terminal");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

TEST(Progress, CountsRetransmissionsAgainstTheModelAndCountsDown) {
  TAPFAULT_REQUIRE_NETNS();
  if (!have_tool("script")) FAIL() << "script(1) (util-linux) is missing";
  auto out = fresh_out_dir("progress-lost-peer");
  std::string tty = on_a_terminal(out);
  // "retransmission 7/12 at 2.6 s, next expected in 0.7 s"
  std::regex counted(R"(retransmission (\d+)/12 at (\d+\.\d) s, (next expected in|next expected now|give-up \(ETIMEDOUT\) expected in))");
  std::set<int> seen;
  for (const std::string& l : status_lines(tty)) {
    std::smatch m;
    if (std::regex_search(l, m, counted)) {
      seen.insert(std::stoi(m[1]));
      EXPECT_EQ(l.rfind("lost-peer-ipv4: ", 0), 0u) << l;
    }
  }
  // The line starts after 2 s and is redrawn every 250 ms; the retransmissions after that
  // (about one a second, rto_max compressed) all appear, up to the twelfth.
  ASSERT_FALSE(seen.empty()) << tty;
  EXPECT_GE(seen.size(), 4u) << tty;
  EXPECT_TRUE(seen.count(12)) << tty;
  EXPECT_NE(tty.find("give-up (ETIMEDOUT) expected in"), std::string::npos) << tty;
  // Erased before the summary.
  EXPECT_NE(tty.find("\r\x1b[Klost-peer-ipv4: PASS"), std::string::npos) << tty;
}

TEST(Progress, NoneWithQuietOrWithoutATerminal) {
  TAPFAULT_REQUIRE_NETNS();
  auto out = fresh_out_dir("progress-quiet");
  std::string tty = on_a_terminal(out, " -q");
  EXPECT_EQ(tty.find("retransmission"), std::string::npos) << tty;
  auto plain = run_repeating_late_timers(
      std::string(TAPFAULT_BINARY) + " run " + scenario_path("lost-peer/lost-peer.yaml").string() +
          " --family ipv4 --out " + out.string(),
      {out}, "lost-peer-ipv4");
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(plain.output.find('\r'), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find("next expected"), std::string::npos);
}

}  // namespace
}  // namespace tapfault::testing
