// extract_flows(): splits the capture into connections and replays each one's
// sequence space to classify the kernel's segments (rules in include/tapfault/replay/analysis/flows.hpp).
#include "tapfault/replay/analysis/flows.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace tapfault::replay {
namespace {

using stack::SeqNum;
namespace flags = stack::tcp_flags;

constexpr Nanos kSameFiring = std::chrono::milliseconds(1);

// A connection's packets before the kernel side is known.
struct RawFlow {
  Endpoint a;  // the first sender
  Endpoint b;
  std::vector<const Packet*> packets;  // TCP segments and the ICMP errors quoting them
  std::optional<SeqNum> syn_isn;  // of the first pure SYN, to split a reused 4-tuple
};

Endpoint src_of(const Packet& p) { return {p.src, p.tcp()->header.src_port}; }
Endpoint dst_of(const Packet& p) { return {p.dst, p.tcp()->header.dst_port}; }

bool is_pure_syn(const TcpSegment& s) { return s.has(flags::kSyn) && !s.has(flags::kAck); }

// Which side is the kernel's: see flows.hpp.
std::pair<bool, std::string> a_is_kernel(const RawFlow& f) {
  for (const Packet* p : f.packets)
    if (p->tcp() && is_pure_syn(*p->tcp())) return {src_of(*p) == f.a, "sent the SYN"};
  for (const Packet* p : f.packets)
    if (p->tcp() && p->tcp()->has(flags::kSyn)) return {src_of(*p) != f.a, "answered the SYN-ACK"};
  // A Linux cooked capture says which packets this host sent.
  for (const Packet* p : f.packets)
    if (p->tcp() && p->direction == LinkDirection::kOutgoing)
      return {src_of(*p) == f.a, "sent by the capturing host (Linux cooked capture, no handshake)"};
  // Retransmissions: a side repeating sequence space it already sent.
  std::map<bool, std::optional<SeqNum>> nxt;
  std::map<bool, int> retx;
  std::map<bool, std::uint64_t> bytes;
  for (const Packet* p : f.packets) {
    if (!p->tcp()) continue;
    const TcpSegment& s = *p->tcp();
    bool from_a = src_of(*p) == f.a;
    bytes[from_a] += s.payload_length;
    if (s.payload_length == 0) continue;
    SeqNum end = s.header.seq + s.seq_len();
    auto& n = nxt[from_a];
    if (n && s.header.seq.before(*n)) ++retx[from_a];
    if (!n || end.after(*n)) n = end;
  }
  if (retx[true] != retx[false]) return {retx[true] > retx[false], "retransmits (no handshake in the capture)"};
  if (bytes[true] != bytes[false]) return {bytes[true] > bytes[false], "sends more data (no handshake in the capture)"};
  return {true, "sent first (no handshake in the capture)"};
}

// The classifier's view of one connection (RFC 9293 3.3.1 names).
class Classifier {
 public:
  explicit Classifier(Flow& f) : f_(f) {}

  void kernel_segment(const Packet& p) {
    const TcpSegment& s = *p.tcp();
    const SeqNum seq = s.header.seq;
    if (!isn_) isn_ = seq;  // the SYN's, or the first seen mid-connection
    note_options(s, true);
    if (s.has(flags::kRst)) return add(p, KernelEventKind::kRst, s);
    if (s.has(flags::kSyn)) {
      if (!syn_seen_) {
        syn_seen_ = true;
        syn_at_ = p.time;
        add(p, KernelEventKind::kSyn, s);
      } else {
        syn_retransmitted_ = true;
        syn_at_ = p.time;
        add(p, KernelEventKind::kSynRetransmit, s);
      }
      advance_nxt(seq + 1);
      return;
    }
    // seq = snd_una - 1 with no new data: tcp_write_wakeup()'s probe (keepalive or
    // zero window). BSD-style keepalives carry one garbage byte.
    if (una_ && seq == *una_ + static_cast<std::uint32_t>(-1) && s.payload_length <= 1 && !s.has(flags::kFin)) {
      add(p, peer_window_ == 0 ? KernelEventKind::kZeroWindowProbe : KernelEventKind::kKeepaliveProbe, s);
      return;
    }
    if (s.seq_len() == 0) return;  // a pure ACK or window update
    const SeqNum end = seq + s.seq_len();
    if (nxt_ && seq.before(*nxt_)) {
      retransmission(p, s, end);
    } else {
      add(p, s.payload_length == 0 && s.has(flags::kFin) ? KernelEventKind::kFin : KernelEventKind::kData, s);
      originals_.push_back({seq, end, p.time, p.frame, false});
    }
    advance_nxt(end);
  }

  void peer_segment(const Packet& p) {
    const TcpSegment& s = *p.tcp();
    note_options(s, false);
    PeerEvent e = base_event(p);
    e.len = s.payload_length;
    const bool syn = s.has(flags::kSyn);
    // RFC 7323 2.2: the window in a SYN is never scaled.
    std::uint32_t scale = (!syn && wscale_k_ && wscale_p_) ? *wscale_p_ : 0;
    e.window = static_cast<std::uint32_t>(s.header.window) << scale;
    if (s.has(flags::kAck)) {
      e.rel_ack = isn_ ? static_cast<std::uint32_t>(s.header.ack - *isn_) : 0;
      e.acks_everything = nxt_ && s.header.ack == *nxt_;
      acknowledge(s.header.ack, p.time);
    }
    if (syn) {
      e.kind = PeerEventKind::kSynAck;
      // Karn: a retransmitted SYN gives no sample unless TS echo tells which one.
      if (s.has(flags::kAck) && syn_seen_ && !f_.handshake_rtt && (!syn_retransmitted_ || f_.timestamps)) {
        f_.handshake_rtt = p.time - syn_at_;
        sample(p.time - syn_at_);
      }
    } else if (s.has(flags::kRst)) {
      e.kind = PeerEventKind::kRst;
    } else if (s.header.window == 0) {
      e.kind = PeerEventKind::kZeroWindow;
    } else if (s.payload_length > 0) {
      e.kind = PeerEventKind::kData;
    } else if (s.has(flags::kFin)) {
      e.kind = PeerEventKind::kFin;
    } else {
      e.kind = PeerEventKind::kAck;
    }
    if (!syn) peer_window_ = s.header.window;
    last_peer_ = p.time;
    f_.peer_events.push_back(e);
  }

  void icmp(const Packet& p) {
    PeerEvent e = base_event(p);
    e.kind = PeerEventKind::kIcmp;
    e.icmp = *p.icmp();
    if (isn_ && e.icmp->quoted) e.rel_ack = static_cast<std::uint32_t>(e.icmp->quoted->seq - *isn_);
    f_.peer_events.push_back(e);
  }

  void finish() {
    if (srtt_us_) f_.srtt_estimate = std::chrono::microseconds(static_cast<std::int64_t>(*srtt_us_));
  }

 private:
  struct Original {
    SeqNum start;
    SeqNum end;
    Nanos at;
    std::uint64_t frame;
    bool retransmitted;
  };

  PeerEvent base_event(const Packet& p) {
    PeerEvent e;
    e.at = p.time;
    e.frame = p.frame;
    return e;
  }

  void note_options(const TcpSegment& s, bool kernel) {
    if (!s.has(flags::kSyn)) return;
    auto& ws = kernel ? wscale_k_ : wscale_p_;
    auto& sack = kernel ? sack_k_ : sack_p_;
    auto& ts = kernel ? ts_k_ : ts_p_;
    ws = s.header.options.window_scale;
    // RFC 7323 2.3: a shift above 14 is logged and treated as 14 (as the kernel does in
    // tcp_parse_options()); a capture is free to hold anything.
    if (ws && *ws > 14) ws = 14;
    sack = s.header.options.sack_permitted;
    ts = s.header.options.timestamp.has_value();
    f_.sack_permitted = sack_k_ && sack_p_;
    f_.timestamps = ts_k_ && ts_p_;
    if (kernel && !s.has(flags::kAck)) f_.handshake_seen = true;
  }

  void add(const Packet& p, KernelEventKind kind, const TcpSegment& s) {
    KernelEvent e;
    e.kind = kind;
    e.at = p.time;
    e.frame = p.frame;
    e.rel_seq = isn_ ? static_cast<std::uint32_t>(s.header.seq - *isn_) : 0;
    e.len = s.payload_length;
    f_.kernel_events.push_back(e);
  }

  void advance_nxt(SeqNum end) {
    if (!nxt_ || end.after(*nxt_)) nxt_ = end;
  }

  void retransmission(const Packet& p, const TcpSegment& s, SeqNum end) {
    const SeqNum seq = s.header.seq;
    for (Original& o : originals_)
      if (seq.before(o.end) && o.start.before(end)) o.retransmitted = true;
    // One timer firing that sent several segments (tcp_xmit_retransmit_queue()).
    if (open_episode_ && !f_.kernel_events.empty()) {
      KernelEvent& prev = f_.kernel_events.back();
      if ((prev.kind == KernelEventKind::kRetransmit || prev.kind == KernelEventKind::kTlp) &&
          p.time - prev.at < kSameFiring && last_peer_ < prev.at) {
        ++prev.segments;
        return;
      }
    }
    KernelEventKind kind = KernelEventKind::kRetransmit;
    if (!open_episode_) {
      LossEpisode ep;
      ep.index = static_cast<int>(f_.episodes.size()) + 1;
      ep.first_retransmit = f_.kernel_events.size();
      const bool tail = nxt_ && end == *nxt_;
      if (f_.sack_permitted && tail) kind = KernelEventKind::kTlp;
      const Original* trig = nullptr;
      if (kind == KernelEventKind::kTlp) {
        if (!originals_.empty()) trig = &originals_.back();
      } else {
        for (const Original& o : originals_)
          if (seq.before(o.end) && o.start.before_eq(seq)) trig = &o;
      }
      if (trig) {
        ep.trigger_at = trig->at;
        ep.trigger_frame = trig->frame;
        ep.trigger_rel_seq = isn_ ? static_cast<std::uint32_t>(trig->start - *isn_) : 0;
        ep.trigger_len = static_cast<std::uint32_t>(trig->end - trig->start);
      } else {
        ep.trigger_at = p.time;
        ep.trigger_frame = p.frame;
      }
      for (const Original& o : originals_)
        if (!una_ || o.end.after(*una_)) ++ep.packets_out;
      f_.episodes.push_back(ep);
      open_episode_ = true;
    }
    LossEpisode& ep = f_.episodes.back();
    ++ep.retransmissions;
    add(p, kind, s);
    f_.kernel_events.back().episode = ep.index;
  }

  // tcp_ack(): an ACK beyond snd_una ends the episode; a never-retransmitted segment it
  // covers gives an RTT sample (tcp_clean_rtx_queue(), Karn).
  void acknowledge(SeqNum ack, Nanos at) {
    if (una_ && !ack.after(*una_)) return;
    una_ = ack;
    if (open_episode_) {
      f_.episodes.back().recovered = true;
      open_episode_ = false;
    }
    const Original* newest = nullptr;
    for (const Original& o : originals_)
      if (o.end.before_eq(ack)) newest = &o;
    if (newest && !newest->retransmitted && newest->at > last_sampled_) {
      last_sampled_ = newest->at;
      sample(at - newest->at);
    }
  }

  void sample(Nanos rtt) {
    double us = std::chrono::duration<double, std::micro>(rtt).count();
    srtt_us_ = srtt_us_ ? *srtt_us_ + (us - *srtt_us_) / 8 : us;
  }

  Flow& f_;
  std::optional<SeqNum> isn_;
  std::optional<SeqNum> nxt_;  // snd_nxt: the highest sequence sent
  std::optional<SeqNum> una_;  // snd_una: the highest ACK received
  std::optional<std::uint16_t> peer_window_;
  std::optional<std::uint8_t> wscale_k_, wscale_p_;
  bool sack_k_ = false, sack_p_ = false, ts_k_ = false, ts_p_ = false;
  bool syn_seen_ = false, syn_retransmitted_ = false;
  Nanos syn_at_{};
  std::vector<Original> originals_;
  bool open_episode_ = false;
  Nanos last_peer_{Nanos::min()};
  Nanos last_sampled_{Nanos::min()};
  std::optional<double> srtt_us_;
};

// Segments go to the connection of their 4-tuple (a new SYN with another ISN opens a new
// one); an ICMP error goes to the connection its quoted header belongs to at that time.
std::vector<RawFlow> split(const Capture& c) {
  std::vector<RawFlow> flows;
  std::map<std::pair<Endpoint, Endpoint>, std::size_t> open;  // (lower, higher) -> flow
  auto key_of = [](const Endpoint& x, const Endpoint& y) { return x < y ? std::pair(x, y) : std::pair(y, x); };
  for (const Packet& p : c.packets) {
    const TcpSegment* s = p.tcp();
    if (!s) {
      const IcmpMessage* m = p.icmp();
      if (!m || !m->quoted) continue;
      auto it = open.find(key_of({m->quoted->src, m->quoted->src_port}, {m->quoted->dst, m->quoted->dst_port}));
      if (it != open.end()) flows[it->second].packets.push_back(&p);
      continue;
    }
    auto key = key_of(src_of(p), dst_of(p));
    auto it = open.find(key);
    bool new_syn = is_pure_syn(*s);
    if (it != open.end() && new_syn) {
      RawFlow& f = flows[it->second];
      if (f.syn_isn && *f.syn_isn != s->header.seq) it = open.end();  // a new connection
    }
    if (it == open.end()) {
      flows.push_back(RawFlow{src_of(p), dst_of(p), {}, {}});
      it = open.insert_or_assign(key, flows.size() - 1).first;
    }
    RawFlow& f = flows[it->second];
    if (new_syn && !f.syn_isn) f.syn_isn = s->header.seq;
    f.packets.push_back(&p);
  }
  return flows;
}

}  // namespace

std::string Endpoint::to_string() const {
  return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                         : address.to_string() + ":" + std::to_string(port);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view addr, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    addr = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    addr = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = stack::IpAddress::parse(addr);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (!ip || ec != std::errc() || end != port.data() + port.size() || value > 65535 || port.empty()) return std::nullopt;
  return Endpoint{*ip, static_cast<std::uint16_t>(value)};
}

const char* to_string(KernelEventKind k) {
  switch (k) {
    case KernelEventKind::kSyn: return "syn";
    case KernelEventKind::kSynRetransmit: return "syn_retransmit";
    case KernelEventKind::kData: return "data";
    case KernelEventKind::kRetransmit: return "retransmit";
    case KernelEventKind::kTlp: return "tlp";
    case KernelEventKind::kZeroWindowProbe: return "zero_window_probe";
    case KernelEventKind::kKeepaliveProbe: return "keepalive_probe";
    case KernelEventKind::kRst: return "rst";
    case KernelEventKind::kFin: return "fin";
  }
  return "?";
}

const char* to_string(PeerEventKind k) {
  switch (k) {
    case PeerEventKind::kSynAck: return "syn_ack";
    case PeerEventKind::kAck: return "ack";
    case PeerEventKind::kZeroWindow: return "zero_window";
    case PeerEventKind::kData: return "data";
    case PeerEventKind::kFin: return "fin";
    case PeerEventKind::kRst: return "rst";
    case PeerEventKind::kIcmp: return "icmp";
  }
  return "?";
}

std::string Flow::name() const { return kernel.to_string() + " -> " + peer.to_string(); }

std::vector<ConnectionPackets> group_connections(const Capture& capture) {
  std::vector<ConnectionPackets> out;
  for (RawFlow& raw : split(capture)) {
    ConnectionPackets c;
    auto [a_kernel, reason] = a_is_kernel(raw);
    c.kernel = a_kernel ? raw.a : raw.b;
    c.peer = a_kernel ? raw.b : raw.a;
    c.kernel_side_reason = reason;
    for (const Packet* p : raw.packets) {
      const IcmpMessage* m = p->icmp();
      if (m && Endpoint{m->quoted->src, m->quoted->src_port} != c.kernel) continue;  // quotes the peer's
      c.packets.push_back(p);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Flow> extract_flows(const Capture& capture) {
  std::vector<Flow> out;
  for (const ConnectionPackets& conn : group_connections(capture)) {
    Flow f;
    f.index = static_cast<int>(out.size()) + 1;
    f.kernel = conn.kernel;
    f.peer = conn.peer;
    f.kernel_side_reason = conn.kernel_side_reason;
    f.first_at = conn.packets.front()->time;
    f.last_at = conn.packets.back()->time;
    f.packets = conn.packets.size();
    f.first_frame = conn.packets.front()->frame;
    f.origin = {f.first_at, f.first_frame, "the connection's first packet"};
    Classifier c(f);
    for (const Packet* p : conn.packets) {
      if (p->icmp()) c.icmp(*p);
      else if (src_of(*p) == f.kernel) c.kernel_segment(*p);
      else c.peer_segment(*p);
    }
    c.finish();
    set_origin(f, f.origin);
    out.push_back(std::move(f));
  }
  return out;
}

bool FlowSelector::matches(const Flow& f) const {
  if (index && f.index != *index) return false;
  if (endpoints) {
    auto [x, y] = *endpoints;
    if (!((x == f.kernel && y == f.peer) || (x == f.peer && y == f.kernel))) return false;
  }
  if (port && f.kernel.port != *port && f.peer.port != *port) return false;
  return true;
}

std::string FlowSelector::to_string() const {
  if (index) return std::to_string(*index);
  if (endpoints) return endpoints->first.to_string() + "-" + endpoints->second.to_string();
  if (port) return ":" + std::to_string(*port);
  return "auto";
}

std::optional<FlowSelector> FlowSelector::parse(std::string_view text) {
  FlowSelector s;
  if (text.empty()) return std::nullopt;
  if (text.front() == ':') {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535) return std::nullopt;
    s.port = static_cast<std::uint16_t>(v);
    return s;
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || v < 1) return std::nullopt;
    s.index = v;
    return s;
  }
  // ADDR:PORT-ADDR:PORT; IPv6 addresses are bracketed, so the separator is the '-'
  // that follows a port.
  for (std::size_t dash = text.find('-'); dash != std::string_view::npos; dash = text.find('-', dash + 1)) {
    auto x = Endpoint::parse(text.substr(0, dash));
    auto y = Endpoint::parse(text.substr(dash + 1));
    if (x && y) {
      s.endpoints = std::pair(*x, *y);
      return s;
    }
  }
  return std::nullopt;
}

const LossEpisode* chosen_episode(const Flow& flow) {
  for (const LossEpisode& e : flow.episodes)
    if (!e.recovered) return &e;
  return flow.episodes.empty() ? nullptr : &flow.episodes.front();
}

std::optional<Origin> find_origin(const Flow& f, OriginRule rule, std::string* why_not) {
  auto fail = [&](std::string why) -> std::optional<Origin> {
    if (why_not) *why_not = std::move(why);
    return std::nullopt;
  };
  auto first_kernel = [&](KernelEventKind k) -> const KernelEvent* {
    for (const KernelEvent& e : f.kernel_events)
      if (e.kind == k) return &e;
    return nullptr;
  };
  switch (rule) {
    case OriginRule::kFirstPacket:
      return Origin{f.first_at, f.first_frame, "the connection's first packet"};
    case OriginRule::kTriggeringSend: {
      const LossEpisode* ep = chosen_episode(f);
      if (!ep) return fail("the kernel never retransmitted on this connection");
      std::string what = "original transmission of seq " + std::to_string(ep->trigger_rel_seq) + ":" +
                         std::to_string(ep->trigger_rel_seq + ep->trigger_len) + " (the send that armed the " +
                         (f.kernel_events[ep->first_retransmit].kind == KernelEventKind::kTlp ? "loss probe" : "RTO") +
                         " timer of loss episode " + std::to_string(ep->index) + ")";
      return Origin{ep->trigger_at, ep->trigger_frame, what};
    }
    case OriginRule::kFirstSyn: {
      const KernelEvent* syn = first_kernel(KernelEventKind::kSyn);
      if (!syn) return fail("the kernel's SYN is not in the capture");
      return Origin{syn->at, syn->frame, "the kernel's first SYN"};
    }
    case OriginRule::kZeroWindowAck: {
      const KernelEvent* probe = first_kernel(KernelEventKind::kZeroWindowProbe);
      if (!probe) return fail("the kernel sent no zero-window probe");
      const PeerEvent* first_zero = nullptr;
      const PeerEvent* first_zero_all = nullptr;
      for (const PeerEvent& e : f.peer_events) {
        if (e.at > probe->at) break;
        if (e.kind == PeerEventKind::kIcmp) continue;
        if (e.kind != PeerEventKind::kZeroWindow) {
          first_zero = first_zero_all = nullptr;  // the window was open again
          continue;
        }
        if (!first_zero) first_zero = &e;
        if (!first_zero_all && e.acks_everything) first_zero_all = &e;
      }
      const PeerEvent* o = first_zero_all ? first_zero_all : first_zero;
      if (!o) return fail("no zero-window segment from the peer before the first probe");
      return Origin{o->at, o->frame,
                    std::string("the peer's zero-window ACK") +
                        (o->acks_everything ? " (nothing in flight)" : " (data still in flight)")};
    }
    case OriginRule::kLastReceived: {
      const KernelEvent* probe = first_kernel(KernelEventKind::kKeepaliveProbe);
      if (!probe) return fail("the kernel sent no keepalive probe");
      const PeerEvent* last = nullptr;
      for (const PeerEvent& e : f.peer_events) {
        if (e.at > probe->at) break;
        if (e.kind != PeerEventKind::kIcmp) last = &e;
      }
      if (!last) return fail("nothing received from the peer before the first keepalive probe");
      return Origin{last->at, last->frame, "the last segment received from the peer before the first keepalive probe"};
    }
  }
  return fail("unknown origin rule");
}

void set_origin(Flow& f, const Origin& origin) {
  f.origin = origin;
  for (KernelEvent& e : f.kernel_events) e.t = e.at - origin.at;
  for (PeerEvent& e : f.peer_events) e.t = e.at - origin.at;
}

}  // namespace tapfault::replay
