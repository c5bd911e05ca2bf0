// replay::Sampler: what every kernel TCP socket in the run's namespace is going through,
// as `ss -tie` shows it, read through sock_diag (NETLINK_INET_DIAG, INET_DIAG_INFO).
//
// Read first: the kernel's inet_diag_msg and struct tcp_info (include/uapi/linux/
// inet_diag.h, include/uapi/linux/tcp.h), filled by net/ipv4/inet_diag.c::
// inet_sk_diag_fill() and net/ipv4/tcp.c::tcp_get_info(); iproute2 misc/ss.c::
// tcp_show_info() and tcp_stats_print() for how ss prints them.
//
// The sampler runs in the calling thread's network namespace; tapfault opens it after
// entering the run's private namespace, so it never sees the host's sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

struct nl_sock;

namespace tapfault::replay {

// The kernel's struct tcp_info (include/uapi/linux/tcp.h) under a name of its own.
// <linux/tcp.h> cannot be included here: its struct tcp_info, struct tcphdr and enum
// tcp_ca_state collide with glibc's <netinet/tcp.h>, which Boost.Asio and libnl include,
// so no translation unit could use both. sampler.cpp checks at compile time that every
// field sits at the offset the system's <linux/tcp.h> gives it. Past tcpi_snd_wnd come the
// fields of Linux 6.2 and 6.7 that the system header may not have yet; the uAPI only
// appends, so they sit there whatever header the build used. Value-initialise it (`{}`).
struct TcpInfo {
  std::uint8_t tcpi_state;
  std::uint8_t tcpi_ca_state;
  std::uint8_t tcpi_retransmits;
  std::uint8_t tcpi_probes;
  std::uint8_t tcpi_backoff;
  std::uint8_t tcpi_options;
  std::uint8_t tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4;
  std::uint8_t tcpi_delivery_rate_app_limited : 1, tcpi_fastopen_client_fail : 2;

  std::uint32_t tcpi_rto;  // us
  std::uint32_t tcpi_ato;  // us
  std::uint32_t tcpi_snd_mss;
  std::uint32_t tcpi_rcv_mss;

  std::uint32_t tcpi_unacked;
  std::uint32_t tcpi_sacked;
  std::uint32_t tcpi_lost;
  std::uint32_t tcpi_retrans;
  std::uint32_t tcpi_fackets;

  std::uint32_t tcpi_last_data_sent;  // ms ago
  std::uint32_t tcpi_last_ack_sent;   // never filled in by the kernel
  std::uint32_t tcpi_last_data_recv;  // ms ago
  std::uint32_t tcpi_last_ack_recv;   // ms ago

  std::uint32_t tcpi_pmtu;
  std::uint32_t tcpi_rcv_ssthresh;
  std::uint32_t tcpi_rtt;     // us
  std::uint32_t tcpi_rttvar;  // us
  std::uint32_t tcpi_snd_ssthresh;
  std::uint32_t tcpi_snd_cwnd;
  std::uint32_t tcpi_advmss;
  std::uint32_t tcpi_reordering;

  std::uint32_t tcpi_rcv_rtt;  // us
  std::uint32_t tcpi_rcv_space;

  std::uint32_t tcpi_total_retrans;

  std::uint64_t tcpi_pacing_rate;      // bytes/s; ~0 = unlimited
  std::uint64_t tcpi_max_pacing_rate;  // bytes/s; ~0 = unlimited
  std::uint64_t tcpi_bytes_acked;
  std::uint64_t tcpi_bytes_received;
  std::uint32_t tcpi_segs_out;
  std::uint32_t tcpi_segs_in;

  std::uint32_t tcpi_notsent_bytes;
  std::uint32_t tcpi_min_rtt;  // us
  std::uint32_t tcpi_data_segs_in;
  std::uint32_t tcpi_data_segs_out;

  std::uint64_t tcpi_delivery_rate;  // bytes/s

  std::uint64_t tcpi_busy_time;       // us
  std::uint64_t tcpi_rwnd_limited;    // us
  std::uint64_t tcpi_sndbuf_limited;  // us

  std::uint32_t tcpi_delivered;
  std::uint32_t tcpi_delivered_ce;

  std::uint64_t tcpi_bytes_sent;
  std::uint64_t tcpi_bytes_retrans;
  std::uint32_t tcpi_dsack_dups;
  std::uint32_t tcpi_reord_seen;

  std::uint32_t tcpi_rcv_ooopack;

  std::uint32_t tcpi_snd_wnd;  // the peer's advertised window, scaled, bytes

  // Linux 6.2
  std::uint32_t tcpi_rcv_wnd;  // our advertised window, scaled, bytes
  std::uint32_t tcpi_rehash;
  // Linux 6.7
  std::uint16_t tcpi_total_rto;             // RTO timeouts, all recoveries
  std::uint16_t tcpi_total_rto_recoveries;  // RTO recoveries entered
  std::uint32_t tcpi_total_rto_time;        // ms spent in RTO recoveries
};

struct SocketSample {
  std::string local, remote;  // "192.0.2.1:40000", "[2001:db8::2]:8080"
  std::uint16_t local_port = 0, remote_port = 0;
  int family = 0;     // AF_INET / AF_INET6
  std::string state;  // as ss prints it: ESTAB, SYN-SENT, FIN-WAIT-1, TIME-WAIT, UNCONN ...
  std::string timer;  // idiag_timer as ss names it: off, on, keepalive, timewait, persist
  std::int64_t timer_expires_ms = 0;  // idiag_expires: ms until the timer fires
  std::uint32_t timer_retrans = 0;    // idiag_retrans: retransmits (on), probes (others)
  std::uint64_t inode = 0;
  std::uint32_t uid = 0;
  std::uint32_t send_q = 0, recv_q = 0;  // idiag_wqueue / idiag_rqueue
  bool has_info = false;       // INET_DIAG_INFO came (it does not for TIME-WAIT, SYN-RECV)
  std::size_t info_bytes = 0;  // length of INET_DIAG_INFO as sent (may exceed sizeof info)
  TcpInfo info{};              // zeroed, then min(info_bytes, sizeof info) bytes copied in
};

class Sampler {
 public:
  // Opens the sock_diag socket in the current network namespace; throws std::runtime_error
  // naming what failed.
  Sampler();
  ~Sampler();
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Every TCP socket, IPv4 and IPv6, in every state but LISTEN: one dump per family.
  // Throws std::runtime_error when a dump cannot be sent or read.
  std::vector<SocketSample> sample();

 private:
  struct SockDeleter {
    void operator()(nl_sock* sock) const;
  };
  std::unique_ptr<nl_sock, SockDeleter> sock_;
};

// Keys: local, remote, state, timer, timer_expires_ms, timer_retrans, send_q, recv_q,
// inode, uid, and (when has_info) "tcp_info": every name of tcp_info_field_names().
nlohmann::json to_json(const SocketSample& s);

// One line as `ss -tien` prints it, without the ino/sk/skmem/options/congestion parts:
// "ESTAB 0 3 [2001:db8:a::1]:40000 [2001:db8::2]:8080 timer:(persist,768ms,3) rto:200
// backoff:3 rtt:0.711/0.355 mss:36 pmtu:68 ...". Fields ss omits when zero are omitted.
std::string ss_line(const SocketSample& s);

// A TcpInfo field by its name without the tcpi_ prefix (rto in us, rtt in us, last_* in
// ms, bytes_* in bytes); nullopt for an unknown name. u64 fields above INT64_MAX read as
// negative: an unlimited pacing_rate (~0) is -1.
std::optional<std::int64_t> tcp_info_field(const SocketSample& s, std::string_view name);
std::span<const std::string_view> tcp_info_field_names();

}  // namespace tapfault::replay
