// The scenario library (captures/scenarios/<case>/<name>.yaml) as the runs it makes: one per
// file and family. Needs the scenario room (tapfault_scenario), which the integration tests
// link through tapfault_run.
#pragma once

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "support/tapfault_cli.hpp"
#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::testing {

// One run of a library file.
struct LibraryRun {
  std::filesystem::path file;  // captures/scenarios/lost-peer/lost-peer.yaml
  std::string family;          // for `--family`; empty when the file lists one family
  std::string name;            // the run's name (Scenario::name): "lost-peer-ipv4", which names its golden files
  bool runs_alone = false;     // a built-in client and not tagged realtime
  bool bulk = false;           // tagged bulk

  // The arguments of `tapfault run` before --out.
  std::string run_args() const { return file.string() + (family.empty() ? "" : " --family " + family); }
};

// For gtest's messages about a parameter.
inline void PrintTo(const LibraryRun& r, std::ostream* os) { *os << r.name << " (" << r.run_args() << ")"; }

// Every *.yaml under captures/scenarios, recursively, each family it lists, sorted by name.
inline std::vector<LibraryRun> scenario_library() {
  std::vector<LibraryRun> runs;
  for (const auto& e : std::filesystem::recursive_directory_iterator(scenario_path(""))) {
    if (e.path().extension() != ".yaml") continue;
    const std::vector<replay::Scenario> families = replay::parse_scenario_families(e.path());
    for (const replay::Scenario& s : families) {
      LibraryRun r;
      r.file = e.path();
      if (families.size() > 1) r.family = replay::family_name(s.network.family);
      r.name = s.name;
      r.runs_alone = s.client && !s.has_tag("realtime");
      r.bulk = s.has_tag("bulk");
      runs.push_back(std::move(r));
    }
  }
  std::sort(runs.begin(), runs.end(), [](const LibraryRun& a, const LibraryRun& b) { return a.name < b.name; });
  return runs;
}

}  // namespace tapfault::testing
