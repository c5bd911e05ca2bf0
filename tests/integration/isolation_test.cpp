// Isolation: every run happens in a private network namespace that disappears with it, so
// running the whole scenario library must leave the host's network exactly as it was: its
// links, addresses, routes, neighbours and every sysctl under /proc/sys/net/ipv4 and ipv6.
//
// What changes by itself is left out of the comparison: address lifetimes and route expiry
// timers (they count down), neighbour states (they age; only the entries' addresses are
// compared). Sysctls are configuration, compared name by name and value by value.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/scenario_library.hpp"
#include "support/tapfault_cli.hpp"

namespace tapfault::testing {
namespace {

struct HostNetwork {
  std::vector<std::string> links, addresses, routes;
  std::set<std::string> neighbours;  // "ADDR dev IF"
  std::map<std::string, std::string> sysctls;  // "net/ipv4/ip_forward" -> "0"
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<std::string> ip(const std::string& args) {
  ShellResult r = shell("ip " + args);
  EXPECT_EQ(r.exit_code, 0) << "ip " << args << ": " << r.output;
  return lines_of(r.output);
}

// Countdowns that move without anyone touching the configuration.
std::string without_timers(std::string line) {
  static const std::regex lifetimes(R"((valid_lft|preferred_lft) \S+)");
  static const std::regex expires(R"(expires \S+)");
  line = std::regex_replace(line, lifetimes, "$1 _");
  return std::regex_replace(line, expires, "expires _");
}

std::optional<std::string> read_sysctl(const std::filesystem::path& p) {
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string value;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) value.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (n < 0) return std::nullopt;
  return value;
}

HostNetwork record_host_network() {
  HostNetwork h;
  h.links = ip("-o link");
  for (const auto& l : ip("-o addr")) h.addresses.push_back(without_timers(l));
  for (const char* family : {"-4", "-6"})
    for (const auto& l : ip(std::string(family) + " route show table all")) h.routes.push_back(without_timers(l));
  for (const auto& l : ip("neigh")) {
    std::istringstream words(l);
    std::string addr, dev, name;
    words >> addr >> dev >> name;
    h.neighbours.insert(addr + (dev == "dev" ? " dev " + name : ""));
  }
  std::error_code ec;
  for (const char* root : {"/proc/sys/net/ipv4", "/proc/sys/net/ipv6"}) {
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file(ec)) continue;
      std::optional<std::string> value = read_sysctl(it->path());
      if (!value) continue;  // write-only (route/flush) or unreadable
      h.sysctls[it->path().string().substr(std::strlen("/proc/sys/"))] = *value;
    }
  }
  return h;
}

template <typename Container>
std::string describe_change(const Container& before, const Container& after) {
  std::ostringstream out;
  for (const auto& x : before)
    if (std::find(after.begin(), after.end(), x) == after.end()) out << "\n  - " << x;
  for (const auto& x : after)
    if (std::find(before.begin(), before.end(), x) == before.end()) out << "\n  + " << x;
  return out.str();
}

// Every run of the library that runs on its own (a built-in client, not tagged realtime):
// each file once per family.
std::vector<LibraryRun> runs_alone() {
  std::vector<LibraryRun> runs = scenario_library();
  std::erase_if(runs, [](const LibraryRun& r) { return !r.runs_alone; });
  return runs;
}

struct IsolationRun {
  std::string name;
  ShellResult result;
  bool wrote_report = false;
};

// Runs every scenario, `parallel` at a time (the runs are mostly idle: timers and timeouts).
std::vector<IsolationRun> run_library(const std::vector<LibraryRun>& files, unsigned parallel) {
  std::vector<IsolationRun> runs(files.size());
  std::atomic<std::size_t> next{0};
  auto out_root = fresh_out_dir("isolation");
  auto worker = [&] {
    for (std::size_t i; (i = next++) < files.size();) {
      auto out = out_root / files[i].name;
      runs[i].name = files[i].name;
      runs[i].result = run_tapfault("run " + files[i].run_args() + " --out " + out.string() + " -q");
      runs[i].wrote_report = std::filesystem::exists(out / "report.json");
    }
  };
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < parallel; ++k) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::filesystem::remove_all(out_root);
  return runs;
}

TEST(Isolation, TheWholeScenarioLibraryLeavesTheHostNetworkAsItWas) {
  TAPFAULT_REQUIRE_NETNS();
  auto files = runs_alone();
  ASSERT_GE(files.size(), 10u) << "the library in " << scenario_path("");

  HostNetwork before = record_host_network();
  ASSERT_FALSE(before.links.empty());
  ASSERT_GT(before.sysctls.size(), 100u) << "/proc/sys/net/ipv4 and ipv6 were read";

  for (const IsolationRun& r : run_library(files, 4)) {
    // Exit 1 (an expectation failed under the load of parallel runs) still ran everything.
    EXPECT_TRUE(r.result.exit_code == 0 || r.result.exit_code == 1)
        << r.name << " exited " << r.result.exit_code << ": " << r.result.output;
    EXPECT_TRUE(r.wrote_report) << r.name << " wrote no report.json";
  }

  HostNetwork after = record_host_network();
  EXPECT_EQ(before.links, after.links) << "ip -o link changed:" << describe_change(before.links, after.links);
  EXPECT_EQ(before.addresses, after.addresses)
      << "ip -o addr changed:" << describe_change(before.addresses, after.addresses);
  EXPECT_EQ(before.routes, after.routes) << "ip route changed:" << describe_change(before.routes, after.routes);
  EXPECT_EQ(before.neighbours, after.neighbours)
      << "ip neigh changed:" << describe_change(before.neighbours, after.neighbours);
  std::vector<std::string> sysctls_before, sysctls_after;
  for (const auto& [k, v] : before.sysctls) sysctls_before.push_back(k + " = " + v.substr(0, v.find('\n')));
  for (const auto& [k, v] : after.sysctls) sysctls_after.push_back(k + " = " + v.substr(0, v.find('\n')));
  EXPECT_EQ(before.sysctls, after.sysctls)
      << "/proc/sys/net changed:" << describe_change(sysctls_before, sysctls_after);
}

TEST(Isolation, TheRecordSeesALinkAppear) {
  // The comparison above would pass vacuously if the record missed what a run could change.
  // Checked in a namespace of its own (a child process), never on the host: a new link
  // (a TAP, like a run's) shows up in the links and in the sysctls (conf/NAME).
  TAPFAULT_REQUIRE_NETNS();
  std::fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    HostNetwork before = record_host_network();
    if (shell("ip tuntap add dev tfiso0 mode tap").exit_code != 0) _exit(3);
    HostNetwork during = record_host_network();
    bool seen = before.links != during.links && !before.sysctls.count("net/ipv4/conf/tfiso0/forwarding") &&
                during.sysctls.count("net/ipv4/conf/tfiso0/forwarding") &&
                during.sysctls.count("net/ipv6/conf/tfiso0/mtu");
    _exit(seen ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the record missed the new link; 2: unshare; 3: ip tuntap add";
}

}  // namespace
}  // namespace tapfault::testing
