// `tapfault suite DIR`: every scenario under a folder, several at a time, each in its own
// `tapfault run` process (and so its own network namespace), with one summary line per
// scenario, a JUnit file for CI servers, shards and filters.
//
// Read first: docs/cli.md ("suite"). The steps are separate so that tests can drive each:
// discover_scenarios() -> select_scenarios() -> run_suite() -> format_suite_table() /
// format_junit(). run_suite() launches processes; everything else is pure.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tapfault::replay {

// One run of the suite: a *.yaml file found under the suite's folder and, when its
// network.family lists several, one of them; parsed (or not) before anything runs.
struct SuiteScenario {
  std::filesystem::path file;  // as found: DIR/sub/x.yaml
  // Path relative to DIR without ".yaml" ("sub/x"), plus "-" and the family when the file
  // lists several ("sub/x-ipv6"); also the output folder.
  std::string name;
  std::string family;          // passed as `tapfault run --family`; empty when the file lists one
  std::string scenario_name;   // the run's name (Scenario::name); empty when it did not parse
  std::vector<std::string> tags;
  std::chrono::nanoseconds duration{};  // the scenario's hard limit
  bool has_client = true;  // false: no `client:`, the run needs an external command (`-- CMD`)
  std::string parse_error;              // ScenarioError::what(); empty when it parsed

  bool realtime() const;
};

// Every *.yaml under `dir`, recursively, sorted by path; each parsed, one entry per family
// it lists (in its order), one entry (an ERROR row) when it does not parse. Throws
// std::runtime_error when `dir` is not a readable folder.
std::vector<SuiteScenario> discover_scenarios(const std::filesystem::path& dir);

// `--shard I/N`: 1-based index I of N slices.
struct Shard {
  int index = 1;
  int count = 1;
};
// "2/4" -> {2, 4}; nullopt unless 1 <= I <= N.
std::optional<Shard> parse_shard(const std::string& text);

struct SuiteSelection {
  // Each keeps a scenario when TEXT is a substring of its name or its `name:`, or, as
  // "tag:T", when T is one of its tags. Several filters: a scenario matching any is kept.
  std::vector<std::string> filters;
  bool realtime = false;  // keep scenarios tagged `realtime`
  std::optional<Shard> shard;
};

struct Selected {
  std::vector<SuiteScenario> scenarios;
  std::size_t left_out_realtime = 0;  // matched the filters but are tagged realtime
  std::size_t left_out_external = 0;  // matched but have no `client:` (need `tapfault run S -- CMD`)
  std::size_t left_out_shard = 0;     // in other shards
};

// Filters first, then the realtime rule and scenarios without a built-in client (a suite
// has no command to give them), then the shard: every N-th scenario of what is left,
// starting at the I-th, so that the N shards together run each scenario once. A scenario
// that does not parse stays in (it becomes an ERROR row).
Selected select_scenarios(std::vector<SuiteScenario> all, const SuiteSelection& selection);

enum class SuiteVerdict { kPass, kFail, kError };
const char* to_string(SuiteVerdict v);  // "PASS", "FAIL", "ERROR"

struct SuiteResult {
  SuiteScenario scenario;
  SuiteVerdict verdict = SuiteVerdict::kError;
  int exit_code = -1;  // of `tapfault run`; -1 when it never ran or was killed
  std::chrono::nanoseconds duration{};
  // The first failing check ("FILE:LINE: FIELD: expected X but saw Y"), or the error text
  // for exit codes 2 and 3, a parse error, a signal or a timeout. Empty on PASS.
  std::string message;
  std::string output;  // what `tapfault run` printed (stdout and stderr)
  std::filesystem::path out_dir;
};

struct SuiteOptions {
  std::filesystem::path out_dir = "out/suite";
  unsigned jobs = 0;  // 0: the number of online cores
  // The binary whose `run` command each scenario runs in; /proc/self/exe is this program.
  std::filesystem::path tapfault_binary = "/proc/self/exe";
  std::vector<std::string> run_args;  // appended to every `tapfault run` (e.g. --sample-interval 20)
  // A run still going this long after its scenario's `duration` is killed (ERROR).
  std::chrono::nanoseconds grace = std::chrono::seconds(60);
  bool progress = false;  // draw the live progress line on `progress_out`
  std::size_t progress_width = 80;  // the terminal's columns; longer lines are cut
};

// Runs `scenarios` (a parse error becomes an ERROR result without running) and returns the
// results in the order of `scenarios`. `progress_out` receives the live line when
// options.progress is set; it is erased before run_suite returns.
std::vector<SuiteResult> run_suite(const std::vector<SuiteScenario>& scenarios, const SuiteOptions& options,
                                   std::ostream& progress_out);

// One line per scenario (name, verdict, duration, first mismatch) and a totals line with
// `wall` (the suite's elapsed time) when it is not zero. `failures_only` leaves out the
// PASS lines (the totals stay).
std::string format_suite_table(const std::vector<SuiteResult>& results, bool failures_only = false,
                               std::chrono::nanoseconds wall = {});

// JUnit XML (testsuites/testsuite/testcase, failure and error with message), as CI servers
// read it. `suite_name` names the testsuite (the scenario folder).
std::string format_junit(const std::vector<SuiteResult>& results, const std::string& suite_name);

// 0 when every result passed, else 1 (a FAIL or an ERROR).
int suite_exit_code(const std::vector<SuiteResult>& results);

// The first failing check of a report.json, as "FILE:LINE: FIELD: expected X but saw Y";
// empty when every check held or there is no report.
std::string first_mismatch(const std::filesystem::path& report_json);

// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
std::string xml_escape(const std::string& text);

}  // namespace tapfault::replay
