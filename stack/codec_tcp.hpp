// The codec's hot path: TCP segments read and written on the raw bytes, without libtins.
//
// Read first: codec.hpp (the contract), codec.cpp (precheck(), which has validated every
// layer's bounds before decode_tcp_fast() sees a frame). Every segment of an established
// connection goes through here, so nothing here allocates. The frames this path leaves
// alone (IPv4 options or fragments, IPv6 extension headers, TCP options libtins would
// read differently) go to libtins as before; tests/unit/stack/codec_test.cpp checks that
// both paths agree on every frame they both take.
#pragma once

#include <optional>
#include <span>
#include <variant>

#include "tapfault/stack/codec.hpp"

namespace tapfault::stack::detail {

// The decoded segment, or the checksum error naming its layer; nullopt when the frame is
// not one this path covers (the caller decodes it with libtins). `frame` passed precheck().
std::optional<std::variant<DecodedFrame, DecodeError>> decode_tcp_fast(
    std::span<const std::uint8_t> frame);

}  // namespace tapfault::stack::detail
