// Fuzz entry for the scenario parser: any text either parses or throws ScenarioError
// (what tapfault turns into exit code 2). Any other exception escapes on purpose: under
// libFuzzer it is a crash, under gtest a failure.
//
// Shared by fuzz_scenario.cpp and tests/unit/scenario/fuzz_regression_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::fuzz {

inline void run_scenario_input(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    replay::Scenario s = replay::parse_scenario(text, "fuzz.yaml");
    (void)s;
  } catch (const replay::ScenarioError&) {
  }
}

}  // namespace tapfault::fuzz
