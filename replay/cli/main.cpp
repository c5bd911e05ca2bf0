// tapfault: make the Linux kernel's TCP misbehave on purpose and prove what it did.
// The command line (CLI11). Each command maps errors to the documented exit codes.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
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

int run_command(const std::string& scenario_path, const std::string& out_dir,
                const std::vector<std::string>& command, int sample_ms, bool quiet, bool json, bool as_root) {
  Scenario s = parse_scenario_file(scenario_path);  // before any namespace exists
  if (!s.client && command.empty()) {
    std::cerr << scenario_path << ": the scenario has no `client:` section; give a command after `--`\n";
    return kExitBadInput;
  }
  RunOptions o;
  if (!command.empty()) {
    ClientIdentityChoice who = choose_client_identity(as_root, geteuid(), std::getenv("SUDO_UID"),
                                                      std::getenv("SUDO_GID"), std::getenv("SUDO_USER"));
    if (!who.error.empty()) {
      std::cerr << "tapfault run: " << who.error << "\n";
      return kExitBadInput;
    }
    o.client_identity = who.identity;
  }
  o.out_dir = out_dir.empty() ? std::filesystem::path("out") / s.name : std::filesystem::path(out_dir);
  o.command = command;
  o.sample_interval = std::chrono::milliseconds(sample_ms);
  o.quiet = quiet || json;
  RunResult r = run_scenario(s, o);
  if (json) std::cout << r.report.dump(2) << "\n";
  else if (!quiet || r.exit_code != kExitPass) std::cout << format_summary(s, r);
  return r.exit_code;
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
             "  tapfault run captures/scenarios/echo-ipv4.yaml --out out/echo\n"
             "  sudo tapfault run captures/scenarios/http-external-ipv4.yaml --out out/curl -- curl -s http://192.0.2.2:8080/\n");
  app.require_subcommand(1);

  std::string scenario, out;
  std::vector<std::string> command;
  int sample_ms = 50;
  bool quiet = false, json = false, as_root = false;
  CLI::App* run = app.add_subcommand("run", "Run a scenario: writes DIR/capture.pcap, DIR/timeline.jsonl, DIR/report.json");
  run->add_option("scenario", scenario, "Scenario file (YAML); see docs/scenarios.md")->required()->check(CLI::ExistingFile);
  run->add_option("--out,-o", out, "Output folder (default: out/<scenario name>)");
  run->add_option("--sample-interval", sample_ms, "Socket sampling interval in ms (default 50)")->check(CLI::Range(1, 60000));
  run->add_flag("--quiet,-q", quiet, "Print nothing when every expectation holds");
  run->add_flag("--json", json, "Print report.json on stdout instead of the summary");
  run->add_option("command", command,
                  "An external client to run instead of the built-in one (after --). Started through sudo, it runs "
                  "as the user who ran sudo (SUDO_UID, SUDO_GID); as root only with --as-root");
  run->add_flag("--as-root", as_root, "Run the external client as root (needed when tapfault runs as root without sudo)");
  run->footer(kExitCodes);

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
    if (*run) return run_command(scenario, out, command, sample_ms, quiet, json, as_root);
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
