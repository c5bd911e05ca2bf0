// Names of the stack's enums and keys, as logs and scenario files spell them.
#include <algorithm>
#include <cctype>
#include <string>

#include "tapfault/stack/fault.hpp"
#include "tapfault/stack/host.hpp"
#include "tapfault/stack/tcp_state.hpp"

namespace tapfault::stack {

namespace {
constexpr std::pair<TcpState, const char*> kStateNames[] = {
    {TcpState::kSynReceived, "SYN-RECEIVED"}, {TcpState::kEstablished, "ESTABLISHED"},
    {TcpState::kCloseWait, "CLOSE-WAIT"},     {TcpState::kLastAck, "LAST-ACK"},
    {TcpState::kFinWait1, "FIN-WAIT-1"},      {TcpState::kFinWait2, "FIN-WAIT-2"},
    {TcpState::kClosing, "CLOSING"},          {TcpState::kTimeWait, "TIME-WAIT"},
    {TcpState::kClosed, "CLOSED"},
};
}  // namespace

const char* to_string(TcpState s) {
  for (const auto& [state, name] : kStateNames)
    if (state == s) return name;
  return "?";
}

std::optional<TcpState> tcp_state_from_string(std::string_view s) {
  std::string norm;
  for (char c : s) norm += c == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (norm == "ESTAB") norm = "ESTABLISHED";
  if (norm == "SYN-RECV") norm = "SYN-RECEIVED";
  for (const auto& [state, name] : kStateNames)
    if (norm == name) return state;
  return std::nullopt;
}

const char* to_string(IcmpKind k) {
  switch (k) {
    case IcmpKind::kNetUnreachable: return "net-unreachable";
    case IcmpKind::kHostUnreachable: return "host-unreachable";
    case IcmpKind::kProtocolUnreachable: return "protocol-unreachable";
    case IcmpKind::kPortUnreachable: return "port-unreachable";
    case IcmpKind::kFragNeeded: return "frag-needed";
    case IcmpKind::kAdminProhibited: return "admin-prohibited";
    case IcmpKind::kNoRoute: return "no-route";
    case IcmpKind::kAdminProhibited6: return "admin-prohibited6";
    case IcmpKind::kAddressUnreachable: return "address-unreachable";
    case IcmpKind::kPortUnreachable6: return "port-unreachable6";
    case IcmpKind::kPacketTooBig: return "packet-too-big";
  }
  return "?";
}

bool is_icmpv6(IcmpKind k) {
  switch (k) {
    case IcmpKind::kNoRoute:
    case IcmpKind::kAdminProhibited6:
    case IcmpKind::kAddressUnreachable:
    case IcmpKind::kPortUnreachable6:
    case IcmpKind::kPacketTooBig:
      return true;
    default:
      return false;
  }
}

std::string FlowKey::to_string() const {
  auto fmt = [](const IpAddress& a, std::uint16_t port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
  };
  return fmt(kernel_addr, kernel_port) + " -> " + fmt(peer_addr, peer_port);
}

}  // namespace tapfault::stack
