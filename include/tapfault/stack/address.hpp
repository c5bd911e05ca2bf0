// Link and network addresses as plain values (no libtins in this header).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tapfault::stack {

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  static std::optional<MacAddress> parse(std::string_view text);
  std::string to_string() const;
  bool is_broadcast() const;
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  auto operator<=>(const MacAddress&) const = default;
};

enum class Family : std::uint8_t { kIpv4, kIpv6 };

// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes.
struct IpAddress {
  Family family = Family::kIpv4;
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint32_t host_order);
  std::string to_string() const;
  bool is_v4() const { return family == Family::kIpv4; }
  bool is_v6() const { return family == Family::kIpv6; }
  std::size_t size() const { return is_v4() ? 4 : 16; }
  auto operator<=>(const IpAddress&) const = default;
};

// The IPv6 solicited-node multicast address ff02::1:ffXX:XXXX of `addr` (RFC 4291 section 2.7.1).
IpAddress solicited_node(const IpAddress& addr);

}  // namespace tapfault::stack
