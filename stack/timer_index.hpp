// The host's connections ordered by their next deadline, so that poll() and
// next_deadline() do not visit every connection (issue 6: per-frame cost flat up to
// 10,000 connections).
//
// A 4-ary min-heap on (deadline, connection id): ties go to the older connection, so
// the order is the same on every run. Each connection keeps its position in the heap
// (TcpConnection::timer_slot()), which makes an update O(log n) and allocation-free once
// the heap has grown. Four children per node rather than two: at 10,000 connections a
// removal from the root (an ACK for the oldest reply) moves 7 entries instead of 13, and
// each move writes the moved connection's slot, a cache miss; the four children share two
// cache lines (bench/OPTIMISATIONS.md). The host calls update() whenever a connection reports a changed
// deadline (ConnectionContext::on_deadline) and remove() before it drops a connection.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tcp_connection.hpp"

namespace tapfault::stack {

class TimerIndex {
 public:
  static constexpr std::size_t kNotIndexed = static_cast<std::size_t>(-1);

  // Puts `c` where c.deadline() says, or takes it out when it has none.
  void update(TcpConnection& c);
  void remove(TcpConnection& c);

  std::optional<Instant> earliest() const;
  // Appends the connections due at `now` (deadline <= now), soonest first.
  void due(Instant now, std::vector<TcpConnection*>& out);
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    Instant at;
    std::uint64_t id;
    TcpConnection* connection;
    bool before(const Entry& o) const { return at < o.at || (at == o.at && id < o.id); }
  };

  static constexpr std::size_t kArity = 4;

  void place(std::size_t slot, Entry e);
  void sift_up(std::size_t slot);
  void sift_down(std::size_t slot);

  std::vector<Entry> heap_;
  std::vector<Entry> found_;          // due(): scratch, kept to not allocate on every poll
  std::vector<std::size_t> pending_;  // due(): slots still to visit
};

}  // namespace tapfault::stack
