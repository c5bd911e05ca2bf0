// A scratch folder per test for the captures the replay tests write, and a shell helper
// for the tools some tests use when installed (editcap).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support/shell.hpp"

namespace tapfault::testing {

// Removed when the test program exits.
inline std::filesystem::path scratch_dir() {
  struct Cleanup {
    std::vector<std::filesystem::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Cleanup cleanup;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "-" + info->name();
  for (char& ch : name)
    if (ch == '/') ch = '_';  // parameterised tests: "LinkTypes/DiffLinkTypes"
  auto dir = std::filesystem::temp_directory_path() / ("tapfault-replay-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  cleanup.dirs.push_back(dir);
  return dir;
}




}  // namespace tapfault::testing
