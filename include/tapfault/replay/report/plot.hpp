// `tapfault plot RUN_DIR`: a run's story on one page, RUN_DIR/timeline.svg.
//
// Top: what the kernel sent (capture.pcap), one lane per kind of segment, with the peer's
// faults and the kernel-side actions (timeline.jsonl) as labelled vertical lines and the
// model's expected windows (report.json "model") as bands. Below, from the client
// socket's samples: RTO, backoff and cwnd as step curves. Every time is seconds since the
// run's start, the origin report.json states (clocks.origin_realtime_ns for the pcap).
//
// Read first: load_plot_data() (what is drawn, and how a segment is classified), then
// render_svg() (pure layout: PlotData in, SVG text out).
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace tapfault::replay {

// A run folder that cannot be plotted (missing or unreadable capture and timeline).
class PlotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a mark in the transmissions panel is. Kernel segments are classified in this order:
//   kRst            RST set
//   kProbe          no sequence space (no payload, SYN or FIN) and seq = the peer's last
//                   ACK - 1: a zero-window probe or a keepalive (tcp_xmit_probe_skb())
//   kAck            no sequence space otherwise
//   kRetransmission sequence space that starts before the highest end already sent
//                   (this includes repeated SYNs and FINs)
//   kSyn, kFin      new SYN / new FIN
//   kData           new payload
// kPeer is anything the peer sent (TCP or ICMP), kClient a client event of the timeline.
enum class MarkKind : std::uint8_t { kSyn, kData, kRetransmission, kProbe, kFin, kRst, kAck, kPeer, kClient };
inline constexpr int kMarkKinds = 9;
const char* to_string(MarkKind k);  // "SYN", "data", "retransmission", ...

struct PlotMark {
  double t = 0;  // seconds since the run's start
  MarkKind kind = MarkKind::kData;
  std::string detail;   // tooltip: "frame 11: seq 7..24 (17 bytes)"
  std::string label;    // drawn next to the mark when not empty (client errors)
  bool alert = false;   // drawn in the alert colour (a client error, a zero window)
};

// A vertical line across every panel.
struct PlotLine {
  enum class Kind : std::uint8_t { kFault, kKernelAction };
  double t = 0;
  Kind kind = Kind::kFault;
  std::string label;  // "vanish (silent)", "route-del 2001:db8::2/128"
};

// One sample of the client socket.
struct PlotSocketSample {
  double t = 0;
  double rto_ms = 0;
  double backoff = 0;
  double cwnd = 0;
  std::string state;
};

// An expected window of the model: one of report.json model.events[] (or model.give_up),
// moved from the model's origin (model.origin.frame, a capture frame) to the run's clock.
struct PlotBand {
  std::string label;  // "rto 3"
  double earliest = 0;
  double latest = 0;
  double nominal = 0;
  bool mismatch = false;  // the diff's verdict for it is not "ok"
};

struct PlotData {
  std::string scenario;  // report.json scenario.name, else the folder's name
  std::string verdict;   // "pass", "fail", or empty when there is no report
  double end = 0;        // the run's duration (s), or the last event
  std::vector<PlotMark> marks;
  std::vector<PlotLine> lines;
  std::vector<PlotSocketSample> socket;  // the client socket only, time order
  std::string socket_name;               // "192.0.2.1:40000 -> 192.0.2.2:8080"
  std::vector<PlotBand> bands;
  std::vector<std::string> notes;  // what was missing or skipped, shown under the title
};

// Reads RUN_DIR/capture.pcap (libpcap, Ethernet, decoded with stack::decode_frame),
// RUN_DIR/timeline.jsonl and RUN_DIR/report.json. A missing file leaves its part empty
// (noted in `notes`); throws PlotError when neither the capture nor the timeline is there
// or the capture cannot be read.
PlotData load_plot_data(const std::filesystem::path& run_dir);

// The SVG document (standalone, no scripts, no external references).
std::string render_svg(const PlotData& data);

// load_plot_data + render_svg, written to RUN_DIR/timeline.svg. Returns an exit code:
// 0 written, 2 the run folder cannot be plotted, 3 the SVG cannot be written; the reason
// goes to `err`.
int plot_run(const std::filesystem::path& run_dir, std::ostream& err);

}  // namespace tapfault::replay
