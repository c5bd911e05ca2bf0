// Naming and the text table of an Expectation (`tapfault model`).
#include <cstdio>
#include <string>

#include "tapfault/replay/model/expectation.hpp"

namespace tapfault::replay::model {

namespace {

std::string fixed3(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double>(d).count());
  return buf;
}

std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string pad_right(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::kTlp: return "TLP";
    case EventKind::kRto: return "RTO";
    case EventKind::kSyn: return "SYN";
    case EventKind::kProbe: return "probe";
    case EventKind::kKeepalive: return "keepalive";
    case EventKind::kGiveUp: return "give-up";
  }
  return "?";
}

std::string label(const ExpectedEvent& e) {
  if (e.kind == EventKind::kTlp || e.kind == EventKind::kGiveUp) return to_string(e.kind);
  return std::string(to_string(e.kind)) + "#" + std::to_string(e.index);
}

std::string to_table(const Expectation& e) {
  std::string out = "model: " + e.model + "  (t = 0: " + e.origin + ", HZ=" + std::to_string(e.hz) + ")\n";
  out += pad_left("#", 4) + "  " + pad_right("event", 13) + pad_left("nominal s", 12) +
         "  window [earliest, latest] s\n";
  int row = 0;
  for (const ExpectedEvent& ev : e.events) {
    ++row;
    std::string line = pad_left(std::to_string(row), 4) + "  " + pad_right(label(ev), 13) +
                       pad_left(ev.nominal ? fixed3(*ev.nominal) : "-", 12) + "  [" + fixed3(ev.earliest) +
                       ", " + fixed3(ev.latest) + "]";
    if (ev.kind == EventKind::kGiveUp && e.give_up) {
      line += "  " + e.give_up->error + (e.give_up->rst ? ", RST" : ", no RST");
      if (!e.give_up->reason.empty()) line += " (" + e.give_up->reason + ")";
    }
    if (!ev.certain) line += "  (some wheel phases only)";
    out += line + "\n";
  }
  if (!e.give_up) out += "      no give-up within the limits\n";
  if (e.truncated) out += "      (truncated by max_events/horizon)\n";
  for (const std::string& n : e.notes) out += "  note: " + n + "\n";
  return out;
}

}  // namespace tapfault::replay::model
