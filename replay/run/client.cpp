// The built-in kernel client (see client.hpp). Non-blocking socket calls; waits go
// through Asio (async_wait on the fd) so the peer keeps running on the same thread.
#include "tapfault/replay/run/client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tapfault::replay {
namespace {

using boost::asio::posix::stream_descriptor;
using Wait = boost::asio::posix::descriptor_base::wait_type;

sockaddr_storage make_addr(const stack::IpAddress& a, std::uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (a.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, a.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  return ss;
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}


}  // namespace

Client::Client(boost::asio::io_context& io, const Scenario& scenario,
               std::chrono::steady_clock::time_point origin, EventSink sink)
    : io_(io), scenario_(scenario), origin_(origin), sink_(std::move(sink)), timer_(io), timeout_(io),
      rx_buf_(256 * 1024) {}

Client::~Client() {
  stop();
  if (desc_) desc_->release();
  if (again_desc_) again_desc_->release();
  if (fd_ >= 0) ::close(fd_);
  if (again_fd_ >= 0) ::close(again_fd_);
}

Duration Client::elapsed() const { return std::chrono::steady_clock::now() - origin_; }

void Client::start() { next(); }

void Client::stop() {
  stopped_ = true;
  timer_.cancel();
  timeout_.cancel();
  if (desc_) desc_->cancel();
  if (again_desc_) again_desc_->cancel();
}

void Client::next() {
  if (stopped_) return;
  const auto& actions = scenario_.client->actions;
  if (index_ >= actions.size()) {
    outcome_.done = true;
    return;
  }
  const ClientAction& a = actions[index_];
  auto start = a.at ? origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(*a.at)
                    : std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(a.after);
  if (start <= std::chrono::steady_clock::now()) {
    run(a);
    return;
  }
  timer_.expires_at(start);
  timer_.async_wait([this, &a](const boost::system::error_code& ec) {
    if (!ec && !stopped_) run(a);
  });
}

void Client::record(const ClientAction& a, int err, std::uint64_t bytes, std::string detail) {
  ClientEvent e;
  e.at = elapsed();
  e.action = timed_out_ ? "timeout" : to_string(a.kind);
  e.error = err;
  e.bytes = bytes;
  e.detail = std::move(detail);
  e.line = a.line;
  if (sink_) sink_(e);
}

void Client::finish(const ClientAction& a, int err, std::uint64_t bytes, std::string detail) {
  timeout_.cancel();
  record(a, err, bytes, std::move(detail));
  timed_out_ = false;
  ++index_;
  next();
}

void Client::fail(const ClientAction& a, int err, std::string detail) {
  timeout_.cancel();
  record(a, err, 0, std::move(detail));
  if (!outcome_.final_error) {
    outcome_.final_error = err;
    outcome_.final_error_at = elapsed();
  }
  outcome_.done = true;  // the application gives up at its first error
}

void Client::arm_timeout(const ClientAction& a) {
  if (!a.timeout) return;
  timeout_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(*a.timeout));
  timeout_.async_wait([this, &a](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    timed_out_ = true;
    if (desc_) desc_->cancel();
    record(a, ETIMEDOUT, recv_got_, "the action's own timeout expired");
    timed_out_ = false;
    outcome_.done = true;
  });
}

void Client::run(const ClientAction& a) {
  switch (a.kind) {
    case ClientAction::Kind::kConnect: return do_connect(a, false);
    case ClientAction::Kind::kConnectAgain: return do_connect(a, true);
    case ClientAction::Kind::kSend: return do_send(a);
    case ClientAction::Kind::kRecv: return do_recv(a);
    case ClientAction::Kind::kWaitError: return do_wait_error(a);
    case ClientAction::Kind::kWait: {
      timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(a.duration));
      timer_.async_wait([this, &a](const boost::system::error_code& ec) {
        if (!ec && !stopped_) finish(a, 0, 0);
      });
      return;
    }
    case ClientAction::Kind::kClose: {
      if (desc_) desc_->release();
      desc_.reset();
      int rc = fd_ >= 0 ? ::close(fd_) : 0;
      fd_ = -1;
      return finish(a, rc == 0 ? 0 : errno, 0);
    }
    case ClientAction::Kind::kShutdown: {
      if (::shutdown(fd_, a.shutdown_how) != 0) return fail(a, errno, "shutdown");
      return finish(a, 0, 0);
    }
  }
}

int Client::open_socket(std::uint16_t local_port, int& err) {
  int family = scenario_.network.family == stack::Family::kIpv4 ? AF_INET : AF_INET6;
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  for (const SocketOption& o : scenario_.client->socket_options) {
    int rc;
    if (const auto* s = std::get_if<std::string>(&o.value)) {
      rc = setsockopt(fd, o.level, o.optname, s->data(), static_cast<socklen_t>(s->size()));
    } else {
      int v = std::get<int>(o.value);
      rc = setsockopt(fd, o.level, o.optname, &v, sizeof v);
    }
    if (rc != 0) {
      err = errno;
      ::close(fd);
      return -1;
    }
  }
  if (local_port) {
    stack::IpAddress any;
    any.family = scenario_.network.family;
    socklen_t len;
    sockaddr_storage ss = make_addr(any, local_port, len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      err = errno;
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

void Client::do_connect(const ClientAction& a, bool again) {
  int err = 0;
  std::uint16_t port = again ? a.local_port.value_or(0) : scenario_.client->local_port;
  int fd = open_socket(port, err);
  if (fd < 0) {
    if (again) {
      outcome_.connect_again_error = err;
      return finish(a, err, 0, "socket setup failed");
    }
    return fail(a, err, "socket setup failed (a socket option, or bind)");
  }
  socklen_t len;
  sockaddr_storage peer = make_addr(scenario_.network.peer_address, scenario_.client->peer_port, len);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&peer), len);
  auto& desc = again ? again_desc_ : desc_;
  (again ? again_fd_ : fd_) = fd;
  desc.emplace(io_, fd);
  if (rc == 0) return on_connect_ready(a, again, fd);
  if (errno != EINPROGRESS) {
    int e = errno;
    if (again) {
      outcome_.connect_again_error = e;
      return finish(a, e, 0);
    }
    return fail(a, e);
  }
  arm_timeout(a);
  desc->async_wait(Wait::wait_write, [this, &a, again, fd](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    on_connect_ready(a, again, fd);
  });
}

void Client::on_connect_ready(const ClientAction& a, bool again, int fd) {
  int err = socket_error(fd);
  if (again) {
    outcome_.connect_again_error = err;
    return finish(a, err, 0);
  }
  if (err) return fail(a, err);
  finish(a, 0, 0);
}

void Client::do_send(const ClientAction& a) {
  // Pattern sends are generated a chunk at a time (a scenario may write gigabytes); text
  // and file payloads are what the scenario holds already.
  pattern_ = a.source == ClientAction::SendSource::kPattern;
  send_total_ = pattern_ ? a.bytes : a.data.size();
  if (!pattern_) payload_ = a.payload();
  payload_off_ = 0;
  arm_timeout(a);
  send_some(a);
}

void Client::send_some(const ClientAction& a) {
  constexpr std::size_t kChunk = 64 * 1024;
  while (payload_off_ < send_total_) {
    const std::uint8_t* data;
    std::size_t len;
    if (pattern_) {
      // pattern_byte(i) depends on i % 26 only: a chunk starting at offset o is the
      // same bytes as the one starting at o % 26.
      if (chunk_.size() != kChunk + 26) {
        chunk_.resize(kChunk + 26);
        for (std::size_t i = 0; i < chunk_.size(); ++i) chunk_[i] = pattern_byte(i);
      }
      data = chunk_.data() + payload_off_ % 26;
      len = std::min<std::uint64_t>(kChunk, send_total_ - payload_off_);
    } else {
      data = payload_.data() + payload_off_;
      len = send_total_ - payload_off_;
    }
    ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      payload_off_ += static_cast<std::size_t>(n);
      outcome_.bytes_sent += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      desc_->async_wait(Wait::wait_write, [this, &a](const boost::system::error_code& ec) {
        if (!ec && !stopped_) send_some(a);
      });
      return;
    }
    return fail(a, errno, "after " + std::to_string(payload_off_) + " bytes");
  }
  finish(a, 0, send_total_);
}

void Client::do_recv(const ClientAction& a) {
  recv_goal_ = a.until == ClientAction::RecvUntil::kBytes ? a.bytes : 1;
  recv_got_ = 0;
  arm_timeout(a);
  recv_some(a);
}

void Client::recv_some(const ClientAction& a) {
  for (;;) {
    ssize_t n = ::recv(fd_, rx_buf_.data(), rx_buf_.size(), 0);
    if (n > 0) {
      recv_got_ += static_cast<std::uint64_t>(n);
      outcome_.bytes_received += static_cast<std::uint64_t>(n);
      if (a.until != ClientAction::RecvUntil::kEof && recv_got_ >= recv_goal_) return finish(a, 0, recv_got_);
      continue;
    }
    if (n == 0) {
      if (a.until == ClientAction::RecvUntil::kEof) return finish(a, 0, recv_got_, "end of stream");
      return fail(a, 0, "end of stream after " + std::to_string(recv_got_) + " bytes");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      desc_->async_wait(Wait::wait_read, [this, &a](const boost::system::error_code& ec) {
        if (!ec && !stopped_) recv_some(a);
      });
      return;
    }
    return fail(a, errno, "after " + std::to_string(recv_got_) + " bytes");
  }
}

void Client::do_wait_error(const ClientAction& a) {
  arm_timeout(a);
  poll_error(a);
}

void Client::poll_error(const ClientAction& a) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) {
    int err = socket_error(fd_);
    if (err) return fail(a, err, "pending socket error (SO_ERROR)");
    return finish(a, 0, 0, "hang-up without error");
  }
  if (p.revents & POLLIN) {  // drain what arrives while waiting
    ssize_t n = ::recv(fd_, rx_buf_.data(), rx_buf_.size(), 0);
    if (n > 0) outcome_.bytes_received += static_cast<std::uint64_t>(n);
    if (n == 0) return finish(a, 0, 0, "end of stream");
  }
  desc_->async_wait(Wait::wait_read, [this, &a](const boost::system::error_code& ec) {
    if (!ec && !stopped_) poll_error(a);
  });
}

void Client::collect_pending_error() {
  if (fd_ < 0) return;
  int err = socket_error(fd_);
  if (err && !outcome_.final_error) {
    outcome_.final_error = err;
    outcome_.final_error_at = elapsed();
  }
}

}  // namespace tapfault::replay
