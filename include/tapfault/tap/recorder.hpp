// tap::Recorder: every frame on the TAP, both directions, with the kernel's timestamp,
// into a pcap file.
//
// An AF_PACKET socket bound to the TAP sees what the kernel sends (PACKET_OUTGOING)
// and what the peer writes into the TAP fd (every other packet type), in the order the
// kernel saw them. Timestamps come from SO_TIMESTAMPNS (CLOCK_REALTIME, taken by the
// kernel when the frame passed the tap point), not from when we read the socket. Open
// the Recorder before the link comes up (Network's BeforeLinkUp hook) to miss nothing.
// The pcap file is written by a thread of its own (tap/pcap_writer.hpp): records reach the
// file at flush(), when 1 MiB has gathered, and at close().
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tapfault::tap {

class PcapWriter;

struct RecordedFrame {
  std::chrono::nanoseconds kernel_time{};  // CLOCK_REALTIME since the epoch, from the kernel
  bool outgoing = false;                   // sent by the kernel (towards the peer)
  std::span<const std::uint8_t> bytes;     // as captured (may be truncated, see length)
  std::uint64_t index = 0;                 // 1-based frame number in the pcap
  std::size_t length = 0;                  // the frame's length on the wire
};

using FrameCallback = std::function<void(const RecordedFrame&)>;

struct RecorderStats {
  std::uint64_t frames = 0;            // written to the pcap
  std::uint64_t outgoing = 0;          // of which sent by the kernel
  std::uint64_t truncated = 0;         // longer than the snap length
  std::uint64_t missing_timestamps = 0;  // no SCM_TIMESTAMPNS: stamped with our own clock
  std::uint64_t link_down_events = 0;  // ENETDOWN reported by the socket (link went down)
};

class Recorder {
 public:
  static constexpr std::size_t kSnapLength = 262144;

  // Opens and binds the socket (throws EnvironmentError without CAP_NET_RAW,
  // SetupError otherwise) and creates the pcap file (SetupError naming the path).
  Recorder(std::string ifname, std::filesystem::path pcap_path);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Readable when frames wait; -1 after close().
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return pcap_path_; }

  // Reads every frame that is ready, writes each to the pcap and passes it to
  // `callback` (may be empty). Returns the number of frames read. Throws
  // std::system_error on a socket error other than EAGAIN/EINTR/ENETDOWN.
  std::size_t drain(const FrameCallback& callback = {});

  // Hands the records so far to the pcap writer, which writes them at once (the runner
  // calls it every 100 ms, so that a killed run leaves a pcap readable up to then).
  void flush();
  // Drains what is left, writes and closes the pcap (waiting for the writer) and the
  // socket. Idempotent.
  void close();

  // The kernel's count of frames it dropped because our socket buffer was full
  // (PACKET_STATISTICS, cumulative).
  std::uint64_t kernel_drops();
  const RecorderStats& stats() const { return stats_; }

 private:
  void record(std::span<const std::uint8_t> captured, std::size_t length, bool outgoing,
              std::chrono::nanoseconds kernel_time, const FrameCallback& callback);

  std::string ifname_;
  std::filesystem::path pcap_path_;
  int fd_ = -1;
  std::unique_ptr<PcapWriter> writer_;
  struct Batch;  // recvmmsg()'s buffers (recorder.cpp)
  std::unique_ptr<Batch> batch_;
  RecorderStats stats_;
  std::uint64_t kernel_drops_ = 0;
};

}  // namespace tapfault::tap
