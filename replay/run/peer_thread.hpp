// The peer's thread: the TAP, stack::Host and the host's own deadlines, and nothing else.
//
// A run has two loops. This one (thread "tf-peer") reads the kernel's frames, feeds the host,
// writes its answers and waits for its next deadline (tap::Driver on an io_context of its
// own). Everything else a run does — the built-in client's actions, socket sampling
// (sock_diag), the recorder's callbacks, the timeline, the status line, kernel-side actions
// and the report — runs on the run's main loop and never delays an answer: a sock_diag dump
// on the peer's loop, right after the client's send(), made the peer answer milliseconds
// late (bench/RESULTS.md, "Peer reaction in a run").
//
// What crosses: the host's events (stack::PeerEvent), through a bounded queue that the peer
// fills after each poll and the main loop empties when it samples; an event that does not
// fit is counted (dropped_events(), in report.json). A driver error is posted to the main
// loop. The host itself is touched by the main loop only after join(). The thread runs at
// SCHED_FIFO priority 1 where the process may (root, CAP_SYS_NICE); otherwise the report
// notes it.
#pragma once

#include <utility>  // before Asio: Boost 1.74 needs std::exchange under C++20

#include <boost/asio.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tapfault/stack/host.hpp"
#include "tapfault/tap/driver.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::replay {

class PeerThread {
 public:
  // Peer events held for the main loop at most; more are counted and dropped.
  static constexpr std::size_t kEventQueueLimit = 1 << 16;
  using ErrorSink = std::function<void(const std::string& message)>;

  // `on_error` runs on the peer's thread: it must only hand the message across.
  PeerThread(tap::TapDevice& tap, stack::Host& host, ErrorSink on_error);
  ~PeerThread();
  PeerThread(const PeerThread&) = delete;
  PeerThread& operator=(const PeerThread&) = delete;

  // `fn` runs on the peer's thread after a poll that follows quiet, once its answers are
  // written, and not again until the main loop calls activity_seen(): it must only hand a
  // wake-up across (the runner drains the recorder and samples the sockets then, so a
  // short-lived connection is sampled while it exists). Set before start().
  void on_activity(std::function<void()> fn) { on_activity_ = std::move(fn); }
  void activity_seen() { activity_pending_.store(false, std::memory_order_release); }

  void start();
  // Stops the driver on its own thread and joins it. Idempotent.
  void stop();

  // The events the host produced since the last call (main loop).
  std::vector<stack::PeerEvent> take_events();
  std::uint64_t dropped_events() const;
  // Why the thread is not real-time (SCHED_FIFO 1), or "" when it is.
  const std::string& priority_note() const { return priority_note_; }
  // Valid after stop().
  const tap::DriverStats& driver_stats() const { return driver_.stats(); }

 private:
  void hand_over_events();

  stack::Host& host_;
  boost::asio::io_context io_;
  tap::Driver driver_;
  ErrorSink on_error_;
  std::function<void()> on_activity_;
  std::atomic<bool> activity_pending_{false};
  mutable std::mutex mutex_;
  std::vector<stack::PeerEvent> queue_;  // guarded by mutex_
  std::uint64_t dropped_ = 0;            // guarded by mutex_
  std::string priority_note_;
  std::thread thread_;
};

}  // namespace tapfault::replay
