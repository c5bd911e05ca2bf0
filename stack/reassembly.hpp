// IPv4 reassembly for the peer (RFC 791 section 3.2), on libtins' IPv4Reassembler.
//
// The kernel fragments its own segments when the path MTU is locked below what a segment
// needs (e.g. pmtu 68 with net.ipv4.route.min_pmtu=68: a 36-byte segment is an 88-byte
// packet), and a real host reassembles them. Pending streams are bounded; the oldest are
// dropped when a new one would exceed the bound (there is no clock here to time them out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace tapfault::stack {

class Reassembler {
 public:
  static constexpr std::size_t kMaxFragmentsPending = 256;

  Reassembler();
  ~Reassembler();

  // Feeds one Ethernet frame holding an IPv4 fragment. Returns the whole frame (Ethernet
  // header and the reassembled IP packet) once the last missing fragment arrives.
  std::optional<std::vector<std::uint8_t>> feed(std::span<const std::uint8_t> frame);
  std::uint64_t dropped_for_space() const { return dropped_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t pending_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace tapfault::stack
