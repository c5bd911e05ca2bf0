// replay::Sampler against the real kernel, each test in a fresh private network namespace
// with loopback sockets, and `ss -tien` (run with popen inside the namespace) as the
// independent witness; plus the pure formatting of ss_line, to_json and tcp_info_field.
#include "tapfault/replay/run/sampler.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <regex>
#include <string>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "support/tap_test_env.hpp"

namespace tapfault::replay {
namespace {

using testing::shell;
using namespace std::chrono_literals;

// ---- loopback sockets

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct Loopback {
  int family;
  const char* address;
};
constexpr Loopback kV4{AF_INET, "127.0.0.1"};
constexpr Loopback kV6{AF_INET6, "::1"};

sockaddr_storage make_addr(Loopback lo, std::uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (lo.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    ::inet_pton(AF_INET, lo.address, &sin->sin_addr);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, lo.address, &sin6->sin6_addr);
    len = sizeof(sockaddr_in6);
  }
  return ss;
}

std::uint16_t local_port(const Fd& fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// A listener on an ephemeral port; a receive buffer of `rcvbuf` bytes when non-zero,
// inherited by the sockets it accepts.
Fd listen_on(Loopback lo, int rcvbuf = 0) {
  Fd fd(::socket(lo.family, SOCK_STREAM, 0));
  if (rcvbuf != 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  socklen_t len = 0;
  sockaddr_storage addr = make_addr(lo, 0, len);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  EXPECT_EQ(::listen(fd.get(), 4), 0) << std::strerror(errno);
  return fd;
}

Fd connect_to(Loopback lo, std::uint16_t port) {
  Fd fd(::socket(lo.family, SOCK_STREAM, 0));
  socklen_t len = 0;
  sockaddr_storage addr = make_addr(lo, port, len);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0)
      << std::strerror(errno);
  return fd;
}

Fd accept_one(const Fd& listener) { return Fd(::accept(listener.get(), nullptr, nullptr)); }

// A connected pair over loopback: the client, the accepted socket, and the listener.
struct Connection {
  Fd listener;
  Fd client;
  Fd server;
  std::uint16_t client_port;
  std::uint16_t server_port;
};

Connection connect_pair(Loopback lo, int server_rcvbuf = 0) {
  Fd listener = listen_on(lo, server_rcvbuf);
  const std::uint16_t server_port = local_port(listener);
  Fd client = connect_to(lo, server_port);
  Fd server = accept_one(listener);
  const std::uint16_t client_port = local_port(client);
  return {std::move(listener), std::move(client), std::move(server), client_port, server_port};
}

const SocketSample* find(const std::vector<SocketSample>& samples, std::uint16_t local,
                         std::uint16_t remote) {
  auto it = std::find_if(samples.begin(), samples.end(), [&](const SocketSample& s) {
    return s.local_port == local && s.remote_port == remote;
  });
  return it == samples.end() ? nullptr : &*it;
}

std::string describe(const std::vector<SocketSample>& samples) {
  std::string out;
  for (const SocketSample& s : samples) out += ss_line(s) + "\n";
  return out.empty() ? "(no sockets)\n" : out;
}

// Samples until `done` holds for the socket local->remote, for at most `limit`.
std::optional<SocketSample> poll_for(Sampler& sampler, std::uint16_t local, std::uint16_t remote,
                                     const std::function<bool(const SocketSample&)>& done,
                                     std::chrono::milliseconds limit, std::string& last) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    const std::vector<SocketSample> samples = sampler.sample();
    last = describe(samples);
    if (const SocketSample* s = find(samples, local, remote); s != nullptr && done(*s)) return *s;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

void expect_established_pair(Loopback lo) {
  Connection c = connect_pair(lo);
  Sampler sampler;
  const std::vector<SocketSample> samples = sampler.sample();

  const SocketSample* client = find(samples, c.client_port, c.server_port);
  ASSERT_NE(client, nullptr) << describe(samples);
  EXPECT_EQ(client->family, lo.family);
  EXPECT_EQ(client->state, "ESTAB");
  const std::string host = lo.family == AF_INET6 ? "[::1]" : "127.0.0.1";
  EXPECT_EQ(client->local, host + ":" + std::to_string(c.client_port));
  EXPECT_EQ(client->remote, host + ":" + std::to_string(c.server_port));
  ASSERT_TRUE(client->has_info);
  EXPECT_GE(client->info_bytes, sizeof(struct tcp_info));
  EXPECT_GT(client->info.tcpi_snd_mss, 0u);
  // lo has an MTU of 65536; IPv4 caps the path MTU at IP_MAX_MTU (65535).
  EXPECT_EQ(client->info.tcpi_pmtu, lo.family == AF_INET6 ? 65536u : 65535u);
  EXPECT_EQ(client->info.tcpi_state, 1);  // TCP_ESTABLISHED
  EXPECT_GT(client->info.tcpi_rcv_wnd, 0u) << "kernel 6.2+ sends tcpi_rcv_wnd";
  EXPECT_EQ(client->timer, "off");

  const SocketSample* server = find(samples, c.server_port, c.client_port);
  ASSERT_NE(server, nullptr) << describe(samples);
  EXPECT_EQ(server->state, "ESTAB");
  EXPECT_TRUE(server->has_info);
  EXPECT_NE(server->inode, client->inode);

  // The namespace is fresh: the two ends, each once, and not the listener.
  EXPECT_EQ(samples.size(), 2u) << describe(samples);
  for (const SocketSample& s : samples) EXPECT_NE(s.state, "LISTEN") << ss_line(s);
}

// ---- against the kernel

TEST(SamplerKernel, FreshNamespaceHasNoSockets) {
  TAPFAULT_ENTER_NETNS();
  Sampler sampler;
  const std::vector<SocketSample> samples = sampler.sample();
  EXPECT_TRUE(samples.empty()) << describe(samples);
}

TEST(SamplerKernel, Ipv4ClientAndAcceptedSocketAreEstablished) {
  TAPFAULT_ENTER_NETNS();
  expect_established_pair(kV4);
}

TEST(SamplerKernel, Ipv6ClientAndAcceptedSocketAreEstablished) {
  TAPFAULT_ENTER_NETNS();
  expect_established_pair(kV6);
}

TEST(SamplerKernel, KeepaliveTimerShowsAsKeepalive) {
  TAPFAULT_ENTER_NETNS();
  Connection c = connect_pair(kV4);
  const int on = 1;
  const int idle_s = 100;
  ASSERT_EQ(::setsockopt(c.client.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)), 0);
  ASSERT_EQ(::setsockopt(c.client.get(), IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s)), 0);

  Sampler sampler;
  const std::vector<SocketSample> samples = sampler.sample();
  const SocketSample* client = find(samples, c.client_port, c.server_port);
  ASSERT_NE(client, nullptr) << describe(samples);
  EXPECT_EQ(client->timer, "keepalive") << ss_line(*client);
  EXPECT_GT(client->timer_expires_ms, 90'000);
  EXPECT_LE(client->timer_expires_ms, 100'000);
  EXPECT_EQ(client->timer_retrans, 0u);
  EXPECT_NE(ss_line(*client).find(" timer:(keepalive,1min"), std::string::npos)
      << ss_line(*client);
}

TEST(SamplerKernel, ZeroWindowPeerShowsPersistTimer) {
  TAPFAULT_ENTER_NETNS();
  Connection c = connect_pair(kV4, /*server_rcvbuf=*/1024);
  ASSERT_EQ(::fcntl(c.client.get(), F_SETFL, O_NONBLOCK), 0);
  const std::vector<char> chunk(64 * 1024, 'x');
  std::size_t written = 0;
  for (;;) {
    const ssize_t n = ::send(c.client.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n < 0) {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  ASSERT_GT(written, 0u);

  Sampler sampler;
  std::string last;
  const auto persist = poll_for(
      sampler, c.client_port, c.server_port,
      [](const SocketSample& s) { return s.timer == "persist"; }, 3s, last);
  ASSERT_TRUE(persist.has_value()) << "no persist timer within 3 s; last sample:\n" << last;
  EXPECT_EQ(persist->state, "ESTAB");
  EXPECT_GT(persist->send_q, 0u);
  EXPECT_EQ(persist->info.tcpi_snd_wnd, 0u) << ss_line(*persist);
  EXPECT_NE(ss_line(*persist).find(" timer:(persist,"), std::string::npos) << ss_line(*persist);
}

TEST(SamplerKernel, ActiveCloserEndsInTimeWaitWithoutTcpInfo) {
  TAPFAULT_ENTER_NETNS();
  Connection c = connect_pair(kV4);
  c.client.reset();
  c.server.reset();

  Sampler sampler;
  std::string last;
  const auto tw = poll_for(
      sampler, c.client_port, c.server_port,
      [](const SocketSample& s) { return s.state == "TIME-WAIT"; }, 2s, last);
  ASSERT_TRUE(tw.has_value()) << last;
  EXPECT_EQ(tw->timer, "timewait");
  EXPECT_GT(tw->timer_expires_ms, 0);
  EXPECT_LE(tw->timer_expires_ms, 60'000);
  EXPECT_FALSE(tw->has_info);
  EXPECT_TRUE(to_json(*tw)["tcp_info"].is_null());
}

// `ss -tienH` for the same socket must agree on state, mss and inode.
TEST(SamplerKernel, AgreesWithSsOnStateMssAndInode) {
  TAPFAULT_ENTER_NETNS();
  for (Loopback lo : {kV4, kV6}) {
    Connection c = connect_pair(lo);
    Sampler sampler;
    const std::vector<SocketSample> samples = sampler.sample();
    const SocketSample* client = find(samples, c.client_port, c.server_port);
    ASSERT_NE(client, nullptr) << describe(samples);

    const std::string ss = shell("ss -tienH 'sport = :" + std::to_string(c.client_port) +
                                       "' 2>&1").output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ss, m, std::regex(R"(^(\S+)\s)"))) << ss;
    EXPECT_EQ(m[1].str(), client->state) << ss;
    ASSERT_TRUE(std::regex_search(ss, m, std::regex(R"((^|\s)mss:(\d+))"))) << ss;
    EXPECT_EQ(std::stoul(m[2].str()), client->info.tcpi_snd_mss) << ss;
    ASSERT_TRUE(std::regex_search(ss, m, std::regex(R"(\sino:(\d+))"))) << ss;
    EXPECT_EQ(std::stoull(m[1].str()), client->inode) << ss;
    ASSERT_TRUE(std::regex_search(ss, m, std::regex(R"(\spmtu:(\d+))"))) << ss;
    EXPECT_EQ(std::stoul(m[1].str()), client->info.tcpi_pmtu) << ss;
  }
}

// ---- pure formatting

// What the kernel writes as <linux/tcp.h>'s struct tcp_info reads back the same from
// TcpInfo, bit-fields included (sampler.cpp checks the other offsets at compile time).
TEST(TcpInfoLayout, BitFieldsMatchTheSystemHeader) {
  struct tcp_info kernel {};
  kernel.tcpi_options = 0x15;
  kernel.tcpi_snd_wscale = 7;
  kernel.tcpi_rcv_wscale = 9;
  kernel.tcpi_delivery_rate_app_limited = 1;
  kernel.tcpi_fastopen_client_fail = 2;
  kernel.tcpi_rto = 204'000;
  kernel.tcpi_snd_wnd = 65535;
  ASSERT_LE(sizeof(kernel), sizeof(TcpInfo));
  TcpInfo mine{};
  std::memcpy(&mine, &kernel, sizeof(kernel));
  EXPECT_EQ(mine.tcpi_options, 0x15);
  EXPECT_EQ(mine.tcpi_snd_wscale, 7);
  EXPECT_EQ(mine.tcpi_rcv_wscale, 9);
  EXPECT_EQ(mine.tcpi_delivery_rate_app_limited, 1);
  EXPECT_EQ(mine.tcpi_fastopen_client_fail, 2);
  EXPECT_EQ(mine.tcpi_rto, 204'000u);
  EXPECT_EQ(mine.tcpi_snd_wnd, 65535u);
}

// The third `ss` block of docs/cases/field-reports/seed-000.txt: an IPv6 client whose peer went
// unreachable after the route was deleted, probing with the persist timer.
SocketSample seed_sample() {
  SocketSample s;
  s.family = AF_INET6;
  s.local = "[2001:db8:a::]:59822";
  s.remote = "[2001:db8::2]:80";
  s.local_port = 59822;
  s.remote_port = 80;
  s.state = "ESTAB";
  s.timer = "persist";
  s.timer_expires_ms = 768;
  s.timer_retrans = 3;
  s.send_q = 3;
  s.recv_q = 0;
  s.has_info = true;
  s.info_bytes = sizeof(TcpInfo);
  TcpInfo& i = s.info;
  i.tcpi_state = 1;
  i.tcpi_options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE;
  i.tcpi_snd_wscale = 5;
  i.tcpi_rcv_wscale = 5;
  i.tcpi_delivery_rate_app_limited = 1;
  i.tcpi_backoff = 3;
  i.tcpi_probes = 3;
  i.tcpi_rto = 200'000;
  i.tcpi_rtt = 711;
  i.tcpi_rttvar = 355;
  i.tcpi_snd_mss = 36;
  i.tcpi_pmtu = 68;
  i.tcpi_rcv_mss = 536;
  i.tcpi_advmss = 1428;
  i.tcpi_snd_cwnd = 10;
  i.tcpi_snd_ssthresh = 0x7fffffff;  // "infinite": ss does not print it
  i.tcpi_reordering = 3;             // the default: ss does not print it
  i.tcpi_bytes_sent = 12;
  i.tcpi_bytes_acked = 1;
  i.tcpi_segs_out = 6;
  i.tcpi_segs_in = 1;
  i.tcpi_data_segs_out = 4;
  i.tcpi_last_data_sent = 832;
  i.tcpi_last_data_recv = 32176;
  i.tcpi_last_ack_recv = 32176;
  i.tcpi_pacing_rate = 321350208 / 8;
  i.tcpi_max_pacing_rate = ~0ULL;  // unlimited: not printed
  i.tcpi_delivered = 1;
  i.tcpi_busy_time = 2'300'456;
  i.tcpi_rcv_space = 14280;
  i.tcpi_rcv_ssthresh = 64108;
  i.tcpi_notsent_bytes = 3;
  i.tcpi_min_rtt = 711;
  i.tcpi_snd_wnd = 64260;
  i.tcpi_rcv_wnd = 64800;
  return s;
}

TEST(SsLine, MatchesSsForTheSeedPersistSocket) {
  EXPECT_EQ(ss_line(seed_sample()),
            "ESTAB 0 3 [2001:db8:a::]:59822 [2001:db8::2]:80 timer:(persist,768ms,3) rto:200 "
            "backoff:3 rtt:0.711/0.355 mss:36 pmtu:68 rcvmss:536 advmss:1428 cwnd:10 "
            "bytes_sent:12 bytes_acked:1 segs_out:6 segs_in:1 data_segs_out:4 send 4050633bps "
            "lastsnd:832 lastrcv:32176 lastack:32176 pacing_rate 321350208bps delivered:1 "
            "app_limited busy:2300ms rcv_space:14280 rcv_ssthresh:64108 notsent:3 minrtt:0.711 "
            "snd_wnd:64260 rcv_wnd:64800");
}

TEST(SsLine, RetransmittingSocketShowsRetransLostAndSsthresh) {
  SocketSample s = seed_sample();
  s.timer = "on";
  s.timer_expires_ms = 1500;
  s.timer_retrans = 2;
  TcpInfo& i = s.info;
  i.tcpi_backoff = 0;
  i.tcpi_rto = 1'600'000;
  i.tcpi_rtt = 123'456;
  i.tcpi_rttvar = 7'000;
  i.tcpi_snd_ssthresh = 7;
  i.tcpi_retrans = 1;
  i.tcpi_total_retrans = 4;
  i.tcpi_lost = 1;
  i.tcpi_unacked = 2;
  i.tcpi_reordering = 5;
  i.tcpi_bytes_retrans = 36;
  i.tcpi_rwnd_limited = 1'150'000;
  const std::string line = ss_line(s);
  EXPECT_NE(line.find(" timer:(on,1.500sec,2) rto:1600 rtt:123.456/7 "), std::string::npos) << line;
  EXPECT_NE(line.find(" cwnd:10 ssthresh:7 bytes_sent:12 bytes_retrans:36 bytes_acked:1 "),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(" busy:2300ms rwnd_limited:1150ms(50.0%) unacked:2 retrans:1/4 lost:1 "
                      "reordering:5 rcv_space:"),
            std::string::npos)
      << line;
}

TEST(SsLine, TimerDurationsReadLikeSs) {
  SocketSample s;
  s.state = "ESTAB";
  s.local = "192.0.2.1:40000";
  s.remote = "198.51.100.7:8080";
  s.timer = "keepalive";
  const auto timer_of = [&s](std::int64_t ms) {
    s.timer_expires_ms = ms;
    return ss_line(s).substr(std::string("ESTAB 0 0 192.0.2.1:40000 198.51.100.7:8080 ").size());
  };
  EXPECT_EQ(timer_of(768), "timer:(keepalive,768ms,0)");
  EXPECT_EQ(timer_of(1500), "timer:(keepalive,1.500sec,0)");
  EXPECT_EQ(timer_of(1580), "timer:(keepalive,1.580sec,0)");
  EXPECT_EQ(timer_of(9373), "timer:(keepalive,9.373sec,0)");
  EXPECT_EQ(timer_of(3000), "timer:(keepalive,3sec,0)");
  EXPECT_EQ(timer_of(59'500), "timer:(keepalive,59sec,0)");
  EXPECT_EQ(timer_of(125'000), "timer:(keepalive,2min5sec,0)");
  EXPECT_EQ(timer_of(7'200'000), "timer:(keepalive,120min,0)");
  EXPECT_EQ(timer_of(0), "timer:(keepalive,,0)");
  EXPECT_EQ(timer_of(-5), "timer:(keepalive,,0)");
}

TEST(SsLine, NoTimerAndNoInfoIsJustTheAddressPart) {
  SocketSample s;
  s.state = "TIME-WAIT";
  s.local = "192.0.2.1:40000";
  s.remote = "198.51.100.7:8080";
  s.timer = "off";
  EXPECT_EQ(ss_line(s), "TIME-WAIT 0 0 192.0.2.1:40000 198.51.100.7:8080");
}

TEST(TcpInfoField, ReadsFieldsByTheirStructName) {
  const SocketSample s = seed_sample();
  EXPECT_EQ(tcp_info_field(s, "rto"), 200'000);
  EXPECT_EQ(tcp_info_field(s, "snd_mss"), 36);
  EXPECT_EQ(tcp_info_field(s, "backoff"), 3);
  EXPECT_EQ(tcp_info_field(s, "probes"), 3);
  EXPECT_EQ(tcp_info_field(s, "snd_wscale"), 5);
  EXPECT_EQ(tcp_info_field(s, "rcv_wscale"), 5);
  EXPECT_EQ(tcp_info_field(s, "options"), 7);
  EXPECT_EQ(tcp_info_field(s, "bytes_sent"), 12);
  EXPECT_EQ(tcp_info_field(s, "busy_time"), 2'300'456);
  EXPECT_EQ(tcp_info_field(s, "snd_wnd"), 64260);
  EXPECT_EQ(tcp_info_field(s, "rcv_wnd"), 64800);
  EXPECT_EQ(tcp_info_field(s, "delivery_rate_app_limited"), 1);
  EXPECT_EQ(tcp_info_field(s, "max_pacing_rate"), -1);
  EXPECT_EQ(tcp_info_field(s, "tcpi_rto"), std::nullopt);
  EXPECT_EQ(tcp_info_field(s, "nosuch"), std::nullopt);
  EXPECT_EQ(tcp_info_field(s, ""), std::nullopt);
}

TEST(TcpInfoField, NamesCoverTheDocumentedSetAndAllResolve) {
  const auto names = tcp_info_field_names();
  for (std::string_view wanted :
       {"state", "ca_state", "retransmits", "probes", "backoff", "options", "snd_wscale",
        "rcv_wscale", "rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost", "retrans",
        "pmtu", "rcv_ssthresh", "rtt", "rttvar", "snd_ssthresh", "snd_cwnd", "advmss",
        "reordering", "total_retrans", "bytes_sent", "bytes_acked", "bytes_received",
        "bytes_retrans", "notsent_bytes", "min_rtt", "delivered", "busy_time", "snd_wnd",
        "rcv_wnd", "last_data_sent", "last_data_recv", "last_ack_recv"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), wanted), names.end()) << wanted;
  }
  const SocketSample s = seed_sample();
  for (std::string_view name : names) EXPECT_TRUE(tcp_info_field(s, name).has_value()) << name;
}

TEST(ToJson, HasTheSocketKeysAndATcpInfoObject) {
  const nlohmann::json j = to_json(seed_sample());
  for (const char* key : {"local", "remote", "state", "timer", "timer_expires_ms",
                          "timer_retrans", "send_q", "recv_q", "tcp_info"}) {
    EXPECT_TRUE(j.contains(key)) << key << " in " << j.dump();
  }
  EXPECT_EQ(j["local"], "[2001:db8:a::]:59822");
  EXPECT_EQ(j["state"], "ESTAB");
  EXPECT_EQ(j["timer"], "persist");
  EXPECT_EQ(j["timer_expires_ms"], 768);
  EXPECT_EQ(j["timer_retrans"], 3);
  EXPECT_EQ(j["send_q"], 3);
  ASSERT_TRUE(j["tcp_info"].is_object());
  EXPECT_EQ(j["tcp_info"].size(), tcp_info_field_names().size());
  EXPECT_EQ(j["tcp_info"]["rto"], 200'000);
  EXPECT_EQ(j["tcp_info"]["snd_cwnd"], 10);
  EXPECT_EQ(j["tcp_info"]["rcv_wnd"], 64800);
  EXPECT_EQ(j["tcp_info"]["last_ack_recv"], 32176);
}

}  // namespace
}  // namespace tapfault::replay
