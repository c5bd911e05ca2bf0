// The fuzz_capture inputs as unit tests: every crash input ever found
// (fuzz/regressions/fuzz_capture/) and every seed (fuzz/corpus/fuzz_capture/) runs through the
// entry the libFuzzer target calls (fuzz/capture_entry.hpp): the capture reader returns or
// throws CaptureError, and never crashes, hangs or allocates without bound.
#include <gtest/gtest.h>

#include "fuzz/capture_entry.hpp"
#include "support/fuzz_replay.hpp"

namespace tapfault::testing {
namespace {

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
