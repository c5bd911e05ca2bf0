// The analysis commands of the tapfault command line: `diff`, `model` and `compare`.
// They read captures and compute models; nothing here needs privileges or a namespace.
//
// main() registers them before parsing and returns their exit code after:
//   int analysis_exit = -1;
//   tapfault::replay::add_analysis_commands(app, analysis_exit);
//   ... app.parse(argc, argv) ...
//   if (analysis_exit >= 0) return analysis_exit;
// The commands run as CLI11 callbacks inside app.parse(), print their own output and
// errors, and store 0 (pass), 1 (mismatch), 2 (bad input: unreadable capture, bad flag
// value, naming the flag) or 3 (anything else) in `exit_code`; only CLI11's own
// ParseError (unknown flag, missing argument, --help) leaves parse().
#pragma once

namespace CLI {
class App;
}

namespace tapfault::replay {

void add_analysis_commands(CLI::App& app, int& exit_code);

}  // namespace tapfault::replay
