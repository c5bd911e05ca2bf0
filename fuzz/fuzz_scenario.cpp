// libFuzzer target: see scenario_entry.hpp for what an input is and what counts as a crash.
#include "scenario_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tapfault::fuzz::run_scenario_input(data, size);
  return 0;
}
