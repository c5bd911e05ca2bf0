// stack::Host: the emulated peer host, pure: frames and `now` in, frames and a deadline out.
//
// Read first: docs/architecture.md "Boundaries". The caller (tap::Driver, or a unit test)
// feeds every frame the kernel sent with on_frame(), calls poll() when
// next_deadline() is reached, and sends every frame pending_output() holds, then clear_output().
// The host answers ARP and NDP for its addresses, answers ping, and runs the
// TCP peer connections (tcp_connection.hpp), applying the fault plan at its hooks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tapfault/stack/address.hpp"
#include "tapfault/stack/fault.hpp"
#include "tapfault/stack/tcp_state.hpp"
#include "tapfault/stack/time.hpp"

namespace tapfault::stack {

using Frame = std::vector<std::uint8_t>;

// What the peer application does with the bytes a connection receives.
enum class AppMode : std::uint8_t {
  kEcho,     // send every received byte back
  kDiscard,  // read and drop
  kRespond,  // send `response` once after the first data (or at once if respond_on_connect)
  kSource,   // send `source_bytes` pattern bytes from establishment on, as the window allows
};

struct ListenerConfig {
  std::uint16_t port = 0;
  AppMode mode = AppMode::kEcho;
  std::vector<std::uint8_t> response;  // for kRespond
  bool respond_on_connect = false;     // kRespond: send before any data arrives
  bool close_after_response = false;   // kRespond, kSource: FIN once everything is sent
  // kSource: byte i of the stream is 'a' + i % 26 (replay's pattern_byte). Generated as the
  // kernel acknowledges, never more than send_buffer_limit buffered at a time.
  std::uint64_t source_bytes = 0;
};

struct HostConfig {
  MacAddress mac = *MacAddress::parse("02:00:5e:00:53:02");
  // Every address the host answers for (ARP, NDP, ping, TCP), including a
  // gateway address such as 2001:db8:a::2 that the kernel routes through.
  std::vector<IpAddress> addresses;
  std::vector<ListenerConfig> listeners;
  std::uint32_t mtu = 1500;
  std::uint32_t window_bytes = 65535 * 4;  // receive window the peer advertises
  std::uint8_t window_scale = 7;           // shift the peer offers when the kernel offers one
  std::uint64_t seed = 1;                  // ISN and timestamp offset derive from it
  Instant origin{};                        // time zero of the scenario (`at:` triggers count from it)
  std::size_t max_connections = 16384;
  std::size_t send_buffer_limit = 4u << 20;  // per connection: echo backlog above this closes the window
  std::chrono::milliseconds retransmit_timeout{200};  // the peer's own RTO for its data and FIN
  int max_retransmits = 8;
  // How the peer acknowledges in-order data it has nothing to send back with. Unset (the
  // default, and what every scenario measures): an ACK for every segment, at once. Set: as
  // Linux's delayed ACK does (tcp_ack_snd_check()): at once when more than one full-sized
  // segment is unacknowledged, else after this delay. Out-of-order and old segments, FIN,
  // window probes and challenge ACKs are answered at once either way.
  std::optional<std::chrono::milliseconds> delayed_ack;
};

struct FlowKey {
  IpAddress peer_addr;     // our address
  IpAddress kernel_addr;   // the client's address
  std::uint16_t peer_port = 0;
  std::uint16_t kernel_port = 0;
  auto operator<=>(const FlowKey&) const = default;
  std::string to_string() const;  // "[2001:db8:a::1]:40000 -> [2001:db8::2]:80"
};

// One line of the peer's log: state changes, faults applied, resets, drops.
struct PeerEvent {
  Instant at;
  std::string kind;    // "state", "fault", "rst", "drop", ...
  std::string detail;  // human-readable
  std::optional<FlowKey> flow;
  std::uint32_t seq = 0;  // relative to the connection's ISNs where a flow is named
  std::uint32_t ack = 0;
};

struct ConnectionSummary {
  std::uint64_t id = 0;  // 1-based order of acceptance
  FlowKey flow;
  TcpState state = TcpState::kClosed;
  std::uint64_t bytes_received = 0;  // in-order payload delivered to the peer app
  std::uint64_t bytes_sent = 0;      // payload the peer sent and the kernel acknowledged
  std::uint32_t kernel_isn = 0;
  std::uint32_t peer_isn = 0;
  bool reset = false;                // ended by a RST either way
};

struct HostStats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::map<std::string, std::uint64_t> dropped;  // reason -> count ("malformed.tcp", "not-for-us", ...)
  std::uint64_t arp_replies = 0;
  std::uint64_t neighbor_adverts = 0;
  std::uint64_t echo_replies = 0;
  std::uint64_t resets_sent = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t fragments = 0;    // IPv4 fragments received
  std::uint64_t reassembled = 0;  // packets rebuilt from them
};

class Host {
 public:
  explicit Host(HostConfig config, FaultPlan plan = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  void on_frame(std::span<const std::uint8_t> frame, Instant now);
  void poll(Instant now);
  std::optional<Instant> next_deadline() const;

  // The one way to take the output: the frames to put on the wire, oldest first, in place
  // until clear_output() or the next call that sends. clear_output() keeps their buffers
  // for the next frames, so the data path allocates nothing (tap::Driver reads them so).
  std::span<const Frame> pending_output() const;
  void clear_output();

  // Peer events since the last call (faults applied, state changes).
  std::vector<PeerEvent> take_events();

  const HostStats& stats() const;
  // Every connection the host has had, open or closed, in order of acceptance.
  std::vector<ConnectionSummary> connections() const;
  const HostConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapfault::stack
