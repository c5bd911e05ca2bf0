// One TCP connection of the peer, passive side (RFC 9293 section 3.10).
//
// Read first: RFC 9293 3.10.7.4 (segment arrives, synchronized states), which
// on_segment() follows step by step. The connection never reads a clock and
// never touches a device: segments go out through ConnectionContext, which the
// host implements (its emit() drops what a silent fault silences, then encodes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/host.hpp"

namespace tapfault::stack {

class TcpConnection;

class ConnectionContext {
 public:
  virtual ~ConnectionContext() = default;
  virtual void emit(TcpConnection& c, const TcpSegmentOut& seg, Instant now) = 0;
  virtual void log(const TcpConnection& c, const char* kind, std::string detail, Instant now) = 0;
  virtual void on_state(TcpConnection& c, TcpState from, Instant now) = 0;
  // In-order bytes were delivered to the peer app (the on_rx_bytes triggers look here),
  // before the ACK for them is sent.
  virtual void on_delivered(TcpConnection& c, Instant now) = 0;
  // c.deadline() changed (every change is reported, so the host's index of deadlines
  // never scans the connections).
  virtual void on_deadline(TcpConnection& c) = 0;
};

class TcpConnection {
 public:
  // `app` and `cfg` are the host's and must outlive the connection.
  TcpConnection(std::uint64_t id, FlowKey key, const ListenerConfig& app, const HostConfig& cfg,
                SeqNum iss, std::uint32_t ts_offset);

  // Passive open: the kernel's SYN arrived at a listening port. Sends SYN-ACK.
  void on_syn(const DecodedTcp& syn, Instant now, ConnectionContext& ctx);
  void on_segment(const DecodedTcp& seg, Instant now, ConnectionContext& ctx);
  void on_timer(Instant now, ConnectionContext& ctx);
  std::optional<Instant> deadline() const;
  // The host's bookkeeping: where its timer index keeps this connection (timer_index.hpp).
  std::size_t& timer_slot() { return timer_slot_; }

  // Fault hooks.
  void set_window_override(std::optional<std::uint32_t> window_bytes, bool ignore_probes);
  void send_window_update(Instant now, ConnectionContext& ctx);
  void send_reset(std::int64_t offset, Instant now, ConnectionContext& ctx);

  std::uint64_t id() const { return id_; }
  const FlowKey& key() const { return key_; }
  TcpState state() const { return state_; }
  bool closed() const { return state_ == TcpState::kClosed; }
  // Counted by the host before the fault hooks see the segment (on_segment triggers).
  void note_data_segment() { ++data_segments_in_; }
  std::uint64_t data_segments_received() const { return data_segments_in_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  // seq/ack relative to the ISNs, for logs.
  std::uint32_t rel_snd_nxt() const { return static_cast<std::uint32_t>(snd_nxt_ - iss_); }
  std::uint32_t rel_rcv_nxt() const { return static_cast<std::uint32_t>(rcv_nxt_ - irs_); }
  ConnectionSummary summary() const;

 private:
  std::uint32_t receive_window_bytes() const;
  std::uint32_t usable_window() const;  // what incoming data may fill: never less than advertised
  std::uint16_t window_field() const;
  std::uint32_t in_flight() const { return static_cast<std::uint32_t>(snd_nxt_ - snd_una_); }
  std::size_t unsent_bytes() const;
  bool acceptable(const DecodedTcp& seg) const;

  void process_ack(const DecodedTcp& seg, Instant now, ConnectionContext& ctx);
  // Whether the segment needs an ACK; `in_order` tells that it delivered new bytes.
  bool process_data(const DecodedTcp& seg, Instant now, ConnectionContext& ctx, bool& in_order);
  void process_fin(Instant now, ConnectionContext& ctx);
  void deliver(std::span<const std::uint8_t> data);
  void app_after_input();

  void send_pending(Instant now, ConnectionContext& ctx);
  void send_segment(SeqNum seq, std::uint8_t flags, std::span<const std::uint8_t> payload,
                    Instant now, ConnectionContext& ctx);
  void send_ack(Instant now, ConnectionContext& ctx);
  // The ACK for in-order data: at once, or delayed when HostConfig::delayed_ack allows.
  void ack_data(Instant now, ConnectionContext& ctx);
  void send_syn_ack(Instant now, ConnectionContext& ctx);
  void queue_fin();
  void enter(TcpState s, Instant now, ConnectionContext& ctx);
  // Every change of a deadline goes through these four, which tell the context.
  void arm_retransmit(Instant now, ConnectionContext& ctx);
  void stop_retransmit(ConnectionContext& ctx);
  void set_time_wait(std::optional<Instant> until, ConnectionContext& ctx);
  void set_delayed_ack(std::optional<Instant> at, ConnectionContext& ctx);
  std::uint32_t tsval(Instant now) const;

  std::uint64_t id_;
  FlowKey key_;
  const ListenerConfig& app_;  // the host's (HostConfig::listeners), not a copy per connection
  const HostConfig& cfg_;
  TcpState state_ = TcpState::kSynReceived;

  // Send sequence variables (RFC 9293 3.3.1): SND.UNA, SND.NXT, SND.WND, SND.WL1/WL2, ISS.
  SeqNum iss_, snd_una_, snd_nxt_, snd_wl1_, snd_wl2_;
  std::uint32_t snd_wnd_ = 0;     // bytes, already scaled
  std::uint8_t snd_wscale_ = 0;   // the kernel's shift, applied to its windows
  std::uint32_t snd_mss_ = 536;   // payload bytes per segment we send
  // Receive sequence variables: RCV.NXT, IRS; RCV.WND comes from receive_window_bytes().
  SeqNum irs_, rcv_nxt_;
  std::uint8_t rcv_wscale_ = 0;   // our shift, applied to windows we advertise
  SeqNum rcv_adv_;                // right edge of the window last advertised (RCV.NXT + RCV.WND)
  SeqNum rcv_acked_;              // RCV.NXT as last acknowledged (Linux's rcv_wup)
  std::uint32_t rcv_mss_ = 0;     // the largest segment the kernel sent (Linux's icsk_ack.rcv_mss)

  bool ts_ok_ = false;
  bool sack_ok_ = false;
  std::uint32_t ts_recent_ = 0;
  std::uint32_t ts_offset_ = 0;
  TcpOptions syn_options_;  // what the kernel offered

  // Bytes from SND.UNA on: sent-unacknowledged, then unsent. [send_head_, end).
  std::vector<std::uint8_t> send_buf_;
  std::size_t send_head_ = 0;
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  SeqNum fin_seq_;
  bool response_sent_ = false;
  std::uint64_t source_generated_ = 0;  // kSource: pattern bytes written into send_buf_ so far

  std::optional<std::uint32_t> window_override_;
  bool ignore_probes_ = false;

  std::optional<Instant> rto_deadline_;
  Duration rto_{};
  int retransmits_ = 0;
  std::optional<Instant> time_wait_deadline_;
  std::optional<Instant> delayed_ack_deadline_;  // only with HostConfig::delayed_ack
  std::size_t timer_slot_ = static_cast<std::size_t>(-1);

  std::uint64_t data_segments_in_ = 0;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t bytes_acked_ = 0;
  bool reset_ = false;
};

}  // namespace tapfault::stack
