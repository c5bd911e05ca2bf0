// The bench process's memory, for the peer's cost per connection: resident set (what the
// kernel charges) and the heap in use (malloc's own count, every arena, mmapped chunks too).
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>

namespace tapfault::bench {

inline std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

inline std::uint64_t heap_in_use_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace tapfault::bench
