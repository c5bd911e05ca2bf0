// expectation_for(): sysctls, socket options, TCP_INFO hints and the capture -> model
// parameters -> Expectation. Every parameter's value and source goes into `notes`, so a
// report says what it compared against.
#include "tapfault/replay/analysis/diff_inputs.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ms_text(Nanos d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

// Reads the inputs, checks ranges, and records where every value came from.
class Source {
 public:
  Source(const ModelInputs& in, std::vector<std::string>& notes) : in_(in), notes_(notes) {}

  std::optional<std::int64_t> sysctl(const std::string& name, std::int64_t min, std::int64_t max) const {
    for (const auto& [key, text] : in_.sysctls) {
      if (canonical_sysctl(key) != name) continue;
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size())
        throw ModelInputError(name + ": not an integer: \"" + text + "\"");
      if (v < min || v > max)
        throw ModelInputError(name + ": " + text + " is out of range [" + std::to_string(min) + ", " +
                              std::to_string(max) + "]");
      return v;
    }
    return std::nullopt;
  }

  std::optional<std::int64_t> sockopt(const std::string& name, std::int64_t min, std::int64_t max) const {
    auto it = in_.socket_options.find(name);
    if (it == in_.socket_options.end()) return std::nullopt;
    if (it->second < min || it->second > max)
      throw ModelInputError(name + ": " + std::to_string(it->second) + " is out of range [" + std::to_string(min) +
                            ", " + std::to_string(max) + "]");
    return it->second;
  }

  // The socket option, else the sysctl, else the default; noted as "label V (source)".
  std::int64_t value(const std::string& label, const char* opt, const std::string& sysctl_name, std::int64_t dflt,
                     std::int64_t min, std::int64_t max, const char* unit = "") {
    std::string from = "default";
    std::int64_t v = kernel_default(sysctl_name, dflt, &from);
    if (auto s = sysctl(sysctl_name, min, max)) {
      v = *s;
      from = sysctl_name;
    }
    if (opt)
      if (auto o = sockopt(opt, min, max)) {
        v = *o;
        from = opt;
      }
    notes_.push_back(label + " " + std::to_string(v) + unit + " (" + from + ")");
    return v;
  }

  // A sysctl that was not given: its default, or on a kernel older than the sysctl, the
  // behaviour the kernel had before it (6.1 has no tcp_syn_linear_timeouts: 0, not 4).
  std::int64_t kernel_default(const std::string& sysctl_name, std::int64_t dflt, std::string* from = nullptr) const {
    if (!in_.kernel || sysctl_name.empty()) return dflt;
    const model::SysctlChange* c = model::sysctl_change(sysctl_name);
    if (!c || *in_.kernel >= c->since) return dflt;
    if (from)
      *from = "kernel " + in_.kernel->to_string() + " has no " + std::string(c->name) + ", added in " +
              c->since.to_string() + " by " + std::string(c->commit) + ": the rule before it";
    return std::stoll(std::string(c->value_before));
  }

  void note(std::string s) { notes_.push_back(std::move(s)); }
  const ModelInputs& inputs() const { return in_; }

 private:
  const ModelInputs& in_;
  std::vector<std::string>& notes_;
};

// tcp_rto_min(): the route's locked rto_min metric, else the socket's icsk_rto_min
// (TCP_RTO_MIN_US, else tcp_rto_min_us, else TCP_RTO_MIN).
microseconds rto_min(Source& src) {
  const microseconds v{src.value("rto_min", "TCP_RTO_MIN_US", "net.ipv4.tcp_rto_min_us", 200000, 1, 120000000, " us")};
  if (!src.inputs().route_rto_min) return v;
  src.note("rto_min " + ms_text(*src.inputs().route_rto_min) + " (the route's locked rto_min metric, over the above)");
  return *src.inputs().route_rto_min;
}

model::RttState rtt_state(Source& src, const Flow* flow, int hz, microseconds rto_min) {
  const RttHints& h = src.inputs().rtt;
  model::RttState r;
  if (h.rto || h.srtt) {
    if (h.srtt) r.srtt = *h.srtt;
    if (h.rttvar) r.rttvar = std::max(4 * *h.rttvar, rto_min);  // tcpi_rttvar is mdev_us / 4
    if (h.rto) r.rto = model::usecs_to_jiffies(*h.rto, hz);
    src.note("RTT from " + (h.source.empty() ? std::string("the given hints") : h.source) + ":" +
             (h.rto ? " rto " + ms_text(*h.rto) : "") + (h.srtt ? " srtt " + ms_text(*h.srtt) : "") +
             (h.rttvar ? " tcpi_rttvar " + ms_text(*h.rttvar) : ""));
    return r;
  }
  if (flow && flow->srtt_estimate) {
    r.srtt = std::max(*flow->srtt_estimate, microseconds(1));  // 0 would mean "no sample"
    src.note("srtt " + ms_text(r.srtt) + " (estimated from the capture: handshake and data RTT samples)");
  } else if (flow && flow->handshake_seen) {
    r.srtt = 0us;
    src.note("no RTT sample in the capture (SYN retransmitted without timestamps): RTO is TCP_TIMEOUT_FALLBACK 3 s");
  } else {
    src.note("srtt " + ms_text(r.srtt) + " (default; pass --srtt or --rto to change)");
  }
  return r;
}

// tcp_v4_err() / tcp_v6_err() classification of what was seen on the wire.
model::IcmpError model_icmp(const IcmpMessage& m) {
  using E = model::IcmpError;
  if (!m.v6 && m.type == 3) {
    switch (m.code) {
      case 0: return E::kNetUnreachable;
      case 1: return E::kHostUnreachable;
      case 3: return E::kPortUnreachable;
      case 13: return E::kAdminProhibited;
      default: return E::kNone;
    }
  }
  if (m.v6 && m.type == 1) {
    switch (m.code) {
      case 0: return E::kNoRoute6;
      case 3: return E::kAddressUnreachable6;
      case 4: return E::kPortUnreachable6;
      default: return E::kNone;
    }
  }
  return E::kNone;
}

// Which of the episode's transmissions drew ICMP errors: the model replays the RFC 6069
// reverts for exactly those.
void icmp_for_rto(Source& src, const Flow& f, model::RtoParams& p, bool tlp_expected) {
  const LossEpisode* ep = chosen_episode(f);
  if (!ep) return;
  std::vector<int> rtos;
  bool original_or_tlp = false;
  std::optional<Nanos> delay;
  for (const PeerEvent& e : f.peer_events) {
    if (e.kind != PeerEventKind::kIcmp || e.at < ep->trigger_at) continue;
    model::IcmpError err = model_icmp(*e.icmp);
    if (err == model::IcmpError::kNone) {
      src.note("frame " + std::to_string(e.frame) + ": ICMP " + describe(*e.icmp) + " is not modelled");
      continue;
    }
    int number = 0;  // 0 = the original or the TLP
    int count = 0;
    Nanos sent = ep->trigger_at;
    for (const KernelEvent& k : f.kernel_events) {
      if (k.episode != ep->index || k.at > e.at) continue;
      bool is_tlp = k.kind == KernelEventKind::kTlp && tlp_expected;
      if (!is_tlp) ++count;
      number = is_tlp ? 0 : count;
      sent = k.at;
    }
    if (number == 0) original_or_tlp = true;
    else rtos.push_back(number);
    if (!delay) delay = e.at - sent;
    p.icmp.error = err;
  }
  if (p.icmp.error == model::IcmpError::kNone) return;
  p.icmp.only_rto = rtos;
  p.icmp.original_and_tlp = original_or_tlp;
  if (delay) p.icmp.delay = *delay;
  std::string list;
  for (int n : rtos) list += (list.empty() ? "" : ", ") + std::to_string(n);
  src.note(std::string("ICMP ") + model::icmp_errno(p.icmp.error) + " seen for" +
           (original_or_tlp ? " the original/TLP" : "") + (rtos.empty() ? "" : " RTO " + list) + " (from the capture)");
}

model::Expectation rto(Source& src, const Flow* flow, int hz) {
  model::RtoParams p;
  p.hz = hz;
  p.rto_min = rto_min(src);
  p.rto_max = milliseconds(src.value("rto_max", "TCP_RTO_MAX_MS", "net.ipv4.tcp_rto_max_ms", 120000, 1000, 120000, " ms"));
  p.retries1 = static_cast<int>(src.value("tcp_retries1", nullptr, "net.ipv4.tcp_retries1", 3, 0, 255));
  p.retries2 = static_cast<int>(src.value("tcp_retries2", nullptr, "net.ipv4.tcp_retries2", 15, 0, 255));
  p.user_timeout = milliseconds(src.value("TCP_USER_TIMEOUT", "TCP_USER_TIMEOUT", "", 0, 0, INT32_MAX, " ms"));
  p.early_retrans = static_cast<int>(src.value("tcp_early_retrans", nullptr, "net.ipv4.tcp_early_retrans", 3, 0, 4));
  bool sack_sysctl = src.value("tcp_sack", nullptr, "net.ipv4.tcp_sack", 1, 0, 1) != 0;
  if (flow && flow->handshake_seen) {
    p.sack = flow->sack_permitted;
    src.note(std::string("SACK ") + (p.sack ? "negotiated" : "not negotiated") + " (from the handshake)");
  } else {
    p.sack = sack_sysctl;
  }
  p.rtt = rtt_state(src, flow, hz, p.rto_min);
  const LossEpisode* ep = flow ? chosen_episode(*flow) : nullptr;
  if (src.inputs().packets_out) {
    p.packets_out = *src.inputs().packets_out;
  } else if (ep && ep->packets_out > 0) {
    p.packets_out = ep->packets_out;
    src.note(std::to_string(p.packets_out) + " segment(s) in flight when the episode began (from the capture)");
  }
  if (flow) icmp_for_rto(src, *flow, p, p.sack && (p.early_retrans == 3 || p.early_retrans == 4));
  return model::rto_model(p);
}

model::Expectation syn(Source& src, const Flow* flow, int hz) {
  model::SynParams p;
  p.hz = hz;
  p.syn_retries = static_cast<int>(src.value("syn_retries", "TCP_SYNCNT", "net.ipv4.tcp_syn_retries", 6, 1, 127));
  p.linear_timeouts =
      static_cast<int>(src.value("tcp_syn_linear_timeouts", nullptr, "net.ipv4.tcp_syn_linear_timeouts", 4, 0, 255));
  p.rto_max = milliseconds(src.value("rto_max", "TCP_RTO_MAX_MS", "net.ipv4.tcp_rto_max_ms", 120000, 1000, 120000, " ms"));
  p.user_timeout = milliseconds(src.value("TCP_USER_TIMEOUT", "TCP_USER_TIMEOUT", "", 0, 0, INT32_MAX, " ms"));
  if (flow) {
    // In SYN_SENT every ICMP error aborts unless connect() holds the lock; a retry after
    // an ICMP for the first SYN means it only set the soft error (docs/kernel-timing.md
    // section 8.1).
    Nanos established = Nanos::max();
    for (const PeerEvent& e : flow->peer_events)
      if (e.kind == PeerEventKind::kSynAck) established = std::min(established, e.at);
    for (const PeerEvent& e : flow->peer_events) {
      if (e.kind != PeerEventKind::kIcmp || e.at > established) continue;
      model::IcmpError err = model_icmp(*e.icmp);
      if (err == model::IcmpError::kNone) continue;
      p.icmp.error = err;
      bool retried_after = false;
      for (const KernelEvent& k : flow->kernel_events)
        if (k.kind == KernelEventKind::kSynRetransmit && k.at > e.at) retried_after = true;
      p.icmp.first_lost_to_lock = retried_after;
      src.note(std::string("ICMP ") + model::icmp_errno(err) + " answers the SYNs (from the capture)" +
               (retried_after ? "; the first only set the soft error (connect() held the socket)" : ""));
      break;
    }
  }
  return model::syn_model(p);
}

model::Expectation persist(Source& src, const Flow* flow, int hz) {
  model::PersistParams p;
  p.hz = hz;
  p.rto_min = rto_min(src);
  p.rto_max = milliseconds(src.value("rto_max", "TCP_RTO_MAX_MS", "net.ipv4.tcp_rto_max_ms", 120000, 1000, 120000, " ms"));
  p.retries2 = static_cast<int>(src.value("tcp_retries2", nullptr, "net.ipv4.tcp_retries2", 15, 0, 255));
  p.user_timeout = milliseconds(src.value("TCP_USER_TIMEOUT", "TCP_USER_TIMEOUT", "", 0, 0, INT32_MAX, " ms"));
  p.rtt = rtt_state(src, flow, hz, p.rto_min);
  if (flow) {
    std::optional<Nanos> first_probe;
    for (const KernelEvent& k : flow->kernel_events)
      if (k.kind == KernelEventKind::kZeroWindowProbe && k.at >= flow->origin.at) {
        first_probe = k.at;
        break;
      }
    bool answered = false;
    for (const PeerEvent& e : flow->peer_events)
      if (first_probe && e.at > *first_probe && e.kind == PeerEventKind::kZeroWindow) answered = true;
    p.peer_answers = answered;
    src.note(std::string("the peer ") + (answered ? "answers" : "does not answer") + " the probes (from the capture)");
  }
  return model::persist_model(p);
}

model::Expectation keepalive(Source& src, int hz) {
  model::KeepaliveParams p;
  p.hz = hz;
  p.idle = seconds(src.value("keepalive idle", "TCP_KEEPIDLE", "net.ipv4.tcp_keepalive_time", 7200, 1, 32767, " s"));
  p.interval =
      seconds(src.value("keepalive interval", "TCP_KEEPINTVL", "net.ipv4.tcp_keepalive_intvl", 75, 1, 32767, " s"));
  p.probes = static_cast<int>(src.value("keepalive probes", "TCP_KEEPCNT", "net.ipv4.tcp_keepalive_probes", 9, 1, 127));
  p.user_timeout = milliseconds(src.value("TCP_USER_TIMEOUT", "TCP_USER_TIMEOUT", "", 0, 0, INT32_MAX, " ms"));
  return model::keepalive_model(p);
}

}  // namespace

const char* to_string(ModelKind k) {
  switch (k) {
    case ModelKind::kRto: return "rto";
    case ModelKind::kSyn: return "syn";
    case ModelKind::kPersist: return "persist";
    case ModelKind::kKeepalive: return "keepalive";
  }
  return "?";
}

std::optional<ModelKind> parse_model_kind(std::string_view text) {
  for (ModelKind k : {ModelKind::kRto, ModelKind::kSyn, ModelKind::kPersist, ModelKind::kKeepalive})
    if (text == to_string(k)) return k;
  return std::nullopt;
}

OriginRule origin_rule(ModelKind k) {
  switch (k) {
    case ModelKind::kRto: return OriginRule::kTriggeringSend;
    case ModelKind::kSyn: return OriginRule::kFirstSyn;
    case ModelKind::kPersist: return OriginRule::kZeroWindowAck;
    case ModelKind::kKeepalive: return OriginRule::kLastReceived;
  }
  return OriginRule::kFirstPacket;
}

const std::vector<std::string>& known_sysctls() {
  static const std::vector<std::string> names = {
      "net.ipv4.tcp_retries1",        "net.ipv4.tcp_retries2",          "net.ipv4.tcp_rto_min_us",
      "net.ipv4.tcp_rto_max_ms",      "net.ipv4.tcp_syn_retries",       "net.ipv4.tcp_syn_linear_timeouts",
      "net.ipv4.tcp_keepalive_time",  "net.ipv4.tcp_keepalive_intvl",   "net.ipv4.tcp_keepalive_probes",
      "net.ipv4.tcp_early_retrans",   "net.ipv4.tcp_sack"};
  return names;
}

const std::vector<std::string>& known_socket_options() {
  static const std::vector<std::string> names = {"TCP_USER_TIMEOUT", "TCP_KEEPIDLE",   "TCP_KEEPINTVL", "TCP_KEEPCNT",
                                                 "TCP_SYNCNT",       "TCP_RTO_MIN_US", "TCP_RTO_MAX_MS"};
  return names;
}

std::string canonical_sysctl(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '/', '.');
  if (s.rfind("net.", 0) != 0) s = "net.ipv4." + s;
  return s;
}

model::Expectation expectation_for(const ModelInputs& inputs, const Flow* flow, std::vector<std::string>* notes) {
  std::vector<std::string> scratch;
  Source src(inputs, notes ? *notes : scratch);
  if (inputs.hz < 1 || inputs.hz > 10000) throw ModelInputError("hz: " + std::to_string(inputs.hz) + " is out of range");
  switch (inputs.kind) {
    case ModelKind::kRto: return rto(src, flow, inputs.hz);
    case ModelKind::kSyn: return syn(src, flow, inputs.hz);
    case ModelKind::kPersist: return persist(src, flow, inputs.hz);
    case ModelKind::kKeepalive: return keepalive(src, inputs.hz);
  }
  throw ModelInputError("unknown model");
}

std::string give_up_summary(const ModelInputs& inputs, const model::Expectation& e) {
  std::vector<std::string> scratch;
  Source src(inputs, scratch);
  auto s3 = [](Nanos d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double>(d).count());
    return std::string(buf);
  };
  std::string when = "no give-up within the model's limits";
  if (e.give_up)
    when = "gives up " + (e.give_up->nominal ? s3(*e.give_up->nominal) + " s after t = 0 nominal, " : std::string()) +
           "[" + s3(e.give_up->earliest) + ", " + s3(e.give_up->latest) + "] s with the timer wheel, " +
           e.give_up->error + (e.give_up->rst ? " and an RST" : ", no RST");
  const auto user_timeout = src.sockopt("TCP_USER_TIMEOUT", 0, INT32_MAX).value_or(0);
  const auto rto_max = model::msecs_to_jiffies(
      milliseconds(src.sockopt("TCP_RTO_MAX_MS", 1000, 120000)
                       .value_or(src.sysctl("net.ipv4.tcp_rto_max_ms", 1000, 120000).value_or(120000))),
      inputs.hz);
  if (inputs.kind == ModelKind::kRto && user_timeout == 0) {
    const int retries2 = static_cast<int>(src.sysctl("net.ipv4.tcp_retries2", 0, 255).value_or(15));
    auto budget = model::tcp_model_timeout_ms(retries2, model::tcp_rto_min_constant(inputs.hz), rto_max, inputs.hz);
    return "give-up: tcp_model_timeout(tcp_retries2 = " + std::to_string(retries2) + ") = " + s3(budget) +
           " s of retransmitting, counted from RTO#1 (retrans_stamp); the kernel " + when;
  }
  if (inputs.kind == ModelKind::kSyn && user_timeout == 0) {
    const int retries = static_cast<int>(
        src.sockopt("TCP_SYNCNT", 1, 127).value_or(src.sysctl("net.ipv4.tcp_syn_retries", 1, 127).value_or(6)));
    const int linear = static_cast<int>(src.sysctl("net.ipv4.tcp_syn_linear_timeouts", 0, 255)
                                            .value_or(src.kernel_default("net.ipv4.tcp_syn_linear_timeouts", 4)));
    auto budget = model::tcp_model_timeout_ms(retries, model::tcp_timeout_init(inputs.hz), rto_max, inputs.hz);
    return "give-up: after " + std::to_string(retries + linear) + " SYN retransmissions (tcp_syn_retries " +
           std::to_string(retries) + " + tcp_syn_linear_timeouts " + std::to_string(linear) +
           ") or tcp_model_timeout() = " + s3(budget) + " s from the SYN, whichever comes first; connect() " + when;
  }
  if (user_timeout != 0)
    return "give-up: TCP_USER_TIMEOUT " + std::to_string(user_timeout) + " ms replaces the retry limits; the kernel " + when;
  return "give-up: the kernel " + when;
}

}  // namespace tapfault::replay
