// read_capture(): libpcap opens the file (pcap in either byte order and precision, or
// pcapng) and hands out records; decode_link_record() turns each into a Packet.
//
// libpcap's own messages are kept in the CaptureError ("truncated dump file; tried to
// read 100 captured bytes, only got 50") after a plain statement of what is wrong.
#include "tapfault/replay/analysis/capture_reader.hpp"

#include <pcap/pcap.h>

#include <fstream>
#include <memory>

namespace tapfault::replay {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

// pcap_open_offline() reports an empty file as a truncated header; say what it is.
void check_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw CaptureError(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) throw CaptureError(path, "is a directory, not a capture");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CaptureError(path, "cannot be opened for reading");
  if (std::filesystem::file_size(path, ec) == 0) throw CaptureError(path, "empty file (not a capture)");
}

std::string link_name(int dlt) {
  const char* n = pcap_datalink_val_to_name(dlt);
  return n ? n : "DLT " + std::to_string(dlt);
}

}  // namespace

Capture read_capture(const std::filesystem::path& path, const ReadOptions& options) {
  check_file(path);
  char err[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> pc(
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err));
  if (!pc) {
    std::string why = err;
    if (why.find("unknown file format") != std::string::npos)
      throw CaptureError(path, "not a pcap or pcapng capture (unknown magic number)");
    if (why.find("truncated") != std::string::npos) throw CaptureError(path, "truncated file header (" + why + ")");
    throw CaptureError(path, "cannot be read as a capture: " + why);
  }

  Capture c;
  c.path = path;
  c.link_type = pcap_datalink(pc.get());
  c.link_name = link_name(c.link_type);
  if (!supported_link_type(c.link_type))
    throw CaptureError(path, "unsupported link type " + c.link_name + " (" + std::to_string(c.link_type) +
                                 "); supported: EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6");

  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  for (;;) {
    int r = pcap_next_ex(pc.get(), &h, &data);
    if (r == PCAP_ERROR_BREAK) break;  // end of file
    if (r != 1) {
      std::string why = pcap_geterr(pc.get());
      throw CaptureError(path, "frame " + std::to_string(c.stats.records + 1) + ": truncated or corrupt record (" +
                                   why + ")");
    }
    ++c.stats.records;
    // With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. Time is kept as 64-bit
    // nanoseconds since the epoch, which ends in 2262: a later (or negative) time stamp is
    // a corrupt record, not a time to wrap.
    constexpr auto kMaxSeconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds::max()) -
                                 std::chrono::seconds(1);
    if (h->ts.tv_sec < 0 || h->ts.tv_sec > kMaxSeconds.count() || h->ts.tv_usec < 0 || h->ts.tv_usec >= 1'000'000'000)
      throw CaptureError(path, "frame " + std::to_string(c.stats.records) + ": time stamp " +
                                   std::to_string(h->ts.tv_sec) + "." + std::to_string(h->ts.tv_usec) +
                                   " s is outside 1970..2262 (corrupt record)");
    auto t = std::chrono::seconds(h->ts.tv_sec) + std::chrono::nanoseconds(h->ts.tv_usec);
    if (c.stats.records == 1) c.first_time = t;
    c.last_time = t;
    if (h->caplen < h->len) ++c.stats.cut_by_snaplen;

    DecodedRecord d = decode_link_record(c.link_type, {data, h->caplen});
    switch (d.kind) {
      case RecordKind::kIgnored: ++c.stats.ignored; continue;
      case RecordKind::kFragment: ++c.stats.fragments; continue;
      case RecordKind::kMalformed: ++c.stats.malformed; continue;
      case RecordKind::kPacket: break;
    }
    Packet& p = *d.packet;
    p.frame = c.stats.records;
    p.time = t;
    ++(p.tcp() ? c.stats.tcp : c.stats.icmp);
    c.packets.push_back(std::move(p));
  }

  if (options.require_tcp) {
    if (c.stats.records == 0) throw CaptureError(path, "the capture holds no packets");
    if (c.stats.tcp == 0)
      throw CaptureError(path, "no TCP segment in " + std::to_string(c.stats.records) + " records (link type " +
                                   c.link_name + ", " + std::to_string(c.stats.malformed) + " malformed)");
  }
  return c;
}

}  // namespace tapfault::replay
