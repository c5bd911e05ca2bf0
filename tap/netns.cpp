// tap::enter_private_netns: unshare the network namespace (and, without root, a user
// namespace that maps the caller to root inside), twice: the first, intermediate namespace
// only sets net.ipv4.tcp_child_ehash_entries, so that the second, the run's, gets a TCP
// established hash of its own. See user_namespaces(7) for the setgroups/uid_map/gid_map
// sequence.
#include "tapfault/tap/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/netlink.hpp"

namespace tapfault::tap {
namespace {

std::size_t thread_count() {
  std::size_t count = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

void write_proc_file(const char* path, const std::string& text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    throw SetupError(std::string("cannot open ") + path + ": " + std::strerror(errno));
  }
  ssize_t written = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    throw SetupError(std::string("cannot write '") + text + "' to " + path + ": " +
                     std::strerror(saved));
  }
}

void unshare_net() {
  if (::unshare(CLONE_NEWNET) != 0) {
    throw EnvironmentError(
        std::string("cannot create a network namespace: unshare(CLONE_NEWNET) failed: ") +
        std::strerror(errno) +
        "; run as root with CAP_SYS_ADMIN (in a container: --cap-add SYS_ADMIN or "
        "--privileged)");
  }
}

void unshare_with_user_namespace() {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    throw EnvironmentError(
        std::string("cannot create a network namespace: unshare(CLONE_NEWUSER|CLONE_NEWNET) "
                    "failed: ") +
        std::strerror(errno) +
        "; run as root or grant CAP_SYS_ADMIN (or allow unprivileged user namespaces: "
        "sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, and on "
        "Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)");
  }
  // setgroups must be denied before an unprivileged process may write gid_map.
  write_proc_file("/proc/self/setgroups", "deny");
  write_proc_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
  write_proc_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

// The established hash a namespace gets is sized when it is created, from the creating
// namespace's net.ipv4.tcp_child_ehash_entries (net/ipv4/tcp_ipv4.c: tcp_set_hashinfo(),
// since Linux 6.1, commit d1e5e6408b30 "tcp: Introduce optional per-netns ehash"); 0, the
// default, shares the host's. Returns why not, or nothing when it was set.
std::optional<std::string> set_child_ehash(unsigned entries) {
  const char* path = "/proc/sys/net/ipv4/tcp_child_ehash_entries";
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string("this kernel has no net.ipv4.tcp_child_ehash_entries");
    return std::string("cannot open ") + path + ": " + std::strerror(errno);
  }
  const std::string text = std::to_string(entries);
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    return "cannot write " + text + " to " + path + ": " + std::strerror(saved);
  return std::nullopt;
}

}  // namespace

PrivateNetns enter_private_netns(unsigned ehash_entries) {
  if (std::size_t threads = thread_count(); threads > 1) {
    throw SetupError("cannot enter a private network namespace: the process already has " +
                     std::to_string(threads) +
                     " threads, and unshare() would move only the calling one; call "
                     "enter_private_netns() before starting any thread");
  }
  if (::geteuid() == 0) {
    unshare_net();
  } else {
    unshare_with_user_namespace();
  }
  PrivateNetns result;
  if (ehash_entries > 0) {
    // The intermediate namespace loses its last reference at the second unshare and goes.
    if (std::optional<std::string> why = set_child_ehash(ehash_entries)) {
      result.note = "the run's namespace shares the host's TCP established hash (" + *why +
                    "): every socket sample walks all of it";
    } else {
      unshare_net();
      result.ehash_entries = ehash_entries;
    }
  }
  Netlink netlink;
  netlink.set_link_up("lo", true);
  return result;
}

}  // namespace tapfault::tap
