// Helpers for integration tests: run the tapfault binary, read its report, and
// read a capture back with libpcap and the stack's own decoder.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/late_timers.hpp"
#include "support/shell.hpp"
#include "tapfault/stack/codec.hpp"

namespace tapfault::testing {



// Integration tests need root (or a user namespace) and /dev/net/tun. Outside CI a
// machine without them skips; in CI a missing capability is a failure.
#define TAPFAULT_REQUIRE_NETNS()                                                              \
  do {                                                                                       \
    std::string why;                                                                         \
    if (geteuid() != 0) why = "not root";                                                    \
    else if (access("/dev/net/tun", R_OK | W_OK) != 0) why = "/dev/net/tun is not usable";   \
    if (!why.empty()) {                                                                      \
      if (::tapfault::testing::in_ci()) FAIL() << "CI=true but the netns test cannot run: " << why; \
      GTEST_SKIP() << why;                                                                   \
    }                                                                                        \
  } while (0)

// A file of the scenario library: "lost-peer/lost-peer.yaml" (captures/scenarios/<case>/).
inline std::filesystem::path scenario_path(const std::string& name) {
  return std::filesystem::path(TAPFAULT_SOURCE_DIR) / "captures" / "scenarios" / name;
}

inline std::filesystem::path fresh_out_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("tapfault-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

inline ShellResult run_tapfault(const std::string& args) {
  return shell(std::string(TAPFAULT_BINARY) + " " + args);
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

struct CapturedFrame {
  double t = 0;  // seconds, from the pcap
  std::vector<std::uint8_t> bytes;
};

inline std::vector<CapturedFrame> read_pcap(const std::filesystem::path& p) {
  std::vector<CapturedFrame> frames;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(p.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc) {
    ADD_FAILURE() << "cannot open " << p << ": " << err;
    return frames;
  }
  EXPECT_EQ(pcap_datalink(pc), DLT_EN10MB);
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(pc, &h, &data) == 1)
    frames.push_back({static_cast<double>(h->ts.tv_sec) + h->ts.tv_usec * 1e-9,
                      std::vector<std::uint8_t>(data, data + h->caplen)});
  pcap_close(pc);
  return frames;
}

// TCP segments of a capture, decoded by the stack's codec (spans point into `frames`).
inline std::vector<stack::DecodedTcp> tcp_segments(const std::vector<CapturedFrame>& frames) {
  std::vector<stack::DecodedTcp> out;
  for (const auto& f : frames) {
    auto d = stack::decode_frame(f.bytes);
    if (auto* df = std::get_if<stack::DecodedFrame>(&d))
      if (auto* t = std::get_if<stack::DecodedTcp>(&df->body)) out.push_back(*t);
  }
  return out;
}

inline bool have_tool(const std::string& tool) {
  return shell("command -v " + tool + " >/dev/null").exit_code == 0;
}

}  // namespace tapfault::testing

namespace tapfault::testing {

// A run's outputs, read back.
struct RunOutput {
  ShellResult cli;
  nlohmann::json report;
  std::vector<CapturedFrame> frames;
  std::vector<nlohmann::json> timeline;

  std::vector<nlohmann::json> timeline_of(const std::string& source) const {
    std::vector<nlohmann::json> out;
    for (const auto& j : timeline)
      if (j.value("source", "") == source) out.push_back(j);
    return out;
  }
};

// Runs `command`, one or more tapfault runs at once writing into `outs`, again while the
// only failure is kernel timers fired after their model windows (in one run or several, and
// no run failed otherwise): at most kLateTimerAttempts times in all, with pauses
// (support/late_timers.hpp says why that alone may repeat). Each of `outs` is emptied first.
inline ShellResult run_repeating_late_timers(const std::string& command,
                                               const std::vector<std::filesystem::path>& outs,
                                               const std::string& what) {
  for (int attempt = 1;; ++attempt) {
    for (const auto& out : outs) std::filesystem::remove_all(out);
    StealMeter steal;
    ShellResult r = shell(command);
    std::string late;
    bool other_failure = false;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      if (!std::filesystem::exists(outs[i] / "report.json")) {
        other_failure = true;
        continue;
      }
      auto report = read_json(outs[i] / "report.json");
      if (report.value("verdict", "") == "pass") continue;
      if (auto l = late_timers_only(report)) late += "run " + std::to_string(i) + ": " + *l + "; ";
      else other_failure = true;
    }
    if (late.empty() || other_failure || attempt == kLateTimerAttempts) {
      // How many repeats it took, for the log (CI greps "repeats needed").
      if (attempt > 1) std::cerr << what << ": " << attempt - 1 << " repeats needed\n";
      return r;
    }
    std::cerr << "attempt " << attempt << " of " << kLateTimerAttempts << ": kernel timers late (" << late
              << "steal " << static_cast<int>(steal.fraction() * 100) << "%), running " << what << " again\n";
    pause_before_repeat(attempt);
  }
}

// `name` is the scenario's path under captures/scenarios without ".yaml"
// ("lost-peer/silent-peer"); `extra` goes after it (e.g. "--family ipv6" for a file that
// lists both families, or "-- CMD"), and `env` before the command (e.g. "SUDO_UID=65534").
// Repeated while only kernel timers failed (run_repeating_late_timers).
inline RunOutput run_scenario_file(const std::string& name, const std::string& extra = "",
                                   const std::string& env = "") {
  RunOutput r;
  std::string dir_name = name;
  std::replace(dir_name.begin(), dir_name.end(), '/', '_');
  if (auto family = extra.find("--family "); family != std::string::npos) dir_name += "-" + extra.substr(family + 9, 4);
  auto out = fresh_out_dir(dir_name);
  r.cli = run_repeating_late_timers((env.empty() ? "" : "env " + env + " ") + std::string(TAPFAULT_BINARY) +
                                        " run " + scenario_path(name + ".yaml").string() + " --out " +
                                        out.string() + " " + extra,
                                    {out}, name);
  if (std::filesystem::exists(out / "report.json")) r.report = read_json(out / "report.json");
  if (std::filesystem::exists(out / "capture.pcap")) r.frames = read_pcap(out / "capture.pcap");
  std::ifstream tl(out / "timeline.jsonl");
  for (std::string line; std::getline(tl, line);) r.timeline.push_back(nlohmann::json::parse(line));
  return r;
}

// A TCP segment from a capture with its time and 1-based frame number.
struct TimedSegment {
  double t = 0;
  std::size_t frame = 0;
  stack::DecodedTcp seg;
};

inline std::vector<TimedSegment> timed_segments(const std::vector<CapturedFrame>& frames) {
  std::vector<TimedSegment> out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto d = stack::decode_frame(frames[i].bytes);
    if (auto* df = std::get_if<stack::DecodedFrame>(&d))
      if (auto* t = std::get_if<stack::DecodedTcp>(&df->body)) out.push_back({frames[i].t, i + 1, *t});
  }
  return out;
}

}  // namespace tapfault::testing
