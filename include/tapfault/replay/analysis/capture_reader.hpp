// Reading a capture file into packets: pcap or pcapng through libpcap, the link types
// tapfault and tcpdump write (Ethernet, Linux cooked SLL/SLL2, raw IPv4/IPv6), with
// nanosecond time stamps whatever the file's precision.
//
// Only TCP segments and ICMP errors are kept, as small decoded structs (no frame
// bytes), so memory grows with the number of packets, never with their captured size;
// libpcap itself refuses a record longer than the link type's maximum snap length.
// Anything wrong with the file itself throws CaptureError "FILE: what is wrong", which
// the command line turns into exit code 2.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapfault/replay/analysis/packet.hpp"

namespace tapfault::replay {

class CaptureError : public std::runtime_error {
 public:
  CaptureError(const std::filesystem::path& file, const std::string& what)
      : std::runtime_error(file.string() + ": " + what) {}
};

struct CaptureStats {
  std::uint64_t records = 0;    // every record in the file
  std::uint64_t tcp = 0;        // TCP segments kept
  std::uint64_t icmp = 0;       // ICMP errors kept
  std::uint64_t ignored = 0;    // ARP, NDP, UDP, echo, ...
  std::uint64_t fragments = 0;  // IP fragments (not reassembled)
  std::uint64_t malformed = 0;  // headers cut short or impossible
  std::uint64_t cut_by_snaplen = 0;  // records shorter than the packet on the wire
};

struct Capture {
  std::filesystem::path path;
  int link_type = 0;      // DLT_*
  std::string link_name;  // "EN10MB", "LINUX_SLL2", ...
  std::vector<Packet> packets;  // TCP segments and ICMP errors, in file order
  CaptureStats stats;
  std::chrono::nanoseconds first_time{};  // of any record
  std::chrono::nanoseconds last_time{};
};

struct ReadOptions {
  // An empty capture, or one with no TCP segment, is an error: nothing to analyse.
  bool require_tcp = true;
};

// Throws CaptureError for: a missing or unreadable file, an empty file, a truncated file
// header, a file that is neither pcap nor pcapng, a link type other than the supported
// ones, a truncated record (named by its frame number), and (require_tcp) a capture
// without records or without TCP.
Capture read_capture(const std::filesystem::path& path, const ReadOptions& options = {});

}  // namespace tapfault::replay
