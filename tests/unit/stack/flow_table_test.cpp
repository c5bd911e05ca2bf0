// The host's flow table (stack/flow_table.hpp) against std::map as the reference: every
// sequence of inserts and erases leaves the same contents, whatever the hash does,
// including keys that all want the same slot and runs that wrap past the table's end.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "stack/flow_table.hpp"

namespace tapfault::stack {
namespace {

struct Item {
  int k;
  int value;
  const int& key() const { return k; }
};

struct GoodHash {
  std::uint64_t operator()(int k) const {
    std::uint64_t x = static_cast<std::uint64_t>(k) + 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
};
// Every key in one of four home slots, all near the table's end: long probe runs that wrap.
struct ClusteredHash {
  std::uint64_t operator()(int k) const { return 0xFFFFFFFFFFFFFFFCULL | static_cast<std::uint64_t>(k & 3); }
};
// The same hash for every key: only the key comparison tells them apart.
struct ConstantHash {
  std::uint64_t operator()(int) const { return 7; }
};

template <typename Hash>
void matches_a_map_through_random_operations(unsigned seed, int key_space, int steps) {
  FlowTable<Item, int, Hash> table;
  std::map<int, int> reference;
  std::mt19937 rng(seed);
  for (int step = 0; step < steps; ++step) {
    int k = static_cast<int>(rng() % static_cast<unsigned>(key_space));
    if (rng() % 3 != 0) {
      if (reference.count(k) == 0) {
        Item& item = table.insert(std::make_unique<Item>(Item{k, step}));
        ASSERT_EQ(item.k, k);
        reference[k] = step;
      }
    } else {
      auto out = table.erase(k);
      ASSERT_EQ(out != nullptr, reference.count(k) == 1) << "erase " << k << " at step " << step;
      if (out) {
        EXPECT_EQ(out->value, reference[k]);
        reference.erase(k);
      }
    }
    ASSERT_EQ(table.size(), reference.size());
    // Every key, present or not, is found exactly when the reference has it.
    for (int q = 0; q < key_space; ++q) {
      Item* found = table.find(q);
      auto it = reference.find(q);
      ASSERT_EQ(found != nullptr, it != reference.end()) << "find " << q << " at step " << step;
      if (found) {
        ASSERT_EQ(found->value, it->second);
      }
    }
  }
  std::set<int> seen;
  table.for_each([&](const Item& i) { EXPECT_TRUE(seen.insert(i.k).second) << i.k << " visited twice"; });
  EXPECT_EQ(seen.size(), reference.size());
}

TEST(FlowTable, MatchesAMapWithAWellMixedHash) { matches_a_map_through_random_operations<GoodHash>(1, 300, 3000); }

TEST(FlowTable, MatchesAMapWhenProbeRunsWrapPastTheEnd) {
  matches_a_map_through_random_operations<ClusteredHash>(2, 60, 1500);
}

TEST(FlowTable, MatchesAMapWhenEveryKeyHasTheSameHash) {
  matches_a_map_through_random_operations<ConstantHash>(3, 40, 1000);
}

TEST(FlowTable, EmptyTableFindsAndErasesNothing) {
  FlowTable<Item, int, GoodHash> table;
  EXPECT_EQ(table.find(1), nullptr);
  EXPECT_EQ(table.erase(1), nullptr);
  EXPECT_TRUE(table.empty());
}

TEST(FlowTable, EntriesKeepTheirAddressWhenTheTableGrows) {
  FlowTable<Item, int, GoodHash> table;
  Item& first = table.insert(std::make_unique<Item>(Item{0, 100}));
  for (int k = 1; k < 10000; ++k) table.insert(std::make_unique<Item>(Item{k, k}));
  EXPECT_EQ(table.find(0), &first);  // the host keeps pointers to connections (timer index)
  EXPECT_EQ(table.size(), 10000u);
  for (int k = 0; k < 10000; k += 2) EXPECT_NE(table.erase(k), nullptr);
  for (int k = 0; k < 10000; ++k) EXPECT_EQ(table.find(k) != nullptr, k % 2 == 1) << k;
}

}  // namespace
}  // namespace tapfault::stack
