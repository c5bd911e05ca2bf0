// bench::BenchNetwork: the two wires the benchmarks compare, in namespaces the process creates.
//
// Read first: include/tapfault/tap/network.hpp. The process enters a private namespace (A),
// where the kernel clients run. In A:
//   tf0  the TAP, 192.0.2.1/24, set up as a run sets it up; tapfault's peer is 192.0.2.2
//   bv0  one end of a veth pair, 198.51.100.1/24; the other end, bv1 (198.51.100.2/24),
//        is moved into a second namespace (B), the kernel server's (a child process)
// Both links get the same MTU, and TSO, GSO and GRO are off on all three devices (the TAP
// carries real segments, so the veth must too). Nothing here touches the host's namespace:
// `ip` and `ethtool` run as children of a process already inside A or B.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tapfault/stack/address.hpp"
#include "tapfault/tap/network.hpp"

namespace tapfault::bench {

inline constexpr const char* kKernelTapAddress = "192.0.2.1";
inline constexpr const char* kPeerTapAddress = "192.0.2.2";
inline constexpr const char* kKernelVethAddress = "198.51.100.1";
inline constexpr const char* kServerVethAddress = "198.51.100.2";
inline constexpr const char* kVethClientSide = "bv0";
inline constexpr const char* kVethServerSide = "bv1";

// The services, on both peers.
inline constexpr std::uint16_t kEchoPort = 7;
inline constexpr std::uint16_t kDiscardPort = 9;
inline constexpr std::uint16_t kSourcePort = 19;

stack::IpAddress ip(const char* text);

// Runs a shell command (an `ip` or `ethtool` line) in the calling process's namespace;
// throws std::runtime_error naming it when it fails.
void run_checked(const std::string& command);

// TSO, GSO and GRO off (ethtool -K); what the device then reports, as "tso off, gso off, ...".
std::string offloads_off(const std::string& ifname);

class BenchNetwork {
 public:
  // Enters a private namespace (call before any thread starts) and creates the TAP.
  explicit BenchNetwork(std::uint32_t mtu);

  tap::Network& tap_network() { return *tap_; }
  std::uint32_t mtu() const { return mtu_; }
  // Creates the veth pair and moves bv1 into the namespace of process `server_pid`.
  void add_veth(pid_t server_pid);
  // The offloads as ethtool reports them after offloads_off(), per device.
  const std::string& tap_offloads() const { return tap_offloads_; }
  const std::string& veth_offloads() const { return veth_offloads_; }

 private:
  std::uint32_t mtu_;
  std::unique_ptr<tap::Network> tap_;
  std::string tap_offloads_;
  std::string veth_offloads_;
};

}  // namespace tapfault::bench
