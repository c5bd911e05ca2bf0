// The built-in kernel TCP client: a real socket in the run's namespace, driven by
// the scenario's client actions on the run's Asio loop (non-blocking, one thread).
//
// Every result the application sees is recorded with its time: the connect
// result, each send/recv return or errno, and the pending socket error.
#pragma once

#include <utility>  // before Asio: Boost 1.74 needs std::exchange under C++20

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {

// One thing the application saw, on the run's steady clock.
struct ClientEvent {
  Duration at{};             // since the run's origin
  std::string action;        // connect, send, recv, wait_error, close, shutdown, connect_again, timeout
  int error = 0;             // errno the call returned (0 = success)
  std::uint64_t bytes = 0;   // bytes moved by the action
  std::string detail;
  int line = 0;              // scenario line of the action
};

struct ClientOutcome {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  int final_error = 0;                        // the first error an action returned, or SO_ERROR
  std::optional<Duration> final_error_at;
  std::optional<int> connect_again_error;     // of connect_again: 0 = connected
  bool done = false;                          // every action finished (or one failed)
};

class Client {
 public:
  using EventSink = std::function<void(const ClientEvent&)>;

  Client(boost::asio::io_context& io, const Scenario& scenario,
         std::chrono::steady_clock::time_point origin, EventSink sink);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();
  // Stops waiting; the socket stays open so the run can read its final state.
  void stop();
  // The main socket (-1 before connect or after close).
  int fd() const { return fd_; }
  const ClientOutcome& outcome() const { return outcome_; }
  bool done() const { return outcome_.done; }
  // Reads SO_ERROR now (clearing it) and records it as the final error if set.
  void collect_pending_error();

 private:
  void next();
  void run(const ClientAction& a);
  void do_connect(const ClientAction& a, bool again);
  void on_connect_ready(const ClientAction& a, bool again, int fd);
  void do_send(const ClientAction& a);
  void send_some(const ClientAction& a);
  void do_recv(const ClientAction& a);
  void recv_some(const ClientAction& a);
  void do_wait_error(const ClientAction& a);
  void poll_error(const ClientAction& a);
  void finish(const ClientAction& a, int err, std::uint64_t bytes, std::string detail = {});
  void fail(const ClientAction& a, int err, std::string detail = {});
  void record(const ClientAction& a, int err, std::uint64_t bytes, std::string detail);
  int open_socket(std::uint16_t local_port, int& err);
  Duration elapsed() const;
  void arm_timeout(const ClientAction& a);

  boost::asio::io_context& io_;
  const Scenario& scenario_;
  std::chrono::steady_clock::time_point origin_;
  EventSink sink_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer timeout_;
  std::optional<boost::asio::posix::stream_descriptor> desc_;
  std::optional<boost::asio::posix::stream_descriptor> again_desc_;
  int fd_ = -1;
  int again_fd_ = -1;
  std::size_t index_ = 0;
  std::vector<std::uint8_t> payload_;  // text and file sends
  std::vector<std::uint8_t> chunk_;    // pattern sends: one chunk of pattern bytes, reused
  bool pattern_ = false;
  std::uint64_t send_total_ = 0;
  std::uint64_t payload_off_ = 0;
  std::uint64_t recv_goal_ = 0;
  std::uint64_t recv_got_ = 0;
  std::vector<std::uint8_t> rx_buf_;
  bool stopped_ = false;
  bool timed_out_ = false;
  ClientOutcome outcome_;
};

}  // namespace tapfault::replay
