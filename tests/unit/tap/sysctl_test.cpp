// tap::sysctl: name validation (pure) and reads/writes confined to a private namespace.
#include "tapfault/tap/sysctl.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "support/tap_test_env.hpp"
#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

constexpr const char* kRetries2 = "net.ipv4.tcp_retries2";
constexpr int kChildSkipped = 77;

TEST(SysctlName, MapsDotsToSlashesUnderProcSys) {
  EXPECT_EQ(sysctl_path("net.ipv4.tcp_retries2"), "/proc/sys/net/ipv4/tcp_retries2");
  EXPECT_EQ(sysctl_path("net.ipv6.conf.tf0.accept_ra"), "/proc/sys/net/ipv6/conf/tf0/accept_ra");
  EXPECT_EQ(sysctl_path("net.core.rmem_max"), "/proc/sys/net/core/rmem_max");
}

TEST(SysctlName, RefusesNamesOutsideNet) {
  for (const char* name : {"kernel.pid_max", "vm.swappiness", "", "net", "netfoo.x",
                           "NET.ipv4.tcp_retries2", "fs.file-max", "/net/ipv4/tcp_retries2"}) {
    EXPECT_THROW(sysctl_path(name), std::invalid_argument) << name;
  }
}

TEST(SysctlName, RefusesEmptyAndTraversingComponents) {
  for (const char* name : {"net.", "net..ipv4", "net.ipv4.", "net.ipv4/../../kernel.x",
                           "net.ipv4.tcp_retries2/..", "net.ipv4.../x"}) {
    EXPECT_THROW(sysctl_path(name), std::invalid_argument) << name;
  }
  EXPECT_THROW(sysctl_path(std::string_view("net.ipv4\0.x", 11)), std::invalid_argument);
}

TEST(SysctlName, WriteOutsideNetIsRefusedBeforeAnyFileIsOpened) {
  EXPECT_THROW(write_sysctl("kernel.hostname", "x"), std::invalid_argument);
  EXPECT_THROW(read_sysctl("kernel.hostname"), std::invalid_argument);
}

TEST(Sysctl, RoundTripInPrivateNamespace) {
  TAPFAULT_ENTER_NETNS();
  write_sysctl(kRetries2, "7");
  EXPECT_EQ(read_sysctl(kRetries2), "7");
  write_sysctl(kRetries2, "9\n");
  EXPECT_EQ(read_sysctl(kRetries2), "9");
}

TEST(Sysctl, ErrorsNameTheSysctlTheValueAndTheReason) {
  TAPFAULT_ENTER_NETNS();
  try {
    write_sysctl(kRetries2, "not-a-number");
    FAIL() << "the kernel accepted a non-numeric tcp_retries2";
  } catch (const SetupError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(kRetries2), std::string::npos) << message;
    EXPECT_NE(message.find("not-a-number"), std::string::npos) << message;
    EXPECT_NE(message.find("Invalid argument"), std::string::npos) << message;
  }
  try {
    read_sysctl("net.ipv4.no_such_sysctl");
    FAIL() << "read a sysctl that does not exist";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("net.ipv4.no_such_sysctl"), std::string::npos);
  }
}

// The child enters the namespace and writes; the parent, still in the host's namespace,
// only reads, before and after.
TEST(Sysctl, WriteInPrivateNamespaceLeavesHostValueUntouched) {
  const std::string host_before = read_sysctl(kRetries2);
  const std::string other = host_before == "7" ? "9" : "7";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (testing::try_enter_private_netns()) ::_exit(kChildSkipped);
    try {
      write_sysctl(kRetries2, other);
      ::_exit(read_sysctl(kRetries2) == other ? 0 : 1);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kChildSkipped) {
    if (::tapfault::testing::in_ci()) FAIL() << "cannot enter a private network namespace";
    GTEST_SKIP() << "needs a private network namespace (root or user namespaces)";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the write inside the namespace did not read back";
  EXPECT_EQ(read_sysctl(kRetries2), host_before);
}

TEST(SysctlExists, TellsASysctlThisKernelHasFromOneItLacks) {
  EXPECT_TRUE(sysctl_exists(kRetries2));
  EXPECT_FALSE(sysctl_exists("net.ipv4.tcp_no_such_thing"));
  EXPECT_THROW(sysctl_exists("kernel.hostname"), std::invalid_argument);
}

TEST(KernelRelease, IsUnamesRelease) {
  const std::string release = kernel_release();
  EXPECT_EQ(release, tapfault::testing::shell("uname -r").output.substr(0, release.size()));
  EXPECT_FALSE(release.empty());
}

// Jiffies advance with time, by HZ a second: at least one tick over 50 ms at any HZ.
TEST(Jiffies, AdvanceWithTime) {
  auto before = read_jiffies();
  ASSERT_TRUE(before) << "/proc/timer_list has no jiffies line";
  ::usleep(50'000);
  auto after = read_jiffies();
  ASSERT_TRUE(after);
  EXPECT_GT(*after, *before);
}

}  // namespace
}  // namespace tapfault::tap
