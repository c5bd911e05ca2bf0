// load_plot_data(): a run folder's capture, timeline and report, reduced to what the plot
// draws. The classification of kernel segments is documented at MarkKind
// (include/tapfault/replay/report/plot.hpp); the probe rule follows tcp_xmit_probe_skb() in
// net/ipv4/tcp_output.c, which sends zero-window probes and keepalives with seq snd_una - 1.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tapfault/replay/analysis/capture_reader.hpp"
#include "tapfault/replay/report/plot.hpp"

namespace tapfault::replay {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(MarkKind k) {
  switch (k) {
    case MarkKind::kSyn: return "SYN";
    case MarkKind::kData: return "data";
    case MarkKind::kRetransmission: return "retransmission";
    case MarkKind::kProbe: return "probe";
    case MarkKind::kFin: return "FIN";
    case MarkKind::kRst: return "RST";
    case MarkKind::kAck: return "bare ACK";
    case MarkKind::kPeer: return "peer sent";
    case MarkKind::kClient: return "client event";
  }
  return "?";
}

namespace {

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

// A TCP flow from the kernel's side, for the classification.
struct FlowState {
  std::optional<stack::SeqNum> isn;       // the kernel's SYN
  std::optional<stack::SeqNum> sent_end;  // highest seq + seq_len the kernel sent
  std::optional<stack::SeqNum> peer_ack;  // last ACK from the peer
  std::uint16_t peer_window = 1;          // as on the wire (0 is all that matters)
};

// The run's capture as the analysis reads it (analysis/capture_reader.hpp: the one capture
// reader, which keeps the kernel's segments whatever their checksums), with times on the
// plot's axis: seconds from the run's origin, or without one from the first record.
struct PlotCapture {
  Capture capture;
  std::int64_t origin_ns = 0;

  double t(const Packet& p) const { return static_cast<double>(p.time.count() - origin_ns) * 1e-9; }
  // The packet recorded as frame `number`, if it is a TCP segment or an ICMP error.
  const Packet* frame(std::uint64_t number) const {
    auto it = std::lower_bound(capture.packets.begin(), capture.packets.end(), number,
                               [](const Packet& p, std::uint64_t n) { return p.frame < n; });
    return it != capture.packets.end() && it->frame == number ? &*it : nullptr;
  }
};

PlotCapture read_plot_capture(const fs::path& path, std::optional<std::int64_t> origin_ns) {
  PlotCapture pc;
  try {
    pc.capture = read_capture(path, {.require_tcp = false});
  } catch (const CaptureError& e) {
    throw PlotError(e.what());
  }
  pc.origin_ns = origin_ns.value_or(pc.capture.first_time.count());
  return pc;
}

std::string flags_text(std::uint8_t flags) {
  static constexpr std::pair<std::uint8_t, const char*> kNames[] = {
      {stack::tcp_flags::kSyn, "SYN"}, {stack::tcp_flags::kFin, "FIN"}, {stack::tcp_flags::kRst, "RST"},
      {stack::tcp_flags::kPsh, "PSH"}, {stack::tcp_flags::kAck, "ACK"}, {stack::tcp_flags::kUrg, "URG"}};
  std::string out;
  for (const auto& [bit, name] : kNames)
    if (flags & bit) out += (out.empty() ? "" : ",") + std::string(name);
  return out.empty() ? "no flags" : out;
}

std::string flow_key(const Packet& p, bool from_kernel) {
  const stack::TcpHeader& h = p.tcp()->header;
  auto end = [](const stack::IpAddress& a, std::uint16_t port) { return a.to_string() + ":" + std::to_string(port); };
  return from_kernel ? end(p.src, h.src_port) + ">" + end(p.dst, h.dst_port)
                     : end(p.dst, h.dst_port) + ">" + end(p.src, h.src_port);
}

void add_capture_marks(const PlotCapture& pc, PlotData& out) {
  const Capture& cap = pc.capture;
  if (cap.stats.malformed)
    out.notes.push_back(std::to_string(cap.stats.malformed) + " frames did not decode and are not drawn");

  // The kernel opens every conversation on the TAP: it is the source of the SYNs (by MAC on
  // Ethernet, else by address), or without a SYN in the capture, of the first packet.
  auto sender = [](const Packet& p) { return p.src_mac ? p.src_mac->to_string() : p.src.to_string(); };
  std::vector<std::string> kernel_senders;
  for (const Packet& p : cap.packets)
    if (const TcpSegment* seg = p.tcp())
      if (seg->has(stack::tcp_flags::kSyn) && !seg->has(stack::tcp_flags::kAck))
        if (std::find(kernel_senders.begin(), kernel_senders.end(), sender(p)) == kernel_senders.end())
          kernel_senders.push_back(sender(p));
  if (kernel_senders.empty() && !cap.packets.empty()) kernel_senders.push_back(sender(cap.packets.front()));

  std::map<std::string, FlowState> flows;
  for (const Packet& p : cap.packets) {
    const double t = pc.t(p);
    bool from_kernel = std::find(kernel_senders.begin(), kernel_senders.end(), sender(p)) != kernel_senders.end();
    std::string where = "frame " + std::to_string(p.frame) + " at " + fixed(t, 6) + " s: ";
    const TcpSegment* seg = p.tcp();
    if (!seg) {
      if (!from_kernel) out.marks.push_back({t, MarkKind::kPeer, where + describe(*p.icmp()), "", true});
      continue;
    }
    FlowState& flow = flows[flow_key(p, from_kernel)];
    const stack::TcpHeader& tcp = seg->header;
    if (!from_kernel) {
      if (tcp.has(stack::tcp_flags::kAck)) flow.peer_ack = tcp.ack;
      flow.peer_window = tcp.window;
      std::string d = where + "peer " + flags_text(tcp.flags) + ", " + std::to_string(seg->payload_length) +
                      " bytes, window " + std::to_string(tcp.window);
      bool alert = tcp.window == 0 || tcp.has(stack::tcp_flags::kRst);
      out.marks.push_back({t, MarkKind::kPeer, d, "", alert});
      continue;
    }

    std::uint32_t len = seg->seq_len();
    if (tcp.has(stack::tcp_flags::kSyn) && !tcp.has(stack::tcp_flags::kAck) && !flow.isn) flow.isn = tcp.seq;
    auto rel = [&](stack::SeqNum s) { return flow.isn ? std::to_string(s - *flow.isn) : std::to_string(s.value()); };
    MarkKind kind;
    std::string d = where;
    if (tcp.has(stack::tcp_flags::kRst)) {
      kind = MarkKind::kRst;
      d += "RST seq " + rel(tcp.seq);
    } else if (len == 0) {
      bool probe = flow.peer_ack && tcp.seq == *flow.peer_ack + 0xffffffffu;  // peer_ack - 1
      kind = probe ? MarkKind::kProbe : MarkKind::kAck;
      d += probe ? (flow.peer_window == 0 ? "zero-window probe" : "keepalive") : "ACK";
      d += " seq " + rel(tcp.seq);
    } else {
      bool again = flow.sent_end && tcp.seq.before(*flow.sent_end);
      kind = again ? MarkKind::kRetransmission
             : tcp.has(stack::tcp_flags::kSyn) ? MarkKind::kSyn
             : tcp.has(stack::tcp_flags::kFin) ? MarkKind::kFin
                                                : MarkKind::kData;
      d += std::string(to_string(kind)) + " seq " + rel(tcp.seq) + ".." + rel(tcp.seq + len) + " (" +
           std::to_string(seg->payload_length) + " bytes" + (tcp.has(stack::tcp_flags::kSyn) ? ", SYN" : "") +
           (tcp.has(stack::tcp_flags::kFin) ? ", FIN" : "") + ")";
      stack::SeqNum end = tcp.seq + len;
      if (!flow.sent_end || end.after(*flow.sent_end)) flow.sent_end = end;
    }
    out.marks.push_back({t, kind, d, "", false});
  }
}

std::optional<json> read_json_file(const fs::path& p, PlotData& out) {
  std::ifstream in(p);
  if (!in) {
    out.notes.push_back("no " + p.filename().string());
    return std::nullopt;
  }
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.notes.push_back(p.filename().string() + " does not parse");
    return std::nullopt;
  }
  return j;
}

std::optional<std::int64_t> origin_from_report(const json& report) {
  if (!report.contains("clocks") || !report["clocks"].is_object()) return std::nullopt;
  const json& v = report["clocks"].value("origin_realtime_ns", json());
  try {
    if (v.is_string()) return std::stoll(v.get<std::string>());
    if (v.is_number_integer()) return v.get<std::int64_t>();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// "fault 'vanish' (silent) fired" -> "vanish (silent)".
std::string fault_label(const std::string& detail) {
  const std::string prefix = "fault '";
  if (detail.rfind(prefix, 0) == 0) {
    auto close = detail.find('\'', prefix.size());
    if (close != std::string::npos) {
      std::string name = detail.substr(prefix.size(), close - prefix.size());
      auto open = detail.find('(', close);
      auto end = detail.find(')', open == std::string::npos ? close : open);
      if (open != std::string::npos && end != std::string::npos) name += " " + detail.substr(open, end - open + 1);
      return name;
    }
  }
  return detail;
}

std::string kernel_label(const json& j) {
  std::string label = j.value("action", std::string("action"));
  if (j.contains("route") && j["route"].is_string()) label += " " + j["route"].get<std::string>();
  if (j.contains("mtu") && j["mtu"].is_number()) label += " " + std::to_string(j["mtu"].get<long long>());
  if (j.contains("sysctl") && j["sysctl"].is_object() && !j["sysctl"].empty()) {
    auto it = j["sysctl"].begin();
    std::string name = it.key();
    if (auto dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);
    label += " " + name + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    if (j["sysctl"].size() > 1) label += " +" + std::to_string(j["sysctl"].size() - 1);
  }
  if (j.contains("error")) label += " (failed)";
  return label;
}

void add_timeline(const fs::path& path, int client_port, PlotData& out) {
  std::ifstream in(path);
  std::size_t bad = 0;
  std::map<int, std::vector<PlotSocketSample>> sockets;  // by local port
  std::map<int, std::string> socket_names;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("t") || !j["t"].is_number()) {
      ++bad;
      continue;
    }
    double t = j["t"].get<double>();
    std::string source = j.value("source", std::string());
    if (source == "peer" && j.value("kind", std::string()) == "fault") {
      out.lines.push_back({t, PlotLine::Kind::kFault, fault_label(j.value("detail", std::string("fault")))});
    } else if (source == "kernel") {
      out.lines.push_back({t, PlotLine::Kind::kKernelAction, kernel_label(j)});
    } else if (source == "client") {
      std::string error = j.value("error", std::string("none"));
      std::string what = j.contains("action") ? j.value("action", std::string()) : j.value("event", std::string());
      std::string d = "client at " + fixed(t, 6) + " s: " + what;
      if (j.contains("bytes") && j["bytes"].is_number()) d += " " + std::to_string(j["bytes"].get<long long>()) + " bytes";
      if (error != "none") d += ", error " + error;
      bool alert = error != "none";
      out.marks.push_back({t, MarkKind::kClient, d, alert ? error : "", alert});
    } else if (source == "socket" && j.contains("tcp_info") && j["tcp_info"].is_object()) {
      const json& ti = j["tcp_info"];
      int port = j.value("local_port", 0);
      auto num = [&](const char* k) { return ti.contains(k) && ti[k].is_number() ? ti[k].get<double>() : 0.0; };
      sockets[port].push_back({t, num("rto") / 1000.0, num("backoff"), num("snd_cwnd"), j.value("state", std::string())});
      socket_names[port] = j.value("local", std::string()) + " -> " + j.value("remote", std::string());
    }
  }
  if (bad) out.notes.push_back(std::to_string(bad) + " timeline lines did not parse");
  // The client socket: the report's, else the one sampled most often.
  int port = client_port;
  if (!sockets.count(port)) {
    std::size_t most = 0;
    for (const auto& [p, v] : sockets)
      if (v.size() > most) most = v.size(), port = p;
  }
  if (sockets.count(port)) {
    out.socket = std::move(sockets[port]);
    std::stable_sort(out.socket.begin(), out.socket.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
    out.socket_name = socket_names[port];
  }
}

// report.json "model" (replay/analysis/diff_report.cpp): events[] and give_up with earliest_s,
// latest_s and nominal_s counted from the model's origin, a capture frame (origin.frame);
// without one, from the run's start.
void add_model_bands(const json& report, const PlotCapture* capture, PlotData& out) {
  if (!report.contains("model") || !report["model"].is_object()) return;
  const json& model = report["model"];
  double base = 0;
  if (model.contains("origin") && model["origin"].is_object() && model["origin"].contains("frame") &&
      model["origin"]["frame"].is_number_unsigned()) {
    auto frame = model["origin"]["frame"].get<std::uint64_t>();
    if (const Packet* p = capture ? capture->frame(frame) : nullptr) {
      base = capture->t(*p);
    } else {
      out.notes.push_back("the model's origin, frame " + std::to_string(frame) + ", is not in the capture");
      return;
    }
  }
  auto band = [&](const json& e, std::string label) {
    if (!e.is_object() || !e.contains("earliest_s") || !e.contains("latest_s")) return;
    if (!e["earliest_s"].is_number() || !e["latest_s"].is_number()) return;  // not expected: null
    PlotBand b;
    b.earliest = base + e["earliest_s"].get<double>();
    b.latest = base + e["latest_s"].get<double>();
    b.nominal = e.contains("nominal_s") && e["nominal_s"].is_number() ? base + e["nominal_s"].get<double>()
                                                                      : (b.earliest + b.latest) / 2;
    b.label = std::move(label);
    // The diff's is_mismatch(): "beyond-capture" and "unobserved" could not be checked.
    std::string verdict = e.contains("verdict") && e["verdict"].is_string() ? e["verdict"].get<std::string>() : "ok";
    b.mismatch = verdict == "early" || verdict == "late" || verdict == "missing" || verdict == "unexpected" ||
                 verdict == "wrong-error";
    if (b.mismatch) b.label += " (" + verdict + ")";
    out.bands.push_back(b);
  };
  const json& events = model.value("events", json::array());
  if (events.is_array()) {
    for (const json& e : events) {
      if (!e.is_object()) continue;
      // "RTO#3" as the diff names it; else kind and index as {kind, index, ...} rows have.
      std::string label = e.value("kind", std::string("model"));
      for (const char* key : {"index", "number"})
        if (e.contains(key) && e[key].is_number_integer()) {
          label += " " + std::to_string(e[key].get<long long>());
          break;
        }
      if (e.contains("event") && e["event"].is_string()) label = e["event"].get<std::string>();
      band(e, label);
    }
  }
  if (model.contains("give_up")) band(model["give_up"], "give up");
}

}  // namespace

PlotData load_plot_data(const fs::path& run_dir) {
  PlotData out;
  fs::path capture = run_dir / "capture.pcap";
  fs::path timeline = run_dir / "timeline.jsonl";
  if (!fs::exists(capture) && !fs::exists(timeline))
    throw PlotError(run_dir.string() + ": neither capture.pcap nor timeline.jsonl is there (is it a run folder?)");

  std::optional<json> report = read_json_file(run_dir / "report.json", out);
  std::optional<std::int64_t> origin;
  int client_port = 0;
  out.scenario = run_dir.filename().string();
  if (out.scenario.empty()) out.scenario = run_dir.parent_path().filename().string();
  if (report) {
    if (report->contains("scenario") && (*report)["scenario"].is_object())
      out.scenario = (*report)["scenario"].value("name", out.scenario);
    out.verdict = report->value("verdict", std::string());
    out.end = report->value("duration_s", 0.0);
    if (report->contains("socket") && (*report)["socket"].is_object())
      client_port = (*report)["socket"].value("local_port", 0);
    origin = origin_from_report(*report);
  }
  std::optional<PlotCapture> pc;
  if (fs::exists(capture)) {
    if (!origin) out.notes.push_back("no run origin in report.json: capture times count from its first frame");
    pc = read_plot_capture(capture, origin);
    add_capture_marks(*pc, out);
  } else {
    out.notes.push_back("no capture.pcap");
  }
  if (report) add_model_bands(*report, pc ? &*pc : nullptr, out);
  if (fs::exists(timeline)) add_timeline(timeline, client_port, out);
  else out.notes.push_back("no timeline.jsonl");

  std::stable_sort(out.marks.begin(), out.marks.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  std::stable_sort(out.lines.begin(), out.lines.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  for (const PlotMark& m : out.marks) out.end = std::max(out.end, m.t);
  for (const PlotLine& l : out.lines) out.end = std::max(out.end, l.t);
  for (const PlotSocketSample& s : out.socket) out.end = std::max(out.end, s.t);
  // A model may expect events long after the run ended (a persist timer probes for hours):
  // those windows would squeeze the run into a sliver of the axis.
  std::size_t before = out.bands.size();
  std::erase_if(out.bands, [&](const PlotBand& b) { return b.earliest > out.end; });
  if (out.bands.size() < before)
    out.notes.push_back(std::to_string(before - out.bands.size()) + " model windows after the run's end are not drawn");
  for (const PlotBand& b : out.bands) out.end = std::max(out.end, b.latest);
  return out;
}

}  // namespace tapfault::replay
