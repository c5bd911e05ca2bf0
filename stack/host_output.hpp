// What the host sends and tells: the frames waiting for the wire (their buffers kept for
// reuse, so a run in its steady state sends without allocating), the peer events, and the
// counters. The dispatch (host.cpp) and the fault application (host_faults.cpp) both write
// here; Host::pending_output() and take_events() read it.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/host.hpp"

namespace tapfault::stack {

class TcpConnection;

class HostOutput {
 public:
  explicit HostOutput(MacAddress own_mac) : own_mac_(own_mac) {}

  // Ethernet addresses for what the peer sends: its own and the kernel's last seen.
  LinkAddresses link() const { return {own_mac_, kernel_mac_.value_or(MacAddress{})}; }
  void set_kernel_mac(MacAddress mac) { kernel_mac_ = mac; }

  // A buffer to encode the next frame into, then commit_frame() (an empty one is not sent).
  Frame& next_frame() {
    if (count_ == frames_.size()) frames_.emplace_back();
    return frames_[count_];
  }
  void commit_frame() {
    if (frames_[count_].empty()) return;
    ++stats.frames_out;
    ++count_;
  }
  void push(Frame frame) {
    next_frame() = std::move(frame);
    commit_frame();
  }
  std::span<const Frame> pending() const { return {frames_.data(), count_}; }
  void clear() {
    count_ = 0;
    if (frames_.size() > kSpareFrames) frames_.resize(kSpareFrames);
  }

  void drop(const std::string& reason) { ++stats.dropped[reason]; }
  // A peer event, with the connection's flow and relative seq/ack when there is one.
  void record(Instant now, const char* kind, std::string detail, const TcpConnection* c);
  void record(PeerEvent e) { events_.push_back(std::move(e)); }
  std::vector<PeerEvent> take_events() {
    std::vector<PeerEvent> e;
    e.swap(events_);
    return e;
  }

  HostStats stats;

 private:
  static constexpr std::size_t kSpareFrames = 1024;  // buffers kept beyond a burst

  MacAddress own_mac_;
  std::optional<MacAddress> kernel_mac_;
  // frames_[0, count_) are pending; the buffers after them are kept for reuse.
  std::vector<Frame> frames_;
  std::size_t count_ = 0;
  std::vector<PeerEvent> events_;
};

}  // namespace tapfault::stack
