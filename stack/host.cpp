// stack::Host: neighbour answers, ping, the TCP connection table, and the fault hooks.
//
// Read first: host.hpp for the contract, fault.hpp for the hooks. Every frame
// from the kernel goes: decode -> neighbour/ping/TCP dispatch; TCP segments
// pass before_input() (the input faults), then the connection; every segment
// the peer sends passes emit() (output_silenced(), then the encoder); a fault
// that fires or ends is applied by apply_one() (window, rst).
#include "tapfault/stack/host.hpp"

#include <algorithm>

#include "fault_engine.hpp"
#include "flow_table.hpp"
#include "reassembly.hpp"
#include "tapfault/stack/codec.hpp"
#include "tcp_connection.hpp"
#include "timer_index.hpp"

namespace tapfault::stack {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
    for (std::size_t i = 0; i < 16; i += 8) {
      std::uint64_t a = 0, b = 0;
      for (std::size_t j = 0; j < 8; ++j) {
        a = a << 8 | k.peer_addr.bytes[i + j];
        b = b << 8 | k.kernel_addr.bytes[i + j];
      }
      mix(a);
      mix(b);
    }
    mix(static_cast<std::uint64_t>(k.peer_port) << 16 | k.kernel_port);
    return static_cast<std::size_t>(h);
  }
};

std::uint64_t flow_hash(const FlowKey& k, std::uint64_t seed) {
  return splitmix64(seed ^ FlowKeyHash{}(k));
}

// The flow table picks a slot with the hash's low bits: FNV-1a's are weak, so it is mixed.
struct FlowSlotHash {
  std::uint64_t operator()(const FlowKey& k) const { return splitmix64(FlowKeyHash{}(k)); }
};

// ICMP type and code on the wire for each IcmpKind (RFC 792, RFC 1191, RFC 4443).
std::pair<std::uint8_t, std::uint8_t> icmp_type_code(IcmpKind k) {
  switch (k) {
    case IcmpKind::kNetUnreachable: return {3, 0};
    case IcmpKind::kHostUnreachable: return {3, 1};
    case IcmpKind::kProtocolUnreachable: return {3, 2};
    case IcmpKind::kPortUnreachable: return {3, 3};
    case IcmpKind::kFragNeeded: return {3, 4};
    case IcmpKind::kAdminProhibited: return {3, 13};
    case IcmpKind::kNoRoute: return {1, 0};
    case IcmpKind::kAdminProhibited6: return {1, 1};
    case IcmpKind::kAddressUnreachable: return {1, 3};
    case IcmpKind::kPortUnreachable6: return {1, 4};
    case IcmpKind::kPacketTooBig: return {2, 0};
  }
  return {3, 1};
}

const char* action_name(const Fault& f) {
  switch (f.action) {
    case ActionKind::kSilent: return "silent";
    case ActionKind::kWindow: return "window";
    case ActionKind::kIcmp: return "icmp";
    case ActionKind::kRst: return "rst";
  }
  return "?";
}

}  // namespace

struct Host::Impl final : ConnectionContext {
  Impl(HostConfig c, FaultPlan plan) : cfg(std::move(c)), faults(std::move(plan), cfg.origin) {}

  HostConfig cfg;
  FaultEngine faults;
  Reassembler reassembler;
  HostStats stats;
  std::optional<MacAddress> kernel_mac;
  FlowTable<TcpConnection, FlowKey, FlowSlotHash> conns;
  std::vector<TcpConnection*> selected;     // for_selected(): reused
  TimerIndex timers;                        // the connections with a deadline, soonest first
  std::vector<TcpConnection*> due_scratch;  // poll(): reused
  std::vector<FlowKey> due_keys;            // poll(): reused
  std::vector<ConnectionSummary> finished;  // closed connections, in order of closing
  std::uint64_t accepted = 0;
  // out[0, out_count) are the pending frames; the buffers after them are kept for reuse,
  // so that a run in its steady state sends without allocating.
  std::vector<Frame> out;
  std::size_t out_count = 0;
  std::vector<PeerEvent> events;
  std::vector<FaultChange> changes;  // reused scratch
  std::optional<std::size_t> window_owner;  // the window fault now in force

  bool owns(const IpAddress& a) const {
    return std::find(cfg.addresses.begin(), cfg.addresses.end(), a) != cfg.addresses.end();
  }
  const ListenerConfig* listener(std::uint16_t port) const {
    for (const auto& l : cfg.listeners)
      if (l.port == port) return &l;
    return nullptr;
  }
  LinkAddresses link() const { return {cfg.mac, kernel_mac.value_or(MacAddress{})}; }

  static constexpr std::size_t kSpareFrames = 1024;  // buffers kept beyond a burst

  Frame& next_frame() {
    if (out_count == out.size()) out.emplace_back();
    return out[out_count];
  }
  // The frame next_frame() returned, once written (an empty one is not sent).
  void commit_frame() {
    if (out[out_count].empty()) return;
    ++stats.frames_out;
    ++out_count;
  }
  void push(std::vector<std::uint8_t> frame) {
    next_frame() = std::move(frame);
    commit_frame();
  }
  void clear_output() {
    out_count = 0;
    if (out.size() > kSpareFrames) out.resize(kSpareFrames);
  }

  void drop(const std::string& reason) { ++stats.dropped[reason]; }

  void record(Instant now, const char* kind, std::string detail, const TcpConnection* c) {
    PeerEvent e;
    e.at = now;
    e.kind = kind;
    e.detail = std::move(detail);
    if (c) {
      e.flow = c->key();
      e.seq = c->rel_snd_nxt();
      e.ack = c->rel_rcv_nxt();
    }
    events.push_back(std::move(e));
  }

  // --- ConnectionContext -------------------------------------------------
  void emit(TcpConnection& c, const TcpSegmentOut& seg, Instant now) override {
    if (output_silenced(c.id())) {
      drop("fault.silent.output");
      return;
    }
    (void)now;
    encode_tcp(link(), seg, next_frame());
    commit_frame();
  }
  void log(const TcpConnection& c, const char* kind, std::string detail, Instant now) override {
    record(now, kind, std::move(detail), &c);
  }
  void on_state(TcpConnection& c, TcpState from, Instant now) override {
    record(now, "state", std::string(to_string(from)) + " -> " + to_string(c.state()), &c);
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kState;
    occ.connection = c.id();
    occ.state = c.state();
    occ.now = now;
    observe(occ, &c);
  }
  void on_delivered(TcpConnection& c, Instant now) override {
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kDelivered;
    occ.connection = c.id();
    occ.rx_bytes = c.bytes_received();
    occ.now = now;
    observe(occ, &c);
  }
  void on_deadline(TcpConnection& c) override { timers.update(c); }

  // --- faults --------------------------------------------------------------
  bool output_silenced(std::uint64_t conn) const {
    for (std::size_t i = 0; i < faults.faults().size(); ++i) {
      const Fault& f = faults.faults()[i];
      if (f.action == ActionKind::kSilent && faults.active_for(i, conn) &&
          (f.silent.mode == SilentMode::kAll || f.silent.mode == SilentMode::kOutput))
        return true;
    }
    return false;
  }

  void observe(const FaultOccurrence& occ, TcpConnection* trigger_conn) {
    std::size_t first = changes.size();
    faults.observe(occ, changes);
    apply_changes(first, occ.now, trigger_conn);
  }

  template <typename Fn>
  void for_selected(const Fault& f, Fn&& fn) {
    // In order of acceptance, whatever the table's slot order.
    selected.clear();
    conns.for_each([&](TcpConnection& c) {
      if (f.connection == 0 || f.connection == c.id()) selected.push_back(&c);
    });
    std::sort(selected.begin(), selected.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
    for (TcpConnection* c : selected) fn(*c);
  }

  void apply_changes(std::size_t first, Instant now, TcpConnection* trigger_conn) {
    // apply_one() may append more changes (a window fault ending the previous one).
    for (std::size_t k = first; k < changes.size(); ++k) apply_one(changes[k], now, trigger_conn);
    changes.resize(first);
  }

  void apply_one(FaultChange ch, Instant now, TcpConnection* trigger_conn) {
    const Fault& f = faults.faults()[ch.index];
    std::string what = "fault '" + f.name + "' (" + action_name(f) + ")";
    record(now, "fault", what + (ch.fired ? " fired" : " ended"), trigger_conn);
    if (f.action == ActionKind::kWindow) {
      apply_window(f, ch, now);
    } else if (f.action == ActionKind::kRst && ch.fired) {
      if (faults.status(ch.index).fired_by_connection && trigger_conn) {
        trigger_conn->send_reset(f.rst.offset, now, *this);
      } else {
        for_selected(f, [&](TcpConnection& c) { c.send_reset(f.rst.offset, now, *this); });
      }
      faults.end(ch.index, now, changes);
    }
  }

  // The newest window fault owns the advertised window; a fault that ends while it
  // owns it gives the configured window back with an update.
  void apply_window(const Fault& f, FaultChange ch, Instant now) {
    if (!ch.fired && window_owner != ch.index) return;
    std::optional<std::size_t> previous = window_owner;
    window_owner.reset();
    if (ch.fired && !f.window.reopen) window_owner = ch.index;
    if (ch.fired && previous && *previous != ch.index) faults.end(*previous, now, changes);
    for_selected(f, [&](TcpConnection& c) {
      if (window_owner) c.set_window_override(f.window.window_bytes, f.window.ignore_probes);
      else c.set_window_override(std::nullopt, false);
      c.send_window_update(now, *this);
    });
    if (ch.fired && f.window.reopen) faults.end(ch.index, now, changes);
  }

  // before_input: returns false when a fault consumed the segment.
  bool before_input(const DecodedTcp& seg, std::uint64_t conn_index, TcpConnection* c, Instant now) {
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kSegment;
    occ.connection = conn_index;
    occ.data_segments = c ? c->data_segments_received() : 0;
    occ.has_data = !seg.payload.empty();
    occ.now = now;
    observe(occ, c);
    for (std::size_t i = 0; i < faults.faults().size(); ++i) {
      if (!faults.active_for(i, conn_index)) continue;
      const Fault& f = faults.faults()[i];
      if (f.action == ActionKind::kSilent) {
        switch (f.silent.mode) {
          case SilentMode::kAll:
          case SilentMode::kInput:
            drop("fault.silent.input");
            return false;
          case SilentMode::kData:
            if (seg.seq_len() == 0) break;
            drop("fault.silent.input");
            return false;
          case SilentMode::kOnce:
            drop("fault.silent.input");
            end_fault(i, now, c);
            return false;
          case SilentMode::kOutput:
            break;
        }
      } else if (f.action == ActionKind::kIcmp) {
        send_icmp(f, seg, now, c);
        if (!f.icmp.every) end_fault(i, now, c);
        return false;
      }
    }
    return true;
  }

  void end_fault(std::size_t i, Instant now, TcpConnection* c) {
    std::size_t first = changes.size();
    faults.end(i, now, changes);
    apply_changes(first, now, c);
  }

  void send_icmp(const Fault& f, const DecodedTcp& seg, Instant now, TcpConnection* c) {
    if (is_icmpv6(f.icmp.kind) != seg.src.is_v6()) {
      drop("fault.icmp.family-mismatch");
      return;
    }
    auto [type, code] = icmp_type_code(f.icmp.kind);
    IcmpErrorOut err;
    err.src = f.icmp.source.value_or(seg.dst);
    err.dst = seg.src;
    err.type = type;
    err.code = code;
    err.mtu = f.icmp.mtu;
    err.offending_ip_packet = seg.ip_packet;
    push(encode_icmp_error(link(), err));
    PeerEvent e;
    e.at = now;
    e.kind = "icmp";
    e.detail = std::string(to_string(f.icmp.kind)) + " for seq " +
               std::to_string(c ? static_cast<std::uint32_t>(seg.tcp.seq - SeqNum(c->summary().kernel_isn))
                                : 0) +
               " from " + err.src.to_string() + (f.icmp.mtu ? " mtu " + std::to_string(f.icmp.mtu) : "");
    if (c) e.flow = c->key();
    events.push_back(std::move(e));
  }

  // --- dispatch ---------------------------------------------------------
  void on_tcp(const DecodedTcp& seg, Instant now) {
    FlowKey key{seg.dst, seg.src, seg.tcp.dst_port, seg.tcp.src_port};
    TcpConnection* c = conns.find(key);
    bool new_syn = seg.tcp.has(tcp_flags::kSyn) && !seg.tcp.has(tcp_flags::kAck) &&
                   !seg.tcp.has(tcp_flags::kRst);
    if (c && c->state() == TcpState::kTimeWait && new_syn) {
      retire(key);
      c = nullptr;
    }
    if (c && !seg.payload.empty()) c->note_data_segment();
    std::uint64_t index = c ? c->id() : accepted + 1;
    if (!before_input(seg, index, c, now)) return;
    if (c) {
      c->on_segment(seg, now, *this);
      if (c->closed()) retire(key);
      return;
    }
    const ListenerConfig* l = listener(seg.tcp.dst_port);
    if (new_syn && l && conns.size() < cfg.max_connections) {
      accept(key, *l, seg, now);
      return;
    }
    if (new_syn && l) drop("connection-table-full");
    reset_unknown(seg, now);
  }

  void accept(const FlowKey& key, const ListenerConfig& l, const DecodedTcp& syn, Instant now) {
    std::uint64_t h = flow_hash(key, cfg.seed);
    auto c = std::make_unique<TcpConnection>(++accepted, key, l, cfg, SeqNum(static_cast<std::uint32_t>(h)),
                                             static_cast<std::uint32_t>(h >> 32));
    ++stats.connections_accepted;
    TcpConnection& ref = conns.insert(std::move(c));
    // A window fault already active applies to new connections too.
    for (std::size_t i = 0; i < faults.faults().size(); ++i) {
      const Fault& f = faults.faults()[i];
      if (f.action == ActionKind::kWindow && !f.window.reopen && faults.active_for(i, ref.id()))
        ref.set_window_override(f.window.window_bytes, f.window.ignore_probes);
    }
    record(now, "state", "LISTEN -> SYN-RECEIVED", &ref);
    ref.on_syn(syn, now, *this);
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kState;
    occ.connection = ref.id();
    occ.state = TcpState::kSynReceived;
    occ.now = now;
    observe(occ, &ref);
  }

  // RFC 9293 3.10.7.1: a segment for no connection draws a reset (never answers a reset).
  void reset_unknown(const DecodedTcp& seg, Instant now) {
    if (seg.tcp.has(tcp_flags::kRst)) return;
    if (output_silenced(0)) return;
    TcpSegmentOut rst;
    rst.src = seg.dst;
    rst.dst = seg.src;
    rst.tcp.src_port = seg.tcp.dst_port;
    rst.tcp.dst_port = seg.tcp.src_port;
    if (seg.tcp.has(tcp_flags::kAck)) {
      rst.tcp.seq = seg.tcp.ack;
      rst.tcp.flags = tcp_flags::kRst;
    } else {
      rst.tcp.ack = seg.tcp.seq + seg.seq_len();
      rst.tcp.flags = tcp_flags::kRst | tcp_flags::kAck;
    }
    ++stats.resets_sent;
    encode_tcp(link(), rst, next_frame());
    commit_frame();
    PeerEvent e;
    e.at = now;
    e.kind = "rst";
    e.detail = "reset for a segment to " + seg.dst.to_string() + ":" + std::to_string(seg.tcp.dst_port) +
               " with no connection";
    events.push_back(std::move(e));
  }

  void retire(const FlowKey& key) {
    std::unique_ptr<TcpConnection> c = conns.erase(key);
    if (!c) return;
    finished.push_back(c->summary());
    timers.remove(*c);
  }

  void on_frame(std::span<const std::uint8_t> frame, Instant now) {
    ++stats.frames_in;
    auto decoded = decode_frame(frame);
    if (auto* err = std::get_if<DecodeError>(&decoded)) {
      if (err->reason == "fragment.ipv4") return on_fragment(frame, now);
      drop(err->reason);
      return;
    }
    auto& f = std::get<DecodedFrame>(decoded);
    if (f.dst_mac != cfg.mac && !f.dst_mac.is_multicast()) {
      drop("not-for-us.mac");
      return;
    }
    if (!f.src_mac.is_multicast()) kernel_mac = f.src_mac;
    std::visit([&](const auto& body) { dispatch(body, now); }, f.body);
  }

  void on_fragment(std::span<const std::uint8_t> frame, Instant now) {
    ++stats.fragments;
    std::optional<std::vector<std::uint8_t>> whole = reassembler.feed(frame);
    if (!whole) return;
    ++stats.reassembled;
    --stats.frames_in;  // on_frame counts the reassembled packet again
    on_frame(*whole, now);
  }

  void dispatch(const DecodedArp& arp, Instant) {
    if (arp.opcode != 1 || !owns(arp.target_ip)) {
      drop(arp.opcode == 1 ? "not-for-us.arp" : "ignored.arp-reply");
      return;
    }
    ++stats.arp_replies;
    push(encode_arp_reply({cfg.mac, arp.sender_mac}, arp.target_ip, arp.sender_ip));
  }
  void dispatch(const DecodedNeighborSolicit& ns, Instant) {
    bool dad = std::all_of(ns.src.bytes.begin(), ns.src.bytes.end(), [](auto b) { return b == 0; });
    if (dad || !owns(ns.target)) {
      drop(dad ? "ignored.dad" : "not-for-us.ndp");
      return;
    }
    ++stats.neighbor_adverts;
    push(encode_neighbor_advert(link(), ns.target, ns.src, ns.target));
  }
  void dispatch(const DecodedEcho& echo, Instant) {
    if (!owns(echo.dst)) {
      drop("not-for-us.ip");
      return;
    }
    ++stats.echo_replies;
    push(encode_echo_reply(link(), echo));
  }
  void dispatch(const DecodedTcp& seg, Instant now) {
    if (!owns(seg.dst)) {
      drop("not-for-us.ip");
      return;
    }
    on_tcp(seg, now);
  }
  void dispatch(const DecodedOther& other, Instant) { drop(std::string("ignored.") + other.what); }

  void poll(Instant now) {
    FaultOccurrence occ;
    occ.now = now;
    observe(occ, nullptr);
    due_scratch.clear();
    timers.due(now, due_scratch);
    due_keys.clear();
    for (const TcpConnection* c : due_scratch) due_keys.push_back(c->key());
    for (const auto& key : due_keys) {
      TcpConnection* c = conns.find(key);
      if (!c) continue;
      c->on_timer(now, *this);
      if (c->closed()) retire(key);
    }
  }

  std::optional<Instant> next_deadline() const {
    std::optional<Instant> best = faults.next_deadline();
    std::optional<Instant> d = timers.earliest();
    if (d && (!best || *d < *best)) best = d;
    return best;
  }
};

Host::Host(HostConfig config, FaultPlan plan)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(plan))) {}
Host::~Host() = default;

void Host::on_frame(std::span<const std::uint8_t> frame, Instant now) { impl_->on_frame(frame, now); }
void Host::poll(Instant now) { impl_->poll(now); }
std::optional<Instant> Host::next_deadline() const { return impl_->next_deadline(); }

std::span<const Frame> Host::pending_output() const { return {impl_->out.data(), impl_->out_count}; }

void Host::clear_output() { impl_->clear_output(); }

std::vector<PeerEvent> Host::take_events() {
  std::vector<PeerEvent> ev;
  ev.swap(impl_->events);
  return ev;
}

const HostStats& Host::stats() const { return impl_->stats; }
const HostConfig& Host::config() const { return impl_->cfg; }

std::vector<ConnectionSummary> Host::connections() const {
  std::vector<ConnectionSummary> all = impl_->finished;
  impl_->conns.for_each([&](const TcpConnection& c) { all.push_back(c.summary()); });
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return all;
}

}  // namespace tapfault::stack
