// Expectations against what the run found out, and the report (report.json).
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner_parts.hpp"

namespace tapfault::replay {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

class Checker {
 public:
  void add(std::string field, std::string expected, std::string actual, int line) {
    bool ok = expected == actual;
    checks.push_back({std::move(field), std::move(expected), std::move(actual), ok, line});
  }
  void add_bool(std::string field, bool ok, std::string expected, std::string actual, int line) {
    checks.push_back({std::move(field), std::move(expected), std::move(actual), ok, line});
  }
  std::vector<Check> checks;
};

std::uint64_t peer_bytes(const RunFacts& f) {
  std::uint64_t n = 0;
  for (const auto& c : f.connections) n += c.bytes_received;
  return n;
}

void check_socket(const Expectations& e, const RunFacts& f, Checker& c) {
  // At the end, or as sampled last at or before expect.at.
  const std::optional<SocketSample>& sock = e.socket_at ? f.socket_at : f.final_socket;
  std::string none = "no socket";
  if (e.socket_at) {
    std::ostringstream o;
    o << "no socket sampled at or before " << seconds(e.socket_at->value) << " s";
    none = o.str();
  }
  if (e.state) {
    // ss spells a closed socket UNCONN; compare through the scenario's state names.
    std::string actual = none;
    if (sock) {
      auto st = socket_state_from_string(sock->state);
      actual = st ? to_string(*st) : sock->state;
    }
    c.add("expect.state", to_string(e.state->value), actual, e.state->line);
  }
  if (e.timer) {
    c.add("expect.timer", to_string(e.timer->value), sock ? sock->timer : none, e.timer->line);
  }
  for (const TcpInfoExpectation& t : e.tcp_info) {
    std::optional<std::int64_t> v = sock ? tcp_info_field(*sock, t.field) : std::nullopt;
    c.add("expect.tcp_info." + t.field, std::to_string(t.value), v ? std::to_string(*v) : none, t.line);
  }
}

void check(const Scenario& s, const RunFacts& f, Checker& c) {
  const Expectations& e = s.expect;
  if (e.client_received)
    c.add("expect.client_received", std::to_string(e.client_received->value),
          std::to_string(f.outcome.bytes_received), e.client_received->line);
  if (e.peer_received)
    c.add("expect.peer_received", std::to_string(e.peer_received->value), std::to_string(peer_bytes(f)),
          e.peer_received->line);
  if (e.error)
    c.add("expect.error", errno_to_name(e.error->value), errno_to_name(f.outcome.final_error), e.error->line);
  if (e.error_before) {
    bool ok = f.outcome.final_error_at && *f.outcome.final_error_at <= e.error_before->value;
    std::ostringstream exp, act;
    exp << "error before " << seconds(e.error_before->value) << " s";
    if (f.outcome.final_error_at) act << "error at " << seconds(*f.outcome.final_error_at) << " s";
    else act << "no error";
    c.add_bool("expect.error_before", ok, exp.str(), act.str(), e.error_before->line);
  }
  if (e.connect_error)
    c.add("expect.connect_error", errno_to_name(e.connect_error->value),
          f.outcome.connect_again_error ? errno_to_name(*f.outcome.connect_again_error) : "no connect_again",
          e.connect_error->line);
  if (e.rst_from_kernel)
    c.add("expect.rst_from_kernel", e.rst_from_kernel->value ? "true" : "false",
          f.kernel_rsts.empty() ? "false" : "true", e.rst_from_kernel->line);
  check_socket(e, f, c);
  if (e.model) {
    std::string expected = std::string("every ") + to_string(e.model->kind) + " event inside its model window";
    if (f.model_diff)
      c.add_bool("expect.model", f.model_diff->ok, expected,
                 f.model_diff->ok ? "all " + std::to_string(f.model_diff->rows.size()) + " events inside"
                                  : f.model_diff->first_mismatch,
                 e.model->line);
    else
      c.add_bool("expect.model", false, expected, "the model check did not run: " + f.model_error, e.model->line);
  }
}

// Why the capture may not be exactly what crossed the TAP, or "" when it is.
std::string capture_warning(const RunFacts& f) {
  std::string w;
  auto add = [&w](std::uint64_t n, const char* what) {
    if (n == 0) return;
    if (!w.empty()) w += "; ";
    w += std::to_string(n) + " " + what;
  };
  add(f.recorder_drops, "frames crossed the TAP but are missing from the capture (the recorder fell behind)");
  add(f.tap_queue_drops,
      "frames the kernel sent are in the capture but the peer never saw them (the TAP's queue was full)");
  add(f.missing_timestamps, "frames carry tapfault's clock instead of the kernel's (no SCM_TIMESTAMPNS)");
  add(f.peer_event_drops, "peer events are missing from the timeline (the run's main loop fell behind the peer)");
  return w;
}

nlohmann::json stats_json(const stack::HostStats& st) {
  return {{"frames_in", st.frames_in},       {"frames_out", st.frames_out},
          {"dropped", st.dropped},           {"arp_replies", st.arp_replies},
          {"neighbor_adverts", st.neighbor_adverts}, {"echo_replies", st.echo_replies},
          {"resets_sent", st.resets_sent},   {"connections_accepted", st.connections_accepted}};
}

nlohmann::json connection_json(const stack::ConnectionSummary& c) {
  return {{"id", c.id},
          {"flow", c.flow.to_string()},
          {"state", stack::to_string(c.state)},
          {"bytes_received", c.bytes_received},
          {"bytes_sent", c.bytes_sent},
          {"reset", c.reset}};
}

}  // namespace

nlohmann::json client_event_json(const ClientEvent& e) {
  nlohmann::json j = {{"action", e.action}, {"error", errno_to_name(e.error)}, {"bytes", e.bytes}, {"line", e.line}};
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

nlohmann::json peer_event_json(const stack::PeerEvent& e) {
  nlohmann::json j = {{"kind", e.kind}, {"detail", e.detail}};
  if (e.flow) {
    j["flow"] = e.flow->to_string();
    j["seq"] = e.seq;
    j["ack"] = e.ack;
  }
  return j;
}

std::optional<SocketSample> sample_from_fd(int fd, const Scenario& s) {
  SocketSample smp;
  socklen_t len = sizeof smp.info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &smp.info, &len) != 0) return std::nullopt;
  smp.has_info = true;
  smp.info_bytes = len;
  static const char* kStates[] = {"?",         "ESTAB",    "SYN-SENT", "SYN-RECV",   "FIN-WAIT-1", "FIN-WAIT-2",
                                  "TIME-WAIT", "UNCONN",   "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};
  smp.state = smp.info.tcpi_state < 12 ? kStates[smp.info.tcpi_state] : "?";
  smp.timer = "off";
  // A closed socket has no peer any more: name both ends from the scenario.
  auto endpoint = [](const stack::IpAddress& a, std::uint16_t port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
  };
  smp.family = s.network.family == stack::Family::kIpv4 ? AF_INET : AF_INET6;
  if (s.client) {
    smp.local_port = s.client->local_port;
    smp.remote_port = s.client->peer_port;
    smp.local = endpoint(s.network.kernel_address.address, smp.local_port);
    smp.remote = endpoint(s.network.peer_address, smp.remote_port);
  }
  return smp;
}

CpuTicks read_cpu_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  CpuTicks t;
  for (int i = 0; i < 8 && in; ++i) {  // user nice system idle iowait irq softirq steal
    double v = 0;
    in >> v;
    t.total += v;
    if (i == 7) t.steal = v;
  }
  return t;
}

RunResult evaluate(const Scenario& s, const RunFacts& f) {
  Checker c;
  check(s, f, c);
  RunResult r;
  r.checks = c.checks;
  bool ok = std::all_of(c.checks.begin(), c.checks.end(), [](const Check& k) { return k.ok; });
  r.exit_code = ok ? kExitPass : kExitExpectationFailed;
  if (f.interrupted_by) r.exit_code = 128 + f.interrupted_by;  // 130 for SIGINT, 143 for SIGTERM

  nlohmann::json checks = nlohmann::json::array();
  for (const Check& k : c.checks)
    checks.push_back({{"field", k.field}, {"expected", k.expected}, {"actual", k.actual}, {"ok", k.ok}, {"line", k.line}});
  nlohmann::json client_events = nlohmann::json::array();
  for (const ClientEvent& e : f.client_events) {
    nlohmann::json j = client_event_json(e);
    j["t"] = seconds(e.at);
    client_events.push_back(j);
  }
  nlohmann::json peer_events = nlohmann::json::array();
  for (const stack::PeerEvent& e : f.peer_events) peer_events.push_back(peer_event_json(e));
  nlohmann::json conns = nlohmann::json::array();
  for (const auto& cs : f.connections) conns.push_back(connection_json(cs));

  nlohmann::json& j = r.report;
  j["tapfault"] = "0.1.0";
  j["scenario"] = {{"name", s.name}, {"file", s.file.string()}, {"description", s.description},
                   {"tags", s.tags}, {"seed", s.seed}};
  j["verdict"] = f.interrupted_by ? "interrupted" : ok ? "pass" : "fail";
  j["interrupted"] = f.interrupted_by != 0;
  j["exit_code"] = r.exit_code;
  j["clocks"] = {{"origin", "run start; every t in this report and in timeline.jsonl counts from it (steady clock)"},
                 {"origin_realtime_ns", f.origin_realtime_ns},
                 {"capture", "pcap timestamps are the kernel's CLOCK_REALTIME, nanoseconds"}};
  j["duration_s"] = seconds(f.duration);
  j["ended_by"] = f.ended_by;
  j["checks"] = checks;
  j["client"] = {{"bytes_sent", f.outcome.bytes_sent},
                 {"bytes_received", f.outcome.bytes_received},
                 {"final_error", errno_to_name(f.outcome.final_error)},
                 {"events", client_events}};
  if (f.outcome.final_error_at) j["client"]["final_error_at_s"] = seconds(*f.outcome.final_error_at);
  if (f.outcome.connect_again_error) j["client"]["connect_again_error"] = errno_to_name(*f.outcome.connect_again_error);
  if (f.external) {
    j["external"] = {{"command", f.external->command}, {"uid", f.external->uid}, {"gid", f.external->gid},
                     {"exit_code", f.external->exit_code},
                     {"signal", f.external->signal}, {"stdout", f.external->stdout_text},
                     {"stderr", f.external->stderr_text}};
  }
  j["peer"] = {{"stats", stats_json(f.peer_stats)}, {"connections", conns}, {"events", peer_events}};
  j["kernel_actions"] = f.kernel_actions;
  if (f.final_socket) {
    j["socket"] = to_json(*f.final_socket);
    j["socket"]["ss"] = ss_line(*f.final_socket);
  }
  if (f.socket_at) {
    j["socket_at"] = to_json(*f.socket_at);
    j["socket_at"]["t"] = seconds(f.socket_at_t);
    j["socket_at"]["ss"] = ss_line(*f.socket_at);
  }
  if (f.model_diff) {
    j["model"] = f.model_diff->to_json();
    r.model_table = f.model_diff->to_table();
  }
  j["capture"] = {{"file", "capture.pcap"},
                  {"frames", f.frames},
                  {"kernel_rst_frames", f.kernel_rsts},
                  {"recorder_drops", f.recorder_drops},
                  {"missing_kernel_timestamps", f.missing_timestamps},
                  {"tap_queue_drops", f.tap_queue_drops},
                  {"peer_event_drops", f.peer_event_drops}};
  if (std::string w = capture_warning(f); !w.empty()) j["capture"]["warning"] = w;
  // What the machine did meanwhile: CPU time the hypervisor stole delays every timer of
  // the kernel's, so a late timer counts as the machine's only when steal was measured.
  j["machine"] = {{"steal_percent", f.cpu.total > 0 ? 100.0 * f.cpu.steal / f.cpu.total : 0.0},
                  {"cpu_ticks", f.cpu.total},
                  {"source", "/proc/stat cpu line, all CPUs, over the run"}};
  j["kernel"] = {{"release", f.kernel.release},
                 {"version", f.kernel.version ? f.kernel.version->to_string() : "unknown"},
                 {"sysctls_present", f.kernel.sysctls_present},
                 {"tap_tx_queue_length", f.kernel.tap_tx_queue_length}};
  if (f.kernel.hz) j["kernel"]["hz"] = *f.kernel.hz;
  else j["kernel"]["hz"] = nullptr;
  if (f.kernel.ticks_per_second) j["kernel"]["ticks_per_second"] = *f.kernel.ticks_per_second;
  j["kernel"]["hz_source"] = "/proc/timer_list jiffies over the run";
  if (!f.kernel.compression.empty()) j["kernel"]["compression"] = f.kernel.compression;
  j["sysctls"] = f.sysctls;
  j["notes"] = f.notes;
  return r;
}

std::string format_summary(const Scenario& s, const RunResult& r) {
  std::ostringstream o;
  const char* verdict = r.exit_code == kExitPass ? "PASS" : r.exit_code > 128 ? "INTERRUPTED" : "FAIL";
  o << s.name << ": " << verdict << "\n";
  for (const Check& k : r.checks) {
    o << "  " << (k.ok ? "ok  " : "FAIL") << " " << s.file.string() << ":" << k.line << ": " << k.field;
    if (k.ok) o << " = " << k.actual << "\n";
    else o << ": expected " << k.expected << " but saw " << k.actual << "\n";
  }
  if (r.report.contains("socket")) o << "  socket: " << r.report["socket"]["ss"].get<std::string>() << "\n";
  if (r.report.contains("socket_at")) {
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", r.report["socket_at"]["t"].get<double>());
    o << "  socket at " << t << " s: " << r.report["socket_at"]["ss"].get<std::string>() << "\n";
  }
  if (r.model_table) o << *r.model_table;
  o << "  capture: " << r.capture.string() << "\n";
  if (r.report.contains("capture") && r.report["capture"].contains("warning"))
    o << "  WARNING capture incomplete: " << r.report["capture"]["warning"].get<std::string>() << "\n";
  o << "  timeline: " << r.timeline.string() << "\n";
  return o.str();
}

}  // namespace tapfault::replay
