// The peer's TCP connection states (RFC 9293 section 3.3.2; LISTEN is implicit in the host's listeners).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tapfault::stack {

enum class TcpState : std::uint8_t {
  kSynReceived,
  kEstablished,
  kCloseWait,
  kLastAck,
  kFinWait1,
  kFinWait2,
  kClosing,
  kTimeWait,
  kClosed,
};

// "SYN-RECEIVED", "ESTABLISHED", ... as RFC 9293 spells them.
const char* to_string(TcpState s);
// Accepts the RFC spelling or snake_case ("established", "syn_received", "close-wait").
std::optional<TcpState> tcp_state_from_string(std::string_view s);

}  // namespace tapfault::stack
