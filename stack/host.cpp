// stack::Host: the dispatch (decode, neighbour answers, ping, the TCP connection table).
// The fault plan is applied by HostFaults (host_faults.cpp), and what the host sends and
// tells is kept by HostOutput (host_output.hpp).
//
// Read first: host.hpp for the contract, fault.hpp for the hooks. Every frame
// from the kernel goes: decode -> neighbour/ping/TCP dispatch; TCP segments
// pass before_input() (the input faults), then the connection; every segment
// the peer sends passes emit() (output_silenced(), then the encoder); a fault
// that fires or ends is applied by apply_one() (window, rst).
#include "tapfault/stack/host.hpp"

#include <algorithm>

#include "flow_table.hpp"
#include "host_faults.hpp"
#include "host_output.hpp"
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

}  // namespace

struct Host::Impl final : ConnectionContext {
  Impl(HostConfig c, FaultPlan plan)
      : cfg(std::move(c)),
        out(cfg.mac),
        faults(std::move(plan), cfg.origin, out, *this,
               [this](const std::function<void(TcpConnection&)>& fn) { conns.for_each(fn); }) {}

  HostConfig cfg;
  HostOutput out;
  HostFaults faults;
  Reassembler reassembler;
  FlowTable<TcpConnection, FlowKey, FlowSlotHash> conns;
  TimerIndex timers;                        // the connections with a deadline, soonest first
  std::vector<TcpConnection*> due_scratch;  // poll(): reused
  std::vector<FlowKey> due_keys;            // poll(): reused
  std::vector<ConnectionSummary> finished;  // closed connections, in order of closing
  std::uint64_t accepted = 0;

  bool owns(const IpAddress& a) const {
    return std::find(cfg.addresses.begin(), cfg.addresses.end(), a) != cfg.addresses.end();
  }
  const ListenerConfig* listener(std::uint16_t port) const {
    for (const auto& l : cfg.listeners)
      if (l.port == port) return &l;
    return nullptr;
  }
  // --- ConnectionContext -------------------------------------------------
  void emit(TcpConnection& c, const TcpSegmentOut& seg, Instant now) override {
    if (faults.output_silenced(c.id())) {
      out.drop("fault.silent.output");
      return;
    }
    (void)now;
    encode_tcp(out.link(), seg, out.next_frame());
    out.commit_frame();
  }
  void log(const TcpConnection& c, const char* kind, std::string detail, Instant now) override {
    out.record(now, kind, std::move(detail), &c);
  }
  void on_state(TcpConnection& c, TcpState from, Instant now) override {
    out.record(now, "state", std::string(to_string(from)) + " -> " + to_string(c.state()), &c);
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kState;
    occ.connection = c.id();
    occ.state = c.state();
    occ.now = now;
    faults.observe(occ, &c);
  }
  void on_delivered(TcpConnection& c, Instant now) override {
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kDelivered;
    occ.connection = c.id();
    occ.rx_bytes = c.bytes_received();
    occ.now = now;
    faults.observe(occ, &c);
  }
  void on_deadline(TcpConnection& c) override { timers.update(c); }

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
    if (!faults.before_input(seg, index, c, now)) return;
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
    if (new_syn && l) out.drop("connection-table-full");
    reset_unknown(seg, now);
  }

  void accept(const FlowKey& key, const ListenerConfig& l, const DecodedTcp& syn, Instant now) {
    std::uint64_t h = flow_hash(key, cfg.seed);
    auto c = std::make_unique<TcpConnection>(++accepted, key, l, cfg, SeqNum(static_cast<std::uint32_t>(h)),
                                             static_cast<std::uint32_t>(h >> 32));
    ++out.stats.connections_accepted;
    TcpConnection& ref = conns.insert(std::move(c));
    faults.on_accept(ref);
    out.record(now, "state", "LISTEN -> SYN-RECEIVED", &ref);
    ref.on_syn(syn, now, *this);
    FaultOccurrence occ;
    occ.kind = FaultOccurrence::Kind::kState;
    occ.connection = ref.id();
    occ.state = TcpState::kSynReceived;
    occ.now = now;
    faults.observe(occ, &ref);
  }

  // RFC 9293 3.10.7.1: a segment for no connection draws a reset (never answers a reset).
  void reset_unknown(const DecodedTcp& seg, Instant now) {
    if (seg.tcp.has(tcp_flags::kRst)) return;
    if (faults.output_silenced(0)) return;
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
    ++out.stats.resets_sent;
    encode_tcp(out.link(), rst, out.next_frame());
    out.commit_frame();
    PeerEvent e;
    e.at = now;
    e.kind = "rst";
    e.detail = "reset for a segment to " + seg.dst.to_string() + ":" + std::to_string(seg.tcp.dst_port) +
               " with no connection";
    out.record(std::move(e));
  }

  void retire(const FlowKey& key) {
    std::unique_ptr<TcpConnection> c = conns.erase(key);
    if (!c) return;
    finished.push_back(c->summary());
    timers.remove(*c);
  }

  void on_frame(std::span<const std::uint8_t> frame, Instant now) {
    ++out.stats.frames_in;
    auto decoded = decode_frame(frame);
    if (auto* err = std::get_if<DecodeError>(&decoded)) {
      if (err->reason == "fragment.ipv4") return on_fragment(frame, now);
      out.drop(err->reason);
      return;
    }
    auto& f = std::get<DecodedFrame>(decoded);
    if (f.dst_mac != cfg.mac && !f.dst_mac.is_multicast()) {
      out.drop("not-for-us.mac");
      return;
    }
    if (!f.src_mac.is_multicast()) out.set_kernel_mac(f.src_mac);
    std::visit([&](const auto& body) { dispatch(body, now); }, f.body);
  }

  void on_fragment(std::span<const std::uint8_t> frame, Instant now) {
    ++out.stats.fragments;
    std::optional<std::vector<std::uint8_t>> whole = reassembler.feed(frame);
    if (!whole) return;
    ++out.stats.reassembled;
    --out.stats.frames_in;  // on_frame counts the reassembled packet again
    on_frame(*whole, now);
  }

  void dispatch(const DecodedArp& arp, Instant) {
    if (arp.opcode != 1 || !owns(arp.target_ip)) {
      out.drop(arp.opcode == 1 ? "not-for-us.arp" : "ignored.arp-reply");
      return;
    }
    ++out.stats.arp_replies;
    out.push(encode_arp_reply({cfg.mac, arp.sender_mac}, arp.target_ip, arp.sender_ip));
  }
  void dispatch(const DecodedNeighborSolicit& ns, Instant) {
    bool dad = std::all_of(ns.src.bytes.begin(), ns.src.bytes.end(), [](auto b) { return b == 0; });
    if (dad || !owns(ns.target)) {
      out.drop(dad ? "ignored.dad" : "not-for-us.ndp");
      return;
    }
    ++out.stats.neighbor_adverts;
    out.push(encode_neighbor_advert(out.link(), ns.target, ns.src, ns.target));
  }
  void dispatch(const DecodedEcho& echo, Instant) {
    if (!owns(echo.dst)) {
      out.drop("not-for-us.ip");
      return;
    }
    ++out.stats.echo_replies;
    out.push(encode_echo_reply(out.link(), echo));
  }
  void dispatch(const DecodedTcp& seg, Instant now) {
    if (!owns(seg.dst)) {
      out.drop("not-for-us.ip");
      return;
    }
    on_tcp(seg, now);
  }
  void dispatch(const DecodedOther& other, Instant) { out.drop(std::string("ignored.") + other.what); }

  void poll(Instant now) {
    FaultOccurrence occ;
    occ.now = now;
    faults.observe(occ, nullptr);
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

std::span<const Frame> Host::pending_output() const { return impl_->out.pending(); }

void Host::clear_output() { impl_->out.clear(); }

std::vector<PeerEvent> Host::take_events() { return impl_->out.take_events(); }

const HostStats& Host::stats() const { return impl_->out.stats; }
const HostConfig& Host::config() const { return impl_->cfg; }

std::vector<ConnectionSummary> Host::connections() const {
  std::vector<ConnectionSummary> all = impl_->finished;
  impl_->conns.for_each([&](const TcpConnection& c) { all.push_back(c.summary()); });
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return all;
}

}  // namespace tapfault::stack
