// tap::enter_private_netns: move this process into a network namespace of its own.
//
// Everything tapfault creates (the TAP, addresses, routes, sysctls) lives in that
// namespace and dies with the process, so a run never touches the host's network.
// As root this is unshare(CLONE_NEWNET); otherwise unshare(CLONE_NEWUSER | CLONE_NEWNET)
// with this uid/gid mapped to 0 inside, which gives CAP_NET_ADMIN over the new namespace.
#pragma once

#include <string>

namespace tapfault::tap {

// The run's namespace gets a TCP established hash of this many buckets, its own, instead of
// sharing the host's (262,144 on a machine with a few GiB): a sock_diag dump walks every
// bucket, 3.7 ms per dump on the host's table, bench/RESULTS.md.
inline constexpr unsigned kChildEhashEntries = 1024;

struct PrivateNetns {
  unsigned ehash_entries = 0;  // buckets of the namespace's own established hash; 0: the host's
  std::string note;            // why it shares the host's (empty when it does not)
};

// Must be called while the process has a single thread: unshare() moves only the
// calling thread, so a thread started earlier (a logger, an Asio pool) would keep
// working in the host's namespace; the user-namespace variant also fails outright in a
// threaded process. Throws SetupError when other threads exist, EnvironmentError when
// the kernel refuses for lack of privilege, and brings `lo` up on success. Calling it
// again moves the process into another fresh namespace.
//
// With ehash_entries > 0 it unshares twice: the first namespace sets
// net.ipv4.tcp_child_ehash_entries and the second, created from it, is the one the process
// stays in, with an established hash of its own. Where the kernel lacks the sysctl (before
// 6.1) the first namespace is kept and the result's note says so.
PrivateNetns enter_private_netns(unsigned ehash_entries = kChildEhashEntries);

}  // namespace tapfault::tap
