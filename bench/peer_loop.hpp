// bench::PeerLoop: tapfault's peer (stack::Host driven by tap::Driver) on a thread of its own.
//
// Read first: include/tapfault/tap/driver.hpp. The peer runs exactly as in a run: one
// io_context, the Driver draining the TAP and arming the host's deadline; the kernel
// clients run on the caller's thread. Everything that touches the host or the driver is
// posted to the peer's thread (call()), so counters are read where they are written.
// Peer events are taken and dropped every 50 ms, as a run's timeline consumes them.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tapfault/stack/host.hpp"
#include "tapfault/tap/driver.hpp"
#include "tapfault/tap/recorder.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::bench {

// The peer's counters and costs at one moment, taken on the peer's thread.
struct PeerSample {
  std::uint64_t frames_read = 0;     // kernel -> peer
  std::uint64_t frames_written = 0;  // peer -> kernel
  std::uint64_t tap_wakeups = 0;
  std::uint64_t thread_cpu_ns = 0;   // CLOCK_THREAD_CPUTIME_ID of the peer's thread
  std::uint64_t user_ns = 0;         // getrusage(RUSAGE_THREAD): user ...
  std::uint64_t system_ns = 0;       // ... and system time (TAP reads and writes, and the
                                     // kernel's receive path the peer's writes run inline)
  std::uint64_t connections = 0;     // accepted so far
  std::uint64_t frames() const { return frames_read + frames_written; }
};

class PeerLoop {
 public:
  // `recorder` may be null (no pcap); it must outlive the loop.
  PeerLoop(tap::TapDevice& tap, stack::HostConfig config, tap::Recorder* recorder = nullptr);
  ~PeerLoop();
  PeerLoop(const PeerLoop&) = delete;
  PeerLoop& operator=(const PeerLoop&) = delete;

  // Runs `f` on the peer's thread and waits for its result.
  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  PeerSample sample();
  // The recorder's counters (frames, missing kernel timestamps) and the kernel's drops;
  // zeros without a recorder.
  struct RecorderFigures {
    tap::RecorderStats stats;
    std::uint64_t kernel_drops = 0;
  };
  RecorderFigures recorder_figures();
  // The error that stopped the driver (the TAP failed), empty while it runs.
  std::string error() const;
  const stack::HostConfig& config() const { return host_->config(); }

 private:
  void schedule_event_drain();

  boost::asio::io_context io_;
  std::unique_ptr<stack::Host> host_;
  tap::Recorder* recorder_;
  std::unique_ptr<tap::Driver> driver_;
  boost::asio::steady_timer event_timer_;
  mutable std::mutex error_mutex_;
  std::string error_;
  std::thread thread_;
};

}  // namespace tapfault::bench
