// bench::BenchNetwork: namespace A with the TAP and the veth's client end (see bench_netns.hpp).
#include "bench_netns.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "tapfault/tap/netns.hpp"

namespace tapfault::bench {

stack::IpAddress ip(const char* text) { return *stack::IpAddress::parse(text); }

void run_checked(const std::string& command) {
  const int status = std::system((command + " >/dev/null").c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("bench setup: `" + command + "` failed (status " + std::to_string(status) + ")");
}

namespace {

std::string capture_output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 512> chunk{};
  while (std::fgets(chunk.data(), chunk.size(), pipe) != nullptr) out += chunk.data();
  ::pclose(pipe);
  return out;
}

}  // namespace

std::string offloads_off(const std::string& ifname) {
  // A feature the driver cannot change (tun's TSO without TUNSETOFFLOAD) is already off;
  // ethtool then exits non-zero for the rest of the line, so set one at a time.
  for (const char* feature : {"tso", "gso", "gro"})
    std::system(("ethtool -K " + ifname + " " + feature + " off >/dev/null 2>&1").c_str());
  std::string features = capture_output(
      "ethtool -k " + ifname +
      " 2>/dev/null | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|"
      "generic-receive-offload):'");
  std::string summary;
  for (std::size_t pos = 0; pos < features.size();) {
    std::size_t end = features.find('\n', pos);
    std::string line = features.substr(pos, end - pos);
    pos = end == std::string::npos ? features.size() : end + 1;
    std::string name = line.substr(0, line.find(':'));
    bool on = line.find(": on") != std::string::npos;
    if (name == "tcp-segmentation-offload") name = "tso";
    if (name == "generic-segmentation-offload") name = "gso";
    if (name == "generic-receive-offload") name = "gro";
    summary += (summary.empty() ? "" : ", ") + name + (on ? " on" : " off");
  }
  if (summary.empty()) throw std::runtime_error("bench setup: ethtool -k " + ifname + " printed nothing (is ethtool installed?)");
  return summary;
}

BenchNetwork::BenchNetwork(std::uint32_t mtu) : mtu_(mtu) {
  tap::enter_private_netns();
  tap::NetworkConfig config;
  config.mtu = mtu;
  config.kernel_addresses.emplace_back(ip(kKernelTapAddress), 24);
  tap_ = std::make_unique<tap::Network>(config);
  tap_offloads_ = offloads_off(tap_->name());
}

void BenchNetwork::add_veth(pid_t server_pid) {
  const std::string mtu = std::to_string(mtu_);
  run_checked(std::string("ip link add ") + kVethClientSide + " mtu " + mtu + " type veth peer name " +
              kVethServerSide + " mtu " + mtu);
  // A process id names that process's namespace (IFLA_NET_NS_PID): B, the server's.
  run_checked(std::string("ip link set ") + kVethServerSide + " netns " + std::to_string(server_pid));
  veth_offloads_ = offloads_off(kVethClientSide);
  run_checked(std::string("ip addr add ") + kKernelVethAddress + "/24 dev " + kVethClientSide);
  run_checked(std::string("ip link set ") + kVethClientSide + " up");
}

}  // namespace tapfault::bench
