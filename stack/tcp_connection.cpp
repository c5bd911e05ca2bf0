// The peer's TCP connection: segment arrival (RFC 9293 3.10.7.4), sending, timers.
#include "tapfault/stack/tcp_state.hpp"
#include "tcp_connection.hpp"

#include <algorithm>
#include <array>

namespace tapfault::stack {
namespace {

constexpr std::uint32_t kIpv4Overhead = 20 + 20;
constexpr std::uint32_t kIpv6Overhead = 40 + 20;
constexpr std::uint32_t kTimestampOption = 12;  // NOP NOP TS
constexpr Duration kTimeWait = std::chrono::seconds(2);

std::uint16_t default_mss(const FlowKey& k) { return k.peer_addr.is_v4() ? 536 : 1220; }

// 'a'..'z' over and over: the source app's bytes from any offset are one slice of it.
constexpr std::size_t kPatternPeriod = 26;
constexpr std::array<std::uint8_t, kPatternPeriod * 64> kPatternTable = [] {
  std::array<std::uint8_t, kPatternPeriod * 64> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>('a' + i % kPatternPeriod);
  return t;
}();

}  // namespace

TcpConnection::TcpConnection(std::uint64_t id, FlowKey key, const ListenerConfig& app,
                             const HostConfig& cfg, SeqNum iss, std::uint32_t ts_offset)
    : id_(id),
      key_(std::move(key)),
      app_(app),
      cfg_(cfg),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      ts_offset_(ts_offset),
      rto_(cfg.retransmit_timeout) {}

std::uint32_t TcpConnection::tsval(Instant now) const {
  return ts_offset_ + static_cast<std::uint32_t>(to_ns(now) / 1'000'000);
}

std::size_t TcpConnection::unsent_bytes() const {
  std::size_t buffered = send_buf_.size() - send_head_;
  std::size_t sent_data = in_flight() - (fin_sent_ ? 1 : 0) -
                          (state_ == TcpState::kSynReceived ? 1 : 0);
  return buffered > sent_data ? buffered - sent_data : 0;
}

std::uint32_t TcpConnection::receive_window_bytes() const {
  if (window_override_) return *window_override_;
  std::uint32_t w = cfg_.window_bytes;
  if (app_.mode == AppMode::kEcho) {
    // Flow control for echo: what the kernel does not read yet shrinks our window.
    std::size_t backlog = send_buf_.size() - send_head_;
    if (backlog >= cfg_.send_buffer_limit) return 0;
    w = static_cast<std::uint32_t>(std::min<std::size_t>(w, cfg_.send_buffer_limit - backlog));
  }
  return w;
}

std::uint32_t TcpConnection::usable_window() const {
  // Flow control never takes back what was advertised (RFC 9293 3.8.6.2.2: do not shrink
  // the window); only a window fault closes it outright.
  std::uint32_t room = receive_window_bytes();
  if (!window_override_ && rcv_adv_.after(rcv_nxt_))
    room = std::max<std::uint32_t>(room, static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_));
  return room;
}

std::uint16_t TcpConnection::window_field() const {
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_window_bytes() >> rcv_wscale_, 65535));
}

void TcpConnection::on_syn(const DecodedTcp& syn, Instant now, ConnectionContext& ctx) {
  irs_ = syn.tcp.seq;
  rcv_nxt_ = irs_ + 1;
  rcv_adv_ = rcv_nxt_;
  syn_options_ = syn.tcp.options;
  const TcpOptions& o = syn.tcp.options;
  ts_ok_ = o.timestamp.has_value();
  if (ts_ok_) ts_recent_ = o.timestamp->value;
  sack_ok_ = o.sack_permitted;
  if (o.window_scale) {
    snd_wscale_ = std::min<std::uint8_t>(*o.window_scale, 14);  // RFC 7323 2.3
    rcv_wscale_ = std::min<std::uint8_t>(cfg_.window_scale, 14);
  }
  std::uint32_t overhead = key_.peer_addr.is_v4() ? kIpv4Overhead : kIpv6Overhead;
  std::uint32_t our_max = cfg_.mtu > overhead ? cfg_.mtu - overhead : 0;
  snd_mss_ = std::min<std::uint32_t>(o.mss.value_or(default_mss(key_)), our_max);
  if (ts_ok_) snd_mss_ -= std::min(snd_mss_, kTimestampOption);
  snd_mss_ = std::max<std::uint32_t>(snd_mss_, 1);
  snd_wnd_ = syn.tcp.window;  // never scaled in a SYN (RFC 7323 2.2)
  snd_wl1_ = syn.tcp.seq;
  send_syn_ack(now, ctx);
  snd_nxt_ = iss_ + 1;
  arm_retransmit(now, ctx);
}

void TcpConnection::send_syn_ack(Instant now, ConnectionContext& ctx) {
  TcpSegmentOut out;
  out.src = key_.peer_addr;
  out.dst = key_.kernel_addr;
  out.tcp.src_port = key_.peer_port;
  out.tcp.dst_port = key_.kernel_port;
  out.tcp.seq = iss_;
  out.tcp.ack = rcv_nxt_;
  out.tcp.flags = tcp_flags::kSyn | tcp_flags::kAck;
  out.tcp.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_window_bytes(), 65535));
  std::uint32_t overhead = key_.peer_addr.is_v4() ? kIpv4Overhead : kIpv6Overhead;
  out.tcp.options.mss = static_cast<std::uint16_t>(cfg_.mtu - overhead);
  out.tcp.options.sack_permitted = sack_ok_;
  if (ts_ok_) out.tcp.options.timestamp = TcpTimestamp{tsval(now), ts_recent_};
  if (syn_options_.window_scale) out.tcp.options.window_scale = rcv_wscale_;
  ctx.emit(*this, out, now);
  rcv_acked_ = rcv_nxt_;
}

bool TcpConnection::acceptable(const DecodedTcp& seg) const {
  // RFC 9293 3.10.7.4, first check: the four cases of segment length and window.
  std::uint32_t len = seg.seq_len();
  std::uint32_t wnd = usable_window();
  SeqNum seq = seg.tcp.seq;
  if (len == 0) return wnd == 0 ? seq == rcv_nxt_ : seq.in_window(rcv_nxt_, wnd);
  if (wnd == 0) return false;
  return seq.in_window(rcv_nxt_, wnd) || (seq + (len - 1)).in_window(rcv_nxt_, wnd);
}

void TcpConnection::on_segment(const DecodedTcp& seg, Instant now, ConnectionContext& ctx) {
  const TcpHeader& h = seg.tcp;

  if (state_ == TcpState::kTimeWait) {
    if (h.has(tcp_flags::kFin)) send_ack(now, ctx);  // the kernel lost our ACK of its FIN
    return;
  }
  if (state_ == TcpState::kSynReceived && h.has(tcp_flags::kSyn) && !h.has(tcp_flags::kAck) &&
      h.seq == irs_) {
    send_syn_ack(now, ctx);  // the kernel retransmitted its SYN
    return;
  }
  if (!acceptable(seg)) {
    // Includes window probes (seq = SND.UNA-1 on the kernel side, tcp_xmit_probe_skb()).
    if (!h.has(tcp_flags::kRst) && !(ignore_probes_ && receive_window_bytes() == 0)) send_ack(now, ctx);
    return;
  }
  if (h.has(tcp_flags::kRst)) {
    if (h.seq == rcv_nxt_) {
      reset_ = true;
      ctx.log(*this, "rst", "reset by the kernel", now);
      enter(TcpState::kClosed, now, ctx);
    } else {
      send_ack(now, ctx);  // RFC 5961 3.2 challenge ACK
    }
    return;
  }
  if (h.has(tcp_flags::kSyn)) {  // RFC 5961 4.2: SYN in a synchronized state
    send_ack(now, ctx);
    return;
  }
  if (!h.has(tcp_flags::kAck)) return;

  if (ts_ok_ && h.options.timestamp && h.seq.before_eq(rcv_nxt_)) ts_recent_ = h.options.timestamp->value;
  process_ack(seg, now, ctx);
  if (closed()) return;
  bool in_order = false;
  bool need_ack = process_data(seg, now, ctx, in_order);
  if (closed()) return;  // a fault fired on the delivered bytes and reset the connection
  if (h.has(tcp_flags::kFin) && h.seq + static_cast<std::uint32_t>(seg.payload.size()) == rcv_nxt_) {
    process_fin(now, ctx);
    need_ack = true;
    in_order = false;  // a FIN is acknowledged at once
  }
  app_after_input();
  SeqNum before = snd_nxt_;
  send_pending(now, ctx);
  if (!need_ack || snd_nxt_ != before) return;  // data went out, carrying the ACK
  if (in_order) ack_data(now, ctx);
  else send_ack(now, ctx);
}

void TcpConnection::ack_data(Instant now, ConnectionContext& ctx) {
  // tcp_ack_snd_check(): more than one full-sized segment unacknowledged is ACKed at once.
  if (!cfg_.delayed_ack || static_cast<std::uint32_t>(rcv_nxt_ - rcv_acked_) > rcv_mss_) {
    send_ack(now, ctx);
    return;
  }
  if (!delayed_ack_deadline_) set_delayed_ack(now + *cfg_.delayed_ack, ctx);
}

void TcpConnection::process_ack(const DecodedTcp& seg, Instant now, ConnectionContext& ctx) {
  const TcpHeader& h = seg.tcp;
  if (state_ == TcpState::kSynReceived) {
    if (!(h.ack.after(snd_una_) && h.ack.before_eq(snd_nxt_))) {
      TcpSegmentOut rst;  // RFC 9293: unacceptable ACK in SYN-RECEIVED gets <SEQ=SEG.ACK><CTL=RST>
      rst.src = key_.peer_addr;
      rst.dst = key_.kernel_addr;
      rst.tcp.src_port = key_.peer_port;
      rst.tcp.dst_port = key_.kernel_port;
      rst.tcp.seq = h.ack;
      rst.tcp.flags = tcp_flags::kRst;
      ctx.emit(*this, rst, now);
      return;
    }
    snd_una_ = h.ack;
    snd_wnd_ = static_cast<std::uint32_t>(h.window) << snd_wscale_;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    stop_retransmit(ctx);
    retransmits_ = 0;
    rto_ = cfg_.retransmit_timeout;
    enter(TcpState::kEstablished, now, ctx);
    return;
  }
  if (h.ack.after(snd_nxt_)) {  // acknowledges something not yet sent
    send_ack(now, ctx);
    return;
  }
  if (h.ack.after(snd_una_)) {
    std::uint32_t acked = static_cast<std::uint32_t>(h.ack - snd_una_);
    bool fin_acked = fin_sent_ && h.ack == fin_seq_ + 1;
    std::uint32_t data_acked = acked - (fin_acked ? 1 : 0);
    send_head_ += std::min<std::size_t>(data_acked, send_buf_.size() - send_head_);
    bytes_acked_ += data_acked;
    if (send_head_ == send_buf_.size()) {
      // All acknowledged (a request/response exchange): start over at the front, keeping
      // the capacity, so the buffer never grows past one exchange and never reallocates.
      send_buf_.clear();
      send_head_ = 0;
    } else if (send_head_ > 65536 && send_head_ * 2 > send_buf_.size()) {
      send_buf_.erase(send_buf_.begin(), send_buf_.begin() + static_cast<std::ptrdiff_t>(send_head_));
      send_head_ = 0;
    }
    snd_una_ = h.ack;
    retransmits_ = 0;
    rto_ = cfg_.retransmit_timeout;
    if (in_flight() > 0) arm_retransmit(now, ctx);
    else stop_retransmit(ctx);
    if (fin_acked) {
      if (state_ == TcpState::kFinWait1) enter(TcpState::kFinWait2, now, ctx);
      else if (state_ == TcpState::kClosing) enter(TcpState::kTimeWait, now, ctx);
      else if (state_ == TcpState::kLastAck) enter(TcpState::kClosed, now, ctx);
    }
  }
  // RFC 9293 3.10.7.4 window update rule (SND.WL1/SND.WL2).
  if (snd_wl1_.before(h.seq) || (snd_wl1_ == h.seq && snd_wl2_.before_eq(h.ack))) {
    snd_wnd_ = static_cast<std::uint32_t>(h.window) << snd_wscale_;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
  }
}

bool TcpConnection::process_data(const DecodedTcp& seg, Instant now, ConnectionContext& ctx,
                                 bool& in_order) {
  if (seg.payload.empty()) return false;
  rcv_mss_ = std::max(rcv_mss_, static_cast<std::uint32_t>(seg.payload.size()));
  if (state_ != TcpState::kEstablished && state_ != TcpState::kFinWait1 &&
      state_ != TcpState::kFinWait2)
    return true;  // data after the kernel's FIN: ACK it, ignore it
  SeqNum seq = seg.tcp.seq;
  if (seq.after(rcv_nxt_)) return true;  // out of order: dropped, duplicate ACK
  std::size_t skip = static_cast<std::size_t>(rcv_nxt_ - seq);
  if (skip >= seg.payload.size()) return true;  // all old: duplicate ACK
  std::size_t take = std::min<std::size_t>(seg.payload.size() - skip, usable_window());
  deliver(seg.payload.subspan(skip, take));
  rcv_nxt_ += static_cast<std::uint32_t>(take);
  in_order = take > 0;
  ctx.on_delivered(*this, now);
  return true;
}

void TcpConnection::deliver(std::span<const std::uint8_t> data) {
  bytes_received_ += data.size();
  if (app_.mode == AppMode::kEcho) send_buf_.insert(send_buf_.end(), data.begin(), data.end());
}

void TcpConnection::process_fin(Instant now, ConnectionContext& ctx) {
  rcv_nxt_ += 1;
  switch (state_) {
    case TcpState::kEstablished:
      enter(TcpState::kCloseWait, now, ctx);
      queue_fin();  // the peer app closes once it has sent what it has
      break;
    case TcpState::kFinWait1:
      enter(fin_sent_ && snd_una_ == fin_seq_ + 1 ? TcpState::kTimeWait : TcpState::kClosing, now, ctx);
      break;
    case TcpState::kFinWait2:
      enter(TcpState::kTimeWait, now, ctx);
      break;
    default:
      break;
  }
}

void TcpConnection::app_after_input() {
  if (app_.mode == AppMode::kSource) {
    // The source app writes as fast as its socket buffer drains, and stops writing once
    // the kernel has closed its side (it closes then, as echo does).
    if (state_ != TcpState::kEstablished || fin_queued_) return;
    std::size_t buffered = send_buf_.size() - send_head_;
    std::size_t room = cfg_.send_buffer_limit > buffered ? cfg_.send_buffer_limit - buffered : 0;
    std::uint64_t n = std::min<std::uint64_t>(app_.source_bytes - source_generated_, room);
    while (n > 0) {
      std::size_t phase = source_generated_ % kPatternPeriod;
      std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, kPatternTable.size() - kPatternPeriod));
      send_buf_.insert(send_buf_.end(), kPatternTable.begin() + phase, kPatternTable.begin() + phase + chunk);
      source_generated_ += chunk;
      n -= chunk;
    }
    if (source_generated_ == app_.source_bytes && app_.close_after_response) queue_fin();
    return;
  }
  if (app_.mode != AppMode::kRespond || response_sent_) return;
  if (!app_.respond_on_connect && bytes_received_ == 0) return;
  send_buf_.insert(send_buf_.end(), app_.response.begin(), app_.response.end());
  response_sent_ = true;
  if (app_.close_after_response) queue_fin();
}

void TcpConnection::queue_fin() { fin_queued_ = true; }

void TcpConnection::send_pending(Instant now, ConnectionContext& ctx) {
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:  // these three only retransmit what preceded the FIN
    case TcpState::kLastAck:
    case TcpState::kClosing:
      break;
    default:
      return;
  }
  for (;;) {
    std::size_t unsent = unsent_bytes();
    std::uint32_t flight = in_flight();
    std::uint32_t room = snd_wnd_ > flight ? snd_wnd_ - flight : 0;
    std::size_t n = std::min<std::size_t>({unsent, snd_mss_, room});
    if (n == 0) break;
    std::size_t offset = send_buf_.size() - unsent;
    std::uint8_t flags = tcp_flags::kAck | (n == unsent ? tcp_flags::kPsh : 0);
    send_segment(snd_nxt_, flags, std::span(send_buf_).subspan(offset, n), now, ctx);
    snd_nxt_ += static_cast<std::uint32_t>(n);
  }
  if (fin_queued_ && !fin_sent_ && unsent_bytes() == 0) {
    fin_seq_ = snd_nxt_;
    fin_sent_ = true;
    send_segment(snd_nxt_, tcp_flags::kFin | tcp_flags::kAck, {}, now, ctx);
    snd_nxt_ += 1;
    if (state_ == TcpState::kEstablished) enter(TcpState::kFinWait1, now, ctx);
    if (state_ == TcpState::kCloseWait) enter(TcpState::kLastAck, now, ctx);
  }
  if (!rto_deadline_ && (in_flight() > 0 || unsent_bytes() > 0)) arm_retransmit(now, ctx);
}

void TcpConnection::send_segment(SeqNum seq, std::uint8_t flags, std::span<const std::uint8_t> payload,
                                 Instant now, ConnectionContext& ctx) {
  if (closed() && !(flags & tcp_flags::kRst)) return;
  TcpSegmentOut out;
  out.src = key_.peer_addr;
  out.dst = key_.kernel_addr;
  out.tcp.src_port = key_.peer_port;
  out.tcp.dst_port = key_.kernel_port;
  out.tcp.seq = seq;
  out.tcp.ack = rcv_nxt_;
  out.tcp.flags = flags;
  out.tcp.window = window_field();
  SeqNum edge = rcv_nxt_ + (static_cast<std::uint32_t>(out.tcp.window) << rcv_wscale_);
  if (edge.after(rcv_adv_) || window_override_) rcv_adv_ = edge;
  if (ts_ok_) out.tcp.options.timestamp = TcpTimestamp{tsval(now), ts_recent_};
  out.payload = payload;
  ctx.emit(*this, out, now);
  rcv_acked_ = rcv_nxt_;  // every segment carries the ACK
  set_delayed_ack(std::nullopt, ctx);
}

void TcpConnection::send_ack(Instant now, ConnectionContext& ctx) {
  send_segment(snd_nxt_, tcp_flags::kAck, {}, now, ctx);
}

void TcpConnection::send_window_update(Instant now, ConnectionContext& ctx) {
  if (state_ == TcpState::kSynReceived || closed() || state_ == TcpState::kTimeWait) return;
  send_ack(now, ctx);
}

void TcpConnection::send_reset(std::int64_t offset, Instant now, ConnectionContext& ctx) {
  if (closed()) return;
  send_segment(snd_nxt_ + static_cast<std::uint32_t>(offset), tcp_flags::kRst | tcp_flags::kAck, {}, now, ctx);
  reset_ = true;
  enter(TcpState::kClosed, now, ctx);
}

void TcpConnection::set_window_override(std::optional<std::uint32_t> window_bytes, bool ignore_probes) {
  window_override_ = window_bytes;
  ignore_probes_ = window_bytes && ignore_probes;
}

void TcpConnection::arm_retransmit(Instant now, ConnectionContext& ctx) {
  rto_deadline_ = now + rto_;
  ctx.on_deadline(*this);
}

void TcpConnection::stop_retransmit(ConnectionContext& ctx) {
  if (!rto_deadline_) return;
  rto_deadline_.reset();
  ctx.on_deadline(*this);
}

void TcpConnection::set_time_wait(std::optional<Instant> until, ConnectionContext& ctx) {
  if (time_wait_deadline_ == until) return;
  time_wait_deadline_ = until;
  ctx.on_deadline(*this);
}

void TcpConnection::set_delayed_ack(std::optional<Instant> at, ConnectionContext& ctx) {
  if (delayed_ack_deadline_ == at) return;
  delayed_ack_deadline_ = at;
  ctx.on_deadline(*this);
}

std::optional<Instant> TcpConnection::deadline() const {
  if (time_wait_deadline_) return time_wait_deadline_;
  if (rto_deadline_ && delayed_ack_deadline_) return std::min(*rto_deadline_, *delayed_ack_deadline_);
  return rto_deadline_ ? rto_deadline_ : delayed_ack_deadline_;
}

void TcpConnection::on_timer(Instant now, ConnectionContext& ctx) {
  if (time_wait_deadline_ && now >= *time_wait_deadline_) {
    set_time_wait(std::nullopt, ctx);
    enter(TcpState::kClosed, now, ctx);
    return;
  }
  if (delayed_ack_deadline_ && now >= *delayed_ack_deadline_) {
    set_delayed_ack(std::nullopt, ctx);
    send_ack(now, ctx);
  }
  if (!rto_deadline_ || now < *rto_deadline_) return;
  stop_retransmit(ctx);
  if (in_flight() == 0 && unsent_bytes() == 0) return;
  if (++retransmits_ > cfg_.max_retransmits) {
    ctx.log(*this, "abort", "peer gave up retransmitting", now);
    send_reset(0, now, ctx);
    return;
  }
  rto_ *= 2;
  if (state_ == TcpState::kSynReceived) {
    send_syn_ack(now, ctx);
  } else if (in_flight() == 0) {
    // The kernel's window is zero: probe it (a segment below SND.UNA draws an ACK).
    send_segment(snd_una_ + static_cast<std::uint32_t>(-1), tcp_flags::kAck, {}, now, ctx);
  } else {
    // Go back to SND.UNA and send again (the peer keeps no SACK scoreboard).
    if (fin_sent_ && fin_seq_.after_eq(snd_una_)) fin_sent_ = false;
    snd_nxt_ = snd_una_;
    send_pending(now, ctx);
  }
  arm_retransmit(now, ctx);
}

void TcpConnection::enter(TcpState s, Instant now, ConnectionContext& ctx) {
  if (s == state_) return;
  TcpState from = state_;
  state_ = s;
  if (s == TcpState::kTimeWait) {
    stop_retransmit(ctx);
    set_delayed_ack(std::nullopt, ctx);
    set_time_wait(now + kTimeWait, ctx);
  }
  if (s == TcpState::kClosed) {
    stop_retransmit(ctx);
    set_delayed_ack(std::nullopt, ctx);
    set_time_wait(std::nullopt, ctx);
  }
  ctx.on_state(*this, from, now);
}

ConnectionSummary TcpConnection::summary() const {
  ConnectionSummary s;
  s.id = id_;
  s.flow = key_;
  s.state = state_;
  s.bytes_received = bytes_received_;
  s.bytes_sent = bytes_acked_;
  s.kernel_isn = irs_.value();
  s.peer_isn = iss_.value();
  s.reset = reset_;
  return s;
}

}  // namespace tapfault::stack
