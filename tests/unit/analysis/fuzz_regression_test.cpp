// The fuzz_scenario and fuzz_capture inputs as unit tests: every crash input ever found
// (fuzz/regressions/<target>/) and every seed (fuzz/corpus/<target>/) runs through the entry
// the libFuzzer target calls (fuzz/scenario_entry.hpp, fuzz/capture_entry.hpp): the parser
// returns or throws ScenarioError, the capture reader returns or throws CaptureError, and
// neither crashes, hangs or allocates without bound.
#include <gtest/gtest.h>

#include "fuzz/capture_entry.hpp"
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

TEST(FuzzCaptureRegressions, EveryCrashInputFoundSoFarRunsCleanly) {
  replay_fuzz_dir([](const std::uint8_t* d, std::size_t n) { fuzz::run_capture_input(d, n); }, "regressions",
                  "fuzz_capture");
}

TEST(FuzzCaptureRegressions, EverySeedRunsCleanly) {
  ASSERT_FALSE(fuzz_inputs(fuzz_dir("corpus", "fuzz_capture")).empty());
  replay_fuzz_dir([](const std::uint8_t* d, std::size_t n) { fuzz::run_capture_input(d, n); }, "corpus",
                  "fuzz_capture");
}

TEST(FuzzReplay, AHangingInputFailsWithAReasonInsteadOfHangingTheTest) {
  auto file = std::filesystem::temp_directory_path() / ("tapfault-fuzz-replay-" + std::to_string(getpid()));
  std::ofstream(file) << "x";
  std::string why = replay_fuzz_input([](const std::uint8_t*, std::size_t) { pause(); }, file, {std::chrono::seconds(1)});
  std::filesystem::remove(file);
  EXPECT_NE(why.find("a hang"), std::string::npos) << why;
}

}  // namespace
}  // namespace tapfault::testing
