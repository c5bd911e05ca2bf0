// Scenario parser: `expect:` what the run is checked against at the end (bytes, errors,
// socket state, tcp_info fields, the kernel timer; or the socket at `at:`) and the timing
// model for the diff.
#include <string>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

enum class InfoUnit : std::uint8_t { kCount, kBytes, kMicros, kState };

struct InfoField {
  std::string_view name;
  InfoUnit unit;
};

// struct tcp_info (include/uapi/linux/tcp.h) fields by their names without `tcpi_`.
constexpr InfoField kInfoFields[] = {
    {"state", InfoUnit::kState},          {"rto", InfoUnit::kMicros},
    {"ato", InfoUnit::kMicros},           {"backoff", InfoUnit::kCount},
    {"retransmits", InfoUnit::kCount},    {"probes", InfoUnit::kCount},
    {"snd_mss", InfoUnit::kCount},        {"rcv_mss", InfoUnit::kCount},
    {"pmtu", InfoUnit::kCount},           {"advmss", InfoUnit::kCount},
    {"rtt", InfoUnit::kMicros},           {"rttvar", InfoUnit::kMicros},
    {"snd_cwnd", InfoUnit::kCount},       {"unacked", InfoUnit::kCount},
    {"lost", InfoUnit::kCount},           {"retrans", InfoUnit::kCount},
    {"total_retrans", InfoUnit::kCount},  {"bytes_sent", InfoUnit::kBytes},
    {"bytes_acked", InfoUnit::kBytes},    {"bytes_received", InfoUnit::kBytes},
    {"notsent_bytes", InfoUnit::kBytes},  {"snd_wnd", InfoUnit::kBytes},
    {"rcv_wnd", InfoUnit::kBytes},
};

constexpr std::uint64_t kMaxInfoValue = INT64_MAX;

std::int64_t as_info_value(const Field& f, InfoUnit unit) {
  switch (unit) {
    case InfoUnit::kCount: return static_cast<std::int64_t>(as_uint(f, 0, kMaxInfoValue));
    case InfoUnit::kBytes: return static_cast<std::int64_t>(as_size(f, kMaxInfoValue));
    case InfoUnit::kState:
      if (f.is_scalar() && !f.is_quoted() && !f.scalar().empty() && f.scalar()[0] >= '0' && f.scalar()[0] <= '9') {
        return as_int(f, static_cast<int>(SocketState::kEstablished), static_cast<int>(SocketState::kClosing));
      }
      return static_cast<std::int64_t>(as_socket_state(f));
    case InfoUnit::kMicros: {
      // tcp_info reports these in microseconds; a duration must be whole microseconds.
      if (f.is_scalar() && !f.is_quoted() && !f.scalar().empty() &&
          f.scalar().find_first_not_of("0123456789") == std::string::npos) {
        return static_cast<std::int64_t>(as_uint(f, 0, kMaxInfoValue));
      }
      const Duration d = as_duration(f);
      if (d % std::chrono::microseconds(1) != Duration::zero()) {
        f.fail("tcp_info counts whole microseconds, got " + format_duration(d));
      }
      return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    }
  }
  return 0;
}

std::vector<TcpInfoExpectation> parse_tcp_info(const Field& f) {
  std::vector<std::string_view> names;
  for (const InfoField& i : kInfoFields) names.push_back(i.name);
  const Mapping m(f, names, "unknown tcp_info field; allowed: " + join(names));
  std::vector<TcpInfoExpectation> out;
  for (const Mapping::Entry& e : m.entries()) {
    for (const InfoField& i : kInfoFields) {
      if (i.name == e.key) out.push_back(TcpInfoExpectation{e.key, as_info_value(e.value, i.unit), e.key_field.line()});
    }
  }
  return out;
}

SocketTimer as_timer(const Field& f) {
  constexpr std::pair<std::string_view, SocketTimer> kTimers[] = {
      {"on", SocketTimer::kOn},           {"persist", SocketTimer::kPersist}, {"keepalive", SocketTimer::kKeepalive},
      {"timewait", SocketTimer::kTimewait}, {"off", SocketTimer::kOff},
  };
  // YAML reads unquoted on/off as booleans, but as_string sees the text as written.
  const std::string text = as_string(f);
  for (const auto& [name, timer] : kTimers)
    if (name == text) return timer;
  f.fail("unknown timer " + f.describe() + "; allowed: on, persist, keepalive, timewait, off (as ss shows them)");
}

ModelExpectation parse_model(const Field& f) {
  const Mapping m(f, {"kind", "tolerance", "events"});
  ModelExpectation model;
  model.line = f.line();
  const Field kind = m.required("kind", "allowed: rto, syn, persist, keepalive");
  const std::string name = as_string(kind);
  if (name == "rto") model.kind = ModelExpectation::Kind::kRto;
  else if (name == "syn") model.kind = ModelExpectation::Kind::kSyn;
  else if (name == "persist") model.kind = ModelExpectation::Kind::kPersist;
  else if (name == "keepalive") model.kind = ModelExpectation::Kind::kKeepalive;
  else kind.fail("unknown model kind " + kind.describe() + "; allowed: rto, syn, persist, keepalive");
  if (auto x = m.get("tolerance")) model.tolerance = as_duration(*x);
  if (auto x = m.get("events")) model.events = static_cast<std::uint32_t>(as_uint(*x, 0, UINT32_MAX));
  return model;
}

template <typename T>
Expected<T> expected(const Field& f, T value) {
  return Expected<T>{std::move(value), f.line()};
}

}  // namespace

Expectations parse_expect(const Field& f) {
  const Mapping m(f, {"client_received", "peer_received", "error", "error_before", "connect_error", "state",
                      "tcp_info", "timer", "rst_from_kernel", "model", "at"});
  Expectations e;
  e.line = f.line();
  if (auto x = m.get("client_received")) e.client_received = expected(*x, as_size(*x));
  if (auto x = m.get("peer_received")) e.peer_received = expected(*x, as_size(*x));
  if (auto x = m.get("error")) e.error = expected(*x, as_errno(*x));
  if (auto x = m.get("error_before")) {
    e.error_before = expected(*x, as_duration(*x));
    if (e.error && e.error->value == 0) {
      m.key_field("error_before").fail("error: none and error_before contradict; the run expects no error");
    }
    if (e.error_before->value > x->ctx().duration) {
      x->fail("checks nothing: " + format_duration(e.error_before->value) + " is after the run ends (duration " +
              format_duration(x->ctx().duration) + ")");
    }
  }
  if (auto x = m.get("connect_error")) e.connect_error = expected(*x, as_errno(*x));
  if (auto x = m.get("state")) e.state = expected(*x, as_socket_state(*x));
  if (auto x = m.get("tcp_info")) e.tcp_info = parse_tcp_info(*x);
  if (auto x = m.get("timer")) e.timer = expected(*x, as_timer(*x));
  if (auto x = m.get("rst_from_kernel")) e.rst_from_kernel = expected(*x, as_bool(*x));
  if (auto x = m.get("model")) e.model = parse_model(*x);
  if (auto x = m.get("at")) {
    e.socket_at = expected(*x, as_duration(*x));
    if (!e.state && !e.timer && e.tcp_info.empty()) {
      m.key_field("at").fail("checks nothing: `at` names the time for state, timer and tcp_info; give one of them");
    }
    if (e.socket_at->value > x->ctx().duration) {
      x->fail("checks nothing: " + format_duration(e.socket_at->value) + " is after the run ends (duration " +
              format_duration(x->ctx().duration) + ")");
    }
  }
  return e;
}

}  // namespace tapfault::replay::detail
