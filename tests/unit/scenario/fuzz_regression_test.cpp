// The fuzz_scenario inputs as unit tests: every crash input ever found
// (fuzz/regressions/fuzz_scenario/) and every seed (fuzz/corpus/fuzz_scenario/) runs through
// the entry the libFuzzer target calls (fuzz/scenario_entry.hpp): the parser returns or throws
// ScenarioError, and never crashes, hangs or allocates without bound.
#include <gtest/gtest.h>

#include "fuzz/scenario_entry.hpp"
#include "support/fuzz_replay.hpp"

namespace tapfault::testing {
namespace {

TEST(FuzzScenarioRegressions, EveryCrashInputFoundSoFarRunsCleanly) {
  replay_fuzz_dir(&fuzz::run_scenario_input, "regressions", "fuzz_scenario");
}

TEST(FuzzScenarioRegressions, EverySeedRunsCleanly) {
  ASSERT_FALSE(fuzz_inputs(fuzz_dir("corpus", "fuzz_scenario")).empty());
  replay_fuzz_dir(&fuzz::run_scenario_input, "corpus", "fuzz_scenario");
}

}  // namespace
}  // namespace tapfault::testing
