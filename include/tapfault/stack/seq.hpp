// TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 section 3.4).
// No operator< on purpose: every comparison says which way it wraps.
#pragma once

#include <cstdint>

namespace tapfault::stack {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t v) : v_(v) {}

  constexpr std::uint32_t value() const { return v_; }

  constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(v_ + n); }
  constexpr SeqNum& operator+=(std::uint32_t n) {
    v_ += n;
    return *this;
  }
  // Distance from `earlier` to this, as a signed number (wrap-safe when |d| < 2^31).
  constexpr std::int32_t operator-(SeqNum earlier) const {
    return static_cast<std::int32_t>(v_ - earlier.v_);
  }
  constexpr bool operator==(const SeqNum&) const = default;

  constexpr bool before(SeqNum o) const { return (*this - o) < 0; }
  constexpr bool before_eq(SeqNum o) const { return (*this - o) <= 0; }
  constexpr bool after(SeqNum o) const { return (*this - o) > 0; }
  constexpr bool after_eq(SeqNum o) const { return (*this - o) >= 0; }
  // lo <= this < lo + len
  constexpr bool in_window(SeqNum lo, std::uint32_t len) const {
    return static_cast<std::uint32_t>(v_ - lo.v_) < len;
  }

 private:
  std::uint32_t v_ = 0;
};

}  // namespace tapfault::stack
