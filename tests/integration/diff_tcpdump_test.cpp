// `tapfault diff` on a capture made outside tapfault: tcpdump on the client's end of a
// veth pair between two namespaces, the server's replies blackholed after the handshake
// (docs/kernel-timing.md section 0's method), tcp_retries2 = 5 in the client's namespace.
// Every retransmission must fall inside the rto model's window and ETIMEDOUT inside the
// give-up window; a copy without one retransmission must be reported.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/pcap_builder.hpp"
#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

using namespace std::chrono_literals;

// Two namespaces and a veth pair, removed in the destructor (also when a test fails).
class VethPair {
 public:
  VethPair()
      : client_("tfdiff-c-" + std::to_string(getpid())),
        server_("tfdiff-s-" + std::to_string(getpid())),
        veth_c_("tfdc" + std::to_string(getpid())),
        veth_s_("tfds" + std::to_string(getpid())) {}
  ~VethPair() {
    shell("ip netns del " + client_);
    shell("ip netns del " + server_);
  }

  // Returns "" or what failed.
  std::string setup() {
    for (const std::string& cmd : {
             "ip netns add " + client_,
             "ip netns add " + server_,
             "ip link add " + veth_c_ + " type veth peer name " + veth_s_,
             "ip link set " + veth_c_ + " netns " + client_,
             "ip link set " + veth_s_ + " netns " + server_,
             "ip -n " + client_ + " addr add 192.0.2.1/24 dev " + veth_c_,
             "ip -n " + server_ + " addr add 192.0.2.2/24 dev " + veth_s_,
             "ip -n " + client_ + " link set lo up",
             "ip -n " + server_ + " link set lo up",
             "ip -n " + client_ + " link set " + veth_c_ + " up",
             "ip -n " + server_ + " link set " + veth_s_ + " up",
             "ip netns exec " + client_ + " sysctl -qw net.ipv4.tcp_retries2=5",
         }) {
      ShellResult r = shell(cmd);
      if (r.exit_code != 0) return cmd + ": " + r.output;
    }
    return "";
  }

  const std::string& client() const { return client_; }
  const std::string& server() const { return server_; }
  const std::string& client_veth() const { return veth_c_; }

 private:
  std::string client_, server_, veth_c_, veth_s_;
};

// A socket created inside `netns` (sockets keep their namespace wherever they are used).
int socket_in(const std::string& netns) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (setns(self, CLONE_NEWNET) != 0) abort();  // never leave the test thread elsewhere
  }
  if (self >= 0) close(self);
  if (target >= 0) close(target);
  return fd;
}

sockaddr_in address(const char* ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// tcpdump in the client's namespace, stopped (SIGINT, so it flushes) in the destructor.
class Tcpdump {
 public:
  Tcpdump(const std::string& netns, const std::string& ifname, const std::filesystem::path& out,
          const std::filesystem::path& log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      dup2(fd, 2);
      execlp("ip", "ip", "netns", "exec", netns.c_str(), "tcpdump", "-i", ifname.c_str(), "-n", "-U", "-w",
             out.c_str(), "tcp or icmp", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !ready_; ++i) {  // "listening on ..." once the capture runs
      std::ifstream in(log);
      std::stringstream s;
      s << in.rdbuf();
      ready_ = s.str().find("listening on") != std::string::npos;
      if (!ready_) std::this_thread::sleep_for(50ms);
    }
  }
  ~Tcpdump() { stop(); }
  bool ready() const { return ready_; }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGINT);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

std::string realtime_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09ld", static_cast<long long>(ts.tv_sec), ts.tv_nsec);
  return buf;
}

TEST(DiffTcpdump, BlackholedClientRetransmitsInsideTheRtoWindowsAndADoctoredCopyFails) {
  TAPFAULT_REQUIRE_NETNS();
  for (const char* tool : {"tcpdump", "ip"})
    if (!have_tool(tool)) {
      if (in_ci()) FAIL() << tool << " is missing; the test script installs it";
      GTEST_SKIP() << tool << " is not installed";
    }
  VethPair net;
  ASSERT_EQ(net.setup(), "");
  auto dir = fresh_out_dir("diff-tcpdump");
  std::filesystem::create_directories(dir);
  const auto pcap = dir / "client.pcap";

  int listener = socket_in(net.server());
  ASSERT_GE(listener, 0) << strerror(errno);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in srv = address("192.0.2.2", 8080);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&srv), sizeof srv), 0) << strerror(errno);
  ASSERT_EQ(listen(listener, 1), 0);

  Tcpdump dump(net.client(), net.client_veth(), pcap, dir / "tcpdump.log");
  ASSERT_TRUE(dump.ready()) << "tcpdump did not start; see " << (dir / "tcpdump.log");

  int client = socket_in(net.client());
  ASSERT_GE(client, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&srv), sizeof srv), 0) << strerror(errno);
  int accepted = accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);

  // From now on the server's ACKs go nowhere.
  ShellResult bh = shell("ip -n " + net.server() + " route add blackhole 192.0.2.1/32");
  ASSERT_EQ(bh.exit_code, 0) << bh.output;
  const char data[100] = {};
  ASSERT_EQ(write(client, data, sizeof data), static_cast<ssize_t>(sizeof data));

  // tcp_retries2 = 5: ETIMEDOUT after about 13.5 s.
  pollfd p{client, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 30000), 1) << "no error within 30 s";
  const std::string error_at = realtime_seconds();
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(client, SOL_SOCKET, SO_ERROR, &err, &len);
  EXPECT_EQ(err, ETIMEDOUT) << strerror(err);
  std::this_thread::sleep_for(300ms);
  dump.stop();
  close(client);
  close(accepted);
  close(listener);

  // Extra tolerance, 10 ms: on this busy VM (parallel builds and test runs) about one run in
  // six had RTO#1 fire one jiffy late (0.420 s for a [0.412, 0.416] s window), and the
  // chained level-1 timers then stayed one bucket late until a level-2 firing realigned
  // them (RTO#2..#4 about 8 ms past their windows, RTO#5 inside). Timer-expiry latency is
  // left to `slack` by the model (docs/models.md, "Not modelled").
  const std::string diff = "diff --model rto --sysctl net.ipv4.tcp_retries2=5 --tolerance 10ms ";
  ShellResult r = run_tapfault(diff + pcap.string() + " --json --error ETIMEDOUT@" + error_at);
  ASSERT_EQ(r.exit_code, 0) << r.output << run_tapfault(diff + pcap.string()).output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["flow"]["name"].get<std::string>().substr(0, 10), "192.0.2.1:");
  ASSERT_EQ(j["events"].size(), 6u) << j.dump(2);  // TLP and RTO#1..#5
  std::uint64_t rto3_frame = 0;
  for (const auto& e : j["events"]) {
    EXPECT_EQ(e["verdict"], "ok") << e.dump();
    if (e["event"] == "RTO#3") rto3_frame = e["frame"].get<std::uint64_t>();
  }
  EXPECT_EQ(j["give_up"]["verdict"], "ok") << j["give_up"].dump();
  ASSERT_NE(rto3_frame, 0u);

  // The same capture without RTO#3, rewritten by the test.
  const auto doctored = dir / "doctored.pcap";
  copy_capture(pcap, doctored, {rto3_frame});
  ShellResult d = run_tapfault(diff + doctored.string());
  EXPECT_EQ(d.exit_code, 1) << d.output;
  EXPECT_NE(d.output.find("result: MISMATCH " + doctored.string() + ": retransmission 3 expected in [1.656, 1.688] s "
                          "but not seen"),
            std::string::npos)
      << d.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tapfault::testing
