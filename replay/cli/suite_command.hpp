// The `suite` subcommand of the tapfault CLI (the library side is
// include/tapfault/replay/report/suite.hpp).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace tapfault::replay {

// Adds `suite DIR [options]` to `app`. When the command line names it, parsing sets
// `action` to the command, which returns the exit code (0 every scenario passed, 1 one
// failed or errored, 2 bad input such as an empty selection). `action` must outlive parsing.
void add_suite_command(CLI::App& app, std::function<int()>& action);

}  // namespace tapfault::replay
