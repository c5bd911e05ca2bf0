// libFuzzer target: see capture_entry.hpp for what an input is and what counts as a crash.
#include "capture_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tapfault::fuzz::run_capture_input(data, size);
  return 0;
}
