// The pieces a run is made of, besides the peer and the TAP: the timeline writer,
// an external client process, and what a run found out (RunFacts) for evaluate().
#pragma once

#include <utility>  // before Asio: Boost 1.74 needs std::exchange under C++20

#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tapfault/replay/run/client.hpp"
#include "tapfault/replay/analysis/diff.hpp"
#include "tapfault/replay/run/run.hpp"
#include "tapfault/replay/run/sampler.hpp"
#include "tapfault/stack/host.hpp"

namespace tapfault::replay {

// DIR/timeline.jsonl: one JSON object per line, every source on the run's clock:
// {"t": seconds since the origin, "source": "peer|client|kernel|socket", ...}.
class Timeline {
 public:
  explicit Timeline(const std::filesystem::path& path);
  void write(Duration t, const char* source, nlohmann::json fields);
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

// `tapfault run S -- CMD ARGS`: an unmodified program as the client, in the namespace.
struct ExternalResult {
  std::vector<std::string> command;
  unsigned uid = 0;      // the user id it ran as
  unsigned gid = 0;
  int exit_code = -1;    // -1: still running when the run ended (then killed)
  int signal = 0;
  std::string stdout_text;
  std::string stderr_text;
};

class ExternalClient {
 public:
  using LineSink = std::function<void(const std::string&)>;
  ExternalClient(boost::asio::io_context& io, std::vector<std::string> command,
                 std::filesystem::path out_dir, std::optional<ClientIdentity> identity, LineSink sink);
  ~ExternalClient();
  void start();
  bool done();
  void stop();
  ExternalResult result() const;

 private:
  std::vector<std::string> command_;
  std::filesystem::path out_dir_;
  std::optional<ClientIdentity> identity_;
  LineSink sink_;
  pid_t pid_ = -1;
  bool exited_ = false;
  ExternalResult result_;
};

// The machine's CPU time from /proc/stat's "cpu" line, in USER_HZ ticks over all CPUs:
// what the hypervisor stole (steal) out of everything counted (user .. steal).
struct CpuTicks {
  double steal = 0;
  double total = 0;
};
CpuTicks read_cpu_ticks();

// The kernel the run ran on, as detected (report.json `kernel`).
struct KernelFacts {
  std::string release;                          // uname -r
  std::optional<model::KernelVersion> version;
  std::map<std::string, bool> sysctls_present;  // the sysctls that older kernels lack
  std::optional<double> ticks_per_second;       // jiffies over the run
  std::optional<int> hz;                        // the nearest HZ Linux builds with
  std::uint32_t tap_tx_queue_length = 0;
  std::string compression;                      // the mechanism `compress:` used, if any
};

struct RunFacts {
  KernelFacts kernel;
  std::map<std::string, std::string> sysctls;  // as written in the run's namespace
  std::vector<std::string> notes;
  std::vector<ClientEvent> client_events;
  std::vector<stack::PeerEvent> peer_events;
  std::vector<nlohmann::json> kernel_actions;
  std::vector<std::uint64_t> kernel_rsts;  // pcap frame numbers of RSTs the kernel sent
  std::uint64_t frames = 0;
  // What could make the capture differ from what crossed the TAP (0 in a healthy run).
  std::uint64_t recorder_drops = 0;        // the recorder's socket buffer was full
  std::uint64_t missing_timestamps = 0;    // frames stamped with our clock, not the kernel's
  std::uint64_t tap_queue_drops = 0;       // captured, then dropped before the peer saw them
  std::uint64_t peer_event_drops = 0;      // peer events the main loop did not take in time
  ClientOutcome outcome;
  std::optional<ExternalResult> external;
  std::optional<SocketSample> final_socket;
  // expect.at: the client socket's last sample at or before that time, and when it was taken.
  std::optional<SocketSample> socket_at;
  Duration socket_at_t{};
  stack::HostStats peer_stats;
  std::vector<stack::ConnectionSummary> connections;
  std::string origin_realtime_ns;
  std::string ended_by = "duration";
  bool duration_reached = false;
  int interrupted_by = 0;  // SIGINT or SIGTERM when the run was interrupted
  std::optional<SocketSample> before_loss;  // the client socket's last sample with no loss yet
  Duration before_loss_t{};
  // The client socket's first sample with the persist timer armed: its tcpi_rto is the
  // probes' base (tcp_probe0_base()), set by the ACK that closed the window, which the
  // last sample before it has not seen.
  std::optional<SocketSample> persist_armed;
  Duration persist_armed_t{};
  std::optional<DiffResult> model_diff;     // expect.model: the capture against the model
  std::string model_error;                  // why the model check could not run
  Duration duration{};
  CpuTicks cpu;  // used during the run (the difference of two readings)
};

nlohmann::json client_event_json(const ClientEvent& e);
nlohmann::json peer_event_json(const stack::PeerEvent& e);
// TCP_INFO read from a descriptor, for a socket sock_diag no longer lists (CLOSE).
std::optional<SocketSample> sample_from_fd(int fd, const Scenario& s);
// Expectations checked against the facts; the report.
RunResult evaluate(const Scenario& s, const RunFacts& facts);

}  // namespace tapfault::replay
