// tapfault: make the Linux kernel's TCP misbehave on purpose and prove what it did.
// The command line (CLI11). Each command maps errors to the documented exit codes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "analysis_commands.hpp"
#include "plot_command.hpp"
#include "suite_command.hpp"
#include "tapfault/replay/run/run.hpp"
#include "tapfault/replay/scenario/scenario.hpp"
#include "tapfault/tap/errors.hpp"

namespace {

using namespace tapfault::replay;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  every expectation held\n"
    "  1  an expectation failed (the first mismatch is printed)\n"
    "  2  bad input: a scenario or capture that does not parse (FILE:LINE:COL: field: ...)\n"
    "  3  environment: a missing capability (namespaces, /dev/net/tun) or a setup failure\n";

struct RunArgs {
  std::string scenario;
  std::string out;
  std::string family;  // empty: every family the scenario lists
  std::vector<std::string> command;
  int sample_ms = 50;
  bool quiet = false, json = false, as_root = false;
};

// One run of one family, in this process; the report goes to stdout as --json or --quiet say.
int run_one(const Scenario& s, const std::filesystem::path& out_dir, const RunArgs& a) {
  RunOptions o;
  if (!a.command.empty()) {
    ClientIdentityChoice who = choose_client_identity(a.as_root, geteuid(), std::getenv("SUDO_UID"),
                                                      std::getenv("SUDO_GID"), std::getenv("SUDO_USER"));
    if (!who.error.empty()) {
      std::cerr << "tapfault run: " << who.error << "\n";
      return kExitBadInput;
    }
    o.client_identity = who.identity;
  }
  o.out_dir = out_dir;
  o.command = a.command;
  o.sample_interval = std::chrono::milliseconds(a.sample_ms);
  o.quiet = a.quiet || a.json;
  RunResult r = run_scenario(s, o);
  if (a.json) std::cout << r.report.dump(2) << "\n" << std::flush;
  else if (!a.quiet || r.exit_code != kExitPass) std::cout << format_summary(s, r) << std::flush;
  return r.exit_code;
}

// The run in progress of several families: SIGINT and SIGTERM go on to it, and no family
// starts after one.
volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_interrupted = 0;

void forward_signal(int signo) {
  g_interrupted = 1;
  if (g_child > 0) kill(static_cast<pid_t>(g_child), signo);
}

// Each family in a child process of its own: a run enters a network namespace of its own,
// which only a process with one thread can do (tap::enter_private_netns).
int run_in_child(const Scenario& s, const std::filesystem::path& out_dir, const RunArgs& a) {
  std::cout << std::flush;
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int rc = kExitEnvironment;
    try {
      rc = run_one(s, out_dir, a);
    } catch (const std::exception& e) {
      std::cerr << "tapfault: " << e.what() << "\n";
    }
    std::cout << std::flush;
    _exit(rc);
  }
  g_child = pid;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_command(const RunArgs& a) {
  // Every family is parsed before any namespace exists, so that a bad value of the second
  // family fails before the first one runs.
  std::vector<Scenario> runs;
  if (!a.family.empty()) runs.push_back(parse_scenario_file(a.scenario, family_from_name(a.family)));
  else runs = parse_scenario_families(a.scenario);
  if (!runs.front().client && a.command.empty()) {
    std::cerr << a.scenario << ": the scenario has no `client:` section; give a command after `--`\n";
    return kExitBadInput;
  }
  // One run writes straight into OUT; several write OUT/ipv4, OUT/ipv6.
  if (runs.size() == 1) {
    const Scenario& s = runs.front();
    return run_one(s, a.out.empty() ? std::filesystem::path("out") / s.name : std::filesystem::path(a.out), a);
  }
  const std::filesystem::path base =
      a.out.empty() ? std::filesystem::path("out") / runs.front().case_name : std::filesystem::path(a.out);
  struct sigaction forward {};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &forward, &old_int);
  sigaction(SIGTERM, &forward, &old_term);
  int worst = kExitPass;
  std::string summary;
  for (const Scenario& s : runs) {
    const char* family = family_name(s.network.family);
    if (g_interrupted) {
      summary += std::string(summary.empty() ? "" : ", ") + family + " not run";
      continue;
    }
    const int rc = run_in_child(s, base / family, a);
    worst = std::max(worst, rc);
    summary += std::string(summary.empty() ? "" : ", ") + family + " " +
               (rc == kExitPass ? "pass" : "exit " + std::to_string(rc));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!a.json && (!a.quiet || worst != kExitPass)) {
    std::cout << runs.front().case_name << ": " << summary << " (" << base.string() << "/<family>)\n";
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tapfault: runs the Linux kernel's TCP client against an emulated peer on a TAP device in a\n"
      "private network namespace, injects faults (silence, zero window, ICMP, resets, route loss),\n"
      "records every frame to a pcap and the socket's state to a timeline, and checks the outcome.",
      "tapfault"};
  app.footer(std::string("\n") + kExitCodes +
             "\nExamples:\n"
             "  tapfault run captures/scenarios/echo/echo.yaml --out out/echo     (out/echo/ipv4, out/echo/ipv6)\n"
             "  tapfault run captures/scenarios/echo/echo.yaml --family ipv6 --out out/echo-ipv6\n"
             "  sudo tapfault run captures/scenarios/http/http-external-ipv4.yaml --out out/curl -- curl -s http://192.0.2.2:8080/\n");
  app.require_subcommand(1);

  RunArgs ra;
  CLI::App* run = app.add_subcommand("run", "Run a scenario: writes DIR/capture.pcap, DIR/timeline.jsonl, DIR/report.json");
  run->add_option("scenario", ra.scenario, "Scenario file (YAML); see docs/scenarios.md")->required()->check(CLI::ExistingFile);
  run->add_option("--out,-o", ra.out, "Output folder (default: out/<scenario name>)");
  run->add_option("--family", ra.family,
                  "Run only this family of the scenario's network.family list, straight into the output folder. "
                  "Without it a scenario that lists several runs each in turn, into OUT/ipv4 and OUT/ipv6, "
                  "and exits with the worst of their exit codes")
      ->check(CLI::IsMember({"ipv4", "ipv6"}));
  run->add_option("--sample-interval", ra.sample_ms, "Socket sampling interval in ms (default 50)")->check(CLI::Range(1, 60000));
  run->add_flag("--quiet,-q", ra.quiet, "Print nothing when every expectation holds");
  run->add_flag("--json", ra.json, "Print report.json on stdout instead of the summary (one document per family)");
  run->add_option("command", ra.command,
                  "An external client to run instead of the built-in one (after --). Started through sudo, it runs "
                  "as the user who ran sudo (SUDO_UID, SUDO_GID); as root only with --as-root");
  run->add_flag("--as-root", ra.as_root, "Run the external client as root (needed when tapfault runs as root without sudo)");
  run->footer(std::string("\nFamilies: a scenario may list `network.family: [ipv4, ipv6]`. Without --family each\n"
                          "family runs in turn in OUT/<family> (report and summary named <name>-<family>), one\n"
                          "summary line per family and one for the case; the exit code is the worst of them.\n"
                          "A scenario that lists one family writes straight into OUT.\n\n") +
              kExitCodes);

  int analysis_exit = -1;
  add_analysis_commands(app, analysis_exit);
  std::function<int()> suite_action, plot_action;
  add_suite_command(app, suite_action);
  add_plot_command(app, plot_action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  if (analysis_exit >= 0) return analysis_exit;
  if (suite_action) return suite_action();
  if (plot_action) return plot_action();
  try {
    if (*run) return run_command(ra);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const tapfault::tap::EnvironmentError& e) {
    std::cerr << "tapfault: " << e.what() << "\n";
    return kExitEnvironment;
  } catch (const std::exception& e) {
    std::cerr << "tapfault: " << e.what() << "\n";
    return kExitEnvironment;
  }
  return kExitBadInput;
}
