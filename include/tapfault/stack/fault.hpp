// Faults as data: a trigger, an action and an optional end, applied at the peer's hooks.
//
// The scenario parser (replay/) builds a FaultPlan from `peer.faults`; stack::Host
// (stack/host.cpp) applies it in three places:
//   before_input()  every TCP segment from the kernel, before its connection sees it:
//                   counts it for the triggers, drops it (silent in/all) or answers
//                   it with an ICMP error (icmp);
//   emit()          every segment a connection sends (the host's ConnectionContext):
//                   output_silenced() drops it (silent out/all);
//   apply_one()     when a fault fires or ends (a segment, a state change, delivered
//                   bytes, or its time in poll()): window sets the connection's
//                   advertised window (TcpConnection::set_window_override()) and sends
//                   a window update; rst sends the reset.
// Every fault that fires or ends is logged as a PeerEvent with its time and seq/ack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/stack/tcp_state.hpp"
#include "tapfault/stack/time.hpp"

namespace tapfault::stack {

enum class TriggerKind : std::uint8_t {
  kImmediate,   // active from the start
  kAt,          // `at: 1.5s`: time since the host's origin (Instant{} + at)
  kOnSegment,   // `on_segment: 3`: the n-th data segment received on the connection (1-based)
  kOnRxBytes,   // `on_rx_bytes: 6`: in-order bytes received reach the count
  kOnState,     // `on_state: established`: the connection enters the state
  kAfterFault,  // `after: {fault: NAME, delay: 1s}` or `{fault: NAME, segments: 2}`
};

struct Trigger {
  TriggerKind kind = TriggerKind::kImmediate;
  Duration at{};                // kAt
  std::uint64_t count = 0;      // kOnSegment, kOnRxBytes; kAfterFault: segments after it
  TcpState state = TcpState::kEstablished;  // kOnState
  std::string fault;            // kAfterFault: name of the other fault
  Duration delay{};             // kAfterFault: time after the other fault fired
};

enum class SilentMode : std::uint8_t {
  kAll,       // drop every frame from the kernel; the peer answers nothing (a vanished host)
  kData,      // drop only kernel segments that carry data (or SYN/FIN)
  kInput,     // drop what the kernel sends, but the peer's own timers still emit
  kOutput,    // the peer processes input but everything it sends is dropped
  kOnce,      // drop the triggering segment only, then end
};

enum class IcmpKind : std::uint8_t {
  // ICMPv4 destination unreachable (RFC 792, RFC 1812) codes
  kNetUnreachable,       // code 0
  kHostUnreachable,      // code 1
  kProtocolUnreachable,  // code 2
  kPortUnreachable,      // code 3
  kFragNeeded,           // code 4, with next-hop MTU (RFC 1191)
  kAdminProhibited,      // code 13
  // ICMPv6 destination unreachable (RFC 4443) codes and packet too big
  kNoRoute,              // code 0
  kAdminProhibited6,     // code 1
  kAddressUnreachable,   // code 3
  kPortUnreachable6,     // code 4
  kPacketTooBig,         // type 2, with MTU
};
const char* to_string(IcmpKind k);
bool is_icmpv6(IcmpKind k);

enum class ActionKind : std::uint8_t { kSilent, kWindow, kIcmp, kRst };

struct SilentAction {
  SilentMode mode = SilentMode::kAll;
};

struct WindowAction {
  std::uint32_t window_bytes = 0;  // advertised from then on; 0 = zero window
  bool reopen = false;             // `window: reopen`: back to the configured window, with an update
  bool ignore_probes = false;      // while zero: do not ACK the kernel's window probes
};

struct IcmpAction {
  IcmpKind kind = IcmpKind::kHostUnreachable;
  std::uint32_t mtu = 0;               // kFragNeeded, kPacketTooBig
  std::optional<IpAddress> source;     // default: the peer address the segment was sent to
  bool every = false;                  // answer every segment while active, not only the trigger
};

struct RstAction {
  std::int64_t offset = 0;  // added to the in-window sequence number (0 = exactly rcv_nxt)
};

struct Fault {
  std::string name;            // for `after:` references and the log; defaults to "fault#N"
  int line = 0;                // scenario line, for messages
  Trigger trigger;
  std::optional<Trigger> until;
  std::uint32_t connection = 0;  // 0 = every connection; N = the N-th accepted (1-based)
  ActionKind action = ActionKind::kSilent;
  SilentAction silent;
  WindowAction window;
  IcmpAction icmp;
  RstAction rst;
};

struct FaultPlan {
  std::vector<Fault> faults;
};

}  // namespace tapfault::stack
