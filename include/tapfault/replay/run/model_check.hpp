// The check `tapfault run` does after a run whose scenario has `expect.model`: the
// run's capture against the model, with the parameters read back from the run. Kept
// apart from the runner: everything it needs comes in ModelRunInputs.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "tapfault/replay/analysis/diff.hpp"
#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay {

struct ModelRunInputs {
  ModelKind model = ModelKind::kRto;
  int hz = model::kDefaultHz;  // as measured over the run where it could be
  std::optional<model::KernelVersion> kernel;  // the running kernel's
  std::optional<std::chrono::microseconds> route_rto_min;  // compress: by the route metric
  // As read back from the run's namespace ("net.ipv4.tcp_retries2" -> "5"); names the
  // models do not use are ignored, so passing every net.ipv4.tcp_* sysctl is fine.
  std::map<std::string, std::string> sysctls;
  // The client's socket options by name ("TCP_USER_TIMEOUT" -> 3000, "TCP_KEEPIDLE" -> 1).
  std::map<std::string, std::int64_t> socket_options;
  // TCP_INFO when the model's timer was armed, as it reports them (tcpi_rto, tcpi_rtt, and
  // tcpi_rttvar = mdev_us / 4), if known; otherwise the RTT is estimated from the capture.
  std::optional<std::chrono::microseconds> rto;
  std::optional<std::chrono::microseconds> rtt;
  std::optional<std::chrono::microseconds> rttvar;
  std::string rtt_source;  // which sample they come from, for the report's notes
  // The application's final errno (0 = none) and when it saw it, on the capture's clock
  // (CLOCK_REALTIME since the epoch, like the pcap time stamps).
  std::optional<int> final_errno;
  std::optional<std::chrono::nanoseconds> final_error_time;
  bool kernel_rst = false;                 // the kernel reset the connection
  std::optional<std::uint16_t> client_port;  // selects the connection
  std::optional<std::chrono::nanoseconds> tolerance;  // expect.model.tolerance
  std::optional<int> expected_events;      // expect.model.events
  // In messages; default: the capture's file name ("capture.pcap#57: ..."), since the
  // report sits next to it.
  std::string capture_name;
};

// The diff's options for these inputs (what diff_run() uses).
DiffOptions diff_options(const ModelRunInputs& inputs);

// Throws CaptureError (the capture cannot be read) and ModelInputError (a sysctl or
// socket option out of range).
DiffResult diff_run(const std::filesystem::path& pcap, const ModelRunInputs& inputs);

ModelKind to_model_kind(ModelExpectation::Kind k);
// "ETIMEDOUT" for ETIMEDOUT, "none" for 0, the number otherwise.
std::string errno_name(int error);

}  // namespace tapfault::replay
