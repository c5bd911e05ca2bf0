// `tapfault suite`: finding, selecting and running scenarios, each in its own process.
//
// Each scenario runs as `tapfault run FILE --out OUT/NAME --quiet [--family F]` (posix_spawn of
// /proc/self/exe by default): a run enters a private network namespace and must be the
// only run in its process, and a crash or a hang stays confined to its own row. The loop
// polls its children every 20 ms rather than waiting on SIGCHLD so that run_suite() keeps
// no process-wide state (no signal handlers) and can run inside a test binary.
#include "tapfault/replay/report/suite.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tapfault/replay/scenario/scenario.hpp"

extern char** environ;

namespace tapfault::replay {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

bool SuiteScenario::realtime() const { return std::find(tags.begin(), tags.end(), "realtime") != tags.end(); }

std::vector<SuiteScenario> discover_scenarios(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir.string() + ": not a folder");
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".yaml") files.push_back(it->path());
  }
  if (ec) throw std::runtime_error(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });

  std::vector<SuiteScenario> out;
  for (const fs::path& f : files) {
    const std::string relative = f.lexically_relative(dir).replace_extension().generic_string();
    std::vector<Scenario> families;
    try {
      families = parse_scenario_families(f);
    } catch (const std::exception& e) {
      SuiteScenario s;
      s.file = f;
      s.name = relative;
      s.parse_error = e.what();
      out.push_back(std::move(s));
      continue;
    }
    for (const Scenario& parsed : families) {
      SuiteScenario s;
      s.file = f;
      s.name = relative;
      if (families.size() > 1) {
        s.family = family_name(parsed.network.family);
        s.name += "-" + s.family;
      }
      s.scenario_name = parsed.name;
      s.tags = parsed.tags;
      s.duration = parsed.duration;
      s.has_client = parsed.client.has_value();
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::optional<Shard> parse_shard(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return std::nullopt;
  auto number = [](const std::string& t) -> std::optional<int> {
    if (t.empty() || t.size() > 6 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoi(t);
  };
  auto i = number(text.substr(0, slash));
  auto n = number(text.substr(slash + 1));
  if (!i || !n || *i < 1 || *i > *n) return std::nullopt;
  return Shard{*i, *n};
}

namespace {

bool matches(const SuiteScenario& s, const std::string& filter) {
  if (filter.rfind("tag:", 0) == 0) {
    std::string tag = filter.substr(4);
    return std::find(s.tags.begin(), s.tags.end(), tag) != s.tags.end();
  }
  return s.name.find(filter) != std::string::npos || s.scenario_name.find(filter) != std::string::npos;
}

}  // namespace

Selected select_scenarios(std::vector<SuiteScenario> all, const SuiteSelection& selection) {
  Selected out;
  std::vector<SuiteScenario> kept;
  for (SuiteScenario& s : all) {
    bool wanted = selection.filters.empty() ||
                  std::any_of(selection.filters.begin(), selection.filters.end(),
                              [&](const std::string& f) { return matches(s, f); });
    if (!wanted) continue;
    if (s.realtime() && !selection.realtime) {
      ++out.left_out_realtime;
      continue;
    }
    if (!s.has_client) {
      ++out.left_out_external;
      continue;
    }
    kept.push_back(std::move(s));
  }
  Shard shard = selection.shard.value_or(Shard{});
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shard.count)) == shard.index - 1)
      out.scenarios.push_back(std::move(kept[i]));
    else
      ++out.left_out_shard;
  }
  return out;
}

const char* to_string(SuiteVerdict v) {
  switch (v) {
    case SuiteVerdict::kPass: return "PASS";
    case SuiteVerdict::kFail: return "FAIL";
    case SuiteVerdict::kError: return "ERROR";
  }
  return "ERROR";
}

int suite_exit_code(const std::vector<SuiteResult>& results) {
  bool all_pass = std::all_of(results.begin(), results.end(),
                              [](const SuiteResult& r) { return r.verdict == SuiteVerdict::kPass; });
  return all_pass ? 0 : 1;
}

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

std::string first_line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return {};
}

std::string format_seconds(std::chrono::nanoseconds d) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << std::chrono::duration<double>(d).count() << " s";
  return o.str();
}

// One `tapfault run` child.
struct Child {
  std::size_t index = 0;  // into the scenarios and results
  pid_t pid = -1;
  SteadyClock::time_point started;
  SteadyClock::time_point deadline;
};

// The files a previous run may have left in a scenario's folder; removed so that a result
// never reads a stale report. (Not remove_all: "a" and "a/b" can both be scenarios.)
constexpr const char* kRunFiles[] = {"capture.pcap", "timeline.jsonl", "report.json", "timeline.svg",
                                     "stdout.log",   "stderr.log"};

class SuiteRunner {
 public:
  SuiteRunner(const std::vector<SuiteScenario>& scenarios, const SuiteOptions& o, std::ostream& progress)
      : scenarios_(scenarios), o_(o), progress_(progress), results_(scenarios.size()) {}

  std::vector<SuiteResult> run();

 private:
  void start(std::size_t i);
  void reap(const Child& c, int status);
  void kill_late(SteadyClock::time_point now);
  void draw_progress();
  void finish(std::size_t i, SuiteVerdict v, std::string message) {
    results_[i].verdict = v;
    results_[i].message = std::move(message);
    ++done_;
    dirty_ = true;
  }

  const std::vector<SuiteScenario>& scenarios_;
  const SuiteOptions& o_;
  std::ostream& progress_;
  std::vector<SuiteResult> results_;
  std::vector<Child> running_;
  std::vector<std::size_t> timed_out_;
  std::size_t done_ = 0;
  bool dirty_ = true;
  std::size_t drawn_width_ = 0;
};

void SuiteRunner::start(std::size_t i) {
  const SuiteScenario& s = scenarios_[i];
  SuiteResult& r = results_[i];
  r.scenario = s;
  r.out_dir = o_.out_dir / s.name;
  if (!s.parse_error.empty()) {
    finish(i, SuiteVerdict::kError, s.parse_error);
    return;
  }
  std::error_code ec;
  fs::create_directories(r.out_dir, ec);
  for (const char* f : kRunFiles) fs::remove(r.out_dir / f, ec);

  std::vector<std::string> args = {"tapfault", "run", s.file.string(), "--out", r.out_dir.string(), "--quiet"};
  if (!s.family.empty()) args.insert(args.end(), {"--family", s.family});
  args.insert(args.end(), o_.run_args.begin(), o_.run_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::string out_log = (r.out_dir / "stdout.log").string();
  std::string err_log = (r.out_dir / "stderr.log").string();
  posix_spawn_file_actions_addopen(&fa, 1, out_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Child c;
  c.index = i;
  c.started = SteadyClock::now();
  auto limit = std::chrono::duration_cast<SteadyClock::duration>(s.duration + o_.grace);
  c.deadline = c.started + limit;
  int rc = posix_spawn(&c.pid, o_.tapfault_binary.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    finish(i, SuiteVerdict::kError, "cannot start " + o_.tapfault_binary.string() + ": " + std::strerror(rc));
    return;
  }
  running_.push_back(c);
  dirty_ = true;
}

void SuiteRunner::reap(const Child& c, int status) {
  SuiteResult& r = results_[c.index];
  r.duration = SteadyClock::now() - c.started;
  std::string out = read_file(r.out_dir / "stdout.log");
  std::string err = read_file(r.out_dir / "stderr.log");
  r.output = out + err;
  bool timed_out = std::find(timed_out_.begin(), timed_out_.end(), c.index) != timed_out_.end();
  if (timed_out) {
    finish(c.index, SuiteVerdict::kError,
           "killed after " + format_seconds(r.duration) + " (the scenario's duration " +
               format_seconds(r.scenario.duration) + " plus " + format_seconds(o_.grace) + " grace)");
    return;
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    finish(c.index, SuiteVerdict::kError, std::string("killed by signal ") + std::to_string(sig) + " (" +
                                              strsignal(sig) + ")");
    return;
  }
  r.exit_code = WEXITSTATUS(status);
  switch (r.exit_code) {
    case 0: finish(c.index, SuiteVerdict::kPass, ""); return;
    case 1: {
      std::string m = first_mismatch(r.out_dir / "report.json");
      if (m.empty()) m = first_line_with(out, "FAIL ");
      if (m.empty()) m = "an expectation failed (exit code 1)";
      finish(c.index, SuiteVerdict::kFail, m);
      return;
    }
    default: {
      // 2 and 3 end with the one line main() printed; any other code is unexpected and says so.
      std::string m = last_line(err);
      if (m.empty()) m = last_line(out);
      bool documented = r.exit_code == 2 || r.exit_code == 3;
      if (!documented || m.empty()) m = "exit code " + std::to_string(r.exit_code) + (m.empty() ? "" : ": " + m);
      finish(c.index, SuiteVerdict::kError, m);
      return;
    }
  }
}

void SuiteRunner::kill_late(SteadyClock::time_point now) {
  for (const Child& c : running_) {
    if (now < c.deadline || std::find(timed_out_.begin(), timed_out_.end(), c.index) != timed_out_.end()) continue;
    kill(c.pid, SIGKILL);
    timed_out_.push_back(c.index);
  }
}

void SuiteRunner::draw_progress() {
  if (!o_.progress || !dirty_) return;
  dirty_ = false;
  std::string line = "[" + std::to_string(done_) + "/" + std::to_string(scenarios_.size()) + "] running: ";
  for (std::size_t k = 0; k < running_.size(); ++k)
    line += (k ? ", " : "") + scenarios_[running_[k].index].name;
  std::size_t width = std::max<std::size_t>(o_.progress_width, 20);
  if (line.size() >= width) line = line.substr(0, width > 4 ? width - 4 : 0) + "...";
  progress_ << "\r\033[K" << line << std::flush;
  drawn_width_ = line.size();
}

std::vector<SuiteResult> SuiteRunner::run() {
  unsigned jobs = o_.jobs;
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  std::size_t next = 0;
  while (done_ < scenarios_.size()) {
    while (next < scenarios_.size() && running_.size() < jobs) start(next++);
    draw_progress();
    for (auto it = running_.begin(); it != running_.end();) {
      int status = 0;
      pid_t p = waitpid(it->pid, &status, WNOHANG);
      if (p == it->pid) {
        Child c = *it;
        it = running_.erase(it);
        reap(c, status);
      } else if (p < 0 && errno != EINTR) {  // reaped elsewhere: its exit status is lost
        Child c = *it;
        it = running_.erase(it);
        results_[c.index].duration = SteadyClock::now() - c.started;
        finish(c.index, SuiteVerdict::kError, std::string("waitpid: ") + std::strerror(errno));
      } else {
        ++it;
      }
    }
    kill_late(SteadyClock::now());
    if (!running_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (o_.progress && drawn_width_) progress_ << "\r\033[K" << std::flush;
  return std::move(results_);
}

}  // namespace

std::vector<SuiteResult> run_suite(const std::vector<SuiteScenario>& scenarios, const SuiteOptions& options,
                                   std::ostream& progress_out) {
  return SuiteRunner(scenarios, options, progress_out).run();
}

}  // namespace tapfault::replay
