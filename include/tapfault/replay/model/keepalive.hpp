// Keepalive model: an idle established connection with SO_KEEPALIVE whose peer has
// gone silent.
//
// Read first: docs/kernel-timing.md sections 4.3, 5 and 12 (c). Kernel:
//   net/ipv4/tcp_timer.c  tcp_keepalive_timer(): elapsed = keepalive_time_elapsed()
//                         (since the last received segment); if elapsed >= idle:
//                           give up (RST + tcp_write_err) when
//                             (U != 0 && elapsed >= msecs_to_jiffies(U) && probes_out > 0) ||
//                             (U == 0 && probes_out >= keepalive_probes)
//                           else tcp_write_wakeup(), probes_out++, re-arm at intvl;
//                         else re-arm at idle - elapsed
//   include/net/tcp.h     keepalive_time_when(), keepalive_intvl_when(), keepalive_probes()
// Origin (t = 0): the last segment received from the peer, when the keepalive timer
// was (re)armed for the full idle time (tcp_finish_connect() or SO_KEEPALIVE). A timer
// armed earlier re-arms itself at idle - elapsed, a shorter delay on the same or a
// finer wheel level, so its probes fall inside the same windows.
#pragma once

#include <chrono>

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/units.hpp"

namespace tapfault::replay::model {

struct KeepaliveParams {
  int hz = kDefaultHz;
  std::chrono::seconds idle{7200};            // TCP_KEEPIDLE / tcp_keepalive_time
  std::chrono::seconds interval{75};          // TCP_KEEPINTVL / tcp_keepalive_intvl
  int probes = 9;                             // TCP_KEEPCNT / tcp_keepalive_probes
  std::chrono::milliseconds user_timeout{0};  // TCP_USER_TIMEOUT: replaces the count
  Duration slack{};
  Limits limits;
};

// keepalive#1..n, then the give-up: RST and ETIMEDOUT.
Expectation keepalive_model(const KeepaliveParams& p);

}  // namespace tapfault::replay::model
