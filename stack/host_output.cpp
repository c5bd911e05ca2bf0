// HostOutput: see host_output.hpp.
#include "host_output.hpp"

#include "tcp_connection.hpp"

namespace tapfault::stack {

void HostOutput::record(Instant now, const char* kind, std::string detail, const TcpConnection* c) {
  PeerEvent e;
  e.at = now;
  e.kind = kind;
  e.detail = std::move(detail);
  if (c) {
    e.flow = c->key();
    e.seq = c->rel_snd_nxt();
    e.ack = c->rel_rcv_nxt();
  }
  events_.push_back(std::move(e));
}

}  // namespace tapfault::stack
