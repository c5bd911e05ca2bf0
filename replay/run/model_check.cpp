// diff_run(): ModelRunInputs -> DiffOptions -> diff_capture_file().
#include "tapfault/replay/run/model_check.hpp"

#include <cstring>

namespace tapfault::replay {

ModelKind to_model_kind(ModelExpectation::Kind k) {
  switch (k) {
    case ModelExpectation::Kind::kRto: return ModelKind::kRto;
    case ModelExpectation::Kind::kSyn: return ModelKind::kSyn;
    case ModelExpectation::Kind::kPersist: return ModelKind::kPersist;
    case ModelExpectation::Kind::kKeepalive: return ModelKind::kKeepalive;
  }
  return ModelKind::kRto;
}

std::string errno_name(int error) {
  if (error == 0) return "none";
  const char* name = strerrorname_np(error);
  return name ? name : std::to_string(error);
}

DiffOptions diff_options(const ModelRunInputs& in) {
  DiffOptions o;
  o.model.kind = in.model;
  o.model.hz = in.hz;
  o.model.kernel = in.kernel;
  o.model.route_rto_min = in.route_rto_min;
  o.model.sysctls = in.sysctls;
  o.model.socket_options = in.socket_options;
  o.model.rtt.rto = in.rto;
  o.model.rtt.srtt = in.rtt;
  o.model.rtt.rttvar = in.rttvar;
  o.model.rtt.source = in.rtt_source;
  if (in.client_port) o.flow.port = *in.client_port;
  if (in.tolerance) o.tolerance = *in.tolerance;
  if (in.final_errno) {
    o.give_up.error = errno_name(*in.final_errno);
    if (*in.final_errno != 0) o.give_up.at = in.final_error_time;
  }
  o.give_up.kernel_rst = in.kernel_rst;
  o.expected_events = in.expected_events;
  o.capture_name = in.capture_name;
  return o;
}

DiffResult diff_run(const std::filesystem::path& pcap, const ModelRunInputs& in) {
  DiffOptions o = diff_options(in);
  if (o.capture_name.empty()) o.capture_name = pcap.filename().string();
  return diff_capture_file(pcap, o);
}

}  // namespace tapfault::replay
