// Running a scenario: the namespace, the TAP, the peer, the client, the recorder
// and the sampler on one Asio loop; then the expectations and the report.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tapfault/replay/scenario.hpp"

namespace tapfault::replay {

// Exit codes of every tapfault command (documented in --help and the README).
inline constexpr int kExitPass = 0;
inline constexpr int kExitExpectationFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitEnvironment = 3;

struct RunOptions {
  std::filesystem::path out_dir;
  std::vector<std::string> command;  // external client: `tapfault run S -- CMD ARGS...`
  std::chrono::milliseconds sample_interval{50};
  bool quiet = false;
};

struct Check {
  std::string field;     // "expect.tcp_info.snd_mss"
  std::string expected;
  std::string actual;
  bool ok = false;
  int line = 0;          // scenario line of the expectation
};

struct RunResult {
  int exit_code = kExitPass;
  std::vector<Check> checks;
  nlohmann::json report;
  std::filesystem::path capture;
  std::filesystem::path timeline;
  std::optional<std::string> model_table;  // expect.model: the event table, for stdout
};

// Enters a private network namespace: call once per process, before any thread starts.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

// "report.json" as written; and a human summary for stdout.
std::string format_summary(const Scenario& scenario, const RunResult& result);

}  // namespace tapfault::replay
