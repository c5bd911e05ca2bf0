// tap::Driver: the event loop that joins the TAP to the emulated peer (stack::Host).
//
// Single-threaded on one boost::asio::io_context. It waits for the TAP fd to become
// readable, reads every ready frame (until EAGAIN) into one reused buffer, feeds each to
// the host with `now`, polls the host once, writes every frame the host produced, and
// re-arms its one timer at host.next_deadline(). The timer polls and writes the same way.
// If a Recorder is given, its socket is drained whenever it is readable.
//
// `now` is std::chrono::steady_clock read as a stack::Instant (the same epoch), so a
// deadline converts back to a steady_clock time point without an offset.
// Handlers never throw: an error on the TAP fd stops the driver and is reported once
// through the error callback; a frame the kernel refuses is counted.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (C++20).
#include <utility>

#include <boost/asio.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "tapfault/stack/host.hpp"
#include "tapfault/stack/time.hpp"
#include "tapfault/tap/recorder.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::tap {

struct DriverStats {
  std::uint64_t frames_read = 0;       // from the TAP (sent by the kernel)
  std::uint64_t frames_written = 0;    // to the TAP (sent by the peer)
  std::uint64_t write_failures = 0;    // frames the TAP refused (EIO while the link is down)
  std::uint64_t tap_wakeups = 0;       // the TAP fd became readable
  std::uint64_t timer_wakeups = 0;     // the host's deadline was reached
  std::uint64_t recorder_wakeups = 0;  // the recorder's socket became readable
  std::uint64_t kicks = 0;
  std::uint64_t timer_rearms = 0;      // the deadline changed and the timer was re-armed
  int last_write_errno = 0;
};

class Driver {
 public:
  using KernelFrameHook = std::function<void(std::span<const std::uint8_t>, stack::Instant)>;
  using ErrorHandler = std::function<void(const std::string& message)>;

  // The driver keeps references: `tap`, `host` and `recorder` must outlive it. The fds
  // stay owned by TapDevice and Recorder (close the recorder only after the driver is
  // gone: Asio keeps the fd registered until then).
  Driver(boost::asio::io_context& io, TapDevice& tap, stack::Host& host,
         Recorder* recorder = nullptr);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Arms the waits. The io_context must be run for anything to happen.
  void start();
  // Cancels the waits; pending handlers then run with operation_aborted and do nothing.
  // The io_context must still run them before the Driver is destroyed.
  void stop();
  bool running() const { return running_; }

  // Called for each frame read from the TAP, before the host sees it.
  void on_kernel_frame(KernelFrameHook hook) { kernel_frame_hook_ = std::move(hook); }
  // Called for each frame the recorder writes to the pcap.
  void on_recorded_frame(FrameCallback callback) { recorded_hook_ = std::move(callback); }
  // Called after every poll of the host, once its output is written (on the driver's thread):
  // where a caller takes what the host produced besides frames (its events).
  void on_polled(std::function<void()> hook) { polled_hook_ = std::move(hook); }
  // Called once when the driver stops because of an error.
  void on_error(ErrorHandler handler) { error_handler_ = std::move(handler); }

  // Polls the host at now() and writes its output: call after changing the host's
  // state from outside the loop (a runner action).
  void kick();

  static stack::Instant now();
  static std::chrono::steady_clock::time_point to_steady(stack::Instant instant);

  const DriverStats& stats() const { return stats_; }
  // The error that stopped the driver, if one did.
  const std::optional<std::string>& error() const { return error_; }

 private:
  void wait_tap();
  void wait_recorder();
  void on_tap_readable(const boost::system::error_code& ec);
  void on_recorder_readable(const boost::system::error_code& ec);
  void on_timer(const boost::system::error_code& ec, std::uint64_t generation);
  bool read_frames();
  void write_output();
  void rearm_timer();
  void fail(const std::string& message);

  TapDevice& tap_;
  stack::Host& host_;
  Recorder* recorder_;
  boost::asio::posix::stream_descriptor tap_descriptor_;
  std::optional<boost::asio::posix::stream_descriptor> recorder_descriptor_;
  boost::asio::steady_timer timer_;
  std::optional<stack::Instant> armed_deadline_;
  std::uint64_t timer_generation_ = 0;  // a fired-but-superseded timer handler is ignored
  std::vector<std::uint8_t> read_buffer_;
  KernelFrameHook kernel_frame_hook_;
  FrameCallback recorded_hook_;
  std::function<void()> polled_hook_;
  ErrorHandler error_handler_;
  DriverStats stats_;
  std::optional<std::string> error_;
  bool running_ = false;
};

}  // namespace tapfault::tap
