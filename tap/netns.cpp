// tap::enter_private_netns: unshare the network namespace (and, without root, a user
// namespace that maps the caller to root inside). See user_namespaces(7) for the
// setgroups/uid_map/gid_map sequence.
#include "tapfault/tap/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

void unshare_as_root() {
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

}  // namespace

void enter_private_netns() {
  if (std::size_t threads = thread_count(); threads > 1) {
    throw SetupError("cannot enter a private network namespace: the process already has " +
                     std::to_string(threads) +
                     " threads, and unshare() would move only the calling one; call "
                     "enter_private_netns() before starting any thread");
  }
  if (::geteuid() == 0) {
    unshare_as_root();
  } else {
    unshare_with_user_namespace();
  }
  Netlink netlink;
  netlink.set_link_up("lo", true);
}

}  // namespace tapfault::tap
