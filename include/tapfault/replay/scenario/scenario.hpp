// The scenario: what the kernel's client does, how the peer behaves and which faults it
// injects, and what the run should show.
//
// Read first: docs/scenarios.md (the YAML format, every field with an example). This header
// is the data model that the parser (replay/scenario/*.cpp) builds and the runner consumes.
// Every element keeps its 1-based source line so that later messages (runner, diff, report)
// can point back at the scenario: `echo.yaml:12: expect.error: expected ETIMEDOUT but saw none`.
// The parser checks semantics too (families, ranges, triggers that can never fire), so a
// Scenario that parsed is one the runner can execute without further validation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/stack/fault.hpp"
#include "tapfault/stack/host.hpp"
#include "tapfault/stack/time.hpp"

namespace tapfault::replay {

using Duration = stack::Duration;

// A scenario that does not parse or does not make sense. what() is
// `FILE:LINE:COL: FIELD: what is wrong and what is allowed`; a YAML syntax error has no field
// (`FILE:LINE:COL: YAML syntax error: ...`), and an unreadable file no position (`FILE: ...`).
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, int line, int column, std::string field, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based; 0 when there is no position
  int column() const { return column_; }  // 1-based; 0 when there is no position
  const std::string& field() const { return field_; }  // "client.actions[2].send"; may be empty
  const std::string& message() const { return message_; }  // the text after the prefix

 private:
  std::string file_;
  int line_ = 0;
  int column_ = 0;
  std::string field_;
  std::string message_;
};

// The errno names a scenario may use in `expect.error` and `expect.connect_error`; "none" is 0.
struct ErrnoName {
  std::string_view name;
  int value = 0;
};
std::span<const ErrnoName> known_errnos();
std::optional<int> errno_from_name(std::string_view name);
std::string errno_to_name(int value);  // "ETIMEDOUT"; "none" for 0; "errno 123" when not in the table

// Linux socket states with the numbers tcp_info's tcpi_state reports (include/net/tcp_states.h).
enum class SocketState : std::uint8_t {
  kEstablished = 1,
  kSynSent,
  kSynRecv,
  kFinWait1,
  kFinWait2,
  kTimeWait,
  kClose,
  kCloseWait,
  kLastAck,
  kListen,
  kClosing,
};
const char* to_string(SocketState s);  // as ss prints it: "ESTAB", "SYN-SENT", "FIN-WAIT-1", ...
// Any spelling: ss ("ESTAB"), RFC ("ESTABLISHED", "SYN-RECEIVED"), kernel ("TCP_FIN_WAIT1"),
// any case, '-' or '_'; "CLOSED" for CLOSE.
std::optional<SocketState> socket_state_from_string(std::string_view s);

// "ipv4", "ipv6": as scenarios, `tapfault run --family` and run names spell them.
const char* family_name(stack::Family f);
std::optional<stack::Family> family_from_name(std::string_view name);

// An address with a prefix length: `192.0.2.1/24`.
struct IpPrefix {
  stack::IpAddress address;
  int length = 0;

  std::string to_string() const;
  bool contains(const stack::IpAddress& a) const;
  auto operator<=>(const IpPrefix&) const = default;
};

// `network:` the TAP link between the kernel and the peer.
struct NetworkSpec {
  stack::Family family = stack::Family::kIpv4;  // of this run: one of Scenario::families
  std::uint32_t mtu = 1500;
  IpPrefix kernel_address;          // on the TAP device
  stack::IpAddress peer_address;    // where the client connects
  // The kernel reaches the peer through this next hop (a host route); unset = on-link.
  // Defaults: ipv6 2001:db8:a::2; ipv4 unset.
  std::optional<stack::IpAddress> gateway;
  // A further address the peer answers for; the source of ICMP errors `from: router`.
  std::optional<stack::IpAddress> router_address;
  int line = 0;
};

// One `sysctl:` entry, written under /proc/sys/net of the run's namespace ("net.ipv4.tcp_retries2").
struct Sysctl {
  std::string name;
  std::string value;  // as written in the scenario
  int line = 0;
};

// `peer:` the emulated userspace peer: its listeners, its window and its fault plan.
// `peer.ack: delayed`: how long an ACK may wait, Linux's TCP_DELACK_MIN (include/net/tcp.h,
// the first delayed ACK of a connection; tcp_send_delayed_ack()).
inline constexpr std::chrono::milliseconds kDelayedAck{40};

struct PeerSpec {
  std::vector<std::uint16_t> ports;  // at least one
  stack::AppMode mode = stack::AppMode::kEcho;
  std::vector<std::uint8_t> response;  // kRespond: `response`, or the contents of `response_file`
  std::filesystem::path response_file;  // resolved against the scenario's directory; empty if inline
  bool respond_on_connect = false;
  bool close_after_response = false;
  std::uint32_t window_bytes = 256 * 1024;
  std::uint8_t window_scale = 7;
  // `ack: delayed`: in-order data acknowledged as Linux does (stack::HostConfig::delayed_ack,
  // kDelayedAck); `ack: each` (the default): every segment at once.
  std::optional<std::chrono::milliseconds> delayed_ack;
  stack::FaultPlan faults;  // Fault::line is the scenario line of each item
  int line = 0;

  // One ListenerConfig per port, for stack::HostConfig::listeners.
  std::vector<stack::ListenerConfig> listeners() const;
};

// `client.socket_options`: one setsockopt() before connect, in file order.
struct SocketOption {
  std::string name;  // as written: "TCP_USER_TIMEOUT"
  int level = 0;     // SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP or IPPROTO_IPV6
  int optname = 0;   // SO_KEEPALIVE, TCP_USER_TIMEOUT, ...; IP_MTU_DISCOVER becomes IPV6_MTU_DISCOVER in ipv6 runs
  std::variant<int, std::string> value;  // int for every option but TCP_CONGESTION
  int line = 0;
};

// The payload byte at `offset` of a `send: {size: N}` (printable, repeating every 26 bytes).
std::uint8_t pattern_byte(std::uint64_t offset);

// One `client.actions` item. The client runs them in order; an action starts at `at` (time
// since the run started) if set, else `after` past the completion of the previous one.
struct ClientAction {
  enum class Kind : std::uint8_t {
    kConnect,       // blocking connect to peer_address:peer_port
    kSend,          // write every byte of the payload
    kRecv,          // read until `until` is met
    kWait,          // stay idle for `duration`
    kWaitError,     // poll until POLLERR/POLLHUP, then record SO_ERROR
    kClose,
    kShutdown,      // shutdown(`shutdown_how`)
    kConnectAgain,  // a new socket connects to the same peer (for "new connects fail at once")
  };
  enum class SendSource : std::uint8_t {
    kText,     // `send: "hello\n"`: data
    kPattern,  // `send: {size: 1MiB}`: `bytes` bytes of pattern_byte()
    kFile,     // `send: {file: path}`: data holds the file's contents
  };
  enum class RecvUntil : std::uint8_t {
    kBytes,  // `recv: 1MiB`: `bytes` more bytes since the previous recv
    kAny,    // `recv: any`: at least one byte
    kEof,    // `recv: eof`: read returns 0
  };

  Kind kind = Kind::kConnect;
  std::optional<Duration> at;  // since the run started
  Duration after{};            // delay after the previous action completes; 0 when `at` is set
  // kSend
  SendSource source = SendSource::kText;
  std::vector<std::uint8_t> data;  // kText and kFile; empty for kPattern
  std::filesystem::path file;      // kFile: resolved against the scenario's directory
  // kSend: the payload length (every source); kRecv with kBytes: the byte count
  std::uint64_t bytes = 0;
  // kRecv
  RecvUntil until = RecvUntil::kBytes;
  // kConnect, kConnectAgain, kRecv, kWaitError: give up after this long (the runner records a
  // failure); unset = bounded only by the run's duration.
  std::optional<Duration> timeout;
  Duration duration{};  // kWait
  int shutdown_how = 1;  // kShutdown: SHUT_RD (0), SHUT_WR (1, the default) or SHUT_RDWR (2)
  std::optional<std::uint16_t> local_port;  // kConnectAgain: fixed source port; unset = ephemeral
  int line = 0;

  // The bytes a kSend writes (materialises kPattern).
  std::vector<std::uint8_t> payload() const;
};

// `client:` the built-in kernel client. Absent when an external command is the client.
struct ClientSpec {
  std::uint16_t local_port = 40000;
  std::uint16_t peer_port = 0;  // default: the first of peer.ports
  std::vector<SocketOption> socket_options;
  std::vector<ClientAction> actions;  // default: a single connect
  int line = 0;
};

// One top-level `actions:` item, done by the runner in the kernel's namespace at `at`.
struct KernelAction {
  enum class Kind : std::uint8_t { kRouteDel, kRouteAdd, kLinkDown, kLinkUp, kMtu, kSysctl };

  Kind kind = Kind::kRouteDel;
  Duration at{};  // since the run started
  // kRouteDel, kRouteAdd: unset = the route to the peer as the run set it up (`peer`).
  std::optional<IpPrefix> prefix;
  // kRouteAdd with a prefix: next hop; defaults to network.gateway; unset = on-link.
  std::optional<stack::IpAddress> via;
  std::uint32_t mtu = 0;        // kMtu
  std::vector<Sysctl> sysctls;  // kSysctl, in file order
  int line = 0;
};

// A value the run is checked against, with the line it came from.
template <typename T>
struct Expected {
  T value{};
  int line = 0;
};

// One `expect.tcp_info` field. Times (rto, ato, rtt, rttvar) are in microseconds as
// tcp_info reports them; `state` is the SocketState number.
struct TcpInfoExpectation {
  std::string field;
  std::int64_t value = 0;
  int line = 0;
};

// `expect.model`: the timing model the diff compares the capture with.
struct ModelExpectation {
  enum class Kind : std::uint8_t { kRto, kSyn, kPersist, kKeepalive };

  Kind kind = Kind::kRto;
  std::optional<Duration> tolerance;    // extra slack on top of the diff's default
  std::optional<std::uint32_t> events;  // expected retransmissions or probes
  int line = 0;
};
const char* to_string(ModelExpectation::Kind k);  // "rto", "syn", "persist", "keepalive"
// The action's key in a scenario and its name in the timeline: "connect", "wait_error", ...
const char* to_string(ClientAction::Kind k);

// The kernel timer on the socket, as ss shows it in `timer:(...)`.
enum class SocketTimer : std::uint8_t { kOff, kOn, kKeepalive, kTimewait, kPersist };
const char* to_string(SocketTimer t);  // "off", "on", "keepalive", "timewait", "persist"

// `expect:` unset fields are not checked.
struct Expectations {
  std::optional<Expected<std::uint64_t>> client_received;  // bytes, in total
  std::optional<Expected<std::uint64_t>> peer_received;
  std::optional<Expected<int>> error;           // the final error the client saw; 0 = none
  std::optional<Expected<Duration>> error_before;  // the error came before this (since run start)
  std::optional<Expected<int>> connect_error;   // of connect_again; 0 = none
  std::optional<Expected<SocketState>> state;   // the socket at the end (or at `socket_at`)
  std::vector<TcpInfoExpectation> tcp_info;     // file order
  std::optional<Expected<SocketTimer>> timer;
  // `at:` state, timer and tcp_info are checked against the client socket's last sample
  // taken at or before this time (since run start) instead of its state at the end.
  std::optional<Expected<Duration>> socket_at;
  std::optional<Expected<bool>> rst_from_kernel;
  std::optional<ModelExpectation> model;
  int line = 0;
};

// `kernels: {versions: ">= 6.15", reason: "..."}`: the kernels the scenario can pass on.
// A run on another kernel exits 3 and reports the run as not applicable, with the reason.
struct KernelRequirement {
  std::string versions;  // comparisons joined by commas (model::KernelRange)
  std::string reason;
  int line = 0;
};

// `compress: {rto_min: 20ms, rto_max: 1s}`: the RTO's floor and ceiling, lowered so that a
// backoff fits in the run. The run chooses the mechanism this kernel has (the sysctls
// tcp_rto_min_us and tcp_rto_max_ms, or the route metric rto_min) and reports which.
struct Compression {
  std::optional<Duration> rto_min;
  std::optional<Duration> rto_max;
  // How to lower rto_min: "auto" (the sysctl where the kernel has it, else the route),
  // "sysctl" or "route" (to try the route metric on a kernel that has both).
  std::string via = "auto";
  int line = 0;
};

struct Scenario {
  // The run's name: names its output folder, its report and its golden files. The case
  // (case_name) plus "-" and the family when network.family lists several ("lost-peer-ipv4"),
  // else the case alone.
  std::string name;
  std::string case_name;  // `name:` as written; default: the file's stem
  std::vector<stack::Family> families;  // network.family in file order; network.family is one of them
  std::string description;
  std::vector<std::string> tags;
  std::uint64_t seed = 1;  // the peer's ISN and timestamp offset
  Duration duration = std::chrono::seconds(30);  // hard limit of the run
  Duration settle = std::chrono::milliseconds(200);  // idle time that ends a finished run early
  NetworkSpec network;
  std::vector<Sysctl> sysctls;  // file order
  std::optional<KernelRequirement> kernels;
  std::optional<Compression> compress;
  PeerSpec peer;
  std::optional<ClientSpec> client;  // unset: an external command is the client
  std::vector<KernelAction> kernel_actions;  // sorted by `at`; ties keep file order
  Expectations expect;
  std::filesystem::path file;  // as given to the parser

  bool has_tag(std::string_view tag) const;
  // Tagged `realtime`: the run waits out the kernel's real timeouts.
  bool realtime() const { return has_tag("realtime"); }
};

// All throw ScenarioError. Relative file references (response_file, send file) resolve
// against the directory of `path` / `file_name`. `family` chooses which of network.family's
// families the Scenario is for (default: the first listed); one it does not list is an
// error at network.family.
Scenario parse_scenario_file(const std::filesystem::path& path, std::optional<stack::Family> family = {});
Scenario parse_scenario(std::string_view yaml_text, std::string file_name,
                        std::optional<stack::Family> family = {});
// One Scenario per family of network.family, in that order: every family's values are
// checked before anything runs.
std::vector<Scenario> parse_scenario_families(const std::filesystem::path& path);

}  // namespace tapfault::replay
