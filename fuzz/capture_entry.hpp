// Fuzz entry for the capture reader and the extractor: any file either reads (and every
// connection in it is grouped and classified) or read_capture() throws CaptureError (what
// `tapfault diff` and `compare` turn into exit code 2). Any other exception escapes on
// purpose: under libFuzzer it is a crash, under gtest a failure.
//
// Shared by fuzz_capture.cpp and tests/unit/analysis/fuzz_regression_test.cpp. libpcap reads
// from a file, so the input goes to a temporary file first (one per process, rewritten).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tapfault/replay/analysis/capture_reader.hpp"
#include "tapfault/replay/analysis/flows.hpp"

namespace tapfault::fuzz {

// Removed when the process exits normally (libFuzzer's -max_total_time ends with exit()).
struct CaptureScratchFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("tapfault-fuzz-capture-" + std::to_string(getpid()) + ".pcap");
  ~CaptureScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

inline const std::filesystem::path& capture_scratch_file() {
  static const CaptureScratchFile file;
  return file.path;
}

inline void run_capture_input(const std::uint8_t* data, std::size_t size, bool require_tcp = true) {
  const auto& path = capture_scratch_file();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
      std::perror("fuzz_capture: cannot write the scratch file");
      std::abort();
    }
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  try {
    replay::ReadOptions options;
    options.require_tcp = require_tcp;
    replay::Capture capture = replay::read_capture(path, options);
    auto groups = replay::group_connections(capture);
    auto flows = replay::extract_flows(capture);
    for (auto& flow : flows) {
      (void)flow.name();
      (void)replay::chosen_episode(flow);
      for (auto rule : {replay::OriginRule::kFirstPacket, replay::OriginRule::kTriggeringSend,
                        replay::OriginRule::kFirstSyn, replay::OriginRule::kZeroWindowAck,
                        replay::OriginRule::kLastReceived}) {
        std::string why;
        if (auto origin = replay::find_origin(flow, rule, &why)) replay::set_origin(flow, *origin);
      }
    }
    (void)groups;
  } catch (const replay::CaptureError&) {
  }
}

}  // namespace tapfault::fuzz
