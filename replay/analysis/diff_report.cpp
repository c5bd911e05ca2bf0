// DiffResult as text (stdout of `tapfault diff` and `run`) and as JSON (report.json).
// Both say what t = 0 is before giving any time.
#include <cstdio>

#include "tapfault/replay/analysis/diff.hpp"

namespace tapfault::replay {
namespace {

double seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }
double millis(Nanos d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string pad_right(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string capture_time(Nanos at) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(at);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(s.count()),
                static_cast<long long>((at - s).count()));
  return buf;
}

nlohmann::json opt_seconds(const std::optional<Nanos>& d) {
  return d ? nlohmann::json(seconds(*d)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DiffResult::to_json() const {
  nlohmann::json j;
  j["capture"] = capture;
  j["model"] = to_string(model);
  j["flow"] = {{"index", flow_index}, {"name", flow}, {"kernel_side", kernel_side}};
  j["times"] = "seconds relative to origin";
  if (origin)
    j["origin"] = {{"frame", origin->frame},
                   {"capture_time", capture_time(origin->at)},
                   {"what", origin->what},
                   {"model_origin", expectation.origin}};
  else
    j["origin"] = nullptr;
  j["tolerance_ms"] = millis(tolerance);
  j["capture_end_s"] = opt_seconds(capture_end);
  j["hz"] = expectation.hz;
  nlohmann::json rows_json = nlohmann::json::array();
  for (const DiffRow& r : rows) {
    rows_json.push_back({{"event", r.event},
                         {"kind", model::to_string(r.kind)},
                         {"number", r.number},
                         {"expected", r.expected},
                         {"certain", r.certain},
                         {"nominal_s", opt_seconds(r.nominal)},
                         {"earliest_s", r.expected ? nlohmann::json(seconds(r.earliest)) : nlohmann::json(nullptr)},
                         {"latest_s", r.expected ? nlohmann::json(seconds(r.latest)) : nlohmann::json(nullptr)},
                         {"observed_s", opt_seconds(r.observed)},
                         {"frame", r.frame ? nlohmann::json(r.frame) : nlohmann::json(nullptr)},
                         {"deviation_ms", millis(r.deviation)},
                         {"verdict", to_string(r.verdict)}});
  }
  j["events"] = rows_json;
  const GiveUpRow& g = give_up;
  j["give_up"] = {{"expected", g.expected},
                  {"nominal_s", opt_seconds(g.nominal)},
                  {"earliest_s", g.expected ? nlohmann::json(seconds(g.earliest)) : nlohmann::json(nullptr)},
                  {"latest_s", g.expected ? nlohmann::json(seconds(g.latest)) : nlohmann::json(nullptr)},
                  {"expected_error", g.expected ? nlohmann::json(g.expected_error) : nlohmann::json(nullptr)},
                  {"expected_rst", g.expected_rst},
                  {"reason", g.reason},
                  {"observed_s", opt_seconds(g.observed)},
                  {"observed_error", g.observed_error ? nlohmann::json(*g.observed_error) : nlohmann::json(nullptr)},
                  {"observed_rst", g.observed_rst},
                  {"rst_frame", g.rst_frame ? nlohmann::json(g.rst_frame) : nlohmann::json(nullptr)},
                  {"deviation_ms", millis(g.deviation)},
                  {"verdict", to_string(g.verdict)}};
  j["expected_events"] = expected_events ? nlohmann::json(*expected_events) : nlohmann::json(nullptr);
  j["observed_events"] = observed_events;
  j["notes"] = notes;
  j["model_notes"] = expectation.notes;
  j["ok"] = ok;
  j["first_mismatch"] = first_mismatch;
  if (!input_error.empty()) j["input_error"] = input_error;
  return j;
}

std::string DiffResult::to_table() const {
  std::string out = "diff: " + capture + ", model " + to_string(model) + ", connection " + std::to_string(flow_index) +
                    ": " + flow + " (kernel side: " + kernel_side + ")\n";
  if (origin) {
    out += "t = 0: frame " + std::to_string(origin->frame) + ", " + origin->what + ", capture time " +
           capture_time(origin->at) + "\n";
    out += "       = the model's origin: " + expectation.origin + "\n";
  } else {
    out += "t = 0: not found in the capture (the model's origin: " + expectation.origin + ")\n";
  }
  out += "times in seconds from t = 0; windows are the model's, checked with a tolerance of " +
         fixed(millis(tolerance), 3) + " ms on both sides (HZ=" + std::to_string(expectation.hz) + ")\n";
  out += pad_left("#", 4) + "  " + pad_right("event", 12) + pad_left("nominal", 10) + "  " +
         pad_right("window [earliest, latest]", 27) + pad_left("observed", 10) + pad_left("frame", 8) +
         pad_left("dev ms", 10) + "  verdict\n";
  int n = 0;
  for (const DiffRow& r : rows) {
    std::string window = r.expected ? "[" + fixed(seconds(r.earliest), 3) + ", " + fixed(seconds(r.latest), 3) + "]" : "-";
    out += pad_left(std::to_string(++n), 4) + "  " + pad_right(r.event, 12) +
           pad_left(r.nominal ? fixed(seconds(*r.nominal), 3) : "-", 10) + "  " + pad_right(window, 27) +
           pad_left(r.observed ? fixed(seconds(*r.observed), 3) : "-", 10) +
           pad_left(r.frame ? std::to_string(r.frame) : "-", 8) +
           pad_left(r.observed ? fixed(millis(r.deviation), 1) : "-", 10) + "  " + to_string(r.verdict) +
           (r.certain ? "" : " (some wheel phases only)") + "\n";
  }
  const GiveUpRow& g = give_up;
  if (g.expected) {
    std::string window = "[" + fixed(seconds(g.earliest), 3) + ", " + fixed(seconds(g.latest), 3) + "]";
    out += pad_left(std::to_string(++n), 4) + "  " + pad_right("give-up", 12) +
           pad_left(g.nominal ? fixed(seconds(*g.nominal), 3) : "-", 10) + "  " + pad_right(window, 27) +
           pad_left(g.observed ? fixed(seconds(*g.observed), 3) : "-", 10) +
           pad_left(g.rst_frame ? std::to_string(g.rst_frame) : "-", 8) +
           pad_left(g.observed ? fixed(millis(g.deviation), 1) : "-", 10) + "  " + to_string(g.verdict) + "\n";
    out += "      expected " + g.expected_error + (g.expected_rst ? " with an RST" : ", no RST") +
           (g.reason.empty() ? "" : " (" + g.reason + ")") + "; seen: " +
           (g.observed_error ? "the application saw " + *g.observed_error : std::string("no application error given")) +
           (g.observed_rst ? ", the kernel sent an RST" : ", no RST from the kernel") + "\n";
  } else {
    out += "      no give-up expected within the model's limits; seen: " +
           (g.observed_error ? "the application saw " + *g.observed_error : std::string("no application error given")) +
           (g.observed_rst ? ", an RST" : "") + "  " + to_string(g.verdict) + "\n";
  }
  if (capture_end) out += "the capture ends at " + fixed(seconds(*capture_end), 3) + " s\n";
  if (expected_events)
    out += "events: " + std::to_string(observed_events) + " seen, " + std::to_string(*expected_events) +
           " expected by the scenario\n";
  for (const std::string& note : notes) out += "  parameter: " + note + "\n";
  for (const std::string& note : expectation.notes) out += "  model: " + note + "\n";
  if (!input_error.empty()) out += "  model input: " + input_error + "\n";
  out += ok ? "result: ok\n" : "result: MISMATCH " + first_mismatch + "\n";
  return out;
}

}  // namespace tapfault::replay
