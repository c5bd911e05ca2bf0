// `tapfault plot RUN_DIR`: the command line over plot_run().
#include "plot_command.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "tapfault/replay/exit_codes.hpp"

namespace tapfault::replay {

void add_plot_command(CLI::App& app, std::function<int()>& action) {
  auto run_dir = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "plot",
      "Draw a run folder as RUN_DIR/timeline.svg: the kernel's segments by kind (capture.pcap), the peer's\n"
      "faults and the kernel-side actions (timeline.jsonl), the model's windows (report.json), and the\n"
      "client socket's RTO, backoff and cwnd over time");
  cmd->add_option("run_dir", *run_dir, "A folder written by `tapfault run --out`")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--quiet,-q", *quiet, "Do not print the SVG's path");
  cmd->footer(
      "Exit codes: 0 written; 2 the folder has neither capture.pcap nor timeline.jsonl, or the capture\n"
      "does not read; 3 timeline.svg cannot be written.");
  cmd->callback([run_dir, quiet, &action] {
    action = [run_dir, quiet] {
      int rc = plot_run(*run_dir, std::cerr);
      if (rc == kExitPass && !*quiet) std::cout << (std::filesystem::path(*run_dir) / "timeline.svg").string() << "\n";
      return rc;
    };
  });
}

}  // namespace tapfault::replay
