// plot_run(): load a run folder, render it, write timeline.svg.
#include "tapfault/replay/report/plot.hpp"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tapfault/replay/exit_codes.hpp"

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

}  // namespace tapfault::replay
