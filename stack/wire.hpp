// Raw bytes on the wire: network byte order and the Internet checksum (RFC 1071).
//
// Shared by the codec's paths (codec.cpp on libtins, codec_tcp.cpp on the bytes). The
// checksum sums 64-bit words in the machine's byte order and swaps once at the end, which
// RFC 1071 section 2(B) and (C) allow; callers see the same partial sums as with 16-bit
// big-endian words, so they can be combined and folded in any order.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

namespace tapfault::stack::wire {

inline std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t be32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
inline void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

// Folds a one's-complement sum to 16 bits (end-around carry).
inline std::uint16_t fold(std::uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

// `acc` plus the one's-complement sum of `b` read as 16-bit big-endian words (an odd last
// byte is the high half of a word), folded to 16 bits before it is added.
inline std::uint32_t sum16(std::span<const std::uint8_t> b, std::uint32_t acc = 0) {
  const std::uint8_t* p = b.data();
  std::size_t n = b.size();
  // 64-bit words with their carries counted apart: 2^64 = 1 (mod 0xffff), so a carry out of
  // the word is worth 1, and the halves of the sum fold like 16-bit words.
  std::uint64_t sum = 0, carries = 0;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    sum += w;
    carries += sum < w;
  }
  std::uint64_t wide = (sum >> 32) + (sum & 0xffffffff) + carries;
  if (n >= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    wide += w;
    n -= 4;
    p += 4;
  }
  if (n >= 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    wide += w;
    n -= 2;
    p += 2;
  }
  if (n == 1) {
    std::uint16_t w = 0;
    std::memcpy(&w, p, 1);  // the byte in the word's first (lower-addressed) position
    wide += w;
  }
  std::uint16_t native = fold(wide);
  std::uint16_t big = std::endian::native == std::endian::big
                          ? native
                          : static_cast<std::uint16_t>(native << 8 | native >> 8);
  return acc + big;
}

}  // namespace tapfault::stack::wire
