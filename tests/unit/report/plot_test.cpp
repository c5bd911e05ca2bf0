// tapfault plot: a run folder built here (a small pcap written with libpcap, a synthetic
// timeline and report) becomes an SVG that parses as XML and shows each kind of segment,
// the fault and kernel-action lines, the model's windows and the socket's curves. One test
// renders it in headless Chromium (skipped without Chromium unless CI=true).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/pcap_builder.hpp"
#include "support/xml_check.hpp"
#include "tapfault/replay/report/plot.hpp"
#include "support/test_files.hpp"

namespace tapfault::testing {
namespace {

using namespace tapfault::replay;
namespace fs = std::filesystem;

// Relative times (s): handshake 0, data 0.1, ack, data 0.2, its retransmission 0.4, the
// peer closes its window 0.5, a zero-window probe 0.9, FIN 1.0, RST 1.2.
Conversation conversation() {
  Conversation c;
  c.handshake(0.0);                // frames 1-3
  c.kernel_data(0.1, 1, 6);        // 4
  c.peer_ack(0.101, 7);            // 5
  c.kernel_data(0.2, 7, 10);       // 6
  c.kernel_data(0.4, 7, 10);       // 7: the same range again
  c.peer_ack(0.5, 17, 0);          // 8: window 0
  c.kernel_ack(0.9, 16, 1);        // 9: seq = the peer's ack - 1
  c.kernel_fin(1.0, 17);           // 10
  c.kernel_rst(1.2, 18);           // 11
  return c;
}

std::string socket_line(double t, int rto_us, int backoff, int cwnd) {
  std::ostringstream o;
  o << R"({"t":)" << t << R"(,"source":"socket","local":"192.0.2.1:40000","local_port":40000,)"
    << R"("remote":"192.0.2.2:8080","state":"ESTAB","tcp_info":{"rto":)" << rto_us << R"(,"backoff":)" << backoff
    << R"(,"snd_cwnd":)" << cwnd << "}}\n";
  return o.str();
}

// A run folder: capture.pcap, timeline.jsonl and report.json as `tapfault run` writes them.
fs::path run_dir(const fs::path& dir, bool with_model = true) {
  fs::create_directories(dir);
  Conversation c = conversation();
  write_pcap(dir / "capture.pcap", c.frames);
  std::ofstream tl(dir / "timeline.jsonl");
  tl << R"({"t":0.000704,"source":"peer","kind":"state","detail":"LISTEN -> SYN-RECEIVED"})" << "\n";
  tl << R"({"t":0.45,"source":"peer","kind":"fault","detail":"fault 'close-window' (window) fired","seq":1,"ack":17})"
     << "\n";
  tl << R"({"t":0.7,"source":"kernel","action":"route-del","route":"192.0.2.2/32","line":20})" << "\n";
  tl << R"({"t":0.71,"source":"kernel","action":"sysctl","sysctl":{"net.ipv4.tcp_retries2":"3"},"line":22})" << "\n";
  tl << R"({"t":0.05,"source":"client","action":"connect","bytes":0,"error":"none","line":9})" << "\n";
  tl << R"({"t":1.3,"source":"client","action":"wait_error","bytes":0,"error":"ECONNRESET","line":12})" << "\n";
  tl << "not json\n";
  tl << socket_line(0.05, 204000, 0, 10) << socket_line(0.4, 408000, 1, 1) << socket_line(0.9, 816000, 2, 1)
     << socket_line(1.25, 816000, 2, 1);
  // Another socket in the namespace, not the client's.
  tl << R"({"t":0.5,"source":"socket","local_port":8080,"tcp_info":{"rto":5000000,"backoff":9,"snd_cwnd":99}})" << "\n";
  tl.close();
  nlohmann::json report = {
      {"scenario", {{"name", "zero-window <test> & co"}, {"file", "x.yaml"}}},
      {"verdict", "fail"},
      {"duration_s", 1.5},
      {"clocks", {{"origin_realtime_ns", std::to_string(c.base.count())}}},
      {"socket", {{"local_port", 40000}}},
  };
  if (with_model)
    report["model"] = {
        {"origin", {{"frame", 6}}},  // the data at 0.2 s
        {"events",
         {{{"event", "RTO#1"}, {"kind", "RTO"}, {"number", 1}, {"earliest_s", 0.19}, {"latest_s", 0.21},
           {"nominal_s", 0.2}, {"verdict", "ok"}},
          {{"kind", "probe"}, {"index", 1}, {"earliest_s", 0.6}, {"latest_s", 0.65}, {"verdict", "late"}},
          {{"event", "RTO#9"}, {"expected", false}, {"earliest_s", nullptr}, {"latest_s", nullptr}},
          {{"event", "RTO#10"}, {"earliest_s", 0.9}, {"latest_s", 0.95}, {"verdict", "beyond-capture"}},
          {{"event", "RTO#11"}, {"earliest_s", 3600.0}, {"latest_s", 3700.0}, {"verdict", "beyond-capture"}}}},
        {"give_up", {{"earliest_s", 0.95}, {"latest_s", 1.05}, {"nominal_s", 1.0}, {"verdict", "ok"}}},
    };
  std::ofstream(dir / "report.json") << report.dump(2);
  return dir;
}

std::vector<MarkKind> kinds_of(const PlotData& d, MarkKind only_not = MarkKind::kClient) {
  std::vector<MarkKind> out;
  for (const PlotMark& m : d.marks)
    if (m.kind != only_not && m.kind != MarkKind::kPeer) out.push_back(m.kind);
  return out;
}

TEST(PlotData, KernelSegmentsAreClassifiedByKind) {
  PlotData d = load_plot_data(run_dir(scratch_dir()));
  EXPECT_EQ(kinds_of(d), (std::vector<MarkKind>{MarkKind::kSyn, MarkKind::kAck, MarkKind::kData, MarkKind::kData,
                                                MarkKind::kRetransmission, MarkKind::kProbe, MarkKind::kFin,
                                                MarkKind::kRst}));
  const PlotMark* probe = nullptr;
  for (const PlotMark& m : d.marks)
    if (m.kind == MarkKind::kProbe) probe = &m;
  ASSERT_TRUE(probe);
  EXPECT_NEAR(probe->t, 0.9, 1e-9) << "times count from the report's origin";
  EXPECT_EQ(probe->detail, "frame 9 at 0.900000 s: zero-window probe seq 16");
}

TEST(PlotData, PeerFramesAndClientEventsHaveTheirOwnLanes) {
  PlotData d = load_plot_data(run_dir(scratch_dir()));
  int peer = 0, alerts = 0;
  std::string client_label;
  for (const PlotMark& m : d.marks) {
    if (m.kind == MarkKind::kPeer) ++peer, alerts += m.alert;
    if (m.kind == MarkKind::kClient && !m.label.empty()) client_label = m.label;
  }
  EXPECT_EQ(peer, 3);
  EXPECT_EQ(alerts, 1) << "the zero window";
  EXPECT_EQ(client_label, "ECONNRESET");
}

TEST(PlotData, FaultsKernelActionsSocketAndModelFromTimelineAndReport) {
  PlotData d = load_plot_data(run_dir(scratch_dir()));
  EXPECT_EQ(d.scenario, "zero-window <test> & co");
  EXPECT_EQ(d.verdict, "fail");
  ASSERT_EQ(d.lines.size(), 3u);
  EXPECT_EQ(d.lines[0].label, "close-window (window)");
  EXPECT_EQ(d.lines[0].kind, PlotLine::Kind::kFault);
  EXPECT_EQ(d.lines[1].label, "route-del 192.0.2.2/32");
  EXPECT_EQ(d.lines[2].label, "sysctl tcp_retries2=3");
  ASSERT_EQ(d.socket.size(), 4u) << "only the client socket (the report's local port)";
  EXPECT_DOUBLE_EQ(d.socket[1].rto_ms, 408);
  EXPECT_DOUBLE_EQ(d.socket[1].backoff, 1);
  EXPECT_DOUBLE_EQ(d.socket[1].cwnd, 1);
  EXPECT_EQ(d.socket_name, "192.0.2.1:40000 -> 192.0.2.2:8080");
  ASSERT_EQ(d.bands.size(), 4u) << "rows the model does not expect have no window; none after the run";
  EXPECT_EQ(d.bands[0].label, "RTO#1");
  EXPECT_NEAR(d.bands[0].earliest, 0.39, 1e-9) << "moved from the model's origin (frame 6 at 0.2 s)";
  EXPECT_FALSE(d.bands[0].mismatch);
  EXPECT_EQ(d.bands[1].label, "probe 1 (late)");
  EXPECT_TRUE(d.bands[1].mismatch);
  EXPECT_NEAR(d.bands[1].nominal, 0.825, 1e-9);
  EXPECT_EQ(d.bands[2].label, "RTO#10");
  EXPECT_FALSE(d.bands[2].mismatch) << "beyond the capture: not checked, not a mismatch";
  EXPECT_EQ(d.bands[3].label, "give up");
  EXPECT_DOUBLE_EQ(d.end, 1.5) << "the hour-later window does not stretch the axis";
  ASSERT_EQ(d.notes.size(), 2u);
  EXPECT_EQ(d.notes[0], "1 timeline lines did not parse");
  EXPECT_EQ(d.notes[1], "1 model windows after the run's end are not drawn");
}

TEST(PlotData, WithoutReportTimesCountFromTheFirstFrame) {
  fs::path dir = run_dir(scratch_dir());
  fs::remove(dir / "report.json");
  PlotData d = load_plot_data(dir);
  EXPECT_EQ(d.scenario, dir.filename().string());
  EXPECT_TRUE(d.bands.empty());
  EXPECT_NEAR(d.marks.front().t, 0.0, 1e-9);
  EXPECT_EQ(d.socket.size(), 4u) << "the socket sampled most often";
}

TEST(PlotData, FolderWithoutCaptureOrTimelineIsRefused) {
  EXPECT_THROW(load_plot_data(scratch_dir()), PlotError);
  std::ostringstream err;
  EXPECT_EQ(plot_run(scratch_dir(), err), 2);
  EXPECT_NE(err.str().find("neither capture.pcap nor timeline.jsonl"), std::string::npos) << err.str();
}

TEST(PlotData, ReportOfAnotherShapeIsBadInputNotACrash) {
  fs::path dir = run_dir(scratch_dir());
  std::ofstream(dir / "report.json") << R"({"verdict": 7, "scenario": {"name": ["x"]}})";
  std::ostringstream err;
  EXPECT_EQ(plot_run(dir, err), 2);  // the runner calls plot_run after every run: it must not throw
  EXPECT_NE(err.str().find("unexpected JSON"), std::string::npos) << err.str();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_text(const XmlDocument& doc, const std::string& needle) {
  for (const XmlElement& e : doc.elements)
    if ((e.name == "text" || e.name == "tspan" || e.name == "title") && e.text.find(needle) != std::string::npos)
      return true;
  return false;
}

TEST(PlotSvg, RunFolderBecomesWellFormedSvgWithEveryPart) {
  fs::path dir = run_dir(scratch_dir());
  std::ostringstream err;
  ASSERT_EQ(plot_run(dir, err), 0) << err.str();
  std::string svg = read_text(dir / "timeline.svg");
  XmlDocument doc = parse_xml(svg);
  ASSERT_TRUE(doc.ok()) << doc.error;
  ASSERT_FALSE(doc.elements.empty());
  EXPECT_EQ(doc.elements[0].name, "svg");
  EXPECT_EQ(doc.elements[0].attributes.at("xmlns"), "http://www.w3.org/2000/svg");
  // Title: the scenario (escaped in the file) and the verdict.
  EXPECT_TRUE(has_text(doc, "zero-window <test> & co"));
  EXPECT_TRUE(has_text(doc, "FAIL"));
  // Lanes and legend.
  for (const char* lane : {"SYN", "data", "retransmission", "probe", "FIN", "RST", "bare ACK", "peer sent"})
    EXPECT_TRUE(has_text(doc, lane)) << lane;
  EXPECT_TRUE(has_text(doc, "retransmission (1)"));
  // Marks with their tooltips.
  EXPECT_TRUE(has_text(doc, "frame 7 at 0.400000 s: retransmission seq 7..17 (10 bytes)"));
  EXPECT_TRUE(has_text(doc, "frame 11 at 1.200000 s: RST seq 18"));
  // Vertical lines with labels, model bands, the socket curves and the axes.
  EXPECT_TRUE(has_text(doc, "close-window (window)"));
  EXPECT_TRUE(has_text(doc, "route-del 192.0.2.2/32"));
  EXPECT_TRUE(has_text(doc, "RTO#1"));
  EXPECT_TRUE(has_text(doc, "probe 1 (late)"));
  EXPECT_TRUE(has_text(doc, "ECONNRESET"));
  EXPECT_TRUE(has_text(doc, "RTO"));
  EXPECT_TRUE(has_text(doc, "(ms, tcp_info.rto)"));
  EXPECT_TRUE(has_text(doc, "backoff"));
  EXPECT_TRUE(has_text(doc, "cwnd"));
  EXPECT_TRUE(has_text(doc, "time since the run's start (s)"));
  EXPECT_EQ(doc.all("path").size(), 3u) << "RTO, backoff and cwnd";
  if (tool_available("xmllint") || in_ci()) {
    auto r = shell("xmllint --noout " + (dir / "timeline.svg").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST(PlotSvg, LabelsOfCloseLinesGoToSeparateRows) {
  PlotData d;
  d.scenario = "close";
  d.end = 10;
  d.lines = {{1.0, PlotLine::Kind::kFault, "a rather long fault label"},
             {1.05, PlotLine::Kind::kKernelAction, "route-del 2001:db8::2/128"},
             {8.0, PlotLine::Kind::kKernelAction, "link-up"}};
  XmlDocument doc = parse_xml(render_svg(d));
  ASSERT_TRUE(doc.ok()) << doc.error;
  std::map<std::string, std::string> y;
  for (const XmlElement& e : doc.elements)
    if (e.name == "text") y[e.text] = e.attributes.count("y") ? e.attributes.at("y") : "";
  ASSERT_TRUE(y.count("a rather long fault label") && y.count("route-del 2001:db8::2/128") && y.count("link-up"));
  EXPECT_NE(y["a rather long fault label"], y["route-del 2001:db8::2/128"]);
  EXPECT_EQ(y["a rather long fault label"], y["link-up"]) << "far apart: the same row";
}

TEST(PlotSvg, EmptyDataStillRenders) {
  PlotData d;
  d.scenario = "nothing";
  XmlDocument doc = parse_xml(render_svg(d));
  ASSERT_TRUE(doc.ok()) << doc.error;
  EXPECT_TRUE(has_text(doc, "no samples of the client socket"));
}

// The issue asks for a browser's view: headless Chromium renders the SVG to a PNG.
TEST(PlotSvg, RendersInHeadlessChromium) {
  std::string browser = tool_available("chromium") ? "chromium" : tool_available("chromium-browser") ? "chromium-browser" : "";
  if (browser.empty()) {
    if (in_ci()) FAIL() << "CI=true but chromium is not installed (scripts/install-deps.sh --test)";
    GTEST_SKIP() << "chromium is not installed";
  }
  fs::path dir = run_dir(scratch_dir());
  std::ostringstream err;
  ASSERT_EQ(plot_run(dir, err), 0) << err.str();
  fs::path png = dir / "timeline.png";
  fs::path profile = dir / "chromium-profile";
  auto r = shell("timeout 120 " + browser +
                 " --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"
                 " --disable-sync --no-first-run --user-data-dir=" + profile.string() +
                 " --window-size=1200,800 --screenshot=" + png.string() + " " + (dir / "timeline.svg").string());
  ASSERT_TRUE(fs::exists(png)) << r.output;
  std::string bytes = read_text(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), 1200u) << "IHDR width";
  EXPECT_GT(bytes.size(), 10000u) << "a page with a drawing, not a blank one";
}

}  // namespace
}  // namespace tapfault::testing
