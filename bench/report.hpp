// bench report: the generated part of bench/RESULTS.md, from the JSON each benchmark wrote.
//
// RESULTS.md keeps a hand-written part (what limits each figure, what each change bought);
// only the text between `<!-- bench:begin -->` and `<!-- bench:end -->` is replaced (the
// markers are appended when missing). The summary of ratios against the goals is printed too.
#pragma once

#include <string>

namespace tapfault::bench {

struct ReportOptions {
  std::string dir;      // reaction.json, bulk.json, scale.json, micro.json, fidelity/report.json
  std::string results;  // bench/RESULTS.md
  std::string command;
  std::string commit;
  std::string elapsed;  // "7 min 12 s"
  std::string load;     // /proc/loadavg's first three fields before the run
  std::string steal;    // share of CPU time the hypervisor took during the run, e.g. "3.1%"
};

// Returns 0, or throws std::runtime_error when RESULTS.md cannot be written.
int write_report(const ReportOptions& options);

}  // namespace tapfault::bench
