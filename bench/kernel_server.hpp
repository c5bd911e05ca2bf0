// bench::KernelServer: the kernel as the peer, for the side-by-side figures.
//
// A child process of its own moves into a fresh network namespace (B), receives the veth's
// far end (bv1, see bench_netns.hpp) and serves with plain kernel sockets on 198.51.100.2:
// echo (7), discard (9) and source (19: `source_bytes` pattern bytes, then FIN), on one
// level-triggered epoll loop: the same services, and the same one-thread shape, as the
// peer's Driver. TCP_NODELAY on every accepted socket. A process rather than a thread so
// that its sockets do not count against the bench's RLIMIT_NOFILE (10,000 connections
// each side would not fit under a hard limit of 20,000). It dies with the bench
// (PR_SET_PDEATHSIG) and talks to it over two pipes, one line at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace tapfault::bench {

struct KernelServerConfig {
  std::uint64_t source_bytes = 0;
  int backlog = 16384;  // net.core.somaxconn and tcp_max_syn_backlog in B are raised to it
};

class KernelServer {
 public:
  // Forks the server, which enters namespace B; returns once it is there. Call while the
  // process has one thread (fork() copies only the caller).
  explicit KernelServer(KernelServerConfig config);
  ~KernelServer();
  KernelServer(const KernelServer&) = delete;
  KernelServer& operator=(const KernelServer&) = delete;

  // The server's process id: its namespace is where bv1 goes (BenchNetwork::add_veth).
  pid_t pid() const { return pid_; }
  // Once bv1 is in B: addresses it, turns its offloads off, listens. Throws what setup threw.
  void start_serving();
  // What ethtool reports for bv1 after offloads_off().
  const std::string& offloads() const { return offloads_; }

 private:
  std::string read_reply();

  KernelServerConfig config_;
  pid_t pid_ = -1;
  int to_child_ = -1;    // "serve\n"; closed: stop
  int from_child_ = -1;  // "ok ...\n" or "error ...\n"
  std::string offloads_;
};

}  // namespace tapfault::bench
