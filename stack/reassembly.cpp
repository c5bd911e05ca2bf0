// IPv4 reassembly on libtins (see reassembly.hpp).
#include "reassembly.hpp"

#include <tins/tins.h>

namespace tapfault::stack {

struct Reassembler::Impl {
  Tins::IPv4Reassembler tins;
};

Reassembler::Reassembler() : impl_(std::make_unique<Impl>()) {}
Reassembler::~Reassembler() = default;

std::optional<std::vector<std::uint8_t>> Reassembler::feed(std::span<const std::uint8_t> frame) {
  try {
    Tins::EthernetII eth(frame.data(), static_cast<std::uint32_t>(frame.size()));
    if (++pending_ > kMaxFragmentsPending) {
      impl_->tins.clear_streams();
      dropped_ += pending_ - 1;
      pending_ = 1;
    }
    if (impl_->tins.process(eth) != Tins::IPv4Reassembler::REASSEMBLED) return std::nullopt;
    pending_ = 0;
    // libtins rebuilt the packet in place; serialising recomputes lengths and checksums.
    return eth.serialize();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tapfault::stack
