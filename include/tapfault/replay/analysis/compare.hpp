// Structural comparison of two captures: the regression guard for a golden capture in
// captures/. Per connection (in order of first appearance), the sequence of segments is
// compared field by field: direction, flags, sequence and ACK numbers relative to each
// side's ISN, payload length, option kinds (and the MSS and window-scale values, not
// the timestamp values), SACK blocks relative to the ISN, window, ICMP errors quoting
// the connection, and the gap after the previous packet of the connection within a
// tolerance. ISNs, ports, MACs and TCP timestamp values are normalised away; addresses
// are compared. Only TCP and ICMP errors are read, so ARP and NDP never differ.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tapfault/replay/analysis/capture_reader.hpp"

namespace tapfault::replay {

struct CompareOptions {
  // Gaps may differ by max(tolerance_floor, tolerance_fraction * the gap in A). These are
  // packetdrill's defaults: the kernel's timer wheel (kernel/time/timer.c since
  // 500462a9de65, "timers: Switch to a non-cascading wheel") fires a timer up to one
  // granularity late, and a level's granularity is at most 1/8 of the shortest timeout it
  // holds (8^L jiffies for timeouts of 63*8^(L-1) and up), so 12.5% covers the wheel;
  // 4 ms is one jiffy at HZ=250 plus scheduling noise for the short gaps.
  std::chrono::nanoseconds tolerance_floor = std::chrono::milliseconds(4);
  double tolerance_fraction = 0.125;
  bool compare_gaps = true;
  std::string name_a;  // in messages; default: the paths as given
  std::string name_b;
};

struct CompareDifference {
  int connection = 0;  // 1-based; 0 for the number of connections
  int segment = 0;     // 1-based within the connection; 0 for the connection itself
  std::string field;   // "flags", "seq", "gap", "segments", "connections", ...
  std::string value_a;
  std::string value_b;
  std::uint64_t frame_a = 0;  // 0 when that side has no such packet
  std::uint64_t frame_b = 0;
  std::string message;  // "a.pcap#5 vs b.pcap#5: connection 1, segment 5 (kernel -> peer): flags [P.] vs [.]"
};

struct CompareResult {
  bool same = true;
  int connections_a = 0;
  int connections_b = 0;
  std::uint64_t packets_compared = 0;
  std::optional<CompareDifference> first_difference;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

CompareResult compare_captures(const Capture& a, const Capture& b, const CompareOptions& options = {});
// Reads both (CaptureError when either cannot be read) and compares.
CompareResult compare_capture_files(const std::filesystem::path& a, const std::filesystem::path& b,
                                    const CompareOptions& options = {});

}  // namespace tapfault::replay
