// plot_run() and `tapfault plot RUN_DIR`: load a run folder, render, write timeline.svg.
#include "plot.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "tapfault/replay/run.hpp"

namespace tapfault::replay {

// Never throws: the runner calls it after every run, and a picture that cannot be drawn
// must not cost the run its report.
int plot_run(const std::filesystem::path& run_dir, std::ostream& err) {
  std::string svg;
  try {
    svg = render_svg(load_plot_data(run_dir));
  } catch (const PlotError& e) {
    err << "tapfault plot: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const nlohmann::json::exception& e) {  // a field of report.json or the timeline of another type
    err << "tapfault plot: " << run_dir.string() << ": unexpected JSON: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "tapfault plot: " << run_dir.string() << ": " << e.what() << "\n";
    return kExitEnvironment;
  }
  std::filesystem::path out = run_dir / "timeline.svg";
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << svg;
  f.close();
  if (!f) {
    err << "tapfault plot: cannot write " << out.string() << "\n";
    return kExitEnvironment;
  }
  return kExitPass;
}

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
