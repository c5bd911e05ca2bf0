// Running a scenario: the namespace, the TAP, the peer, the client, the recorder
// and the sampler on one Asio loop; then the expectations and the report.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tapfault/replay/exit_codes.hpp"
#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {

// Who an external client runs as (see client_identity()).
struct ClientIdentity {
  unsigned uid = 0;
  unsigned gid = 0;
  std::string user;  // for the supplementary groups (initgroups); empty: none
};

struct RunOptions {
  std::filesystem::path out_dir;
  std::vector<std::string> command;  // external client: `tapfault run S -- CMD ARGS...`
  // The external client drops to this identity after fork (setgroups, setgid, setuid);
  // unset: it runs as tapfault does.
  std::optional<ClientIdentity> client_identity;
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

// Who `tapfault run S -- CMD` runs CMD as. Started through sudo (SUDO_UID set, not 0), the
// command runs as the user who ran sudo; as root otherwise only with `--as-root`; without
// root (a user namespace) as the invoking user. `error` says what to do when none applies.
struct ClientIdentityChoice {
  std::optional<ClientIdentity> identity;  // unset: run as tapfault does
  std::string error;                       // non-empty: refuse to run
};
ClientIdentityChoice choose_client_identity(bool as_root, unsigned euid, const char* sudo_uid,
                                            const char* sudo_gid, const char* sudo_user);

// "report.json" as written; and a human summary for stdout.
std::string format_summary(const Scenario& scenario, const RunResult& result);

}  // namespace tapfault::replay
