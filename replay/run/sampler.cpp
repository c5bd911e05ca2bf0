// replay::Sampler: sock_diag dumps of the namespace's TCP sockets, and their rendering as
// JSON and as `ss -tien` prints them.
//
// Read first: include/tapfault/replay/run/sampler.hpp. What libnl-idiag gives is used: the
// NETLINK_INET_DIAG socket (idiagnl_connect) and the parser of each reply's inet_diag_msg
// (idiagnl_msg_parse: family, state, ports, addresses, queues, uid, inode and the timer
// fields idiag_timer, idiag_expires, idiag_retrans). Two things it cannot give:
// - Its request, idiagnl_send_simple(), is the old inet_diag_req of TCPDIAG_GETSOCK, and
//   the kernel's compat path (net/ipv4/inet_diag.c::inet_diag_dump_compat) ignores its
//   family: every dump returns IPv4 and IPv6 sockets alike. The request here is the
//   inet_diag_req_v2 of SOCK_DIAG_BY_FAMILY, as ss sends it, through libnl's
//   nl_send_simple(), so that each family is one dump of its own sockets.
// - idiagnl_msg_get_tcpinfo() returns the struct tcp_info libnl was compiled with,
//   glibc's <netinet/tcp.h> one, which stops at tcpi_total_retrans (104 bytes) and so
//   lacks bytes_sent, bytes_acked, min_rtt, delivered, busy_time, snd_wnd and everything
//   newer. The INET_DIAG_INFO attribute is read raw with libnl's nlmsg_find_attr() and
//   copied, at most as many bytes as the kernel sent, into TcpInfo, whose layout is
//   checked below against the system's <linux/tcp.h>.
#include "tapfault/replay/run/sampler.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

// libnl's <netlink/netlink.h> includes glibc's <netinet/tcp.h>, whose struct tcp_info,
// struct tcphdr and enum tcp_ca_state collide with <linux/tcp.h>, included above for the
// layout checks. Its include guard is set so that only the uAPI definitions exist here;
// no libnl header needs anything else from it, and the one libnl function that uses
// glibc's struct tcp_info (idiagnl_msg_get_tcpinfo) is never called.
#ifndef _NETINET_TCP_H
#define _NETINET_TCP_H 1
#endif
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/idiag/idiagnl.h>
#include <netlink/idiag/msg.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

namespace tapfault::replay {
namespace {

// Every state but LISTEN, as a bit per TCP_* state. Asking for SYN-RECV also brings the
// request sockets (TCP_NEW_SYN_RECV; net/ipv4/tcp_diag.c::tcp_diag_dump()), which the
// kernel reports as SYN-RECV.
constexpr std::uint32_t kStatesButListen = IDIAGNL_SS_ALL & ~(1U << IDIAG_SS_LISTEN);

// idiag_ext is a bit per INET_DIAG_* attribute, shifted down by one.
constexpr std::uint8_t kExtInfo = 1U << (INET_DIAG_INFO - 1);

// TcpInfo is the system's struct tcp_info field for field (the bit-fields, which offsetof
// cannot name, share the byte between tcpi_options and tcpi_rto), followed by the fields
// newer kernels append after tcpi_snd_wnd.
#define TAPFAULT_SAME_OFFSET(f)                                                     \
  static_assert(offsetof(TcpInfo, tcpi_##f) == offsetof(struct tcp_info, tcpi_##f), \
                "TcpInfo::tcpi_" #f " is not where <linux/tcp.h> has it")
TAPFAULT_SAME_OFFSET(state);
TAPFAULT_SAME_OFFSET(ca_state);
TAPFAULT_SAME_OFFSET(retransmits);
TAPFAULT_SAME_OFFSET(probes);
TAPFAULT_SAME_OFFSET(backoff);
TAPFAULT_SAME_OFFSET(options);
TAPFAULT_SAME_OFFSET(rto);
TAPFAULT_SAME_OFFSET(ato);
TAPFAULT_SAME_OFFSET(snd_mss);
TAPFAULT_SAME_OFFSET(rcv_mss);
TAPFAULT_SAME_OFFSET(unacked);
TAPFAULT_SAME_OFFSET(sacked);
TAPFAULT_SAME_OFFSET(lost);
TAPFAULT_SAME_OFFSET(retrans);
TAPFAULT_SAME_OFFSET(fackets);
TAPFAULT_SAME_OFFSET(last_data_sent);
TAPFAULT_SAME_OFFSET(last_ack_sent);
TAPFAULT_SAME_OFFSET(last_data_recv);
TAPFAULT_SAME_OFFSET(last_ack_recv);
TAPFAULT_SAME_OFFSET(pmtu);
TAPFAULT_SAME_OFFSET(rcv_ssthresh);
TAPFAULT_SAME_OFFSET(rtt);
TAPFAULT_SAME_OFFSET(rttvar);
TAPFAULT_SAME_OFFSET(snd_ssthresh);
TAPFAULT_SAME_OFFSET(snd_cwnd);
TAPFAULT_SAME_OFFSET(advmss);
TAPFAULT_SAME_OFFSET(reordering);
TAPFAULT_SAME_OFFSET(rcv_rtt);
TAPFAULT_SAME_OFFSET(rcv_space);
TAPFAULT_SAME_OFFSET(total_retrans);
TAPFAULT_SAME_OFFSET(pacing_rate);
TAPFAULT_SAME_OFFSET(max_pacing_rate);
TAPFAULT_SAME_OFFSET(bytes_acked);
TAPFAULT_SAME_OFFSET(bytes_received);
TAPFAULT_SAME_OFFSET(segs_out);
TAPFAULT_SAME_OFFSET(segs_in);
TAPFAULT_SAME_OFFSET(notsent_bytes);
TAPFAULT_SAME_OFFSET(min_rtt);
TAPFAULT_SAME_OFFSET(data_segs_in);
TAPFAULT_SAME_OFFSET(data_segs_out);
TAPFAULT_SAME_OFFSET(delivery_rate);
TAPFAULT_SAME_OFFSET(busy_time);
TAPFAULT_SAME_OFFSET(rwnd_limited);
TAPFAULT_SAME_OFFSET(sndbuf_limited);
TAPFAULT_SAME_OFFSET(delivered);
TAPFAULT_SAME_OFFSET(delivered_ce);
TAPFAULT_SAME_OFFSET(bytes_sent);
TAPFAULT_SAME_OFFSET(bytes_retrans);
TAPFAULT_SAME_OFFSET(dsack_dups);
TAPFAULT_SAME_OFFSET(reord_seen);
TAPFAULT_SAME_OFFSET(rcv_ooopack);
TAPFAULT_SAME_OFFSET(snd_wnd);
#undef TAPFAULT_SAME_OFFSET
static_assert(offsetof(TcpInfo, tcpi_rcv_wnd) == offsetof(struct tcp_info, tcpi_snd_wnd) + 4);
static_assert(sizeof(TcpInfo) == offsetof(TcpInfo, tcpi_total_rto_time) + 4, "no tail padding");

// misc/ss.c::sstate_name, indexed by the kernel's TCP_* state. TCP_CLOSE prints as UNCONN.
constexpr std::array<std::string_view, 12> kStateNames = {
    "UNKNOWN",    "ESTAB",     "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
    "TIME-WAIT",  "UNCONN",    "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};

// misc/ss.c::tcp_timer_print's tmr_name, indexed by idiag_timer; anything past 4 is "unknown".
constexpr std::array<std::string_view, 6> kTimerNames = {"off",      "on",      "keepalive",
                                                         "timewait", "persist", "unknown"};

std::string state_name(std::uint8_t state) {
  return std::string(state < kStateNames.size() ? kStateNames[state] : kStateNames[0]);
}

std::string timer_name(std::uint8_t timer) {
  return std::string(kTimerNames[std::min<std::size_t>(timer, kTimerNames.size() - 1)]);
}

// "192.0.2.1:40000" or "[2001:db8::2]:8080", as ss -n prints an address and port.
std::string endpoint(int family, const nl_addr* addr, std::uint16_t port) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* bytes = addr != nullptr ? nl_addr_get_binary_addr(addr) : nullptr;
  if (bytes == nullptr || ::inet_ntop(family, bytes, text.data(), text.size()) == nullptr) {
    return "?:" + std::to_string(port);
  }
  if (family == AF_INET6) return "[" + std::string(text.data()) + "]:" + std::to_string(port);
  return std::string(text.data()) + ":" + std::to_string(port);
}

struct IdiagMsgDeleter {
  void operator()(idiagnl_msg* msg) const { idiagnl_msg_put(msg); }
};

// State of one dump while libnl calls back for each of its messages.
struct Dump {
  std::vector<SocketSample>* out = nullptr;
  int unparsed = 0;
  std::string parse_error;
};

SocketSample to_sample(nlmsghdr* nlh, idiagnl_msg* msg) {
  SocketSample s;
  s.family = idiagnl_msg_get_family(msg);
  s.local_port = ntohs(idiagnl_msg_get_sport(msg));
  s.remote_port = ntohs(idiagnl_msg_get_dport(msg));
  s.local = endpoint(s.family, idiagnl_msg_get_src(msg), s.local_port);
  s.remote = endpoint(s.family, idiagnl_msg_get_dst(msg), s.remote_port);
  s.state = state_name(idiagnl_msg_get_state(msg));
  s.timer = timer_name(idiagnl_msg_get_timer(msg));
  // idiag_expires is a u32 of milliseconds. Older kernels wrapped an overdue timer to a
  // huge value; read as signed it is the small negative they meant.
  s.timer_expires_ms = static_cast<std::int32_t>(idiagnl_msg_get_expires(msg));
  s.timer_retrans = idiagnl_msg_get_retrans(msg);
  s.inode = idiagnl_msg_get_inode(msg);
  s.uid = idiagnl_msg_get_uid(msg);
  s.send_q = idiagnl_msg_get_wqueue(msg);
  s.recv_q = idiagnl_msg_get_rqueue(msg);

  if (nlattr* info = nlmsg_find_attr(nlh, sizeof(struct inet_diag_msg), INET_DIAG_INFO)) {
    const auto* bytes = static_cast<const std::uint8_t*>(nla_data(info));
    s.has_info = true;
    s.info_bytes = static_cast<std::size_t>(std::max(nla_len(info), 0));
    std::memcpy(&s.info, bytes, std::min(s.info_bytes, sizeof(s.info)));
  }
  return s;
}

int on_socket(nl_msg* raw, void* arg) {
  auto* dump = static_cast<Dump*>(arg);
  nlmsghdr* nlh = nlmsg_hdr(raw);
  idiagnl_msg* parsed = nullptr;
  if (int err = idiagnl_msg_parse(nlh, &parsed); err < 0) {
    ++dump->unparsed;
    dump->parse_error = nl_geterror(err);
    return NL_SKIP;
  }
  std::unique_ptr<idiagnl_msg, IdiagMsgDeleter> msg(parsed);
  dump->out->push_back(to_sample(nlh, msg.get()));
  return NL_OK;
}

std::string_view family_name(int family) { return family == AF_INET6 ? "AF_INET6" : "AF_INET"; }

void dump_family(nl_sock* sock, int family, std::vector<SocketSample>& out) {
  Dump dump{&out, 0, {}};
  if (int err = nl_socket_modify_cb(sock, NL_CB_VALID, NL_CB_CUSTOM, on_socket, &dump); err < 0) {
    throw std::runtime_error("sock_diag: cannot set the dump callback: " +
                             std::string(nl_geterror(err)));
  }
  inet_diag_req_v2 request{};
  request.sdiag_family = static_cast<std::uint8_t>(family);
  request.sdiag_protocol = IPPROTO_TCP;
  request.idiag_ext = kExtInfo;
  request.idiag_states = kStatesButListen;
  if (int err = nl_send_simple(sock, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &request, sizeof(request));
      err < 0) {
    throw std::runtime_error("sock_diag: cannot request the " + std::string(family_name(family)) +
                             " TCP dump: " + nl_geterror(err));
  }
  if (int err = nl_recvmsgs_default(sock); err < 0) {
    throw std::runtime_error("sock_diag: reading the " + std::string(family_name(family)) +
                             " TCP dump failed: " + nl_geterror(err));
  }
  if (dump.unparsed > 0) {
    throw std::runtime_error("sock_diag: " + std::to_string(dump.unparsed) + " " +
                             std::string(family_name(family)) +
                             " socket(s) in the dump did not parse: " + dump.parse_error);
  }
}

// ---- the tcp_info field table: one row per field, shared by to_json and tcp_info_field.

using FieldReader = std::int64_t (*)(const SocketSample&);
struct Field {
  std::string_view name;
  FieldReader read;
};

#define TAPFAULT_TCPI(f) \
  Field{#f, [](const SocketSample& s) { return static_cast<std::int64_t>(s.info.tcpi_##f); }}

// In the order of struct tcp_info.
constexpr std::array kFields = {
    TAPFAULT_TCPI(state),          TAPFAULT_TCPI(ca_state),
    TAPFAULT_TCPI(retransmits),    TAPFAULT_TCPI(probes),
    TAPFAULT_TCPI(backoff),        TAPFAULT_TCPI(options),
    TAPFAULT_TCPI(snd_wscale),     TAPFAULT_TCPI(rcv_wscale),
    TAPFAULT_TCPI(delivery_rate_app_limited), TAPFAULT_TCPI(fastopen_client_fail),
    TAPFAULT_TCPI(rto),            TAPFAULT_TCPI(ato),
    TAPFAULT_TCPI(snd_mss),        TAPFAULT_TCPI(rcv_mss),
    TAPFAULT_TCPI(unacked),        TAPFAULT_TCPI(sacked),
    TAPFAULT_TCPI(lost),           TAPFAULT_TCPI(retrans),
    TAPFAULT_TCPI(fackets),        TAPFAULT_TCPI(last_data_sent),
    TAPFAULT_TCPI(last_ack_sent),  TAPFAULT_TCPI(last_data_recv),
    TAPFAULT_TCPI(last_ack_recv),  TAPFAULT_TCPI(pmtu),
    TAPFAULT_TCPI(rcv_ssthresh),   TAPFAULT_TCPI(rtt),
    TAPFAULT_TCPI(rttvar),         TAPFAULT_TCPI(snd_ssthresh),
    TAPFAULT_TCPI(snd_cwnd),       TAPFAULT_TCPI(advmss),
    TAPFAULT_TCPI(reordering),     TAPFAULT_TCPI(rcv_rtt),
    TAPFAULT_TCPI(rcv_space),      TAPFAULT_TCPI(total_retrans),
    TAPFAULT_TCPI(pacing_rate),    TAPFAULT_TCPI(max_pacing_rate),
    TAPFAULT_TCPI(bytes_acked),    TAPFAULT_TCPI(bytes_received),
    TAPFAULT_TCPI(segs_out),       TAPFAULT_TCPI(segs_in),
    TAPFAULT_TCPI(notsent_bytes),  TAPFAULT_TCPI(min_rtt),
    TAPFAULT_TCPI(data_segs_in),   TAPFAULT_TCPI(data_segs_out),
    TAPFAULT_TCPI(delivery_rate),  TAPFAULT_TCPI(busy_time),
    TAPFAULT_TCPI(rwnd_limited),   TAPFAULT_TCPI(sndbuf_limited),
    TAPFAULT_TCPI(delivered),      TAPFAULT_TCPI(delivered_ce),
    TAPFAULT_TCPI(bytes_sent),     TAPFAULT_TCPI(bytes_retrans),
    TAPFAULT_TCPI(dsack_dups),     TAPFAULT_TCPI(reord_seen),
    TAPFAULT_TCPI(rcv_ooopack),    TAPFAULT_TCPI(snd_wnd),
    TAPFAULT_TCPI(rcv_wnd),        TAPFAULT_TCPI(rehash),
    TAPFAULT_TCPI(total_rto),      TAPFAULT_TCPI(total_rto_recoveries),
    TAPFAULT_TCPI(total_rto_time),
};

#undef TAPFAULT_TCPI

constexpr auto kFieldNames = [] {
  std::array<std::string_view, kFields.size()> names{};
  for (std::size_t i = 0; i < kFields.size(); ++i) names[i] = kFields[i].name;
  return names;
}();

// ---- ss formatting (iproute2 misc/ss.c).

template <typename... Args>
std::string cformat(const char* fmt, Args... args) {
  std::array<char, 64> buf{};
  int n = std::snprintf(buf.data(), buf.size(), fmt, args...);
  return std::string(buf.data(), static_cast<std::size_t>(std::clamp(n, 0, 63)));
}

// ss.c::print_ms_timer: 768 -> "768ms", 1580 -> "1.580sec", 3000 -> "3sec", 12345 -> "12sec",
// 125000 -> "2min5sec", 0 -> "" (ss prints "timer:(keepalive,,0)" then). Milliseconds past
// whole seconds say "sec", as since iproute2's "ss: fix expired time format of timer"
// (2024); older ss printed 1580 ms as "1.580ms".
std::string ms_timer(std::int64_t timeout_ms) {
  const auto timeout = static_cast<std::uint64_t>(std::max<std::int64_t>(timeout_ms, 0));
  std::uint64_t secs = timeout / 1000;
  const std::uint64_t minutes = secs / 60;
  secs %= 60;
  std::uint64_t msecs = timeout % 1000;
  std::string out;
  if (minutes != 0) {
    msecs = 0;
    out = std::to_string(minutes) + "min";
    if (minutes > 9) secs = 0;
  }
  if (secs != 0) {
    if (secs > 9) msecs = 0;
    out += std::to_string(secs) + (msecs != 0 ? "." : "sec");
  }
  if (msecs != 0) out += cformat(secs != 0 ? "%03llusec" : "%03llums", static_cast<unsigned long long>(msecs));
  return out;
}

// ss.c::sprint_bw with -n: whole bits per second.
std::string bps(double bits_per_second) { return cformat("%.0fbps", bits_per_second); }

// ss.c::tcp_show_info + tcp_stats_print, minus skmem, options, congestion control and the
// DCTCP/BBR blocks (not in struct tcp_info).
void append_tcp_info(std::string& out, const SocketSample& s) {
  const TcpInfo& i = s.info;
  const auto add = [&out](const std::string& text) { out += ' ' + text; };
  constexpr std::uint64_t kUnlimited = ~0ULL;

  if (i.tcpi_rto != 0 && i.tcpi_rto != 3000000) add(cformat("rto:%g", i.tcpi_rto / 1000.0));
  if (i.tcpi_backoff != 0) add(cformat("backoff:%u", unsigned{i.tcpi_backoff}));
  if (i.tcpi_rtt != 0) add(cformat("rtt:%g/%g", i.tcpi_rtt / 1000.0, i.tcpi_rttvar / 1000.0));
  if (i.tcpi_ato != 0) add(cformat("ato:%g", i.tcpi_ato / 1000.0));
  if (i.tcpi_snd_mss != 0) add(cformat("mss:%u", i.tcpi_snd_mss));
  if (i.tcpi_pmtu != 0) add(cformat("pmtu:%u", i.tcpi_pmtu));
  if (i.tcpi_rcv_mss != 0) add(cformat("rcvmss:%u", i.tcpi_rcv_mss));
  if (i.tcpi_advmss != 0) add(cformat("advmss:%u", i.tcpi_advmss));
  if (i.tcpi_snd_cwnd != 0) add(cformat("cwnd:%u", i.tcpi_snd_cwnd));
  if (i.tcpi_snd_ssthresh != 0 && i.tcpi_snd_ssthresh < 0xFFFF) {
    add(cformat("ssthresh:%u", i.tcpi_snd_ssthresh));
  }
  const auto add_u64 = [&add](const char* name, std::uint64_t v) {
    if (v != 0) add(cformat("%s:%llu", name, static_cast<unsigned long long>(v)));
  };
  add_u64("bytes_sent", i.tcpi_bytes_sent);
  add_u64("bytes_retrans", i.tcpi_bytes_retrans);
  add_u64("bytes_acked", i.tcpi_bytes_acked);
  add_u64("bytes_received", i.tcpi_bytes_received);
  add_u64("segs_out", i.tcpi_segs_out);
  add_u64("segs_in", i.tcpi_segs_in);
  add_u64("data_segs_out", i.tcpi_data_segs_out);
  add_u64("data_segs_in", i.tcpi_data_segs_in);
  if (i.tcpi_rtt != 0 && i.tcpi_snd_mss != 0 && i.tcpi_snd_cwnd != 0) {
    add("send " + bps(double(i.tcpi_snd_cwnd) * double(i.tcpi_snd_mss) * 8000000.0 /
                      double(i.tcpi_rtt)));
  }
  add_u64("lastsnd", i.tcpi_last_data_sent);
  add_u64("lastrcv", i.tcpi_last_data_recv);
  add_u64("lastack", i.tcpi_last_ack_recv);
  if (i.tcpi_pacing_rate != 0 && i.tcpi_pacing_rate != kUnlimited) {
    std::string rate = "pacing_rate " + bps(double(i.tcpi_pacing_rate) * 8.0);
    if (i.tcpi_max_pacing_rate != 0 && i.tcpi_max_pacing_rate != kUnlimited) {
      rate += "/" + bps(double(i.tcpi_max_pacing_rate) * 8.0);
    }
    add(rate);
  }
  if (i.tcpi_delivery_rate != 0) add("delivery_rate " + bps(double(i.tcpi_delivery_rate) * 8.0));
  add_u64("delivered", i.tcpi_delivered);
  add_u64("delivered_ce", i.tcpi_delivered_ce);
  if (i.tcpi_delivery_rate_app_limited != 0) add("app_limited");
  if (i.tcpi_busy_time != 0) {
    const double busy = double(i.tcpi_busy_time);
    add(cformat("busy:%llums", static_cast<unsigned long long>(i.tcpi_busy_time / 1000)));
    if (i.tcpi_rwnd_limited != 0) {
      add(cformat("rwnd_limited:%llums(%.1f%%)",
                  static_cast<unsigned long long>(i.tcpi_rwnd_limited / 1000),
                  100.0 * double(i.tcpi_rwnd_limited) / busy));
    }
    if (i.tcpi_sndbuf_limited != 0) {
      add(cformat("sndbuf_limited:%llums(%.1f%%)",
                  static_cast<unsigned long long>(i.tcpi_sndbuf_limited / 1000),
                  100.0 * double(i.tcpi_sndbuf_limited) / busy));
    }
  }
  add_u64("unacked", i.tcpi_unacked);
  if (i.tcpi_retrans != 0 || i.tcpi_total_retrans != 0) {
    add(cformat("retrans:%u/%u", i.tcpi_retrans, i.tcpi_total_retrans));
  }
  add_u64("lost", i.tcpi_lost);
  if (s.state != "LISTEN") add_u64("sacked", i.tcpi_sacked);
  add_u64("dsack_dups", i.tcpi_dsack_dups);
  add_u64("fackets", i.tcpi_fackets);
  if (i.tcpi_reordering != 3) add(cformat("reordering:%u", i.tcpi_reordering));
  add_u64("reord_seen", i.tcpi_reord_seen);
  if (i.tcpi_rcv_rtt != 0) add(cformat("rcv_rtt:%g", i.tcpi_rcv_rtt / 1000.0));
  add_u64("rcv_space", i.tcpi_rcv_space);
  add_u64("rcv_ssthresh", i.tcpi_rcv_ssthresh);
  add_u64("notsent", i.tcpi_notsent_bytes);
  if (i.tcpi_min_rtt != 0 && i.tcpi_min_rtt != ~0U) {
    add(cformat("minrtt:%g", i.tcpi_min_rtt / 1000.0));
  }
  add_u64("rcv_ooopack", i.tcpi_rcv_ooopack);
  add_u64("snd_wnd", i.tcpi_snd_wnd);
  add_u64("rcv_wnd", i.tcpi_rcv_wnd);
  add_u64("rehash", i.tcpi_rehash);
}

}  // namespace

void Sampler::SockDeleter::operator()(nl_sock* sock) const { nl_socket_free(sock); }

Sampler::Sampler() : sock_(nl_socket_alloc()) {
  if (!sock_) throw std::runtime_error("sock_diag: nl_socket_alloc failed (out of memory)");
  // A dump ends with NLMSG_DONE; an ACK on top would only be one more message to drain.
  nl_socket_disable_auto_ack(sock_.get());
  // Let libnl size each read to the kernel's dump batch instead of truncating it.
  nl_socket_enable_msg_peek(sock_.get());
  if (int err = idiagnl_connect(sock_.get()); err < 0) {
    throw std::runtime_error("sock_diag: cannot open a NETLINK_INET_DIAG socket: " +
                             std::string(nl_geterror(err)));
  }
}

Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

std::vector<SocketSample> Sampler::sample() {
  std::vector<SocketSample> out;
  dump_family(sock_.get(), AF_INET, out);
  dump_family(sock_.get(), AF_INET6, out);
  return out;
}

nlohmann::json to_json(const SocketSample& s) {
  nlohmann::json j = {
      {"local", s.local},
      {"remote", s.remote},
      {"local_port", s.local_port},
      {"remote_port", s.remote_port},
      {"state", s.state},
      {"timer", s.timer},
      {"timer_expires_ms", s.timer_expires_ms},
      {"timer_retrans", s.timer_retrans},
      {"send_q", s.send_q},
      {"recv_q", s.recv_q},
      {"inode", s.inode},
      {"uid", s.uid},
  };
  if (s.has_info) {
    nlohmann::json info = nlohmann::json::object();
    for (const Field& f : kFields) info[std::string(f.name)] = f.read(s);
    j["tcp_info"] = std::move(info);
  } else {
    j["tcp_info"] = nullptr;
  }
  return j;
}

std::string ss_line(const SocketSample& s) {
  std::string out = s.state + ' ' + std::to_string(s.recv_q) + ' ' + std::to_string(s.send_q) +
                    ' ' + s.local + ' ' + s.remote;
  if (!s.timer.empty() && s.timer != "off") {
    out += " timer:(" + s.timer + ',' + ms_timer(s.timer_expires_ms) + ',' +
           std::to_string(s.timer_retrans) + ')';
  }
  if (s.has_info) append_tcp_info(out, s);
  return out;
}

std::optional<std::int64_t> tcp_info_field(const SocketSample& s, std::string_view name) {
  for (const Field& f : kFields) {
    if (f.name == name) return f.read(s);
  }
  return std::nullopt;
}

std::span<const std::string_view> tcp_info_field_names() { return kFieldNames; }

}  // namespace tapfault::replay
