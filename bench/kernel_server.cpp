// bench::KernelServer: echo, discard and source on kernel sockets in namespace B, in a child
// process (see kernel_server.hpp).
#include "kernel_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "bench_netns.hpp"
#include "pattern.hpp"
#include "tapfault/tap/netlink.hpp"
#include "tapfault/tap/sysctl.hpp"

namespace tapfault::bench {
namespace {

enum class Service : std::uint8_t { kNone, kListenEcho, kListenDiscard, kListenSource, kEcho, kDiscard, kSource };

struct ServerConnection {
  Service service = Service::kNone;
  std::uint64_t sent = 0;              // source: pattern bytes written
  std::vector<std::uint8_t> pending;   // echo: bytes the socket did not take yet
  bool write_shut = false;
};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("kernel server: " + what + ": " + std::strerror(errno));
}

int listen_on(std::uint16_t port, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, kServerVethAddress, &address.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind port " + std::to_string(port));
  if (::listen(fd, backlog) != 0) fail("listen");
  return fd;
}

void write_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  [[maybe_unused]] auto written = ::write(fd, text.data(), text.size());
}

struct Listeners {
  int fds[3] = {-1, -1, -1};
};

Listeners configure_and_listen(const KernelServerConfig& config, std::string& offloads) {
  const std::string backlog = std::to_string(config.backlog);
  tap::write_sysctl("net.core.somaxconn", backlog);
  tap::write_sysctl("net.ipv4.tcp_max_syn_backlog", backlog);
  offloads = offloads_off(kVethServerSide);
  run_checked(std::string("ip addr add ") + kServerVethAddress + "/24 dev " + kVethServerSide);
  run_checked(std::string("ip link set ") + kVethServerSide + " up");
  Listeners l;
  l.fds[0] = listen_on(kEchoPort, config.backlog);
  l.fds[1] = listen_on(kDiscardPort, config.backlog);
  l.fds[2] = listen_on(kSourcePort, config.backlog);
  return l;
}

void serve(const KernelServerConfig& config, const Listeners& listen_fds, int stop_fd);

// The child: namespace B, then one command ("serve"), then the loop until the pipe closes.
[[noreturn]] void child_main(const KernelServerConfig& config, pid_t parent, int commands, int replies) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  if (::unshare(CLONE_NEWNET) != 0) {
    write_line(replies, std::string("error kernel server: unshare(CLONE_NEWNET): ") + std::strerror(errno));
    ::_exit(1);
  }
  try {
    tap::Netlink().set_link_up("lo", true);
  } catch (const std::exception& e) {
    write_line(replies, std::string("error kernel server: ") + e.what());
    ::_exit(1);
  }
  write_line(replies, "ok");
  char command[16] = {};
  if (::read(commands, command, sizeof command - 1) <= 0 || std::strncmp(command, "serve", 5) != 0) ::_exit(0);
  Listeners listeners;
  std::string offloads;
  try {
    listeners = configure_and_listen(config, offloads);
  } catch (const std::exception& e) {
    write_line(replies, std::string("error kernel server: ") + e.what());
    ::_exit(1);
  }
  write_line(replies, "ok " + offloads);
  serve(config, listeners, commands);
  ::_exit(0);
}

}  // namespace

KernelServer::KernelServer(KernelServerConfig config) : config_(config) {
  int down[2], up[2];
  if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) fail("pipe");
  const pid_t parent = ::getpid();
  std::fflush(nullptr);  // the child must not write our buffered output again
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    ::close(down[1]);
    ::close(up[0]);
    child_main(config_, parent, down[0], up[1]);
  }
  ::close(down[0]);
  ::close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
  const std::string reply = read_reply();
  if (reply != "ok") {
    ::close(to_child_);
    ::close(from_child_);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error(reply.rfind("error ", 0) == 0 ? reply.substr(6) : "kernel server: no answer");
  }
}

KernelServer::~KernelServer() {
  ::close(to_child_);  // the child's loop ends at EOF
  ::close(from_child_);
  ::waitpid(pid_, nullptr, 0);
}

std::string KernelServer::read_reply() {
  std::string line;
  char c = 0;
  while (::read(from_child_, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

void KernelServer::start_serving() {
  write_line(to_child_, "serve");
  const std::string reply = read_reply();
  if (reply.rfind("ok", 0) != 0)
    throw std::runtime_error(reply.rfind("error ", 0) == 0 ? reply.substr(6) : "kernel server: no answer");
  offloads_ = reply.size() > 3 ? reply.substr(3) : "";
}

namespace {

void serve(const KernelServerConfig& config, const Listeners& listen_fds, int stop_fd) {
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) return;
  // Indexed by fd; grows (moving every entry) only past the first 32768.
  std::vector<ServerConnection> conns(32768);
  auto slot = [&](int fd) -> ServerConnection& {
    if (static_cast<std::size_t>(fd) >= conns.size()) conns.resize(static_cast<std::size_t>(fd) * 2);
    return conns[static_cast<std::size_t>(fd)];
  };
  auto watch = [&](int fd, std::uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll, op, fd, &ev);
  };
  watch(stop_fd, EPOLLIN, EPOLL_CTL_ADD);
  const Service listeners[3] = {Service::kListenEcho, Service::kListenDiscard, Service::kListenSource};
  for (int i = 0; i < 3; ++i) {
    if (listen_fds.fds[i] < 0) continue;
    slot(listen_fds.fds[i]).service = listeners[i];
    watch(listen_fds.fds[i], EPOLLIN, EPOLL_CTL_ADD);
  }
  auto close_connection = [&](int fd) {
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    slot(fd) = ServerConnection{};
  };
  const std::vector<std::uint8_t>& pattern = pattern_buffer();
  std::vector<std::uint8_t> buffer(256 * 1024);
  std::vector<epoll_event> events(256);
  for (;;) {
    const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == stop_fd) {
        ::close(epoll);
        return;  // the process exits: the kernel closes every socket
      }
      ServerConnection& c = slot(fd);
      switch (c.service) {
        case Service::kListenEcho:
        case Service::kListenDiscard:
        case Service::kListenSource: {
          const Service listener = c.service;  // slot() below may move `c`
          for (;;) {
            const int cfd = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (cfd < 0) break;
            const int on = 1;
            ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            ServerConnection& nc = slot(cfd);
            nc = ServerConnection{};
            nc.service = listener == Service::kListenEcho      ? Service::kEcho
                         : listener == Service::kListenDiscard ? Service::kDiscard
                                                               : Service::kSource;
            watch(cfd, nc.service == Service::kSource ? EPOLLOUT | EPOLLIN : EPOLLIN, EPOLL_CTL_ADD);
          }
          break;
        }
        case Service::kEcho: {
          if (!c.pending.empty()) {
            const ssize_t w = ::send(fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) { close_connection(fd); break; }
            if (w > 0) c.pending.erase(c.pending.begin(), c.pending.begin() + w);
            if (c.pending.empty()) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
            break;
          }
          const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
          if (r == 0 || (r < 0 && errno != EAGAIN)) { close_connection(fd); break; }
          if (r < 0) break;
          const ssize_t w = ::send(fd, buffer.data(), static_cast<std::size_t>(r), MSG_NOSIGNAL);
          const std::size_t taken = w > 0 ? static_cast<std::size_t>(w) : 0;
          if (taken < static_cast<std::size_t>(r)) {
            c.pending.assign(buffer.begin() + static_cast<std::ptrdiff_t>(taken), buffer.begin() + r);
            watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
          }
          break;
        }
        case Service::kDiscard: {
          ssize_t r;
          while ((r = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0) {
          }
          if (r == 0 || errno != EAGAIN) close_connection(fd);
          break;
        }
        case Service::kSource: {
          if (events[static_cast<std::size_t>(i)].events & EPOLLIN) {
            const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) { close_connection(fd); break; }
          }
          if (c.write_shut) break;
          while (c.sent < config.source_bytes) {
            const std::size_t phase = c.sent % kPatternPeriod;
            const std::size_t chunk = static_cast<std::size_t>(
                std::min<std::uint64_t>(config.source_bytes - c.sent, pattern.size() - kPatternPeriod));
            const ssize_t w = ::send(fd, pattern.data() + phase, chunk, MSG_NOSIGNAL);
            if (w <= 0) break;
            c.sent += static_cast<std::uint64_t>(w);
          }
          if (c.sent == config.source_bytes) {
            ::shutdown(fd, SHUT_WR);
            c.write_shut = true;
            watch(fd, EPOLLIN, EPOLL_CTL_MOD);  // until the client closes too
          }
          break;
        }
        case Service::kNone:
          break;
      }
    }
  }
  ::close(epoll);
}

}  // namespace
}  // namespace tapfault::bench
