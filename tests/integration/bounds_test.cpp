// Bounded resources on the real kernel: a client that writes far more than a zero-window
// peer can take must not grow the tapfault process's memory with what it writes. The kernel
// queues up to the socket's send buffer and probes the window; the process (peer, client,
// recorder, sampler) should stay at its usual size whatever the client's `send: {size:}`.
//
// Measured as the run's peak RSS (wait4's ru_maxrss, which the kernel keeps for the whole
// life of the process), with VmRSS from /proc/PID/status sampled along the way for the message.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

// A run's usual size is about 11 MiB (RelWithDebInfo). Under AddressSanitizer (build-asan)
// the shadow memory, the allocator's quarantine and its metadata come on top.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssBoundMiB = 160;
#else
constexpr long kRssBoundMiB = 64;
#endif
constexpr long kClientSendsMiB = 256;  // the scenario's `send: {size: 256MiB}`

std::filesystem::path data_scenario(const std::string& name) {
  return std::filesystem::path(TAPFAULT_SOURCE_DIR) / "tests" / "data" / "scenarios" / name;
}

long vm_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

struct MeasuredRun {
  int exit_code = -1;
  long max_rss_kib = 0;      // ru_maxrss
  long sampled_rss_kib = 0;  // the largest VmRSS seen while it ran
  std::string output;
};

MeasuredRun run_measured(const std::filesystem::path& scenario, const std::filesystem::path& out) {
  MeasuredRun m;
  auto log = out.string() + ".log";
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(TAPFAULT_BINARY, TAPFAULT_BINARY, "run", scenario.c_str(), "--out", out.c_str(), "-q",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) return m;
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t r = wait4(pid, &status, WNOHANG, &ru);
    if (r == pid || r < 0) break;
    m.sampled_rss_kib = std::max(m.sampled_rss_kib, vm_rss_kib(pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.max_rss_kib = ru.ru_maxrss;
  std::ifstream in(log);
  m.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return m;
}

TEST(BoundedResources, AClientFloodingAZeroWindowPeerDoesNotGrowTheProcess) {
  TAPFAULT_REQUIRE_NETNS();
  auto out = fresh_out_dir("zero-window-flood");
  MeasuredRun m = run_measured(data_scenario("bounds/zero-window-flood-ipv4.yaml"), out);
  ASSERT_EQ(m.exit_code, 0) << m.output;
  auto report = read_json(out / "report.json");
  EXPECT_EQ(report["verdict"], "pass");
  ASSERT_EQ(report["peer"]["connections"].size(), 1u);
  EXPECT_EQ(report["peer"]["connections"][0]["bytes_received"], 6) << "the peer took nothing past its zero window";

  EXPECT_LT(m.max_rss_kib, kRssBoundMiB * 1024)
      << "tapfault's peak RSS was " << m.max_rss_kib / 1024 << " MiB (largest VmRSS sampled "
      << m.sampled_rss_kib / 1024 << " MiB) while its client wrote " << kClientSendsMiB
      << " MiB into a zero window; the bound is " << kRssBoundMiB
      << " MiB, whatever the client writes (a process that holds the whole send in memory grows with it)";
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace tapfault::testing
