// tap::PcapWriter: the recorder's pcap file, written by a thread of its own.
//
// The file is libpcap's format with nanosecond timestamps (magic 0xa1b23c4d, version 2.4,
// records in the machine's byte order), byte for byte what pcap_dump() wrote before
// (tests/unit/tap/pcap_writer_test.cpp compares them). Records are appended to a buffer on
// the event loop; a full buffer (1 MiB) or flush() hands it to the writer thread, so the
// loop never waits for the disk unless the disk falls 64 MiB behind. Only whole records
// are ever written, in one write() per buffer. close() writes what is left and waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace tapfault::tap {

class PcapWriter {
 public:
  static constexpr std::size_t kChunkBytes = 1 << 20;         // a buffer is handed over when full
  static constexpr std::size_t kMaxQueuedBytes = 64u << 20;   // then append() waits for the disk

  // Creates the file and writes its header; throws SetupError naming the path.
  PcapWriter(const std::filesystem::path& path, std::uint32_t snap_length);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // One record: `bytes` as captured, `length` the frame's length on the wire.
  void append(std::chrono::nanoseconds time, std::span<const std::uint8_t> bytes, std::size_t length);
  // Hands what was appended to the writer thread and returns. Throws std::system_error if
  // an earlier write failed.
  void flush();
  // Writes everything, waits for it and closes the file. Idempotent; throws like flush().
  void close();

 private:
  void run();
  void hand_over();  // the current buffer to the queue (lock held by the caller)
  void throw_if_failed();

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::uint8_t> buffer_;

  std::mutex mutex_;
  std::condition_variable work_;   // the writer waits for buffers (or the end)
  std::condition_variable room_;   // append() waits for the queue to shrink
  std::deque<std::vector<std::uint8_t>> queue_;
  std::vector<std::vector<std::uint8_t>> spare_;  // written buffers, for reuse
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  int error_ = 0;  // errno of the first failed write
  std::thread thread_;
};

}  // namespace tapfault::tap
