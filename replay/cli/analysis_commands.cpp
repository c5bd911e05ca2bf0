// `tapfault diff`, `tapfault model`, `tapfault compare` (see analysis_commands.hpp).
// Flag values are checked by CLI11 validators, so a bad one is reported by CLI11 with
// the flag's name and exit code 2 like any other parse error.
#include "analysis_commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>

#include "tapfault/replay/analysis/compare.hpp"
#include "tapfault/replay/analysis/diff.hpp"

namespace tapfault::replay {
namespace {

constexpr int kPass = 0;
constexpr int kMismatch = 1;
constexpr int kBadInput = 2;
constexpr int kEnvironment = 3;

constexpr const char* kExitCodes =
    "Exit codes: 0 pass, 1 mismatch (the first one is printed), 2 bad input (unreadable capture, bad flag value),\n"
    "3 anything else.\n";

// "204ms", "1.5s", "200us", "2min", "100ns"; a bare number has no unit and is refused.
std::optional<Nanos> parse_duration(std::string_view text) {
  std::size_t split = 0;
  while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.')) ++split;
  if (split == 0) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + split, v);
  if (ec != std::errc() || end != text.data() + split || !std::isfinite(v)) return std::nullopt;
  std::string_view unit = text.substr(split);
  double ns = 0;
  if (unit == "ns") ns = v;
  else if (unit == "us") ns = v * 1e3;
  else if (unit == "ms") ns = v * 1e6;
  else if (unit == "s") ns = v * 1e9;
  else if (unit == "min") ns = v * 60e9;
  else return std::nullopt;
  if (ns > 1e18) return std::nullopt;
  return Nanos(static_cast<std::int64_t>(std::llround(ns)));
}

const CLI::Validator kDuration(
    [](std::string& s) -> std::string {
      return parse_duration(s) ? "" : "\"" + s + "\" is not a duration with a unit (204ms, 1.5s, 200us, 2min)";
    },
    "DURATION");

std::pair<std::string, std::string> split_assignment(const std::string& s) {
  auto eq = s.find('=');
  if (eq == std::string::npos) return {s, ""};
  return {s.substr(0, eq), s.substr(eq + 1)};
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

const CLI::Validator kSysctl(
    [](std::string& s) -> std::string {
      auto [name, value] = split_assignment(s);
      if (value.empty()) return "\"" + s + "\" is not NAME=VALUE (net.ipv4.tcp_retries2=5)";
      const auto& known = known_sysctls();
      if (std::find(known.begin(), known.end(), canonical_sysctl(name)) == known.end())
        return "unknown sysctl \"" + name + "\"; the models read " + joined(known);
      return "";
    },
    "NAME=VALUE");

const CLI::Validator kSockopt(
    [](std::string& s) -> std::string {
      auto [name, value] = split_assignment(s);
      const auto& known = known_socket_options();
      if (std::find(known.begin(), known.end(), name) == known.end())
        return "unknown socket option \"" + name + "\"; the models read " + joined(known);
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        return "\"" + s + "\" is not NAME=INTEGER (TCP_USER_TIMEOUT=3000)";
      return "";
    },
    "NAME=INT");

const CLI::Validator kFlow(
    [](std::string& s) -> std::string {
      return FlowSelector::parse(s) ? "" : "\"" + s + "\" is not N, ADDR:PORT-ADDR:PORT or :PORT";
    },
    "FLOW");

const CLI::Validator kKernelVersion(
    [](std::string& s) -> std::string {
      return model::KernelVersion::parse(s) ? "" : "\"" + s + "\" is not a kernel version (6.1, 6.12.118, ...)";
    },
    "VERSION");

// The model's inputs from flags (all validated already).
struct ModelFlags {
  std::string kind = "rto";
  std::vector<std::string> sysctls;
  std::vector<std::string> sockopts;
  std::string rto, srtt, rttvar;
  int hz = model::kDefaultHz;
  std::string kernel;
  int packets_out = 0;
  bool json = false;

  void add_to(CLI::App* sub, bool with_packets_out) {
    sub->add_option("--sysctl", sysctls, "A sysctl of the kernel under test, repeatable: net.ipv4.tcp_retries2=5")
        ->check(kSysctl)
        ->allow_extra_args(false);
    sub->add_option("--sockopt", sockopts, "A socket option the application set, repeatable: TCP_USER_TIMEOUT=3000")
        ->check(kSockopt)
        ->allow_extra_args(false);
    sub->add_option("--rto", rto, "The socket's RTO (TCP_INFO tcpi_rto, ss rto:), e.g. 204ms")->check(kDuration);
    sub->add_option("--srtt", srtt, "Smoothed RTT (tcpi_rtt); default: from the capture, else 100us")->check(kDuration);
    sub->add_option("--rttvar", rttvar,
                    "tcpi_rttvar (ss rtt:SRTT/RTTVAR), mdev/4: the RTO uses max(4*it, rto_min); default max(2*srtt, rto_min)")
        ->check(kDuration);
    sub->add_option("--hz", hz, "CONFIG_HZ of the kernel under test (default 250)")->check(CLI::Range(1, 10000));
    sub->add_option("--kernel", kernel,
                    "The kernel's version, e.g. 6.1: a sysctl it lacks takes the rule it had before "
                    "(6.1 has no tcp_syn_linear_timeouts, so SYNs double from the first). Default: today's rules")
        ->check(kKernelVersion);
    if (with_packets_out)
      sub->add_option("--packets-out", packets_out, "rto: segments in flight when the peer fell silent (default 1)")
          ->check(CLI::Range(1, 1000000));
    sub->add_flag("--json", json, "Print JSON instead of the table");
  }

  ModelInputs inputs() const {
    ModelInputs in;
    in.kind = *parse_model_kind(kind);
    in.hz = hz;
    if (!kernel.empty()) in.kernel = model::KernelVersion::parse(kernel);
    for (const auto& s : sysctls) {
      auto [name, value] = split_assignment(s);
      in.sysctls[canonical_sysctl(name)] = value;
    }
    for (const auto& s : sockopts) {
      auto [name, value] = split_assignment(s);
      in.socket_options[name] = std::stoll(value);
    }
    auto us = [](const std::string& d) {
      return std::chrono::duration_cast<std::chrono::microseconds>(*parse_duration(d));
    };
    if (!rto.empty()) in.rtt.rto = us(rto);
    if (!srtt.empty()) in.rtt.srtt = us(srtt);
    if (!rttvar.empty()) in.rtt.rttvar = us(rttvar);
    if (packets_out > 0) in.packets_out = packets_out;
    return in;
  }
};

const std::vector<std::string> kModels = {"rto", "syn", "persist", "keepalive"};

// Runs `body`, mapping the analysis errors to exit codes.
template <typename F>
int guarded(const char* command, F body) {
  try {
    return body();
  } catch (const CaptureError& e) {
    std::cerr << "tapfault " << command << ": " << e.what() << "\n";
    return kBadInput;
  } catch (const ModelInputError& e) {
    std::cerr << "tapfault " << command << ": " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "tapfault " << command << ": " << e.what() << "\n";
    return kEnvironment;
  }
}

struct DiffFlags {
  ModelFlags model;
  std::string capture;
  std::string flow;
  std::string tolerance;
  std::string error;
  int events = -1;
};

int run_diff(const DiffFlags& f) {
  return guarded("diff", [&] {
    DiffOptions o;
    o.model = f.model.inputs();
    if (!f.flow.empty()) o.flow = *FlowSelector::parse(f.flow);
    if (!f.tolerance.empty()) o.tolerance = *parse_duration(f.tolerance);
    if (!f.error.empty()) {
      auto at = f.error.find('@');
      o.give_up.error = f.error.substr(0, at);
      if (at != std::string::npos) {
        double t = 0;
        std::string_view s(f.error);
        s.remove_prefix(at + 1);
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
        if (ec != std::errc() || end != s.data() + s.size())
          throw ModelInputError("--error: \"" + f.error + "\" is not ERRNO or ERRNO@SECONDS (ETIMEDOUT@1700000013.484)");
        o.give_up.at = Nanos(static_cast<std::int64_t>(std::llround(t * 1e9)));
      }
    }
    if (f.events >= 0) o.expected_events = f.events;
    DiffResult r = diff_capture_file(f.capture, o);
    std::cout << (f.model.json ? r.to_json().dump(2) + "\n" : r.to_table());
    return r.ok ? kPass : kMismatch;
  });
}

int run_model(const ModelFlags& f) {
  return guarded("model", [&] {
    ModelInputs in = f.inputs();
    std::vector<std::string> notes;
    model::Expectation e = expectation_for(in, nullptr, &notes);
    std::string summary = give_up_summary(in, e);
    if (f.json) {
      nlohmann::json j;
      j["model"] = e.model;
      j["origin"] = e.origin;
      j["hz"] = e.hz;
      j["times"] = "seconds relative to origin";
      nlohmann::json events = nlohmann::json::array();
      for (const auto& ev : e.events)
        events.push_back({{"event", model::label(ev)},
                          {"nominal_s", ev.nominal ? nlohmann::json(std::chrono::duration<double>(*ev.nominal).count())
                                                   : nlohmann::json(nullptr)},
                          {"earliest_s", std::chrono::duration<double>(ev.earliest).count()},
                          {"latest_s", std::chrono::duration<double>(ev.latest).count()},
                          {"certain", ev.certain}});
      j["events"] = events;
      if (e.give_up)
        j["give_up"] = {{"error", e.give_up->error}, {"rst", e.give_up->rst}, {"reason", e.give_up->reason}};
      j["summary"] = summary;
      j["parameters"] = notes;
      j["notes"] = e.notes;
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << model::to_table(e);
      for (const auto& n : notes) std::cout << "  parameter: " << n << "\n";
      std::cout << summary << "\n";
    }
    return kPass;
  });
}

struct CompareFlags {
  std::string a, b;
  std::string tolerance;
  double percent = 12.5;
  bool no_gaps = false;
  bool json = false;
};

int run_compare(const CompareFlags& f) {
  return guarded("compare", [&] {
    CompareOptions o;
    if (!f.tolerance.empty()) o.tolerance_floor = *parse_duration(f.tolerance);
    o.tolerance_fraction = f.percent / 100.0;
    o.compare_gaps = !f.no_gaps;
    CompareResult r = compare_capture_files(f.a, f.b, o);
    std::cout << (f.json ? r.to_json().dump(2) + "\n" : r.to_text());
    return r.same ? kPass : kMismatch;
  });
}

}  // namespace

void add_analysis_commands(CLI::App& app, int& exit_code) {
  // The flags live as long as the app: the callbacks run inside app.parse().
  auto diff = std::make_shared<DiffFlags>();
  CLI::App* d = app.add_subcommand(
      "diff",
      "Compare what the kernel did in a capture (ours, or tcpdump's: Ethernet, Linux cooked, raw IP; pcap or\n"
      "pcapng) with an expected-backoff model: every retransmission, probe and the give-up against its window.");
  d->add_option("capture", diff->capture, "The capture file")->required();
  d->add_option("--model,-m", diff->model.kind, "rto, syn, persist or keepalive")
      ->required()
      ->check(CLI::IsMember(kModels));
  diff->model.add_to(d, true);
  d->add_option("--flow", diff->flow,
                "The connection: its number (1 = first seen), ADDR:PORT-ADDR:PORT, or :PORT; default: the first\n"
                "one showing the model's events")
      ->check(kFlow);
  d->add_option("--tolerance", diff->tolerance, "Extra slack on both ends of every window, on top of the 2 ms capture slack")
      ->check(kDuration);
  d->add_option("--error", diff->error,
                "What the application saw, to check the give-up: ERRNO or ERRNO@TIME, TIME in seconds on the\n"
                "capture's clock (as tcpdump -tt prints it), e.g. ETIMEDOUT@1700000013.484");
  d->add_option("--events", diff->events, "The number of RTO retransmissions (TLP excluded), SYN retries or probes expected")
      ->check(CLI::Range(0, 1000000));
  d->footer(std::string("\nTimes are seconds from the model's t = 0, found in the capture: rto = the send that armed the\n"
                        "timers (the original of the retransmitted segment), syn = the first SYN, persist = the peer's\n"
                        "zero-window ACK, keepalive = the last segment received before the first probe.\n\n"
                        "Examples:\n"
                        "  tapfault diff out/lost-peer/capture.pcap --model rto --sysctl net.ipv4.tcp_retries2=5\n"
                        "  tapfault diff client.pcap --model rto --rto 204ms --flow 192.0.2.1:40000-192.0.2.2:8080 \\\n"
                        "      --error ETIMEDOUT@1700000013.484\n"
                        "  tapfault diff ka.pcap --model keepalive --sockopt TCP_KEEPIDLE=1 --sockopt TCP_KEEPINTVL=1 "
                        "--sockopt TCP_KEEPCNT=3\n\n") +
            kExitCodes);
  d->callback([diff, &exit_code] { exit_code = run_diff(*diff); });

  auto model_flags = std::make_shared<ModelFlags>();
  CLI::App* m = app.add_subcommand(
      "model", "Print the expected timeline of a kernel timer (retransmissions, probes, give-up) without running anything.");
  m->add_option("kind", model_flags->kind, "rto, syn, persist or keepalive")->required()->check(CLI::IsMember(kModels));
  model_flags->add_to(m, true);
  m->footer(std::string("\nWindows: [earliest, latest] over every timer-wheel phase at HZ=250 (see docs/models.md).\n\n"
                        "Examples:\n"
                        "  tapfault model rto                                      # 15 RTOs, gives up ~938 s\n"
                        "  tapfault model rto --sysctl net.ipv4.tcp_retries2=5     # gives up ~13.4 s\n"
                        "  tapfault model rto --sockopt TCP_USER_TIMEOUT=3000\n"
                        "  tapfault model syn --sysctl net.ipv4.tcp_syn_retries=3\n"
                        "  tapfault model keepalive --sockopt TCP_KEEPIDLE=1 --sockopt TCP_KEEPINTVL=1 "
                        "--sockopt TCP_KEEPCNT=3\n\n") +
            kExitCodes);
  m->callback([model_flags, &exit_code] { exit_code = run_model(*model_flags); });

  auto cmp = std::make_shared<CompareFlags>();
  CLI::App* c = app.add_subcommand(
      "compare",
      "Compare two captures structurally, connection by connection: flags, relative seq/ack, lengths, option\n"
      "kinds, windows, ICMP errors, and the gaps between packets. ISNs, ports, MACs and TCP timestamp values\n"
      "are normalised away. Prints the first difference with both frame numbers.");
  c->add_option("a", cmp->a, "The reference capture (e.g. a golden capture in captures/)")->required();
  c->add_option("b", cmp->b, "The capture to check")->required();
  c->add_option("--tolerance", cmp->tolerance, "Smallest allowed gap difference (default 4ms)")->check(kDuration);
  c->add_option("--tolerance-percent", cmp->percent, "Allowed gap difference as a share of the gap (default 12.5)")
      ->check(CLI::Range(0.0, 1000.0));
  c->add_flag("--no-gaps", cmp->no_gaps, "Do not compare the gaps between packets");
  c->add_flag("--json", cmp->json, "Print JSON");
  c->footer(std::string("\nA gap may differ by max(4 ms, 12.5% of the reference gap), packetdrill's rule.\n\n"
                        "Examples:\n"
                        "  tapfault compare captures/golden/silent-peer-ipv4.pcap out/silent-peer/ipv4/capture.pcap\n"
                        "  tapfault compare a.pcap b.pcap --tolerance 10ms --json\n\n") +
            kExitCodes);
  c->callback([cmp, &exit_code] { exit_code = run_compare(*cmp); });
}

}  // namespace tapfault::replay
