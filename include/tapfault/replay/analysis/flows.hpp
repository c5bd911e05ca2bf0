// What the kernel did, per connection, read back from a capture: its original
// transmissions, retransmissions, TLPs, SYN retries, zero-window and keepalive probes,
// RSTs and FINs, and what the peer sent back (ACKs, windows, data, ICMP errors).
//
// Read first: docs/kernel-timing.md sections 3 (RTO), 5 (keepalive), 6 (SYN), 7 (persist) and
// 10 (TLP). Classification follows the kernel's own rules, seen from the wire:
//   syn / syn_retransmit  the first SYN, then the same SYN (same ISN) again
//                         (tcp_retransmit_timer() in SYN_SENT)
//   data / fin            a segment carrying sequence space never sent before
//   retransmit            a segment repeating sequence space already sent
//   tlp                   the first retransmission of a loss episode when SACK was
//                         negotiated and it repeats the LAST segment sent: what
//                         tcp_send_loss_probe() sends; an RTO retransmits the head.
//                         With one segment in flight both are the same segment, so the
//                         diff re-decides by time when the model disagrees
//   zero_window_probe     seq = snd_una - 1, no data, while the peer's last window was 0
//                         (tcp_write_wakeup() from tcp_send_probe0())
//   keepalive_probe       seq = snd_una - 1 with 0 (Linux) or 1 (BSD-style) bytes while
//                         the window is open (tcp_write_wakeup() from tcp_keepalive_timer())
// A loss episode opens at the first retransmission after the last ACK that advanced
// snd_una and closes at the next one (tcp_ack() resets icsk_retransmits then).
// Retransmitted segments sent within 1 ms of each other with nothing received in
// between come from one timer firing and are folded into one event.
//
// Kernel side: the side that sent the first SYN; without a handshake in the capture,
// the side a Linux cooked capture marks as outgoing, else the side that retransmits,
// else the one that sends more payload, else the first sender. Sequence and ACK numbers
// are relative to each side's ISN (its SYN), or to the first sequence number seen from
// that side when the capture starts mid-connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapfault/replay/analysis/capture_reader.hpp"

namespace tapfault::replay {

using Nanos = std::chrono::nanoseconds;

struct Endpoint {
  stack::IpAddress address;
  std::uint16_t port = 0;

  // "192.0.2.1:40000", "[2001:db8::1]:40000"
  std::string to_string() const;
  // The same syntax; nullopt when it does not parse.
  static std::optional<Endpoint> parse(std::string_view text);
  auto operator<=>(const Endpoint&) const = default;
};

enum class KernelEventKind : std::uint8_t {
  kSyn,
  kSynRetransmit,
  kData,
  kRetransmit,
  kTlp,
  kZeroWindowProbe,
  kKeepaliveProbe,
  kRst,
  kFin,
};
const char* to_string(KernelEventKind k);  // "syn", "syn_retransmit", "data", ...

struct KernelEvent {
  KernelEventKind kind = KernelEventKind::kData;
  Nanos at{};            // capture clock (since the epoch)
  Nanos t{};             // at - the flow's origin
  std::uint64_t frame = 0;
  std::uint32_t rel_seq = 0;  // seq - the kernel's ISN
  std::uint32_t len = 0;      // payload bytes (of the first segment when folded)
  int segments = 1;           // segments folded into this event (one timer firing)
  int episode = 0;            // loss episode (1-based) of a retransmit or TLP; else 0
};

enum class PeerEventKind : std::uint8_t {
  kSynAck,
  kAck,         // no data, window open
  kZeroWindow,  // any segment advertising a zero window
  kData,
  kFin,
  kRst,
  kIcmp,        // an ICMP error quoting one of the kernel's segments of this flow
};
const char* to_string(PeerEventKind k);

struct PeerEvent {
  PeerEventKind kind = PeerEventKind::kAck;
  Nanos at{};
  Nanos t{};
  std::uint64_t frame = 0;
  std::uint32_t rel_ack = 0;  // ack - the kernel's ISN (when the ACK flag is set)
  std::uint32_t window = 0;   // advertised window in bytes (scaled when both offered scaling)
  std::uint32_t len = 0;      // payload bytes
  bool acks_everything = false;  // ack == the kernel's snd_nxt at that moment
  std::optional<IcmpMessage> icmp;  // kIcmp
};

// Where t = 0 is, stated in every report.
struct Origin {
  Nanos at{};
  std::uint64_t frame = 0;
  std::string what;  // "original transmission of seq 1:101 (the triggering send)"
};

struct LossEpisode {
  int index = 0;                     // 1-based
  std::size_t first_retransmit = 0;  // index into Flow::kernel_events
  // The send that armed the timers that fired: with a TLP (tcp_schedule_loss_probe()
  // re-arms from every send) the last new segment sent before the episode; without one
  // (the RTO is armed from the head: tcp_rearm_rto()) the original of the first
  // segment retransmitted. Equal for a single segment in flight.
  Nanos trigger_at{};
  std::uint64_t trigger_frame = 0;
  std::uint32_t trigger_rel_seq = 0;
  std::uint32_t trigger_len = 0;
  int packets_out = 0;     // original segments not yet acknowledged when it opened
  bool recovered = false;  // a later ACK advanced snd_una
  int retransmissions = 0;
};

struct Flow {
  int index = 0;  // 1-based, in order of first appearance
  Endpoint kernel;
  Endpoint peer;
  std::string kernel_side_reason;  // "sent the SYN", "retransmits", ...
  bool handshake_seen = false;     // the kernel's SYN is in the capture
  bool sack_permitted = false;     // both SYNs offered SACK (unknown = false)
  bool timestamps = false;         // both SYNs carried TS
  std::optional<Nanos> handshake_rtt;  // SYN (Karn: unless retransmitted without TS) to SYN-ACK
  // The kernel's smoothed RTT as tcp_rtt_estimator() would have it from the samples on
  // the wire (handshake, then each never-retransmitted segment acknowledged), gain 1/8.
  std::optional<std::chrono::microseconds> srtt_estimate;
  std::vector<KernelEvent> kernel_events;
  std::vector<PeerEvent> peer_events;
  std::vector<LossEpisode> episodes;
  Nanos first_at{};
  Nanos last_at{};
  std::uint64_t first_frame = 0;
  std::uint64_t packets = 0;
  Origin origin;  // default: the flow's first packet

  std::string name() const;  // "192.0.2.1:40000 -> 192.0.2.2:8080"
};

// A connection's packets in file order: its TCP segments and the ICMP errors quoting a
// segment the kernel side sent on it. Pointers into the Capture.
struct ConnectionPackets {
  Endpoint kernel;
  Endpoint peer;
  std::string kernel_side_reason;
  std::vector<const Packet*> packets;
};

// Every TCP connection in the capture, in order of first appearance. A new SYN with
// another ISN on the same 4-tuple starts a new connection.
std::vector<ConnectionPackets> group_connections(const Capture& capture);

// The same connections, classified. Origins are the first packets.
std::vector<Flow> extract_flows(const Capture& capture);

// `--flow`: "2" (index), "ADDR:PORT-ADDR:PORT" (either order), or ":PORT" (either side).
struct FlowSelector {
  std::optional<int> index;
  std::optional<std::pair<Endpoint, Endpoint>> endpoints;
  std::optional<std::uint16_t> port;

  bool empty() const { return !index && !endpoints && !port; }
  bool matches(const Flow& f) const;
  std::string to_string() const;
  // nullopt when the text is none of the forms above.
  static std::optional<FlowSelector> parse(std::string_view text);
};

// The origin each model counts from (see the model headers and docs/models.md):
//   kTriggeringSend  rto: the chosen loss episode's triggering send (LossEpisode)
//   kFirstSyn        syn: the kernel's first SYN
//   kZeroWindowAck   persist: the peer's first zero-window ACK that acknowledged
//                    everything sent (no data in flight: tcp_ack_probe() arms the
//                    probe timer then), after the window was last open and before the
//                    first probe; any zero-window segment before the probe otherwise
//   kLastReceived    keepalive: the last segment received from the peer before the first
//                    keepalive probe; tcp_keepalive_timer() measures keepalive_time_elapsed()
//                    = min(now - icsk_ack.lrcvtime, now - rcv_tstamp), both stamped on
//                    reception, and sending does not reset it
enum class OriginRule : std::uint8_t { kFirstPacket, kTriggeringSend, kFirstSyn, kZeroWindowAck, kLastReceived };

// The loss episode the rto model is compared with: the first that never recovered (the
// peer fell silent for good), else the first.
const LossEpisode* chosen_episode(const Flow& flow);

// nullopt, with `why_not` filled, when the flow has no such packet.
std::optional<Origin> find_origin(const Flow& flow, OriginRule rule, std::string* why_not = nullptr);
// Moves t = 0 to `origin` for every event.
void set_origin(Flow& flow, const Origin& origin);

}  // namespace tapfault::replay
