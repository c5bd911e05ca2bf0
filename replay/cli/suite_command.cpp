// `tapfault suite DIR`: the options, the progress line and the exit code around
// run_suite() (replay/report/suite.cpp). See docs/cli.md for every flag.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "suite_command.hpp"
#include "tapfault/replay/run/run.hpp"
#include "tapfault/replay/report/suite.hpp"

namespace tapfault::replay {
namespace {

struct SuiteArgs {
  std::string dir;
  std::string out = "out/suite";
  unsigned jobs = 0;
  std::string junit;
  std::string shard;
  std::vector<std::string> filters;
  bool realtime = false;
  bool quiet = false;
  int sample_ms = 0;
};

std::size_t terminal_columns() {
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  return 80;
}

std::string plural(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

int suite_command(const SuiteArgs& a);

// The command's errors become exit codes here, whatever main() does with exceptions.
int suite_command_guarded(const SuiteArgs& a) {
  try {
    return suite_command(a);
  } catch (const std::exception& e) {
    std::cerr << "tapfault suite: " << e.what() << "\n";
    return kExitEnvironment;
  }
}

int suite_command(const SuiteArgs& a) {
  SuiteSelection sel;
  sel.filters = a.filters;
  sel.realtime = a.realtime;
  if (!a.shard.empty()) sel.shard = parse_shard(a.shard);  // validated by the option's check

  std::vector<SuiteScenario> all;
  try {
    all = discover_scenarios(a.dir);
  } catch (const std::exception& e) {
    std::cerr << "tapfault suite: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (all.empty()) {
    std::cerr << "tapfault suite: no *.yaml scenario under " << a.dir << "\n";
    return kExitBadInput;
  }
  std::size_t found = all.size();
  Selected selected = select_scenarios(std::move(all), sel);
  std::vector<std::string> left_out;
  if (selected.left_out_realtime)
    left_out.push_back(plural(selected.left_out_realtime, "realtime scenario") + " (--realtime runs them)");
  if (selected.left_out_external)
    left_out.push_back(plural(selected.left_out_external, "scenario") +
                       " without `client:` (tapfault run FILE -- COMMAND runs them)");
  if (selected.left_out_shard) left_out.push_back(std::to_string(selected.left_out_shard) + " in other shards");
  std::string left_out_text;
  for (const std::string& l : left_out) left_out_text += (left_out_text.empty() ? "left out: " : "; ") + l;
  if (selected.scenarios.empty()) {
    std::cerr << "tapfault suite: no scenario selected of " << found << " under " << a.dir
              << (left_out_text.empty() ? "" : "; " + left_out_text) << "\n";
    // A shard or the realtime rule may leave nothing on purpose; a filter that matches
    // nothing is a mistake in the command line.
    return selected.left_out_shard || selected.left_out_realtime || selected.left_out_external ? kExitPass
                                                                                                 : kExitBadInput;
  }

  SuiteOptions o;
  o.out_dir = a.out;
  o.jobs = a.jobs;
  if (a.sample_ms > 0) o.run_args = {"--sample-interval", std::to_string(a.sample_ms)};
  o.progress = !a.quiet && isatty(STDOUT_FILENO);
  o.progress_width = terminal_columns();
  auto started = std::chrono::steady_clock::now();
  std::vector<SuiteResult> results = run_suite(selected.scenarios, o, std::cout);
  auto wall = std::chrono::steady_clock::now() - started;

  std::cout << format_suite_table(results, a.quiet, wall);
  if (!left_out_text.empty()) std::cout << left_out_text << "\n";
  if (!a.junit.empty()) {
    std::ofstream j(a.junit);
    j << format_junit(results, std::filesystem::path(a.dir).lexically_normal().generic_string());
    if (!j) {
      std::cerr << "tapfault suite: cannot write " << a.junit << "\n";
      return kExitEnvironment;
    }
  }
  return suite_exit_code(results);
}

}  // namespace

void add_suite_command(CLI::App& app, std::function<int()>& action) {
  auto a = std::make_shared<SuiteArgs>();
  CLI::App* cmd = app.add_subcommand(
      "suite",
      "Run every *.yaml scenario under DIR (recursively, sorted by path), several at a time, each as its\n"
      "own `tapfault run` process with its own folder OUT/<relative path>; print one line per scenario.\n"
      "A file that lists several families (network.family: [ipv4, ipv6]) is one run per family,\n"
      "OUT/<relative path>-<family>, run with --family");
  cmd->add_option("dir", a->dir, "Folder of scenarios")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out,-o", a->out, "Output folder; each scenario writes OUT/<relative path without .yaml>")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", a->jobs, "Scenarios at a time (default: the number of cores)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--junit", a->junit, "Also write JUnit XML (one testcase per scenario) to FILE");
  cmd->add_option("--shard", a->shard, "Run only slice I of N (1-based): every N-th scenario from the I-th")
      ->type_name("I/N")
      ->check(CLI::Validator(
          [](std::string& s) { return parse_shard(s) ? std::string() : "expected I/N with 1 <= I <= N, got " + s; },
          ""));
  cmd->add_option("--filter", a->filters,
                  "Keep scenarios whose name contains TEXT, or with `tag:T` those tagged T (repeatable: any match)")
      ->type_name("TEXT")
      ->allow_extra_args(false);
  cmd->add_flag("--realtime", a->realtime, "Also run scenarios tagged `realtime` (they wait out real timeouts)");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress line; list only the scenarios that failed");
  cmd->add_option("--sample-interval", a->sample_ms, "Passed to every `tapfault run` (ms)")->check(CLI::Range(1, 60000));
  cmd->footer(
      "Exit codes: 0 every scenario passed; 1 a scenario failed or errored (its row says why);\n"
      "2 bad input (no scenario found, a filter that selects nothing); 3 environment (cannot write --junit).\n"
      "A scenario that does not parse is an ERROR row; the others still run.");
  cmd->callback([a, &action] { action = [a] { return suite_command_guarded(*a); }; });
}

}  // namespace tapfault::replay
