// The `plot` subcommand of the tapfault CLI (the library side, plot_run() and
// render_svg(), is include/tapfault/replay/report/plot.hpp).
#pragma once

#include <functional>

#include "tapfault/replay/report/plot.hpp"

namespace CLI {
class App;
}

namespace tapfault::replay {

// Adds `plot RUN_DIR` to `app`. When the command line names it, parsing sets `action` to
// the command, which returns plot_run()'s exit code. `action` must outlive parsing.
void add_plot_command(CLI::App& app, std::function<int()>& action);

}  // namespace tapfault::replay
