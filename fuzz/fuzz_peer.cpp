// libFuzzer target: see peer_entry.hpp for what an input is and what counts as a crash.
#include "peer_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tapfault::fuzz::run_peer_input(data, size);
  return 0;
}
