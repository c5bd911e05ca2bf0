// The host's connections by flow (issue 6: per-frame cost flat up to 10,000 connections).
//
// Open addressing with linear probing. A slot is the key's hash next to the owning
// pointer, 16 bytes, four to a cache line: a lookup reads the slot and then the connection
// it needs anyway, where the key is compared. std::unordered_map read a bucket, a node and
// the node's key first, two or three cache misses per frame once 10,000 connections' state
// no longer fits in L2 (perf, Host/echo_64_across from 10 to 10,000 connections:
// _M_find_before_node + find 5.4% -> 14.5% of the time; bench/OPTIMISATIONS.md).
//
// At most half full; a removal shifts the entries after it back (no tombstones), so a
// lookup's probe length depends only on what the table holds. Iteration is in slot order,
// the same for the same keys and insertion history on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace tapfault::stack {

// T has `const Key& key() const`; Hash gives a well-mixed 64-bit value (the low bits pick
// the slot).
template <typename T, typename Key, typename Hash>
class FlowTable {
 public:
  T* find(const Key& k) const {
    if (size_ == 0) return nullptr;
    const std::uint64_t h = Hash{}(k);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.value) return nullptr;
      if (s.hash == h && s.value->key() == k) return s.value.get();
    }
  }

  // `v`'s key must not be in the table.
  T& insert(std::unique_ptr<T> v) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? kMinSlots : slots_.size() * 2);
    T& ref = *v;
    put(Hash{}(ref.key()), std::move(v));
    ++size_;
    return ref;
  }

  // Takes the entry for `k` out of the table (null when there is none).
  std::unique_ptr<T> erase(const Key& k) {
    if (size_ == 0) return nullptr;
    const std::uint64_t h = Hash{}(k);
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].value) return nullptr;
      if (slots_[i].hash == h && slots_[i].value->key() == k) break;
    }
    std::unique_ptr<T> out = std::move(slots_[i].value);
    --size_;
    // Backward shift: an entry after the hole moves into it when the hole lies between
    // the entry's home slot and where it sits now (cyclically).
    for (std::size_t j = (i + 1) & mask_; slots_[j].value; j = (j + 1) & mask_) {
      const std::size_t from_home = (j - (slots_[j].hash & mask_)) & mask_;
      if (from_home >= ((j - i) & mask_)) {
        slots_[i] = std::move(slots_[j]);
        i = j;
      }
    }
    return out;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_)
      if (s.value) fn(*s.value);
  }

 private:
  static constexpr std::size_t kMinSlots = 16;

  struct Slot {
    std::uint64_t hash = 0;
    std::unique_ptr<T> value;  // empty slot when null
  };

  void put(std::uint64_t h, std::unique_ptr<T> v) {
    std::size_t i = h & mask_;
    while (slots_[i].value) i = (i + 1) & mask_;
    slots_[i].hash = h;
    slots_[i].value = std::move(v);
  }

  void rehash(std::size_t n) {
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(n));
    mask_ = n - 1;
    for (Slot& s : old)
      if (s.value) put(s.hash, std::move(s.value));
  }

  std::vector<Slot> slots_;  // a power of two in size, or empty
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tapfault::stack
