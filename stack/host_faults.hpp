// The fault plan applied to the host's traffic (read fault.hpp first for the vocabulary).
// Three places call it:
//  - before_input(): every TCP segment from the kernel, before its connection sees it
//    (silent input, ICMP errors sent in answer);
//  - output_silenced(): every segment the peer would send (silent output);
//  - observe(): every occurrence a trigger may wait for (segments, bytes delivered, state
//    changes, time); a fault that fires or ends is applied by apply_one() (window, rst).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "fault_engine.hpp"
#include "host_output.hpp"
#include "tapfault/stack/codec.hpp"
#include "tapfault/stack/fault.hpp"

namespace tapfault::stack {

class ConnectionContext;
class TcpConnection;

class HostFaults {
 public:
  // Calls its argument for every open connection (the host's table, in any order).
  using ForEachConnection = std::function<void(const std::function<void(TcpConnection&)>&)>;

  // `out`, `ctx` and `connections` are the host's and outlive this.
  HostFaults(FaultPlan plan, Instant origin, HostOutput& out, ConnectionContext& ctx,
             ForEachConnection connections);

  // Returns false when a fault consumed the segment.
  bool before_input(const DecodedTcp& seg, std::uint64_t conn_index, TcpConnection* c, Instant now);
  bool output_silenced(std::uint64_t conn) const;
  void observe(const FaultOccurrence& occ, TcpConnection* trigger_conn);
  // A window fault already in force applies to a connection accepted after it fired.
  void on_accept(TcpConnection& c) const;
  std::optional<Instant> next_deadline() const { return engine_.next_deadline(); }

 private:
  void apply_changes(std::size_t first, Instant now, TcpConnection* trigger_conn);
  void apply_one(FaultChange ch, Instant now, TcpConnection* trigger_conn);
  void apply_window(const Fault& f, FaultChange ch, Instant now);
  void end_fault(std::size_t i, Instant now, TcpConnection* c);
  void send_icmp(const Fault& f, const DecodedTcp& seg, Instant now, TcpConnection* c);
  // The fault's connections (all, or the one it names), in order of acceptance.
  void for_selected(const Fault& f, const std::function<void(TcpConnection&)>& fn);

  FaultEngine engine_;
  HostOutput& out_;
  ConnectionContext& ctx_;
  ForEachConnection connections_;
  std::vector<FaultChange> changes_;           // reused scratch
  std::vector<TcpConnection*> selected_;       // for_selected(): reused
  std::optional<std::size_t> window_owner_;    // the window fault now in force
};

}  // namespace tapfault::stack
