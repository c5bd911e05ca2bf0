// bench workloads: the kernel client's side of each benchmark (see workloads.hpp).
#include "workloads.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_min_rtt (glibc's netinet/tcp.h lacks it)
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "pattern.hpp"

namespace tapfault::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(30);

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

sockaddr_in socket_address(const Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  if (::inet_pton(AF_INET, e.address.c_str(), &a.sin_addr) != 1)
    throw std::invalid_argument("not an IPv4 address: " + e.address);
  return a;
}

tcp_info read_tcp_info(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) fail("TCP_INFO");
  return info;
}

// A blocking socket whose every call gives up after kTimeout.
int connect_blocking(const Endpoint& to) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  timeval tv{};
  tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kTimeout).count();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const sockaddr_in a = socket_address(to);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    fail("connect to " + to.to_string());
  }
  return fd;
}

void send_all(int fd, const std::uint8_t* data, std::size_t n, const char* what) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(what);
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

void recv_exact(int fd, std::uint8_t* data, std::size_t n, const char* what) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, data, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) throw std::runtime_error(std::string(what) + ": the peer closed early");
    if (r < 0) fail(what);
    data += r;
    n -= static_cast<std::size_t>(r);
  }
}

template <class T>
T percentile(std::vector<T> v, double p) {
  if (v.empty()) return T{};
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

void run_reaction(const Endpoint& to, int exchanges, std::size_t message_bytes, ReactionSamples& into) {
  const int fd = connect_blocking(to);
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  std::vector<std::uint8_t> request(pattern_buffer().begin(), pattern_buffer().begin() + static_cast<std::ptrdiff_t>(message_bytes));
  std::vector<std::uint8_t> reply(message_bytes);
  auto exchange = [&] {
    send_all(fd, request.data(), request.size(), "reaction: send");
    recv_exact(fd, reply.data(), reply.size(), "reaction: receive");
  };
  for (int i = 0; i < 100; ++i) exchange();  // warm-up: caches, the peer's buffers, cwnd
  for (int i = 0; i < exchanges; ++i) {
    const auto start = Clock::now();
    exchange();
    into.wall_us.push_back(seconds_since(start) * 1e6);
    into.rtt_us.push_back(read_tcp_info(fd).tcpi_rtt);
  }
  if (reply != request) throw std::runtime_error("reaction: the echo differs from the request");
  const tcp_info info = read_tcp_info(fd);
  ::close(fd);
  into.min_rtt_us.push_back(info.tcpi_min_rtt);
  into.srtt_us.push_back(info.tcpi_rtt);
  into.total_retrans += info.tcpi_total_retrans;
}

ReactionResult summarize(const ReactionSamples& s) {
  ReactionResult r;
  r.exchanges = static_cast<int>(s.wall_us.size());
  r.rounds = static_cast<int>(s.srtt_us.size());
  if (r.exchanges == 0) return r;
  r.min_rtt_us = *std::min_element(s.min_rtt_us.begin(), s.min_rtt_us.end());
  r.srtt_us = percentile(s.srtt_us, 0.5);
  r.median_rtt_us = percentile(s.rtt_us, 0.5);
  r.wall_min_us = *std::min_element(s.wall_us.begin(), s.wall_us.end());
  r.wall_median_us = percentile(s.wall_us, 0.5);
  r.wall_p99_us = percentile(s.wall_us, 0.99);
  r.total_retrans = s.total_retrans;
  return r;
}

namespace {

BulkResult finish_bulk(int fd, std::uint64_t bytes, Clock::time_point start) {
  BulkResult r;
  r.bytes = bytes;
  r.seconds = seconds_since(start);
  r.gbit_per_s = static_cast<double>(bytes) * 8 / r.seconds / 1e9;
  r.total_retrans = read_tcp_info(fd).tcpi_total_retrans;
  ::close(fd);
  return r;
}

}  // namespace

BulkResult run_bulk_send(const Endpoint& to, std::uint64_t bytes) {
  const int fd = connect_blocking(to);
  const std::vector<std::uint8_t>& pattern = pattern_buffer();
  const std::size_t chunk = pattern.size() - kPatternPeriod;
  const auto start = Clock::now();
  for (std::uint64_t sent = 0; sent < bytes;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes - sent));
    send_all(fd, pattern.data() + sent % kPatternPeriod, n, "bulk send");
    sent += n;
  }
  ::shutdown(fd, SHUT_WR);
  // The peer closes once it has read our FIN, i.e. every byte before it.
  std::uint8_t sink[64];
  for (;;) {
    const ssize_t r = ::recv(fd, sink, sizeof sink, 0);
    if (r == 0) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("bulk send: waiting for the peer's FIN");
  }
  return finish_bulk(fd, bytes, start);
}

BulkResult run_bulk_receive(const Endpoint& from, std::uint64_t bytes) {
  const int fd = connect_blocking(from);
  std::vector<std::uint8_t> buffer(256 * 1024);
  const auto start = Clock::now();
  std::uint64_t received = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (r == 0) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("bulk receive");
    // Check the first and last byte of every read against the pattern: cheap, and a
    // misplaced or lost segment shows.
    if (buffer[0] != pattern_byte(received) ||
        buffer[static_cast<std::size_t>(r) - 1] != pattern_byte(received + static_cast<std::uint64_t>(r) - 1))
      throw std::runtime_error("bulk receive: the stream differs from the pattern at byte " + std::to_string(received));
    received += static_cast<std::uint64_t>(r);
  }
  if (received != bytes)
    throw std::runtime_error("bulk receive: " + std::to_string(received) + " bytes before FIN, expected " + std::to_string(bytes));
  ::shutdown(fd, SHUT_WR);
  return finish_bulk(fd, bytes, start);
}

ScaleResult run_scale(const Endpoint& to, int connections, int exchanges_total, int max_connecting,
                      const std::function<void(ScaleMark)>& mark) {
  struct ClientConnection {
    int fd = -1;
    bool established = false;
    int remaining = 0;      // exchanges still to do
    std::size_t got = 0;    // bytes of the current reply
  };
  constexpr std::size_t kMessage = 64;
  const auto n = static_cast<std::size_t>(connections);
  std::vector<ClientConnection> conns(n);
  std::vector<epoll_event> events(1024);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) fail("epoll_create1");
  const sockaddr_in address = socket_address(to);
  const int timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout).count());
  auto wait = [&](const char* what) {
    const int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (ready == 0) throw std::runtime_error(std::string("scale: ") + what + " timed out against " + to.to_string());
    if (ready < 0 && errno != EINTR) fail("epoll_wait");
    return std::max(ready, 0);
  };
  mark(ScaleMark::kBeforeConnect);

  // Handshakes, at most max_connecting in progress.
  ScaleResult r;
  r.connections = connections;
  auto start = Clock::now();
  std::size_t next = 0, established = 0, connecting = 0;
  while (established < n) {
    while (next < n && connecting < static_cast<std::size_t>(max_connecting)) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) fail("scale: socket " + std::to_string(next));
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS)
        fail("scale: connect " + std::to_string(next));
      conns[next].fd = fd;
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = next;
      ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
      ++next;
      ++connecting;
    }
    const int ready = wait("handshakes");
    for (int i = 0; i < ready; ++i) {
      const epoll_event& ev_in = events[static_cast<std::size_t>(i)];
      ClientConnection& c = conns[ev_in.data.u64];
      int err = 0;
      socklen_t length = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &length);
      if (err != 0 || (ev_in.events & (EPOLLERR | EPOLLHUP)) || c.established) {
        errno = err;
        fail("scale: connection " + std::to_string(ev_in.data.u64) + " to " + to.to_string() +
             (c.established ? " failed after its handshake" : " failed in its handshake") + " (events " +
             std::to_string(ev_in.events) + ", " + std::to_string(established) + " established)");
      }
      c.established = true;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = events[static_cast<std::size_t>(i)].data.u64;
      ::epoll_ctl(epoll, EPOLL_CTL_MOD, c.fd, &ev);
      ++established;
      --connecting;
    }
  }
  r.connect_seconds = seconds_since(start);
  r.handshakes_per_s = static_cast<double>(n) / r.connect_seconds;
  for (const ClientConnection& c : conns) r.syn_retransmits += read_tcp_info(c.fd).tcpi_total_retrans;
  mark(ScaleMark::kEstablished);

  // Exchanges: every connection keeps one 64-byte request outstanding.
  const int per_connection = std::max(1, (exchanges_total + connections - 1) / connections);
  r.exchanges = per_connection * connections;
  const std::uint8_t* request = pattern_buffer().data();
  std::uint8_t reply[kMessage];
  start = Clock::now();
  for (ClientConnection& c : conns) {
    c.remaining = per_connection;
    send_all(c.fd, request, kMessage, "scale: request");
  }
  std::size_t done = 0;
  while (done < n) {
    const int ready = wait("exchanges");
    for (int i = 0; i < ready; ++i) {
      ClientConnection& c = conns[events[static_cast<std::size_t>(i)].data.u64];
      const ssize_t got = ::recv(c.fd, reply, kMessage - c.got, 0);
      if (got == 0) throw std::runtime_error("scale: the peer closed a connection");
      if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        fail("scale: reply");
      }
      c.got += static_cast<std::size_t>(got);
      if (c.got < kMessage) continue;
      c.got = 0;
      if (--c.remaining > 0) send_all(c.fd, request, kMessage, "scale: request");
      else ++done;
    }
  }
  r.exchange_seconds = seconds_since(start);
  r.exchanges_per_s = static_cast<double>(r.exchanges) / r.exchange_seconds;
  std::uint64_t total_retransmits = 0;
  for (const ClientConnection& c : conns) total_retransmits += read_tcp_info(c.fd).tcpi_total_retrans;
  r.exchange_retransmits = total_retransmits - r.syn_retransmits;
  mark(ScaleMark::kExchanged);
  for (ClientConnection& c : conns) ::close(c.fd);
  ::close(epoll);
  return r;
}

std::uint64_t raise_fd_limit(std::uint64_t fds) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= fds) return limit.rlim_cur;
  rlimit wanted{fds, std::max<rlim_t>(limit.rlim_max, fds)};
  if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0) return fds;
  // Without CAP_SYS_RESOURCE the hard limit stays: go as far as it allows.
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace tapfault::bench
