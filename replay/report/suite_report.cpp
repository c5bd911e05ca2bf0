// What `tapfault suite` prints and writes: the summary table, the JUnit XML, and the first
// mismatch of a run's report.json.
//
// JUnit XML has no formal standard; this writes the subset every CI server reads (Jenkins'
// junit plugin, GitLab's junit reports, GitHub test reporters): <testsuites> with one
// <testsuite>, a <testcase> per scenario with `time` in seconds, and a <failure> (an
// expectation failed) or an <error> (bad input, environment, crash, timeout) whose
// `message` is the table's first-mismatch text and whose body is the run's output.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tapfault/replay/report/suite.hpp"

namespace tapfault::replay {

namespace {

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::string seconds(std::chrono::nanoseconds d, int precision) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << std::chrono::duration<double>(d).count();
  return o.str();
}

std::chrono::nanoseconds total_time(const std::vector<SuiteResult>& results) {
  std::chrono::nanoseconds t{};
  for (const SuiteResult& r : results) t += r.duration;
  return t;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_length(const std::string& s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_length(text, i);
    if (n == 0) {  // not UTF-8: XML cannot carry it
      out += '?';
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text, i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t':
      case '\n': out += static_cast<char>(c); break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += '?';  // control characters are not allowed in XML 1.0
        else out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string first_mismatch(const std::filesystem::path& report_json) try {
  std::ifstream in(report_json);
  if (!in) return {};
  nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
  if (report.is_discarded() || !report.contains("checks") || !report["checks"].is_array()) return {};
  std::string file;
  if (report.contains("scenario") && report["scenario"].is_object())
    file = report["scenario"].value("file", std::string());
  auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (const nlohmann::json& c : report["checks"]) {
    if (!c.is_object() || c.value("ok", true)) continue;
    std::ostringstream o;
    if (!file.empty()) o << file << ":" << c.value("line", 0) << ": ";
    o << c.value("field", std::string("check")) << ": expected " << text(c.value("expected", nlohmann::json("?")))
      << " but saw " << text(c.value("actual", nlohmann::json("?")));
    return o.str();
  }
  return {};
} catch (const nlohmann::json::exception&) {  // a report of another shape: no message from it
  return {};
}

std::string format_suite_table(const std::vector<SuiteResult>& results, bool failures_only,
                               std::chrono::nanoseconds wall) {
  std::size_t name_width = 8;
  for (const SuiteResult& r : results) name_width = std::max(name_width, r.scenario.name.size());
  std::ostringstream o;
  o << std::left << std::setw(static_cast<int>(name_width)) << "SCENARIO" << "  VERDICT  DURATION  FIRST MISMATCH\n";
  std::size_t pass = 0, fail = 0, error = 0;
  for (const SuiteResult& r : results) {
    (r.verdict == SuiteVerdict::kPass ? pass : r.verdict == SuiteVerdict::kFail ? fail : error) += 1;
    if (failures_only && r.verdict == SuiteVerdict::kPass) continue;
    o << std::left << std::setw(static_cast<int>(name_width)) << r.scenario.name << "  " << std::setw(7)
      << to_string(r.verdict) << "  " << std::right << std::setw(6) << seconds(r.duration, 2) << " s";
    if (!r.message.empty()) o << "  " << one_line(r.message);
    o << "\n";
  }
  o << results.size() << (results.size() == 1 ? " scenario: " : " scenarios: ") << pass << " passed, " << fail
    << " failed, " << error << (error == 1 ? " error" : " errors");
  if (wall.count() > 0) o << " in " << seconds(wall, 1) << " s";
  o << "\n";
  return o.str();
}

std::string format_junit(const std::vector<SuiteResult>& results, const std::string& suite_name) {
  std::size_t failures = 0, errors = 0;
  for (const SuiteResult& r : results) {
    if (r.verdict == SuiteVerdict::kFail) ++failures;
    if (r.verdict == SuiteVerdict::kError) ++errors;
  }
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string total = seconds(total_time(results), 3);
  std::string counts = " tests=\"" + std::to_string(results.size()) + "\" failures=\"" + std::to_string(failures) +
                       "\" errors=\"" + std::to_string(errors) + "\"";

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<testsuites name=\"tapfault\"" << counts << " time=\"" << total << "\">\n";
  o << "  <testsuite name=\"" << xml_escape(suite_name) << "\"" << counts << " skipped=\"0\" time=\"" << total
    << "\" timestamp=\"" << stamp << "\">\n";
  for (const SuiteResult& r : results) {
    // classname groups by folder: "tapfault" for DIR itself, "tapfault.sub" for DIR/sub.
    std::string classname = "tapfault";
    auto slash = r.scenario.name.rfind('/');
    if (slash != std::string::npos) {
      std::string dir = r.scenario.name.substr(0, slash);
      std::replace(dir.begin(), dir.end(), '/', '.');
      classname += "." + dir;
    }
    o << "    <testcase name=\"" << xml_escape(r.scenario.name) << "\" classname=\"" << xml_escape(classname)
      << "\" file=\"" << xml_escape(r.scenario.file.string()) << "\" time=\"" << seconds(r.duration, 3) << "\"";
    if (r.verdict == SuiteVerdict::kPass) {
      o << "/>\n";
      continue;
    }
    const char* element = r.verdict == SuiteVerdict::kFail ? "failure" : "error";
    const char* type = r.verdict == SuiteVerdict::kFail ? "expectation"
                       : r.exit_code == 2 || !r.scenario.parse_error.empty() ? "bad-input"
                       : r.exit_code == 3 ? "environment"
                                          : "crash";
    o << ">\n      <" << element << " message=\"" << xml_escape(one_line(r.message)) << "\" type=\"" << type << "\">"
      << xml_escape(r.output.empty() ? r.message : r.output) << "</" << element << ">\n";
    o << "    </testcase>\n";
  }
  o << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace tapfault::replay
