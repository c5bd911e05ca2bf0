// The socket line (ss_line) against real `ss -tien` output for the same sockets: two
// loopback connections in a fresh network namespace, one with a keepalive timer of a few
// seconds and one of over a minute, sampled by replay::Sampler right before and right after
// ss runs. Every field both print must agree: exactly for what does not change while idle,
// within the two samples for what counts time (lastsnd, lastrcv, lastack, the timer).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/tapfault_cli.hpp"
#include "tapfault/replay/run/sampler.hpp"

namespace tapfault::testing {
namespace {

using Fields = std::map<std::string, std::string>;

// "rto:204" -> {rto, 204}; "send 1bps" -> {send, 1bps}; "app_limited" -> {app_limited, ""};
// "timer:(keepalive,4.987sec,0)" -> {timer, (keepalive,4.987sec,0)}. The first five words
// are state, queues and addresses.
Fields fields_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  Fields f;
  const char* head[] = {"state", "recv_q", "send_q", "local", "remote"};
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i < 5) {
      f[head[i]] = words[i];
      continue;
    }
    const std::string& w = words[i];
    if ((w == "send" || w == "pacing_rate" || w == "delivery_rate") && i + 1 < words.size()) {
      f[w] = words[++i];
      continue;
    }
    auto colon = w.find(':');
    f[w.substr(0, colon)] = colon == std::string::npos ? "" : w.substr(colon + 1);
  }
  return f;
}

// iproute2 misc/ss.c::print_ms_timer read back: "1min39sec", "4.987sec", "768ms" -> ms.
long timer_ms(const std::string& text) {
  std::smatch m;
  long ms = 0;
  std::string rest = text;
  if (std::regex_search(rest, m, std::regex("^(\\d+)min"))) {
    ms += std::stol(m[1]) * 60000;
    rest = m.suffix();
  }
  if (std::regex_match(rest, m, std::regex("^(\\d+)\\.(\\d{3})sec$"))) return ms + std::stol(m[1]) * 1000 + std::stol(m[2]);
  if (std::regex_match(rest, m, std::regex("^(\\d+)sec$"))) return ms + std::stol(m[1]) * 1000;
  if (std::regex_match(rest, m, std::regex("^(\\d+)ms$"))) return ms + std::stol(m[1]);
  return rest.empty() ? ms : -1;
}

// ss before iproute2's "ss: fix expired time format of timer" (July 2024; Debian 12 has
// 6.1) printed 4987 ms as "4.987ms"; a whole-millisecond timer has no fraction of a
// millisecond, so that spelling is always seconds. Read it as the fixed ss prints it.
std::string fixed_timer_spelling(std::string timer) {
  return std::regex_replace(timer, std::regex("(\\d)\\.(\\d{3})ms"), "$1.$2sec");
}

struct Pair {
  int client = -1, server = -1;
};

Pair connect_pair(int listener, std::uint16_t port, int keepidle_s) {
  Pair p;
  p.client = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(p.client, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(p.client, IPPROTO_TCP, TCP_KEEPIDLE, &keepidle_s, sizeof keepidle_s);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(p.client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return p;
  p.server = accept(listener, nullptr, nullptr);
  // One exchange each way, so that every counter ss prints is non-zero.
  char buf[16];
  (void)!write(p.client, "hello", 5);
  (void)!read(p.server, buf, sizeof buf);
  (void)!write(p.server, "hi", 2);
  (void)!read(p.client, buf, sizeof buf);
  return p;
}

// In the child: a fresh namespace, the sockets, the samples and ss; the differences on
// stdout, one per line. Exit code 0 when there are none.
int compare_in_fresh_namespace() {
  if (unshare(CLONE_NEWNET) != 0) return 10;
  if (std::system("ip link set lo up") != 0) return 11;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(8080);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener, 4) != 0) return 12;
  Pair seconds = connect_pair(listener, 8080, 5);
  Pair minutes = connect_pair(listener, 8080, 100);
  if (seconds.server < 0 || minutes.server < 0) return 13;
  usleep(20000);  // lastsnd and friends non-zero

  replay::Sampler sampler;
  auto before = sampler.sample();
  ShellResult ss = shell("ss -tien");
  auto after = sampler.sample();
  if (ss.exit_code != 0) return 14;

  std::map<std::string, Fields> ss_lines;  // by local and remote address
  std::istringstream in(ss.output);
  std::string line, joined;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '\t' || line[0] == ' ') joined += " " + line;  // -i's second line
    else {
      if (!joined.empty()) ss_lines[fields_of(joined)["local"] + " " + fields_of(joined)["remote"]] = fields_of(joined);
      joined = line;
    }
  }
  if (!joined.empty()) ss_lines[fields_of(joined)["local"] + " " + fields_of(joined)["remote"]] = fields_of(joined);

  int differences = 0;
  auto differ = [&differences](const std::string& socket, const std::string& field, const std::string& ours,
                               const std::string& theirs) {
    std::printf("%s %s: ours %s, ss %s\n", socket.c_str(), field.c_str(), ours.c_str(), theirs.c_str());
    ++differences;
  };
  // Fields ss prints that the socket line leaves out (not in struct tcp_info or not the
  // socket's: -e's identity, skmem, options, congestion control).
  const std::set<std::string> not_ours = {"uid", "ino", "sk", "cgroup", "<->", "ts", "sack", "cubic", "wscale",
                                          "ecn", "ecnseen", "fastopen", "reno", "bbr"};
  // Fields of struct tcp_info that an older ss does not print yet (ss 6.1 has no rcv_wnd,
  // which came with Linux 6.2's tcpi_rcv_wnd); the socket line prints them as newer ss does.
  const std::set<std::string> newer_than_ss = {"rcv_wnd", "rehash"};
  // Fields that count time: ss's value lies between the two samples'.
  const std::set<std::string> clocks = {"lastsnd", "lastrcv", "lastack", "busy"};
  if (before.size() != 4 || after.size() != 4) {
    std::printf("sampled %zu and %zu sockets, not 4\n", before.size(), after.size());
    return 1;
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    const std::string local = before[i].local + " " + before[i].remote;
    Fields ours = fields_of(replay::ss_line(before[i]));
    Fields ours_after = fields_of(replay::ss_line(after[i]));
    auto found = ss_lines.find(local);
    if (found == ss_lines.end()) {
      differ(local, "socket", "sampled", "missing");
      continue;
    }
    Fields theirs = found->second;
    for (const auto& [field, value] : theirs) {
      if (not_ours.count(field)) continue;
      if (!ours.count(field)) {
        differ(local, field, "(absent)", value);
        continue;
      }
      if (field == "timer") {
        std::smatch m1, m2, m3;
        std::regex re("^\\((\\w+),([^,]*),(\\d+)\\)$");
        std::string t = fixed_timer_spelling(value);
        if (!std::regex_match(ours[field], m1, re) || !std::regex_match(t, m2, re) ||
            !std::regex_match(ours_after[field], m3, re) || m1[1] != m2[1] || m1[3] != m2[3] ||
            timer_ms(m2[2]) < 0 || timer_ms(m1[2]) < timer_ms(m2[2]) || timer_ms(m2[2]) < timer_ms(m3[2]) ||
            // the same spelling: the units ss uses for that value
            std::regex_replace(std::string(m1[2]), std::regex("\\d"), "9") !=
                std::regex_replace(std::string(m2[2]), std::regex("\\d"), "9"))
          differ(local, field, ours[field] + " .. " + ours_after[field], value);
        continue;
      }
      if (clocks.count(field)) {
        long lo = std::stol(ours[field]), hi = std::stol(ours_after[field]), v = std::stol(value);
        if (v < lo || v > hi) differ(local, field, ours[field] + " .. " + ours_after[field], value);
        continue;
      }
      if (ours[field] != value) differ(local, field, ours[field], value);
    }
    for (const auto& [field, value] : ours)
      if (!theirs.count(field) && !newer_than_ss.count(field)) differ(local, field, value, "(absent)");
  }
  return differences == 0 ? 0 : 1;
}

TEST(SocketLine, PrintsEveryFieldAsSsDoes) {
  TAPFAULT_REQUIRE_NETNS();
  if (!have_tool("ss")) GTEST_SKIP() << "ss (iproute2) is not installed";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    std::fflush(stdout);
    int rc = compare_in_fresh_namespace();
    std::fflush(stdout);
    _exit(rc);
  }
  close(out[1]);
  std::string diffs;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) diffs.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << diffs;
}

}  // namespace
}  // namespace tapfault::testing
