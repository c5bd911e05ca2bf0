// The model's part of a run's live status line: how many of the expected events the
// kernel has sent so far, when the last one went out, and when the next one is due,
// e.g. "retransmission 7/15 at 25.4 s, next expected in 25.6 s".
//
// The next event is anchored on the last one seen, as the diff anchors it: the kernel
// counts each timeout from the previous firing (tcp_reset_xmit_timer() in
// tcp_retransmit_timer()), so once the timer wheel has made one event late every later
// one is late with it, and the countdown follows what the kernel will actually do.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "tapfault/replay/analysis/capture_reader.hpp"
#include "tapfault/replay/analysis/diff.hpp"

namespace tapfault::replay {

// `now` relative to the diff's origin. Empty when the diff has no origin yet.
std::string model_progress_text(const DiffResult& diff, Nanos now);

// Keeps the frames of a running capture in memory and diffs them against the model when
// asked (at most once per new frame batch). Frames beyond `max_packets` are not kept: the
// status then says so rather than growing without bound (a bulk transfer with a model).
class ModelProgress {
 public:
  explicit ModelProgress(DiffOptions options, std::size_t max_packets = 100000);

  // One Ethernet frame as recorded, with its capture time (CLOCK_REALTIME since the epoch).
  void add_frame(std::span<const std::uint8_t> bytes, Nanos time);
  // TCP_INFO before the first loss, once the run knows it (the model's RTO).
  void set_rtt(const RttHints& rtt);
  // The text for `now` (CLOCK_REALTIME since the epoch); empty until there is something to say.
  std::string status(Nanos now);

 private:
  DiffOptions options_;
  std::size_t max_packets_;
  Capture capture_;
  bool dirty_ = false;
  bool overflow_ = false;
  std::optional<DiffResult> last_;
};

}  // namespace tapfault::replay
