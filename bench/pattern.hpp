// The byte stream both peers' source services send and the clients check: byte i is
// 'a' + i % 26 (replay's pattern_byte(), stack::AppMode::kSource).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapfault::bench {

inline constexpr std::size_t kPatternPeriod = 26;

inline std::uint8_t pattern_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>('a' + offset % kPatternPeriod);
}

// 256 KiB of pattern plus one period: bytes [i % 26, i % 26 + n) are the stream from i, n <= 256 KiB.
inline const std::vector<std::uint8_t>& pattern_buffer() {
  static const std::vector<std::uint8_t> buffer = [] {
    std::vector<std::uint8_t> b(256 * 1024 + kPatternPeriod);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = pattern_byte(i);
    return b;
  }();
  return buffer;
}

}  // namespace tapfault::bench
