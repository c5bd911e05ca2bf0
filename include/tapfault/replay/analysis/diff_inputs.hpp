// From what we know about a connection (sysctls, socket options, TCP_INFO, and when a
// capture is at hand what the wire shows) to the parameters of an expected-backoff
// model and its Expectation. Shared by `tapfault model` (no capture), `tapfault diff`
// and the check after `tapfault run`.
//
// Precedence, as in the kernel: a socket option beats the sysctl (TCP_USER_TIMEOUT,
// TCP_KEEPIDLE/INTVL/CNT, TCP_SYNCNT, TCP_RTO_MIN_US, TCP_RTO_MAX_MS); an RTT hint
// (TCP_INFO) beats the estimate from the capture; the capture beats the defaults
// (SACK negotiated, segments in flight, ICMP errors seen, whether the peer answered
// zero-window probes). The defaults are the 6.18 kernel's (docs/kernel-timing.md, the
// table at its top).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tapfault/replay/analysis/flows.hpp"
#include "tapfault/replay/model/kernel.hpp"
#include "tapfault/replay/model/model.hpp"

namespace tapfault::replay {

enum class ModelKind : std::uint8_t { kRto, kSyn, kPersist, kKeepalive };
const char* to_string(ModelKind k);  // "rto", "syn", "persist", "keepalive"
std::optional<ModelKind> parse_model_kind(std::string_view text);
// Where each model puts t = 0 in a capture (flows.hpp explains each rule).
OriginRule origin_rule(ModelKind k);

// A sysctl or socket option that does not parse or is out of range; the message names it.
class ModelInputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The RTT estimator's state, as TCP_INFO reports it (microseconds). Any of them may be
// unknown; `rto` (tcpi_rto) wins over srtt/rttvar.
struct RttHints {
  std::optional<std::chrono::microseconds> srtt;  // tcpi_rtt = srtt_us >> 3
  // tcpi_rttvar = mdev_us >> 2, NOT the rttvar_us the RTO is computed from: that one is
  // at least mdev_us and rto_min (tcp_rtt_estimator()), so the model gets
  // max(4 * tcpi_rttvar, rto_min).
  std::optional<std::chrono::microseconds> rttvar;
  std::optional<std::chrono::microseconds> rto;  // tcpi_rto = jiffies_to_usecs(icsk_rto)
  // Where they were read, for the notes ("the socket's first sample with the persist
  // timer armed, timeline.jsonl t = 0.105 s"); empty: "the given hints".
  std::string source;
};

struct ModelInputs {
  ModelKind kind = ModelKind::kRto;
  int hz = model::kDefaultHz;
  // "net.ipv4.tcp_retries2" -> "5" (the "net.ipv4." prefix may be left out). Names the
  // models do not use are ignored here; the command line rejects unknown ones.
  std::map<std::string, std::string> sysctls;
  // "TCP_USER_TIMEOUT" -> 3000 (ms), "TCP_KEEPIDLE" -> 1 (s), ... (see known_socket_options()).
  std::map<std::string, std::int64_t> socket_options;
  RttHints rtt;
  // rto: segments in flight when the peer fell silent (PTO uses it); from the capture
  // when there is one, else 1.
  std::optional<int> packets_out;
  // The kernel the capture comes from (`--kernel 6.1`, or the run's): a sysctl that is not
  // given and that this version lacks takes the rule the kernel had before it
  // (model::sysctl_changes()). None: the behaviour of today's kernels.
  std::optional<model::KernelVersion> kernel;
  // The route's locked rto_min metric, which tcp_rto_min() takes over the socket's floor
  // (TCP_RTO_MIN_US, tcp_rto_min_us).
  std::optional<std::chrono::microseconds> route_rto_min;
};

// The names this file reads ("net.ipv4.tcp_retries2", ...; "TCP_USER_TIMEOUT", ...).
const std::vector<std::string>& known_sysctls();
const std::vector<std::string>& known_socket_options();
// "tcp_retries2" or "net/ipv4/tcp_retries2" -> "net.ipv4.tcp_retries2".
std::string canonical_sysctl(std::string_view name);

// The model's prediction for these inputs. With a flow (and its origin set for this
// model) the capture fills in what the inputs leave open. `notes` receives one line per
// parameter and where it came from ("RTO 204 ms (srtt 0.105 ms from the handshake)").
// Throws ModelInputError.
model::Expectation expectation_for(const ModelInputs& inputs, const Flow* flow, std::vector<std::string>* notes);

// How and when the model gives up, in one line, with the figures one compares with the
// kernel's documentation. For rto: the tcp_model_timeout() budget (924.6 s with the
// defaults), counted from the first RTO retransmission, next to the give-up time after
// the original send (928.896 s nominal; 937.7-939.7 s with the timer wheel).
std::string give_up_summary(const ModelInputs& inputs, const model::Expectation& expectation);

}  // namespace tapfault::replay
