// Replays fuzz inputs (fuzz/regressions/<target>/, fuzz/corpus/<target>/) through the same
// entry the libFuzzer target calls (fuzz/<name>_entry.hpp), each in a child process so that
// a crash, a hang or a runaway allocation fails one input with a clear reason instead of
// taking the test binary (or the machine) down. Under ASan and UBSan (build-asan) the
// sanitizer's report goes to the test's output.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace tapfault::testing {

using FuzzEntry = void (*)(const std::uint8_t*, std::size_t);

inline std::filesystem::path fuzz_dir(const std::string& kind, const std::string& target) {
  return std::filesystem::path(TAPFAULT_SOURCE_DIR) / "fuzz" / kind / target;
}

// Regular files of `dir`, sorted; dot files (.gitkeep) are not inputs.
inline std::vector<std::filesystem::path> fuzz_inputs(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

inline long child_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

struct FuzzLimits {
  std::chrono::seconds time{20};  // slow under ASan, but a fuzz input takes milliseconds
  long rss_mib = 1024;
};

// "" when the entry returned normally; else what went wrong.
inline std::string replay_fuzz_input(FuzzEntry entry, const std::filesystem::path& file, FuzzLimits limits = {}) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    entry(bytes.data(), bytes.size());  // an exception that escapes aborts: a failure
    _exit(0);
  }
  auto start = std::chrono::steady_clock::now();
  std::string why;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return std::string("waitpid: ") + std::strerror(errno);
    if (why.empty() && std::chrono::steady_clock::now() - start > limits.time)
      why = "still running after " + std::to_string(limits.time.count()) + " s (a hang)";
    if (why.empty() && child_rss_kib(pid) > limits.rss_mib * 1024)
      why = "more than " + std::to_string(limits.rss_mib) + " MiB resident (runaway allocation)";
    if (!why.empty()) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return why;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

// Every input of fuzz/<kind>/<target>/ through `entry`; one failure per bad input.
inline void replay_fuzz_dir(FuzzEntry entry, const std::string& kind, const std::string& target) {
  for (const auto& f : fuzz_inputs(fuzz_dir(kind, target))) {
    std::string why = replay_fuzz_input(entry, f);
    EXPECT_EQ(why, "") << "fuzz/" << kind << "/" << target << "/" << f.filename().string() << ": " << why;
  }
}

}  // namespace tapfault::testing
