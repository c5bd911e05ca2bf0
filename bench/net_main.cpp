// tapfault_bench_net: issue 6's benchmarks 1-3 (reaction, bulk, scale) and `report`.
//
// Read first: bench_netns.hpp (the two wires), peer_loop.hpp (the peer on its own thread),
// workloads.hpp (the kernel client's side). Each measuring subcommand builds both wires in
// namespaces of its own, runs the same workload against tapfault's peer over the TAP and
// against the kernel over veth, prints the figures and writes them as JSON for `report`.
// Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN), /dev/net/tun, iproute2 and ethtool.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "bench_netns.hpp"
#include "kernel_server.hpp"
#include "peer_loop.hpp"
#include "process_memory.hpp"
#include "report.hpp"
#include "tapfault/replay/scenario/scenario.hpp"
#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/sysctl.hpp"
#include "workloads.hpp"

namespace tapfault::bench {
namespace {

using nlohmann::json;

stack::HostConfig peer_config(std::uint32_t mtu, std::uint64_t source_bytes,
                              std::optional<std::chrono::milliseconds> delayed_ack = std::nullopt) {
  stack::HostConfig c;
  c.delayed_ack = delayed_ack;  // a scenario's peer.ack (each unless given)
  c.addresses = {ip(kPeerTapAddress)};
  c.listeners.push_back({kEchoPort, stack::AppMode::kEcho, {}, false, false});
  c.listeners.push_back({kDiscardPort, stack::AppMode::kDiscard, {}, false, false});
  stack::ListenerConfig source{kSourcePort, stack::AppMode::kSource, {}, false, true};
  source.source_bytes = source_bytes;
  c.listeners.push_back(source);
  c.mtu = mtu;
  c.window_bytes = 256 * 1024;  // a scenario's default (peer.window)
  c.origin = tap::Driver::now();
  return c;
}

// Both wires and both peers. Built before any other thread exists (the namespace).
struct Bench {
  Bench(std::uint32_t mtu, std::uint64_t source_bytes, std::optional<std::chrono::milliseconds> delayed_ack = std::nullopt)
      : net(mtu), server(KernelServerConfig{source_bytes, 16384}) {
    net.add_veth(server.pid());
    server.start_serving();
    peer.emplace(net.tap_network().tap(), peer_config(mtu, source_bytes, delayed_ack));
  }
  Endpoint tapfault(std::uint16_t port) const { return {kPeerTapAddress, port}; }
  Endpoint kernel(std::uint16_t port) const { return {kServerVethAddress, port}; }
  json setup() const {
    return {{"mtu", net.mtu()},
            {"offloads", {{"tf0 (TAP)", net.tap_offloads()},
                          {"bv0 (veth, client side)", net.veth_offloads()},
                          {"bv1 (veth, server side)", server.offloads()}}}};
  }
  // Rethrows with the peer's own error when the peer's driver stopped.
  template <class F>
  auto measure(F f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      std::string peer_error = peer ? peer->error() : "";
      throw std::runtime_error(std::string(e.what()) + (peer_error.empty() ? "" : " (peer: " + peer_error + ")"));
    }
  }

  BenchNetwork net;
  KernelServer server;
  std::optional<PeerLoop> peer;
};

// The peer thread's cost over one or more measured intervals.
struct PeerCost {
  PeerSample sum;  // differences, added up
  double wall_seconds = 0;

  void add(const PeerSample& before, const PeerSample& after, double wall) {
    sum.frames_read += after.frames_read - before.frames_read;
    sum.frames_written += after.frames_written - before.frames_written;
    sum.tap_wakeups += after.tap_wakeups - before.tap_wakeups;
    sum.thread_cpu_ns += after.thread_cpu_ns - before.thread_cpu_ns;
    sum.user_ns += after.user_ns - before.user_ns;
    sum.system_ns += after.system_ns - before.system_ns;
    wall_seconds += wall;
  }
  json to_json() const {
    const double frames = static_cast<double>(sum.frames());
    const double cpu = static_cast<double>(sum.thread_cpu_ns);
    auto per_frame = [&](std::uint64_t ns) { return frames > 0 ? static_cast<double>(ns) / frames : 0.0; };
    return {{"frames_read", sum.frames_read},
            {"frames_written", sum.frames_written},
            {"tap_wakeups", sum.tap_wakeups},
            {"cpu_ns_per_frame", per_frame(sum.thread_cpu_ns)},
            {"user_ns_per_frame", per_frame(sum.user_ns)},
            {"system_ns_per_frame", per_frame(sum.system_ns)},
            {"cpu_utilization", wall_seconds > 0 ? cpu / 1e9 / wall_seconds : 0.0}};
  }
};

json peer_cost(const PeerSample& before, const PeerSample& after, double wall_seconds) {
  PeerCost c;
  c.add(before, after, wall_seconds);
  return c.to_json();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

json to_json(const ReactionResult& r) {
  return {{"exchanges", r.exchanges},         {"rounds", r.rounds}, {"min_rtt_us", r.min_rtt_us},
          {"srtt_us", r.srtt_us},             {"median_rtt_us", r.median_rtt_us},
          {"wall_min_us", r.wall_min_us},     {"wall_median_us", r.wall_median_us},
          {"wall_p99_us", r.wall_p99_us},     {"total_retrans", r.total_retrans}};
}

json to_json(const BulkResult& r) {
  return {{"bytes", r.bytes}, {"seconds", r.seconds}, {"gbit_per_s", r.gbit_per_s}, {"total_retrans", r.total_retrans}};
}

json to_json(const ScaleResult& r) {
  return {{"connections", r.connections},           {"exchanges", r.exchanges},
          {"connect_seconds", r.connect_seconds},   {"handshakes_per_s", r.handshakes_per_s},
          {"exchange_seconds", r.exchange_seconds}, {"exchanges_per_s", r.exchanges_per_s},
          {"syn_retransmits", r.syn_retransmits},   {"exchange_retransmits", r.exchange_retransmits}};
}

void write_json(const std::string& path, const json& j) {
  if (path.empty()) return;
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// Where the client and the peers run. On this kind of machine a wake-up on another CPU costs
// an inter-processor interrupt (tens of microseconds in a VM), so the round trip depends on
// placement more than on either peer: both peers get the same three, side by side.
struct Placement {
  const char* name;
  int client_cpu;  // -1: any CPU
  int peer_cpu;    // tapfault's peer thread and the kernel server process
};

void pin(pid_t who, int cpu, const cpu_set_t& any) {
  cpu_set_t set = any;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  }
  if (::sched_setaffinity(who, sizeof set, &set) != 0)
    throw std::runtime_error("sched_setaffinity(" + std::to_string(who) + ", CPU " + std::to_string(cpu) + "): " + std::strerror(errno));
}

// Rounds alternate between the two peers (one connection each), so that a burst of load
// from elsewhere on the machine falls on both.
int reaction(std::uint32_t mtu, int exchanges, int rounds, std::size_t message, const std::string& pcap_path,
             const std::string& json_path) {
  cpu_set_t any;
  ::sched_getaffinity(0, sizeof any, &any);
  Bench b(mtu, 0);
  json j = b.setup();
  j["message_bytes"] = message;
  j["rounds"] = rounds;
  j["placements"] = json::array();
  const int per_round = std::max(1, exchanges / rounds);
  std::vector<Placement> placements = {{"unpinned (as a run)", -1, -1}, {"one CPU", 0, 0}};
  if (CPU_COUNT(&any) >= 2) placements.push_back({"two CPUs", 0, 1});
  auto place = [&](const Placement& p) {
    pin(0, p.client_cpu, any);
    b.peer->call([&] {
      pin(0, p.peer_cpu, any);
      return 0;
    });
    pin(b.server.pid(), p.peer_cpu, any);
  };
  std::printf("reaction: %d exchanges of %zu bytes per peer and placement, in %d rounds, MTU %u\n",
              per_round * rounds, message, rounds, mtu);
  std::printf("  %-22s %-28s %10s %10s %10s\n", "placement", "", "tapfault", "kernel", "ratio");
  for (const Placement& p : placements) {
    place(p);
    ReactionSamples tap_samples, kernel_samples;
    for (ReactionSamples* s : {&tap_samples, &kernel_samples}) {
      s->wall_us.reserve(static_cast<std::size_t>(per_round * rounds));
      s->rtt_us.reserve(static_cast<std::size_t>(per_round * rounds));
    }
    PeerCost cost;
    for (int round = 0; round < rounds; ++round) {
      const PeerSample before = b.peer->sample();
      const auto start = std::chrono::steady_clock::now();
      b.measure([&] { run_reaction(b.tapfault(kEchoPort), per_round, message, tap_samples); });
      cost.add(before, b.peer->sample(), seconds_since(start));
      b.measure([&] { run_reaction(b.kernel(kEchoPort), per_round, message, kernel_samples); });
    }
    const ReactionResult tap = summarize(tap_samples);
    const ReactionResult kernel = summarize(kernel_samples);
    json entry = {{"name", p.name}, {"client_cpu", p.client_cpu}, {"peer_cpu", p.peer_cpu},
                  {"tapfault", to_json(tap)}, {"kernel", to_json(kernel)}};
    entry["tapfault"]["peer"] = cost.to_json();
    j["placements"].push_back(entry);
    j["exchanges"] = tap.exchanges;
    auto row = [&](const char* what, double t, double k) {
      std::printf("  %-22s %-28s %10.1f %10.1f %10.2f\n", p.name, what, t, k, ratio(t, k));
    };
    row("tcpi_min_rtt (us)", tap.min_rtt_us, kernel.min_rtt_us);
    row("median tcpi_rtt (us)", tap.median_rtt_us, kernel.median_rtt_us);
    row("median exchange (us)", tap.wall_median_us, kernel.wall_median_us);
    row("p99 exchange (us)", tap.wall_p99_us, kernel.wall_p99_us);
  }
  place(placements[0]);
  if (!pcap_path.empty()) {
    // As a run does it: the recorder's socket on the peer's loop, the pcap written there.
    b.peer.reset();
    tap::Recorder recorder(b.net.tap_network().name(), pcap_path);
    b.peer.emplace(b.net.tap_network().tap(), peer_config(mtu, 0), &recorder);
    PeerLoop::RecorderFigures figures;
    ReactionSamples recorded_samples;
    try {
      for (int round = 0; round < rounds; ++round)
        b.measure([&] { run_reaction(b.tapfault(kEchoPort), per_round, message, recorded_samples); });
      figures = b.peer->recorder_figures();
    } catch (...) {
      b.peer.reset();
      throw;
    }
    b.peer.reset();  // the driver lets go of the recorder's socket before it closes
    const ReactionResult recorded = summarize(recorded_samples);
    j["tapfault_recorded"] = to_json(recorded);
    j["tapfault_recorded"]["recorder"] = {{"frames", figures.stats.frames},
                                          {"missing_timestamps", figures.stats.missing_timestamps},
                                          {"kernel_drops", figures.kernel_drops}};
    std::printf("  %-22s median tcpi_rtt %u us, median exchange %.1f us; %llu frames recorded, %llu without a kernel timestamp\n",
                "unpinned, recording", recorded.median_rtt_us, recorded.wall_median_us,
                static_cast<unsigned long long>(figures.stats.frames),
                static_cast<unsigned long long>(figures.stats.missing_timestamps));
  }
  write_json(json_path, j);
  return 0;
}

// Each direction in rounds of bytes/rounds, alternating peers; Gbit/s over the sum.
int bulk(std::uint32_t mtu, std::uint64_t bytes, int rounds, bool delayed_ack, const std::string& json_path) {
  const std::uint64_t per_round = bytes / static_cast<std::uint64_t>(rounds);
  Bench b(mtu, per_round, delayed_ack ? std::optional(replay::kDelayedAck) : std::nullopt);
  json j = b.setup();
  j["peer_ack"] = delayed_ack ? "delayed" : "each";
  j["bytes"] = per_round * static_cast<std::uint64_t>(rounds);
  j["rounds"] = rounds;
  struct Sum {
    BulkResult total;
    PeerCost cost;
    std::vector<double> rounds_gbit;  // each round's own figure, in order
    void add(const BulkResult& r) {
      total.bytes += r.bytes;
      total.seconds += r.seconds;
      total.total_retrans += r.total_retrans;
      rounds_gbit.push_back(r.seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.seconds / 1e9 : 0);
    }
    json to_json(bool with_peer) const {
      BulkResult r = total;
      r.gbit_per_s = r.seconds > 0 ? static_cast<double>(r.bytes) * 8 / r.seconds / 1e9 : 0;
      json out = tapfault::bench::to_json(r);
      out["rounds_gbit_per_s"] = rounds_gbit;
      if (with_peer) out["peer"] = cost.to_json();
      return out;
    }
  };
  // The ratio of each round to the kernel's round right after it (the two share the
  // machine's state of the moment), and their median: steadier than the ratio of the sums
  // when the machine's load changes during the run.
  auto paired = [](const Sum& t, const Sum& k) {
    std::vector<double> ratios;
    for (std::size_t i = 0; i < t.rounds_gbit.size() && i < k.rounds_gbit.size(); ++i)
      ratios.push_back(ratio(t.rounds_gbit[i], k.rounds_gbit[i]));
    std::vector<double> sorted = ratios;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n == 0 ? 0 : n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return json{{"round_ratios", ratios}, {"median_ratio", median}};
  };
  Sum tap_to, kernel_to, tap_from, kernel_from;
  auto on_tapfault = [&](Sum& sum, auto run) {
    const PeerSample before = b.peer->sample();
    const BulkResult r = b.measure(run);
    sum.add(r);
    sum.cost.add(before, b.peer->sample(), r.seconds);
  };
  for (int round = 0; round < rounds; ++round) {
    on_tapfault(tap_to, [&] { return run_bulk_send(b.tapfault(kDiscardPort), per_round); });
    kernel_to.add(b.measure([&] { return run_bulk_send(b.kernel(kDiscardPort), per_round); }));
  }
  for (int round = 0; round < rounds; ++round) {
    on_tapfault(tap_from, [&] { return run_bulk_receive(b.tapfault(kSourcePort), per_round); });
    kernel_from.add(b.measure([&] { return run_bulk_receive(b.kernel(kSourcePort), per_round); }));
  }
  j["to_peer"]["tapfault"] = tap_to.to_json(true);
  j["to_peer"]["kernel"] = kernel_to.to_json(false);
  j["from_peer"]["tapfault"] = tap_from.to_json(true);
  j["from_peer"]["kernel"] = kernel_from.to_json(false);
  j["to_peer"]["paired"] = paired(tap_to, kernel_to);
  j["from_peer"]["paired"] = paired(tap_from, kernel_from);
  std::printf("bulk: %llu bytes each way in %d rounds per peer, MTU %u (Gbit/s)\n",
              static_cast<unsigned long long>(j["bytes"].get<std::uint64_t>()), rounds, mtu);
  std::printf("  %-28s %10s %10s %10s %14s\n", "", "tapfault", "kernel", "ratio", "median of rounds");
  for (const char* dir : {"to_peer", "from_peer"}) {
    const double t = j[dir]["tapfault"]["gbit_per_s"], k = j[dir]["kernel"]["gbit_per_s"];
    std::printf("  %-28s %10.2f %10.2f %10.2f %14.2f\n", dir == std::string("to_peer") ? "kernel client -> peer" : "peer -> kernel client", t, k,
                ratio(t, k), j[dir]["paired"]["median_ratio"].get<double>());
  }
  write_json(json_path, j);
  return 0;
}

int scale(std::uint32_t mtu, const std::vector<int>& counts, int exchanges, int max_connecting,
          const std::string& json_path) {
  const int most = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
  const std::uint64_t fd_limit = raise_fd_limit(65536);
  if (fd_limit < static_cast<std::uint64_t>(most) + 256)
    throw std::runtime_error("scale: RLIMIT_NOFILE is " + std::to_string(fd_limit) + ", too few for " +
                             std::to_string(most) + " connections (raise the hard limit: ulimit -Hn)");
  Bench b(mtu, 0);
  // Enough ephemeral ports for every phase while the earlier ones sit in TIME_WAIT (this
  // namespace's sysctl, not the host's).
  tap::write_sysctl("net.ipv4.ip_local_port_range", "10000 65000");
  json j = b.setup();
  j["max_connecting"] = max_connecting;
  j["points"] = json::array();
  std::printf("scale: per connection count, tapfault's peer (kernel over veth for handshakes/s)\n");
  std::printf("  %7s %12s %12s %10s %10s %12s %12s %12s %12s %9s\n", "conns", "hs/s", "kernel hs/s", "RSS B/conn",
              "heap B/conn", "ns/frame hs", "ns/frame ex", "exch/s", "kernel ex/s", "ex retx");
  for (int n : counts) {
    PeerSample samples[3];
    std::uint64_t rss[3] = {}, heap[3] = {};
    const ScaleResult tap = b.measure([&] {
      return run_scale(b.tapfault(kEchoPort), n, exchanges, max_connecting, [&](ScaleMark m) {
        const auto i = static_cast<std::size_t>(m);
        samples[i] = b.peer->sample();
        rss[i] = rss_bytes();
        heap[i] = heap_in_use_bytes();
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the closes settle
    const ScaleResult kernel = b.measure([&] { return run_scale(b.kernel(kEchoPort), n, exchanges, max_connecting, [](ScaleMark) {}); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    json p;
    p["connections"] = n;
    p["tapfault"] = to_json(tap);
    const double per = static_cast<double>(n);
    p["tapfault"]["rss_bytes_per_connection"] = (static_cast<double>(rss[1]) - static_cast<double>(rss[0])) / per;
    p["tapfault"]["heap_bytes_per_connection"] = (static_cast<double>(heap[1]) - static_cast<double>(heap[0])) / per;
    p["tapfault"]["handshake_peer"] = peer_cost(samples[0], samples[1], tap.connect_seconds);
    p["tapfault"]["exchange_peer"] = peer_cost(samples[1], samples[2], tap.exchange_seconds);
    p["kernel"] = to_json(kernel);
    std::printf("  %7d %12.0f %12.0f %10.0f %10.0f %12.0f %12.0f %12.0f %12.0f %4llu/%-4llu\n", n, tap.handshakes_per_s, kernel.handshakes_per_s,
                p["tapfault"]["rss_bytes_per_connection"].get<double>(), p["tapfault"]["heap_bytes_per_connection"].get<double>(),
                p["tapfault"]["handshake_peer"]["cpu_ns_per_frame"].get<double>(),
                p["tapfault"]["exchange_peer"]["cpu_ns_per_frame"].get<double>(), tap.exchanges_per_s, kernel.exchanges_per_s,
                static_cast<unsigned long long>(tap.exchange_retransmits), static_cast<unsigned long long>(kernel.exchange_retransmits));
    std::fflush(stdout);
    j["points"].push_back(p);
  }
  write_json(json_path, j);
  return 0;
}

std::uint64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  const double value = std::stod(text, &used);
  const std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "KiB") scale = 1024.0;
  else if (unit == "MiB") scale = 1024.0 * 1024;
  else if (unit == "GiB") scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty()) throw std::invalid_argument("size: unknown unit '" + unit + "' (KiB, MiB, GiB)");
  return static_cast<std::uint64_t>(value * scale);
}

}  // namespace
}  // namespace tapfault::bench

int main(int argc, char** argv) {
  using namespace tapfault::bench;
  CLI::App app{"tapfault_bench_net: tapfault's peer over a TAP against the kernel over veth (issue 6)"};
  app.require_subcommand(1);
  std::uint32_t mtu = 1500;
  std::string json_path;

  CLI::App* reaction_cmd = app.add_subcommand("reaction", "1. request/response RTT, tapfault vs kernel");
  int exchanges = 10000;
  std::size_t message = 64;
  reaction_cmd->add_option("--exchanges", exchanges, "request/response exchanges")->capture_default_str();
  reaction_cmd->add_option("--message", message, "bytes per request and response")->capture_default_str();
  int rounds = 5;
  reaction_cmd->add_option("--rounds", rounds, "rounds per peer, alternating, one connection each")->capture_default_str();

  std::string pcap_path;
  reaction_cmd->add_option("--record", pcap_path, "also run tapfault's side with a recorder writing this pcap");

  CLI::App* bulk_cmd = app.add_subcommand("bulk", "2. bulk throughput each way, tapfault vs kernel");
  std::string bytes = "1GiB";
  bulk_cmd->add_option("--bytes", bytes, "bytes each way (KiB, MiB, GiB)")->capture_default_str();
  int bulk_rounds = 8;
  bulk_cmd->add_option("--rounds", bulk_rounds, "rounds per peer and direction, alternating")->capture_default_str();
  std::string peer_ack = "each";
  bulk_cmd->add_option("--peer-ack", peer_ack, "the peer's ACK policy, as a scenario's peer.ack: each (every segment) or delayed (as Linux)")
      ->check(CLI::IsMember({"each", "delayed"}))
      ->capture_default_str();

  CLI::App* scale_cmd = app.add_subcommand("scale", "3. many connections: handshakes/s, memory and CPU per frame");
  std::vector<int> counts = {10, 100, 1000, 10000};
  int scale_exchanges = 20000;
  int max_connecting = 256;
  scale_cmd->add_option("--connections", counts, "connection counts, one phase each")->delimiter(',')->capture_default_str();
  scale_cmd->add_option("--exchanges", scale_exchanges, "64-byte exchanges per phase, spread over the connections")->capture_default_str();
  scale_cmd->add_option("--max-connecting", max_connecting, "handshakes in progress at once")->capture_default_str();

  for (CLI::App* c : {reaction_cmd, bulk_cmd, scale_cmd}) {
    c->add_option("--mtu", mtu, "MTU of the TAP and the veth pair")->capture_default_str();
    c->add_option("--json", json_path, "write the figures to this file");
  }

  CLI::App* report_cmd = app.add_subcommand("report", "write the generated tables of RESULTS.md from the JSON files");
  ReportOptions report_options;
  report_cmd->add_option("--dir", report_options.dir, "folder with reaction.json, bulk.json, scale.json, micro.json, fidelity/")->required();
  report_cmd->add_option("--results", report_options.results, "RESULTS.md to update between its markers")->required();
  report_cmd->add_option("--command", report_options.command, "the command that produced the figures");
  report_cmd->add_option("--commit", report_options.commit, "git commit of the tree measured");
  report_cmd->add_option("--elapsed", report_options.elapsed, "how long the whole run took");
  report_cmd->add_option("--load", report_options.load, "load average before the run");
  report_cmd->add_option("--steal", report_options.steal, "share of CPU time stolen by the hypervisor during the run");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*reaction_cmd) return reaction(mtu, exchanges, std::max(1, rounds), message, pcap_path, json_path);
    if (*bulk_cmd) return bulk(mtu, parse_size(bytes), std::max(1, bulk_rounds), peer_ack == "delayed", json_path);
    if (*scale_cmd) return scale(mtu, counts, scale_exchanges, max_connecting, json_path);
    if (*report_cmd) return write_report(report_options);
  } catch (const tapfault::tap::EnvironmentError& e) {
    std::fprintf(stderr, "tapfault_bench_net: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapfault_bench_net: %s\n", e.what());
    return 1;
  }
  return 2;
}
