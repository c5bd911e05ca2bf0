// Fuzz entry for the frame codec and the peer: one input is a host setup plus a sequence
// of frames from the "kernel", fed to stack::Host with an advancing fake clock.
//
// Shared by fuzz_peer.cpp (libFuzzer) and tests/unit/stack/fuzz_regression_test.cpp
// (which replays fuzz/regressions/fuzz_peer/*), so a crash found once stays fixed.
//
// Input layout:
//   byte 0       setup: bits 0-2 pick a fault plan (kPlans below), bit 3 recomputes every
//                frame's IPv4/TCP/ICMP checksums before it is fed (so that mutations get past
//                the codec's checksum check), bits 4-5 pick host limits (2 and 3 also turn
//                delayed ACKs on), bits 6-7 the MTU
//   then records: u16 big-endian header, frame bytes. The header's low 14 bits are the
//                frame length (cut at the end of the input), its top 2 bits how far the
//                clock moves before the frame: 1 ms, 50 ms, 1 s, or to the host's next
//                deadline (+1 ns).
// Between frames the host is polled when its deadline is due, and its output and events
// are drained like tap::Driver does. Everything the peer sends must decode again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/fault.hpp"
#include "tapfault/stack/host.hpp"

namespace tapfault::fuzz {

namespace peer_detail {

using namespace std::chrono_literals;
using stack::Fault;
using stack::Trigger;
using stack::TriggerKind;

inline stack::IpAddress ip(const char* text) { return *stack::IpAddress::parse(text); }

inline std::uint32_t sum16(std::span<const std::uint8_t> b, std::uint32_t acc = 0) {
  std::size_t i = 0;
  for (; i + 1 < b.size(); i += 2) acc += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  if (i < b.size()) acc += static_cast<std::uint32_t>(b[i] << 8);
  return acc;
}

inline std::uint16_t checksum(std::uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(~acc);
}

inline void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// Recomputes the checksum at `at` inside `l4` (offset 16 for TCP, 2 for ICMP), with the
// pseudo-header sum `pseudo` (0 for ICMPv4). Leaves frames too short for it alone.
inline void fix_l4(std::span<std::uint8_t> l4, std::size_t at, std::uint32_t pseudo) {
  if (l4.size() < at + 2) return;
  put16(&l4[at], 0);
  put16(&l4[at], checksum(sum16(l4, pseudo)));
}

// What the codec verifies, made right on the bytes the fuzzer chose (every other field kept).
inline void fix_checksums(std::vector<std::uint8_t>& f) {
  if (f.size() < 14) return;
  std::uint16_t ethertype = static_cast<std::uint16_t>(f[12] << 8 | f[13]);
  std::span<std::uint8_t> ipb(f.data() + 14, f.size() - 14);
  if (ethertype == 0x0800 && ipb.size() >= 20) {
    std::size_t ihl = static_cast<std::size_t>(ipb[0] & 0x0f) * 4;
    std::size_t tot = static_cast<std::size_t>(ipb[2] << 8 | ipb[3]);
    if (ihl < 20 || ihl > ipb.size()) return;
    put16(&ipb[10], 0);
    put16(&ipb[10], checksum(sum16(ipb.first(ihl))));
    if (tot < ihl || tot > ipb.size()) return;
    auto l4 = ipb.subspan(ihl, tot - ihl);
    std::uint32_t pseudo = sum16(ipb.subspan(12, 8)) + ipb[9] + static_cast<std::uint32_t>(l4.size());
    if (ipb[9] == 6) fix_l4(l4, 16, pseudo);
    if (ipb[9] == 1) fix_l4(l4, 2, 0);
  } else if (ethertype == 0x86dd && ipb.size() >= 40) {
    std::size_t len = static_cast<std::size_t>(ipb[4] << 8 | ipb[5]);
    if (40 + len > ipb.size()) return;
    auto l4 = ipb.subspan(40, len);
    std::uint32_t pseudo = sum16(ipb.subspan(8, 32)) + ipb[6] + static_cast<std::uint32_t>(len >> 16) +
                           static_cast<std::uint32_t>(len & 0xffff);
    if (ipb[6] == 6) fix_l4(l4, 16, pseudo);
    if (ipb[6] == 58) fix_l4(l4, 2, pseudo);
  }
}

inline Trigger trigger(TriggerKind kind) {
  Trigger t;
  t.kind = kind;
  return t;
}
inline Trigger at(stack::Duration d) {
  Trigger t = trigger(TriggerKind::kAt);
  t.at = d;
  return t;
}
inline Trigger on_rx_bytes(std::uint64_t n) {
  Trigger t = trigger(TriggerKind::kOnRxBytes);
  t.count = n;
  return t;
}
inline Trigger on_segment(std::uint64_t n) {
  Trigger t = trigger(TriggerKind::kOnSegment);
  t.count = n;
  return t;
}
inline Trigger on_state(stack::TcpState s) {
  Trigger t = trigger(TriggerKind::kOnState);
  t.state = s;
  return t;
}
// `after: {fault: NAME, delay: D}`, or with `segments` > 0 `{fault: NAME, segments: N}`.
inline Trigger after(const char* name, stack::Duration delay, std::uint64_t segments = 0) {
  Trigger t = trigger(TriggerKind::kAfterFault);
  t.fault = name;
  t.delay = delay;
  t.count = segments;
  return t;
}

inline Fault fault(const char* name, Trigger t, stack::ActionKind action) {
  Fault f;
  f.name = name;
  f.trigger = std::move(t);
  f.action = action;
  return f;
}

// The fault plans an input can pick: each action kind, the triggers, and the interplay of
// window faults (a newer one ends the older) and `after:` chains.
inline stack::FaultPlan plan(unsigned which) {
  using stack::ActionKind;
  stack::FaultPlan p;
  auto& v = p.faults;
  switch (which & 7) {
    case 0:
      break;
    case 1: {  // zero-window-forever
      Fault f = fault("close", on_rx_bytes(6), ActionKind::kWindow);
      v.push_back(f);
      break;
    }
    case 2: {  // zero window, probes unanswered, then reopened
      Fault f = fault("close", on_state(stack::TcpState::kEstablished), ActionKind::kWindow);
      f.window.ignore_probes = true;
      v.push_back(f);
      Fault r = fault("reopen", after("close", 2s), ActionKind::kWindow);
      r.window.reopen = true;
      v.push_back(r);
      break;
    }
    case 3: {  // silent peer for a while, on data only, then both ways on connection 2
      Fault f = fault("mute", on_segment(2), ActionKind::kSilent);
      f.silent.mode = stack::SilentMode::kData;
      f.until = at(3s);
      v.push_back(f);
      Fault g = fault("vanish", at(500ms), ActionKind::kSilent);
      g.connection = 2;
      v.push_back(g);
      Fault o = fault("once", after("mute", 0s, 1), ActionKind::kSilent);
      o.silent.mode = stack::SilentMode::kOnce;
      v.push_back(o);
      break;
    }
    case 4: {  // ICMP errors of both families, one answering every segment
      Fault f = fault("frag", on_segment(1), ActionKind::kIcmp);
      f.icmp.kind = stack::IcmpKind::kFragNeeded;
      f.icmp.mtu = 576;
      v.push_back(f);
      Fault g = fault("ptb", on_segment(1), ActionKind::kIcmp);
      g.icmp.kind = stack::IcmpKind::kPacketTooBig;
      g.icmp.mtu = 1280;
      g.icmp.every = true;
      g.until = after("frag", 1s);
      v.push_back(g);
      Fault h = fault("unreach", on_state(stack::TcpState::kSynReceived), ActionKind::kIcmp);
      h.icmp.kind = stack::IcmpKind::kHostUnreachable;
      h.icmp.source = ip("192.0.2.254");
      h.connection = 3;
      v.push_back(h);
      break;
    }
    case 5: {  // reset in and out of the window
      Fault f = fault("rst", on_rx_bytes(10), ActionKind::kRst);
      v.push_back(f);
      Fault g = fault("rst-off", at(2s), ActionKind::kRst);
      g.rst.offset = -100000;
      v.push_back(g);
      break;
    }
    case 6: {  // output silenced, then a small window, then a zero window replacing it
      Fault f = fault("deaf", at(100ms), ActionKind::kSilent);
      f.silent.mode = stack::SilentMode::kOutput;
      f.until = at(400ms);
      v.push_back(f);
      Fault g = fault("small", on_segment(1), ActionKind::kWindow);
      g.window.window_bytes = 100;
      v.push_back(g);
      Fault h = fault("zero", after("small", 0s, 3), ActionKind::kWindow);
      v.push_back(h);
      break;
    }
    case 7: {  // everything at once
      for (unsigned k = 1; k < 7; ++k) {
        stack::FaultPlan sub = plan(k);
        for (auto& f : sub.faults) {
          f.name += "-" + std::to_string(k);
          if (f.trigger.kind == TriggerKind::kAfterFault) f.trigger.fault += "-" + std::to_string(k);
          if (f.until && f.until->kind == TriggerKind::kAfterFault) f.until->fault += "-" + std::to_string(k);
          v.push_back(std::move(f));
        }
      }
      break;
    }
  }
  return p;
}

inline stack::HostConfig host_config(std::uint8_t setup) {
  stack::HostConfig c;
  c.addresses = {ip("192.0.2.2"), ip("2001:db8::2"), ip("2001:db8:a::2")};
  c.listeners.push_back({8080, stack::AppMode::kEcho, {}, false, false});
  c.listeners.push_back({8081, stack::AppMode::kDiscard, {}, false, false});
  std::vector<std::uint8_t> response(3000, 'r');
  c.listeners.push_back({8082, stack::AppMode::kRespond, response, true, true});
  c.listeners.push_back({80, stack::AppMode::kRespond, {'o', 'k', '\n'}, false, false});
  switch ((setup >> 4) & 3) {
    case 0: break;
    case 1:  // tight limits: a tiny table, a tiny echo buffer, few retransmissions
      c.max_connections = 2;
      c.send_buffer_limit = 1000;
      c.max_retransmits = 1;
      break;
    case 2:  // delayed ACKs (HostConfig::delayed_ack) with a tiny window and RTO
      c.window_bytes = 1000;
      c.window_scale = 14;
      c.retransmit_timeout = std::chrono::milliseconds(1);
      c.delayed_ack = std::chrono::milliseconds(40);
      break;
    case 3:  // delayed ACKs as the benchmarks would use them, a huge window
      c.window_bytes = 0xffffffffu;
      c.window_scale = 0;
      c.seed = 0xffffffffffffffffull;
      c.delayed_ack = std::chrono::milliseconds(200);
      break;
  }
  static constexpr std::uint32_t kMtus[] = {1500, 1280, 576, 68};
  c.mtu = kMtus[(setup >> 6) & 3];
  return c;
}

// Everything the peer sends must be a frame its own decoder accepts.
inline void check_output(stack::Host& host) {
  for (const auto& f : host.pending_output()) {
    auto d = stack::decode_frame(f);
    if (auto* e = std::get_if<stack::DecodeError>(&d)) {
      std::fprintf(stderr, "fuzz_peer: the peer sent a frame its decoder rejects: %s\n", e->reason.c_str());
      std::abort();
    }
  }
  host.clear_output();
}

// tap::Driver arms its one timer for next_deadline() after every poll: a deadline that is
// still due after poll(now) would make it spin.
inline void poll(stack::Host& host, stack::Instant now) {
  host.poll(now);
  check_output(host);
  if (auto d = host.next_deadline(); d && *d <= now) {
    std::fprintf(stderr, "fuzz_peer: next_deadline() %lld ns is not after poll(%lld ns)\n",
                 static_cast<long long>(stack::to_ns(*d)), static_cast<long long>(stack::to_ns(now)));
    std::abort();
  }
}

}  // namespace peer_detail

inline void run_peer_input(const std::uint8_t* data, std::size_t size) {
  using namespace peer_detail;
  if (size < 1) return;
  std::uint8_t setup = data[0];
  stack::Host host(host_config(setup), plan(setup));
  stack::Instant now{};
  std::size_t pos = 1;
  while (pos + 2 <= size) {
    std::uint16_t header = static_cast<std::uint16_t>(data[pos] << 8 | data[pos + 1]);
    pos += 2;
    std::size_t len = std::min<std::size_t>(header & 0x3fff, size - pos);
    std::vector<std::uint8_t> frame(data + pos, data + pos + len);
    pos += len;

    switch (header >> 14) {
      case 0: now += 1ms; break;
      case 1: now += 50ms; break;
      case 2: now += 1s; break;
      case 3: {
        auto d = host.next_deadline();
        now = d && *d > now ? *d + 1ns : now + 1ns;
        break;
      }
    }
    if (auto d = host.next_deadline(); d && *d <= now) poll(host, now);

    (void)stack::decode_frame(frame);
    if (setup & 0x08) {
      fix_checksums(frame);
      (void)stack::decode_frame(frame);
    }
    host.on_frame(frame, now);
    check_output(host);
    (void)host.take_events();
  }
  // Let every timer run out: retransmissions, TIME-WAIT, `at:` faults. Bounded, because
  // the peer gives up after max_retransmits and every deadline moves forward.
  for (int i = 0; i < 64; ++i) {
    auto d = host.next_deadline();
    if (!d) break;
    now = std::max(now, *d);
    poll(host, now);
  }
  (void)host.connections();
  (void)host.take_events();
}

}  // namespace tapfault::fuzz
