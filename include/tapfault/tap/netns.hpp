// tap::enter_private_netns: move this process into a network namespace of its own.
//
// Everything tapfault creates (the TAP, addresses, routes, sysctls) lives in that
// namespace and dies with the process, so a run never touches the host's network.
// As root this is unshare(CLONE_NEWNET); otherwise unshare(CLONE_NEWUSER | CLONE_NEWNET)
// with this uid/gid mapped to 0 inside, which gives CAP_NET_ADMIN over the new namespace.
#pragma once

namespace tapfault::tap {

// Must be called while the process has a single thread: unshare() moves only the
// calling thread, so a thread started earlier (a logger, an Asio pool) would keep
// working in the host's namespace; the user-namespace variant also fails outright in a
// threaded process. Throws SetupError when other threads exist, EnvironmentError when
// the kernel refuses for lack of privilege, and brings `lo` up on success. Calling it
// again moves the process into another fresh namespace.
void enter_private_netns();

}  // namespace tapfault::tap
