// The deadline heap of the host's connections (see timer_index.hpp).
#include "timer_index.hpp"

#include <algorithm>

namespace tapfault::stack {

void TimerIndex::place(std::size_t slot, Entry e) {
  heap_[slot] = e;
  e.connection->timer_slot() = slot;
}

void TimerIndex::sift_up(std::size_t slot) {
  Entry e = heap_[slot];
  while (slot > 0) {
    std::size_t parent = (slot - 1) / kArity;
    if (!e.before(heap_[parent])) break;
    place(slot, heap_[parent]);
    slot = parent;
  }
  place(slot, e);
}

void TimerIndex::sift_down(std::size_t slot) {
  Entry e = heap_[slot];
  for (;;) {
    const std::size_t first = kArity * slot + 1;
    if (first >= heap_.size()) break;
    const std::size_t end = std::min(first + kArity, heap_.size());
    std::size_t child = first;
    for (std::size_t c = first + 1; c < end; ++c)
      if (heap_[c].before(heap_[child])) child = c;
    if (!heap_[child].before(e)) break;
    place(slot, heap_[child]);
    slot = child;
  }
  place(slot, e);
}

void TimerIndex::update(TcpConnection& c) {
  std::optional<Instant> at = c.deadline();
  if (!at) return remove(c);
  std::size_t slot = c.timer_slot();
  if (slot == kNotIndexed) {
    heap_.push_back({*at, c.id(), &c});
    c.timer_slot() = heap_.size() - 1;
    sift_up(heap_.size() - 1);
    return;
  }
  if (heap_[slot].at == *at) return;
  bool earlier = *at < heap_[slot].at;
  heap_[slot].at = *at;
  if (earlier) sift_up(slot);
  else sift_down(slot);
}

void TimerIndex::remove(TcpConnection& c) {
  std::size_t slot = c.timer_slot();
  if (slot == kNotIndexed) return;
  c.timer_slot() = kNotIndexed;
  Entry last = heap_.back();
  heap_.pop_back();
  if (slot == heap_.size()) return;  // it was the last one
  place(slot, last);
  sift_up(slot);
  sift_down(last.connection->timer_slot());
}

std::optional<Instant> TimerIndex::earliest() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().at;
}

void TimerIndex::due(Instant now, std::vector<TcpConnection*>& out) {
  // Every due entry's parent is due too: walk the due part of the tree from the root.
  found_.clear();
  pending_.clear();
  if (!heap_.empty() && heap_.front().at <= now) pending_.push_back(0);
  while (!pending_.empty()) {
    std::size_t slot = pending_.back();
    pending_.pop_back();
    found_.push_back(heap_[slot]);
    for (std::size_t child = kArity * slot + 1; child <= kArity * slot + kArity && child < heap_.size(); ++child)
      if (heap_[child].at <= now) pending_.push_back(child);
  }
  std::sort(found_.begin(), found_.end(), [](const Entry& a, const Entry& b) { return a.before(b); });
  for (const Entry& e : found_) out.push_back(e.connection);
}

}  // namespace tapfault::stack
