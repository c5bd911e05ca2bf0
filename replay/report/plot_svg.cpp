// render_svg(): PlotData -> one standalone SVG page, laid out top to bottom:
//   title (scenario and verdict) and notes; the legend; the labels of the vertical lines
//   (faults, kernel actions); the transmissions panel, one lane per MarkKind, with the
//   model's windows as bands; the RTO, backoff and cwnd panels; the time axis.
// Labels that would overlap go to the next row (up to a few rows); marks carry <title>
// tooltips with their frame number and sequence range. Text widths are estimated (no
// font metrics here), generously, so that estimates err towards more space.
#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "tapfault/replay/report/plot.hpp"
#include "tapfault/replay/report/suite.hpp"  // xml_escape

namespace tapfault::replay {

namespace {

constexpr double kWidth = 1200;
constexpr double kLeft = 120;   // lane labels and y-axis ticks
constexpr double kRight = 40;
constexpr double kLaneHeight = 20;
constexpr double kPanelHeight = 80;
constexpr double kPanelGap = 34;  // room for the next panel's title
constexpr double kRowHeight = 13;
constexpr std::size_t kMaxTooltips = 4000;

constexpr std::array<const char*, kMarkKinds> kKindColours = {
    "#6a3d9a",  // SYN
    "#1f78b4",  // data
    "#e31a1c",  // retransmission
    "#ff7f00",  // probe
    "#33a02c",  // FIN
    "#000000",  // RST
    "#9e9e9e",  // bare ACK
    "#8c6d31",  // peer
    "#555555",  // client
};
constexpr const char* kAlertColour = "#d6002f";
constexpr const char* kFaultColour = "#c51b7d";
constexpr const char* kKernelColour = "#01665e";
constexpr const char* kBandColour = "#2ca02c";
constexpr const char* kBandMismatchColour = "#d6002f";

std::string num(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << v;
  std::string s = o.str();
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

std::string esc(const std::string& s) { return xml_escape(s); }

double text_width(const std::string& s, double font_size) { return static_cast<double>(s.size()) * font_size * 0.6; }

// 1, 2 or 5 times a power of ten, near range / target.
double nice_step(double range, int target) {
  if (!(range > 0)) return 1;
  double raw = range / target;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string tick_label(double v, double step) {
  int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << (std::fabs(v) < step * 1e-6 ? 0.0 : v);
  return o.str();
}

// Labels placed in rows so that none overlaps another: each goes to the first row whose
// last label ends left of it; -1 when every row is taken.
struct LabelSlot {
  double x = 0;  // where the text starts
  int row = -1;
};
std::vector<LabelSlot> layout_labels(const std::vector<std::pair<double, std::string>>& anchors, double font_size,
                                     int max_rows, double left, double right) {
  std::vector<LabelSlot> slots(anchors.size());
  std::vector<double> row_end;
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    double w = text_width(anchors[i].second, font_size);
    double x = anchors[i].first + 3;
    if (x + w > right) x = std::max(left, anchors[i].first - 3 - w);  // left of the anchor at the right edge
    slots[i].x = x;
    for (std::size_t r = 0; r < row_end.size(); ++r) {
      if (row_end[r] + 6 <= x) {
        slots[i].row = static_cast<int>(r);
        row_end[r] = x + w;
        break;
      }
    }
    if (slots[i].row < 0 && static_cast<int>(row_end.size()) < max_rows) {
      slots[i].row = static_cast<int>(row_end.size());
      row_end.push_back(x + w);
    }
  }
  return slots;
}

int rows_used(const std::vector<LabelSlot>& slots) {
  int n = 0;
  for (const LabelSlot& s : slots) n = std::max(n, s.row + 1);
  return n;
}

class Svg {
 public:
  explicit Svg(const PlotData& d) : d_(d) {}
  std::string render();

 private:
  double x(double t) const { return kLeft + (t - t0_) / (t1_ - t0_) * (kWidth - kLeft - kRight); }
  void title();
  void legend();
  void line_labels();
  void lanes();
  void bands_in(double top, double bottom);
  void socket_panel(const char* name, const char* unit_title, double PlotSocketSample::*field, bool integer);
  void time_axis();
  void vertical_lines(double top, double bottom);

  const PlotData& d_;
  std::ostringstream o_;
  std::ostringstream back_;  // under the grid and the vertical lines
  std::ostringstream body_;
  double y_ = 0;
  double t0_ = 0, t1_ = 1, step_ = 0.1;
  double lines_top_ = 0;
  double plot_top_ = 0;  // top of the first panel (gridlines start here)
  std::vector<LabelSlot> line_slots_;
};

void Svg::title() {
  std::string verdict = d_.verdict.empty() ? "no report" : d_.verdict;
  std::string upper = verdict;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  const char* colour = verdict == "pass" ? "#1a7f37" : verdict == "fail" ? "#cf222e" : "#6e7781";
  body_ << "<text x=\"" << kLeft << "\" y=\"28\" font-size=\"18\" font-weight=\"bold\">" << esc(d_.scenario)
        << " <tspan fill=\"" << colour << "\">" << esc(upper) << "</tspan></text>\n";
  std::string sub = "time in seconds since the run's start";
  if (!d_.socket_name.empty()) sub += "; socket " + d_.socket_name;
  body_ << "<text x=\"" << kLeft << "\" y=\"46\" font-size=\"11\" fill=\"#57606a\">" << esc(sub) << "</text>\n";
  y_ = 46;
  for (const std::string& n : d_.notes) {
    y_ += 14;
    body_ << "<text x=\"" << kLeft << "\" y=\"" << y_ << "\" font-size=\"11\" fill=\"#9a6700\">note: " << esc(n)
          << "</text>\n";
  }
}

void Svg::legend() {
  std::array<std::size_t, kMarkKinds> counts{};
  for (const PlotMark& m : d_.marks) ++counts[static_cast<std::size_t>(m.kind)];
  struct Item {
    std::string text;
    std::string swatch;  // SVG for a 14x10 swatch at (0,0)
  };
  std::vector<Item> items;
  for (int k = 0; k < kMarkKinds; ++k) {
    std::string name = to_string(static_cast<MarkKind>(k));
    if (static_cast<MarkKind>(k) == MarkKind::kProbe) name = "probe (zero-window or keepalive)";
    items.push_back({name + " (" + std::to_string(counts[k]) + ")",
                     std::string("<rect x=\"5\" y=\"-1\" width=\"4\" height=\"12\" fill=\"") + kKindColours[k] + "\"/>"});
  }
  items.push_back({"peer fault", std::string("<line x1=\"7\" y1=\"-2\" x2=\"7\" y2=\"12\" stroke=\"") + kFaultColour +
                                     "\" stroke-width=\"2\" stroke-dasharray=\"4,2\"/>"});
  items.push_back({"kernel action", std::string("<line x1=\"7\" y1=\"-2\" x2=\"7\" y2=\"12\" stroke=\"") +
                                        kKernelColour + "\" stroke-width=\"2\" stroke-dasharray=\"2,2\"/>"});
  if (!d_.bands.empty())
    items.push_back({"model window", std::string("<rect x=\"0\" y=\"0\" width=\"14\" height=\"10\" fill=\"") +
                                         kBandColour + "\" fill-opacity=\"0.25\"/>"});
  y_ += 22;
  double lx = kLeft;
  for (const Item& it : items) {
    double w = 20 + text_width(it.text, 10) + 14;  // legend words are short: a tighter estimate
    if (lx + w > kWidth - kRight && lx > kLeft) {
      lx = kLeft;
      y_ += 16;
    }
    body_ << "<g transform=\"translate(" << num(lx) << "," << num(y_ - 9) << ")\">" << it.swatch << "<text x=\"20\" y=\"9\" font-size=\"11\">"
          << esc(it.text) << "</text></g>\n";
    lx += w;
  }
}

void Svg::line_labels() {
  std::vector<std::pair<double, std::string>> anchors;
  for (const PlotLine& l : d_.lines) anchors.emplace_back(x(l.t), l.label);
  line_slots_ = layout_labels(anchors, 11, 4, kLeft, kWidth - 4);
  lines_top_ = y_ + 12;
  int rows = rows_used(line_slots_);
  for (std::size_t i = 0; i < d_.lines.size(); ++i) {
    const PlotLine& l = d_.lines[i];
    if (line_slots_[i].row < 0) continue;  // no room: the tooltip on the line still says it
    const char* colour = l.kind == PlotLine::Kind::kFault ? kFaultColour : kKernelColour;
    double ty = lines_top_ + 10 + line_slots_[i].row * kRowHeight;
    body_ << "<text x=\"" << num(line_slots_[i].x) << "\" y=\"" << num(ty) << "\" font-size=\"11\" fill=\"" << colour
          << "\">" << esc(l.label) << "</text>\n";
  }
  y_ = lines_top_ + rows * kRowHeight + 8;
}

void Svg::bands_in(double top, double bottom) {
  std::vector<std::pair<double, std::string>> anchors;
  for (const PlotBand& b : d_.bands) {
    double x0 = x(b.earliest), x1 = std::max(x(b.latest), x0 + 2);  // a 4 ms window stays visible
    std::string tip = b.label + ": expected between " + tick_label(b.earliest, 0.001) + " and " +
                      tick_label(b.latest, 0.001) + " s (nominal " + tick_label(b.nominal, 0.001) + " s)";
    const char* colour = b.mismatch ? kBandMismatchColour : kBandColour;
    body_ << "<g><title>" << esc(tip) << "</title><rect x=\"" << num(x0) << "\" y=\"" << num(top) << "\" width=\""
          << num(x1 - x0) << "\" height=\"" << num(bottom - top) << "\" fill=\"" << colour
          << "\" fill-opacity=\"0.18\"/><line x1=\"" << num(x(b.nominal)) << "\" y1=\"" << num(top) << "\" x2=\""
          << num(x(b.nominal)) << "\" y2=\"" << num(bottom) << "\" stroke=\"" << colour
          << "\" stroke-opacity=\"0.6\" stroke-dasharray=\"3,3\"/></g>\n";
    anchors.emplace_back(x0 - 3, b.label);  // the text starts where the window does
  }
  auto slots = layout_labels(anchors, 10, 2, kLeft, kWidth - 4);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].row < 0) continue;
    body_ << "<text x=\"" << num(slots[i].x) << "\" y=\"" << num(bottom + 11 + slots[i].row * 12)
          << "\" font-size=\"10\" fill=\"" << (d_.bands[i].mismatch ? kBandMismatchColour : "#1e6b1e") << "\">"
          << esc(anchors[i].second) << "</text>\n";
  }
  y_ = bottom + (d_.bands.empty() ? 0 : rows_used(slots) * 12 + 2);
}

void Svg::lanes() {
  double top = y_;
  plot_top_ = top;
  double bottom = top + kMarkKinds * kLaneHeight;
  body_ << "<text x=\"" << kLeft << "\" y=\"" << num(top - 4) << "\" font-size=\"12\" font-weight=\"bold\">"
        << "segments the kernel sent (capture.pcap), the peer's frames and the client's events</text>\n";
  body_ << "<rect x=\"" << kLeft << "\" y=\"" << num(top) << "\" width=\"" << num(kWidth - kLeft - kRight)
        << "\" height=\"" << num(bottom - top) << "\" fill=\"none\" stroke=\"#d0d7de\"/>\n";
  for (int k = 0; k < kMarkKinds; ++k) {
    double cy = top + (k + 0.5) * kLaneHeight;
    if (k % 2) back_ << "<rect x=\"" << kLeft << "\" y=\"" << num(cy - kLaneHeight / 2) << "\" width=\""
                     << num(kWidth - kLeft - kRight) << "\" height=\"" << kLaneHeight << "\" fill=\"#f6f8fa\"/>\n";
    body_ << "<text x=\"" << kLeft - 8 << "\" y=\"" << num(cy + 4) << "\" font-size=\"11\" text-anchor=\"end\" fill=\""
          << kKindColours[k] << "\">" << esc(to_string(static_cast<MarkKind>(k))) << "</text>\n";
  }
  bands_in(top, bottom);
  double after_bands = y_;
  bool tooltips = d_.marks.size() <= kMaxTooltips;
  double label_end = 0;
  for (const PlotMark& m : d_.marks) {
    int k = static_cast<int>(m.kind);
    double cy = top + (k + 0.5) * kLaneHeight;
    const char* colour = m.alert ? kAlertColour : kKindColours[k];
    body_ << "<rect x=\"" << num(x(m.t) - 1.5) << "\" y=\"" << num(cy - 6) << "\" width=\"3\" height=\"12\" fill=\""
          << colour << "\">";
    if (tooltips) body_ << "<title>" << esc(m.detail) << "</title>";
    body_ << "</rect>\n";
    if (!m.label.empty() && x(m.t) + 4 >= label_end) {
      double w = text_width(m.label, 10);
      bool left = x(m.t) + 4 + w > kWidth - 4;  // at the right edge: before the mark
      body_ << "<text x=\"" << num(left ? x(m.t) - 4 : x(m.t) + 4) << "\" y=\"" << num(cy + 4)
            << "\" font-size=\"10\"" << (left ? " text-anchor=\"end\"" : "") << " fill=\"" << colour << "\">"
            << esc(m.label) << "</text>\n";
      label_end = left ? x(m.t) : x(m.t) + 4 + w;
    }
  }
  y_ = after_bands + kPanelGap;
}

void Svg::socket_panel(const char* name, const char* unit_title, double PlotSocketSample::*field, bool integer) {
  double top = y_;
  double bottom = top + kPanelHeight;
  body_ << "<text x=\"" << kLeft << "\" y=\"" << num(top - 6) << "\" font-size=\"12\" font-weight=\"bold\">" << name
        << " <tspan font-weight=\"normal\" fill=\"#57606a\">" << unit_title << "</tspan></text>\n";
  body_ << "<rect x=\"" << kLeft << "\" y=\"" << num(top) << "\" width=\"" << num(kWidth - kLeft - kRight)
        << "\" height=\"" << kPanelHeight << "\" fill=\"none\" stroke=\"#d0d7de\"/>\n";
  double vmax = 0;
  for (const PlotSocketSample& s : d_.socket) vmax = std::max(vmax, s.*field);
  double step = nice_step(vmax > 0 ? vmax : 1, 3);
  if (integer) step = std::max(1.0, std::round(step));
  double top_value = std::max(step, std::ceil(vmax / step) * step);
  auto y = [&](double v) { return bottom - v / top_value * (kPanelHeight - 6); };
  for (double v = 0; v <= top_value + step / 2; v += step) {
    body_ << "<line x1=\"" << kLeft - 4 << "\" y1=\"" << num(y(v)) << "\" x2=\"" << kLeft << "\" y2=\"" << num(y(v))
          << "\" stroke=\"#57606a\"/><text x=\"" << kLeft - 7 << "\" y=\"" << num(y(v) + 4)
          << "\" font-size=\"10\" text-anchor=\"end\" fill=\"#57606a\">" << tick_label(v, step) << "</text>\n";
  }
  if (d_.socket.empty()) {
    body_ << "<text x=\"" << num(kLeft + 10) << "\" y=\"" << num(top + kPanelHeight / 2)
          << "\" font-size=\"11\" fill=\"#9a6700\">no samples of the client socket in timeline.jsonl</text>\n";
    y_ = bottom + kPanelGap;
    return;
  }
  std::ostringstream path;
  path << "M" << num(x(d_.socket.front().t)) << "," << num(y(d_.socket.front().*field));
  for (std::size_t i = 1; i < d_.socket.size(); ++i)
    path << " H" << num(x(d_.socket[i].t)) << " V" << num(y(d_.socket[i].*field));
  body_ << "<path d=\"" << path.str() << "\" fill=\"none\" stroke=\"#0550ae\" stroke-width=\"1.8\"/>\n";
  // The value at each change, as a tooltip (only where it changes: samples come every 50 ms).
  for (std::size_t i = 0; i < d_.socket.size(); ++i) {
    if (i > 0 && d_.socket[i].*field == d_.socket[i - 1].*field) continue;
    body_ << "<circle cx=\"" << num(x(d_.socket[i].t)) << "\" cy=\"" << num(y(d_.socket[i].*field))
          << "\" r=\"2\" fill=\"#0550ae\"><title>" << esc(std::string(name) + " " + tick_label(d_.socket[i].*field, 0.1) +
                                                         " at " + tick_label(d_.socket[i].t, 0.001) + " s (" +
                                                         d_.socket[i].state + ")")
          << "</title></circle>\n";
  }
  y_ = bottom + kPanelGap;
}

void Svg::time_axis() {
  double axis_y = y_ - kPanelGap;
  for (double t = t0_; t <= t1_ + step_ / 2; t += step_) {
    body_ << "<line x1=\"" << num(x(t)) << "\" y1=\"" << num(axis_y) << "\" x2=\"" << num(x(t)) << "\" y2=\""
          << num(axis_y + 5) << "\" stroke=\"#57606a\"/><text x=\"" << num(x(t)) << "\" y=\"" << num(axis_y + 18)
          << "\" font-size=\"11\" text-anchor=\"middle\">" << tick_label(t, step_) << "</text>\n";
  }
  body_ << "<text x=\"" << num(kLeft + (kWidth - kLeft - kRight) / 2) << "\" y=\"" << num(axis_y + 36)
        << "\" font-size=\"12\" text-anchor=\"middle\">time since the run's start (s)</text>\n";
  y_ = axis_y + 48;
}

void Svg::vertical_lines(double top, double bottom) {
  for (double t = t0_; t <= t1_ + step_ / 2; t += step_)
    o_ << "<line x1=\"" << num(x(t)) << "\" y1=\"" << num(plot_top_) << "\" x2=\"" << num(x(t)) << "\" y2=\""
       << num(bottom) << "\" stroke=\"#eaeef2\"/>\n";
  for (std::size_t i = 0; i < d_.lines.size(); ++i) {
    const PlotLine& l = d_.lines[i];
    bool fault = l.kind == PlotLine::Kind::kFault;
    // From its own label's row down, so that it crosses no label of an upper row.
    double y1 = line_slots_[i].row < 0 ? plot_top_ : top + line_slots_[i].row * kRowHeight;
    std::string tip = std::string(fault ? "peer fault: " : "kernel action: ") + l.label + " at " +
                      tick_label(l.t, 0.000001) + " s";
    o_ << "<line x1=\"" << num(x(l.t)) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x(l.t)) << "\" y2=\""
       << num(bottom) << "\" stroke=\"" << (fault ? kFaultColour : kKernelColour) << "\" stroke-width=\"1.5\""
       << " stroke-dasharray=\"" << (fault ? "6,3" : "2,3") << "\"><title>" << esc(tip) << "</title></line>\n";
  }
}

std::string Svg::render() {
  double first = 0, last = std::max(d_.end, 0.001);
  for (const PlotMark& m : d_.marks) first = std::min(first, m.t);
  for (const PlotLine& l : d_.lines) first = std::min(first, l.t);
  step_ = nice_step(last - first, 10);
  t0_ = std::floor(first / step_) * step_;
  t1_ = std::max(std::ceil(last / step_ - 1e-9) * step_, t0_ + step_);

  title();
  legend();
  line_labels();
  y_ += 18;  // the first panel's title
  lanes();
  socket_panel("RTO", "(ms, tcp_info.rto)", &PlotSocketSample::rto_ms, false);
  socket_panel("backoff", "(tcp_info.backoff: RTO or probe doublings)", &PlotSocketSample::backoff, true);
  socket_panel("cwnd", "(segments, tcp_info.snd_cwnd)", &PlotSocketSample::cwnd, true);
  double panels_bottom = y_ - kPanelGap;
  time_axis();

  double height = std::ceil(y_);
  std::string title_text = d_.scenario + (d_.verdict.empty() ? "" : " " + d_.verdict);
  o_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
     << "\" viewBox=\"0 0 " << kWidth << " " << height << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
     << "<title>" << esc(title_text) << "</title>\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
     << back_.str();
  vertical_lines(lines_top_, panels_bottom);
  o_ << body_.str() << "</svg>\n";
  return o_.str();
}

}  // namespace

std::string render_svg(const PlotData& data) { return Svg(data).render(); }

}  // namespace tapfault::replay
