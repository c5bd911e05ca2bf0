// run_scenario(): one run, start to end, in a private namespace: the peer on a thread of
// its own (peer_thread.hpp), everything else on the run's main Asio loop.
//
// Order matters: namespace, pinned sysctls, TAP (the recorder opens before the
// link comes up so no frame is missed), scenario sysctls, peer, then the client
// and the kernel-side actions on the scenario clock. The run ends at `duration`,
// or once the client is done and nothing crossed the TAP for `settle`.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "peer_thread.hpp"
#include "setup.hpp"
#include "runner_parts.hpp"
#include "tapfault/replay/model/kernel.hpp"
#include "tapfault/replay/run/client.hpp"
#include "tapfault/replay/run/model_check.hpp"
#include "tapfault/replay/report/plot.hpp"
#include "tapfault/replay/run/progress.hpp"
#include "tapfault/replay/run/run.hpp"
#include "tapfault/replay/run/sampler.hpp"
#include "tapfault/stack/codec.hpp"
#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/netns.hpp"
#include "tapfault/tap/sysctl.hpp"

namespace tapfault::replay {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace asio = boost::asio;

constexpr std::chrono::milliseconds kFlushInterval{100};
// Frame-triggered socket samples at most this often: a sock_diag dump per batch of frames
// was 35% of a bulk run's event loop (bench/OPTIMISATIONS.md). Every batch is still
// followed by a sample within a millisecond, a quarter of the kernel's timer granularity
// (one jiffy, 4 ms at HZ=250).
constexpr std::chrono::milliseconds kFrameSampleSpacing{1};

SteadyClock::duration steady(Duration d) { return std::chrono::duration_cast<SteadyClock::duration>(d); }

std::string realtime_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::to_string(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

class Run {
 public:
  Run(const Scenario& s, const RunOptions& o) : s_(s), o_(o), timeline_(o.out_dir / "timeline.jsonl") {}

  RunResult execute();

 private:
  void check_kernel();
  void refuse_missing_sysctl(const Sysctl& sc) const;
  void apply_compression();
  void setup();
  void start();
  void schedule_kernel_actions();
  void kernel_action(const KernelAction& a);
  void schedule_sampling();
  void sample(const char* why);
  void sample_after_frames();
  void watch_end();
  void watch_signals();
  void schedule_progress();
  std::string progress_line() const;
  void schedule_flush();
  void drain_recorder();
  void on_kernel_frame();
  void on_recorded(const tap::RecordedFrame& f);
  void take_peer_events();
  Duration since_origin() const { return SteadyClock::now() - origin_; }
  void finish();
  void measure_hz();
  std::optional<SocketSample> final_socket();
  bool is_client_socket(const SocketSample& smp) const;
  void check_model();
  ModelRunInputs model_inputs() const;

  const Scenario& s_;
  const RunOptions& o_;
  Timeline timeline_;
  asio::io_context io_;
  std::unique_ptr<tap::Network> net_;
  std::unique_ptr<tap::Recorder> recorder_;
  std::unique_ptr<stack::Host> host_;
  std::unique_ptr<PeerThread> peer_;
  bool recorder_failed_ = false;
  std::unique_ptr<Client> client_;
  std::unique_ptr<ExternalClient> external_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<std::unique_ptr<asio::steady_timer>> action_timers_;
  std::unique_ptr<asio::steady_timer> sample_timer_;
  std::unique_ptr<asio::steady_timer> end_timer_;
  std::unique_ptr<asio::steady_timer> flush_timer_;
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> progress_timer_;
  bool progress_shown_ = false;
  std::unique_ptr<ModelProgress> model_progress_;  // expect.model on a terminal
  SteadyClock::time_point origin_;
  SteadyClock::time_point last_frame_;
  std::string origin_realtime_ns_;
  std::optional<std::uint64_t> jiffies_at_setup_;
  std::optional<std::uint32_t> route_rto_min_ms_;  // compress.rto_min by the route metric
  SteadyClock::time_point setup_started_;
  CpuTicks cpu_at_start_;
  RunFacts facts_;
  std::optional<SocketSample> last_client_sample_;
  bool frame_sample_pending_ = false;
  SteadyClock::time_point last_frame_sample_{};
  std::unique_ptr<asio::steady_timer> frame_sample_timer_;
};

// What this kernel is and has, before anything is set: the release, the sysctls that
// older kernels lack, and whether the scenario can pass here at all (`kernels:`).
void Run::check_kernel() {
  KernelFacts& k = facts_.kernel;
  k.release = tap::kernel_release();
  k.version = model::KernelVersion::parse(k.release);
  jiffies_at_setup_ = tap::read_jiffies();
  setup_started_ = SteadyClock::now();
  for (const model::SysctlChange& c : model::sysctl_changes())
    k.sysctls_present[std::string(c.name)] = tap::sysctl_exists(c.name);
  if (!s_.kernels) return;
  model::KernelRange range;
  try {
    range = model::KernelRange::parse(s_.kernels->versions);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(s_.file.string(), s_.kernels->line, 0, "kernels.versions", e.what());
  }
  if (k.version && range.contains(*k.version)) return;
  const std::string why = "not applicable on this kernel (" + k.release + "): the scenario needs " +
                          s_.kernels->versions + ", because " + s_.kernels->reason;
  nlohmann::json report = {{"scenario", s_.name},
                           {"verdict", "not-applicable"},
                           {"reason", why},
                           {"kernel", {{"release", k.release}, {"needs", s_.kernels->versions}}}};
  std::ofstream(o_.out_dir / "report.json") << report.dump(2) << "\n";
  throw tap::EnvironmentError(ScenarioError(s_.file.string(), s_.kernels->line, 0, "kernels", why).what());
}

// A sysctl of the scenario's that this kernel lacks: the file is fine, the kernel is not
// the one it was written for (exit 3). One the models know says why the scenario sets it
// and what this kernel offers instead; any other is most likely a typo (exit 2).
void Run::refuse_missing_sysctl(const Sysctl& sc) const {
  const std::string where = "this kernel (" + facts_.kernel.release + ") has no " + sc.name;
  if (const model::SysctlChange* c = model::sysctl_change(sc.name))
    throw tap::EnvironmentError(
        ScenarioError(s_.file.string(), sc.line, 0, "sysctl." + sc.name,
                      where + " (added in " + c->since.to_string() + " by " + std::string(c->commit) +
                          ")" + (sc.value.empty() ? std::string("; the scenario needs it") : "; the scenario sets it to " + sc.value) + " for " + std::string(c->purpose) +
                          "; this kernel offers instead: " + std::string(c->instead))
            .what());
  const auto& known = known_sysctls();
  if (std::find(known.begin(), known.end(), sc.name) != known.end())
    throw tap::EnvironmentError(
        ScenarioError(s_.file.string(), sc.line, 0, "sysctl." + sc.name, where + ", which the models read").what());
  throw ScenarioError(s_.file.string(), sc.line, 0, "sysctl." + sc.name,
                      where + " (" + tap::sysctl_path(sc.name).string() + " does not exist): a typo?");
}

// `compress:` with what this kernel has: the sysctls tcp_rto_min_us (6.11) and
// tcp_rto_max_ms (6.15), else for the floor the locked route metric rto_min, which
// tcp_rto_min() has read for as long as the sysctls have not existed. Nothing lowers the
// ceiling before 6.15: the report says so, and the models take 120 s.
void Run::apply_compression() {
  if (!s_.compress) return;
  const Compression& c = *s_.compress;
  const std::string file = s_.file.string();
  std::vector<std::string> used;
  auto ms_text = [](Duration d) {
    char t[32];
    std::snprintf(t, sizeof t, "%g ms", std::chrono::duration<double, std::milli>(d).count());
    return std::string(t);
  };
  if (c.rto_min) {
    const std::string name = "net.ipv4.tcp_rto_min_us";
    const bool has_sysctl = tap::sysctl_exists(name);
    if (c.via == "sysctl" && !has_sysctl) refuse_missing_sysctl({name, "", c.line});
    if (has_sysctl && c.via != "route") {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*c.rto_min).count();
      tap::write_sysctl(name, std::to_string(us));
      facts_.sysctls[name] = std::to_string(us);
      used.push_back("rto_min " + ms_text(*c.rto_min) + " by " + name);
    } else {
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*c.rto_min);
      route_rto_min_ms_ = static_cast<std::uint32_t>(ms.count());
      used.push_back("rto_min " + ms_text(ms) + " by the route to the peer (rto_min lock, RTAX_RTO_MIN)");
    }
  }
  if (c.rto_max) {
    const std::string name = "net.ipv4.tcp_rto_max_ms";
    if (tap::sysctl_exists(name)) {
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*c.rto_max).count();
      tap::write_sysctl(name, std::to_string(ms));
      facts_.sysctls[name] = std::to_string(ms);
      used.push_back("rto_max " + ms_text(*c.rto_max) + " by " + name);
    } else {
      used.push_back("rto_max: nothing lowers it on this kernel (" + name +
                     " came in 6.15 by 1280c26228bd): the RTO doubles up to 120 s, so each backoff past " +
                     ms_text(*c.rto_max) + " takes real time, and the models take 120 s");
    }
  }
  facts_.kernel.compression = used.front();
  for (std::size_t i = 1; i < used.size(); ++i) facts_.kernel.compression += "; " + used[i];
  facts_.notes.push_back("compress (" + file + ":" + std::to_string(c.line) + "): " + facts_.kernel.compression);
}

void Run::setup() {
  check_kernel();
  const tap::PrivateNetns ns = tap::enter_private_netns();
  if (!ns.note.empty()) facts_.notes.push_back(ns.note);
  for (const auto& [name, value] : pinned_sysctls()) {
    if (!tap::sysctl_exists(name)) {
      const model::SysctlChange* c = model::sysctl_change(name);
      facts_.notes.push_back("this kernel has no " + name +
                             (c ? ", added in " + c->since.to_string() + " by " + std::string(c->commit) +
                                      "; the models take the rule before it (" + name + " = " +
                                      std::string(c->value_before) + ")"
                                : "; the models take its default"));
      continue;
    }
    try {
      tap::write_sysctl(name, value);
      facts_.sysctls[name] = value;
    } catch (const std::exception& e) {
      facts_.notes.push_back(std::string("pinned sysctl not applied: ") + e.what());
    }
  }
  apply_compression();
  net_ = std::make_unique<tap::Network>(network_config(s_, route_rto_min_ms_), [this](const tap::TapDevice& tap) {
    recorder_ = std::make_unique<tap::Recorder>(tap.name(), o_.out_dir / "capture.pcap");
  });
  facts_.kernel.tap_tx_queue_length = net_->tx_queue_length();
  for (const std::string& n : net_->notes()) facts_.notes.push_back(n);
  for (const Sysctl& sc : s_.sysctls) {
    if (!tap::sysctl_exists(sc.name)) refuse_missing_sysctl(sc);
    try {
      tap::write_sysctl(sc.name, sc.value);
    } catch (const std::exception& e) {
      throw ScenarioError(s_.file.string(), sc.line, 0, "sysctl." + sc.name, e.what());
    }
    facts_.sysctls[sc.name] = sc.value;
  }
  sampler_ = std::make_unique<Sampler>();
}

void Run::start() {
  origin_ = SteadyClock::now();
  origin_realtime_ns_ = realtime_now_ns();
  cpu_at_start_ = read_cpu_ticks();
  last_frame_ = origin_;
  host_ = std::make_unique<stack::Host>(host_config(s_, tap::Driver::now()), s_.peer.faults);
  frame_sample_timer_ = std::make_unique<asio::steady_timer>(io_);
  peer_ = std::make_unique<PeerThread>(net_->tap(), *host_, [this](const std::string& m) {
    asio::post(io_, [this, m] {
      facts_.notes.push_back("driver: " + m);
      io_.stop();
    });
  });
  // After the peer answered, the main loop drains the recorder (and samples the sockets when
  // the kernel sent something): a wake-up at most once per turn of the main loop.
  peer_->on_activity([this] {
    asio::post(io_, [this] {
      peer_->activity_seen();
      drain_recorder();
    });
  });
  peer_->start();
  if (!peer_->priority_note().empty()) facts_.notes.push_back(peer_->priority_note());
  if (!o_.command.empty()) {
    external_ = std::make_unique<ExternalClient>(io_, o_.command, o_.out_dir, o_.client_identity, [this](const std::string& line) {
      timeline_.write(since_origin(), "client", {{"event", line}});
    });
    external_->start();
  } else if (s_.client) {
    client_ = std::make_unique<Client>(io_, s_, origin_, [this](const ClientEvent& e) {
      timeline_.write(e.at, "client", client_event_json(e));
      facts_.client_events.push_back(e);
      sample("client");
    });
    client_->start();
  }
  schedule_kernel_actions();
  schedule_sampling();
  schedule_flush();
  schedule_progress();
  watch_signals();
  watch_end();
}

// A live status line on a terminal for runs longer than two seconds (stderr, so that
// stdout stays clean for --json); none with --quiet or when stderr is not a terminal.
void Run::schedule_progress() {
  if (o_.quiet || !isatty(STDERR_FILENO)) return;
  if (s_.expect.model) {
    try {
      model_progress_ = std::make_unique<ModelProgress>(diff_options(model_inputs()));
    } catch (const std::exception&) {
      // the check at the end reports it
    }
  }
  progress_timer_ = std::make_unique<asio::steady_timer>(io_);
  struct Tick {
    Run* run;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      if (SteadyClock::now() - run->origin_ >= std::chrono::seconds(2)) {
        std::string line = run->progress_line();
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
        run->progress_shown_ = true;
      }
      run->progress_timer_->expires_after(std::chrono::milliseconds(250));
      run->progress_timer_->async_wait(*this);
    }
  };
  progress_timer_->expires_after(std::chrono::milliseconds(250));
  progress_timer_->async_wait(Tick{this});
}

std::string Run::progress_line() const {
  char buf[256];
  double t = std::chrono::duration<double>(since_origin()).count();
  double limit = std::chrono::duration<double>(s_.duration).count();
  int n = std::snprintf(buf, sizeof buf, "%s: %.1f s of %.0f s, %llu frames", s_.name.c_str(), t, limit,
                        static_cast<unsigned long long>(facts_.frames));
  std::string line(buf, static_cast<std::size_t>(std::max(n, 0)));
  if (model_progress_) {
    if (facts_.before_loss) {
      const TcpInfo& i = facts_.before_loss->info;
      model_progress_->set_rtt({.srtt = std::chrono::microseconds(i.tcpi_rtt),
                                .rttvar = std::chrono::microseconds(i.tcpi_rttvar),
                                .rto = std::chrono::microseconds(i.tcpi_rto),
                                .source = "the socket's last sample before the first loss"});
    }
    std::string m = model_progress_->status(std::chrono::nanoseconds(std::stoll(realtime_now_ns())));
    if (!m.empty()) line += ", " + m;
  }
  if (last_client_sample_) {
    const SocketSample& smp = *last_client_sample_;
    line += ", socket " + smp.state;
    if (smp.timer != "off")
      line += " timer " + smp.timer + " #" + std::to_string(smp.timer_retrans) + " in " +
              std::to_string(smp.timer_expires_ms) + " ms";
  }
  if (!facts_.client_events.empty()) line += ", last: " + facts_.client_events.back().action;
  return line;
}

// SIGINT / SIGTERM: stop the client and the peer, then finish as usual, so that the
// pcap, timeline and report are complete; the report says the run was interrupted.
void Run::watch_signals() {
  signals_ = std::make_unique<asio::signal_set>(io_, SIGINT, SIGTERM);
  signals_->async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    facts_.interrupted_by = signo;
    facts_.ended_by = signo == SIGINT ? "SIGINT" : "SIGTERM";
    io_.stop();
  });
}

// The capture and timeline reach the disk at least every 100 ms, so that even after a
// SIGKILL the pcap is readable up to the frames of the last flush.
void Run::schedule_flush() {
  flush_timer_ = std::make_unique<asio::steady_timer>(io_);
  struct Tick {
    Run* run;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      if (run->recorder_) run->recorder_->flush();
      run->timeline_.flush();
      run->flush_timer_->expires_after(kFlushInterval);
      run->flush_timer_->async_wait(*this);
    }
  };
  flush_timer_->expires_after(kFlushInterval);
  flush_timer_->async_wait(Tick{this});
}

void Run::schedule_kernel_actions() {
  for (const KernelAction& a : s_.kernel_actions) {
    auto t = std::make_unique<asio::steady_timer>(io_, origin_ + steady(a.at));
    t->async_wait([this, &a](const boost::system::error_code& ec) {
      if (!ec) kernel_action(a);
    });
    action_timers_.push_back(std::move(t));
  }
}

void Run::kernel_action(const KernelAction& a) {
  nlohmann::json ev = {{"line", a.line}};
  try {
    switch (a.kind) {
      case KernelAction::Kind::kRouteDel:
      case KernelAction::Kind::kRouteAdd: {
        tap::RouteConfig r = peer_route(s_, route_rto_min_ms_);
        if (a.prefix) {
          r.destination = a.prefix->address;
          r.prefix_len = a.prefix->length;
        }
        if (a.via) r.gateway = a.via;
        ev["route"] = r.destination.to_string() + "/" + std::to_string(r.prefix_len);
        if (a.kind == KernelAction::Kind::kRouteDel) {
          ev["action"] = "route-del";
          net_->route_del(r);
        } else {
          ev["action"] = "route-add";
          net_->route_add(r);
        }
        break;
      }
      case KernelAction::Kind::kLinkDown: ev["action"] = "link-down"; net_->link_down(); break;
      case KernelAction::Kind::kLinkUp: ev["action"] = "link-up"; net_->link_up(); break;
      case KernelAction::Kind::kMtu:
        ev["action"] = "mtu";
        ev["mtu"] = a.mtu;
        net_->set_mtu(a.mtu);
        break;
      case KernelAction::Kind::kSysctl:
        ev["action"] = "sysctl";
        for (const Sysctl& sc : a.sysctls) {
          tap::write_sysctl(sc.name, sc.value);
          ev["sysctl"][sc.name] = sc.value;
        }
        break;
    }
  } catch (const std::exception& e) {
    ev["error"] = e.what();
    facts_.notes.push_back(std::string("kernel action at line ") + std::to_string(a.line) + " failed: " + e.what());
  }
  timeline_.write(since_origin(), "kernel", ev);
  facts_.kernel_actions.push_back(ev);
  sample("kernel-action");
}

void Run::schedule_sampling() {
  sample_timer_ = std::make_unique<asio::steady_timer>(io_);
  struct Tick {
    Run* run;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      run->sample("interval");
      run->sample_timer_->expires_at(run->sample_timer_->expiry() + run->o_.sample_interval);
      run->sample_timer_->async_wait(*this);
    }
  };
  sample_timer_->expires_after(o_.sample_interval);
  sample_timer_->async_wait(Tick{this});
}

void Run::take_peer_events() {
  for (stack::PeerEvent& e : peer_->take_events()) {
    Duration at = e.at - host_->config().origin;
    timeline_.write(at, "peer", peer_event_json(e));
    facts_.peer_events.push_back(std::move(e));
  }
}

void Run::sample(const char* why) {
  drain_recorder();
  Duration t = since_origin();
  take_peer_events();
  for (const SocketSample& smp : sampler_->sample()) {
    if (is_client_socket(smp)) {
      last_client_sample_ = smp;
      if (s_.expect.socket_at && t <= s_.expect.socket_at->value) {
        facts_.socket_at = smp;
        facts_.socket_at_t = t;
      }
      // The RTO and RTT the kernel had when the first loss happened: the model's inputs.
      const TcpInfo& i = smp.info;
      if (smp.has_info && i.tcpi_rtt > 0 && i.tcpi_total_retrans == 0 && i.tcpi_backoff == 0 &&
          i.tcpi_probes == 0 && smp.timer != "persist") {
        facts_.before_loss = smp;
        facts_.before_loss_t = t;
      }
      if (smp.has_info && smp.timer == "persist" && !facts_.persist_armed) {
        facts_.persist_armed = smp;
        facts_.persist_armed_t = t;
      }
    }
    nlohmann::json j = to_json(smp);
    j["why"] = why;
    timeline_.write(t, "socket", j);
  }
}

void Run::sample_after_frames() {
  frame_sample_pending_ = false;
  last_frame_sample_ = SteadyClock::now();
  sample("frame");
}

void Run::watch_end() {
  end_timer_ = std::make_unique<asio::steady_timer>(io_);
  struct Check {
    Run* run;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      run->drain_recorder();
      auto now = SteadyClock::now();
      bool client_done = run->client_ ? run->client_->done()
                         : run->external_ ? run->external_->done()
                                           : true;
      bool settled = now - run->last_frame_ >= steady(run->s_.settle);
      if (now - run->origin_ >= steady(run->s_.duration) || (client_done && settled)) {
        run->facts_.ended_by = client_done && settled ? "settled" : "duration";
        run->facts_.duration_reached = !(client_done && settled);
        run->io_.stop();
        return;
      }
      run->end_timer_->expires_after(std::chrono::milliseconds(10));
      run->end_timer_->async_wait(*this);
    }
  };
  end_timer_->expires_after(std::chrono::milliseconds(10));
  end_timer_->async_wait(Check{this});
}

// The recorder is drained on the main loop: its callbacks (the frame count, the status line's
// model, frame-triggered sampling) never delay the peer.
//
// It is drained when the peer's thread has answered (PeerThread::on_activity(), so frame-
// triggered samples come within the main loop's turn, as they did when sampling ran on the
// peer's thread), before every socket sample (after each client event, each kernel action and
// every sample interval) and on the end check's 10 ms tick, so at least every 10 ms: the
// socket's 8 MiB buffer holds far more than that at any rate a run reaches. (Draining on an
// Asio async_wait for the packet socket on this loop saw one readiness edge and then none: in a
// 10,000-exchange run the recorder was drained at the end only and its buffer overflowed.)
void Run::drain_recorder() {
  if (!recorder_ || recorder_->fd() < 0 || recorder_failed_) return;
  try {
    recorder_->drain([this](const tap::RecordedFrame& f) { on_recorded(f); });
  } catch (const std::exception& e) {
    recorder_failed_ = true;
    facts_.notes.push_back(std::string("recording: ") + e.what());
    io_.stop();
  }
}

// A frame the kernel sent, as the recorder saw it. The peer answers it on its own thread;
// the socket is sampled here, at most once per kFrameSampleSpacing, and always once after
// the last frame of a burst (trailing edge), so the socket's state before any quiet period
// (the one before a loss) is recorded.
void Run::on_kernel_frame() {
  last_frame_ = SteadyClock::now();
  if (frame_sample_pending_) return;
  frame_sample_pending_ = true;
  const SteadyClock::time_point due = last_frame_sample_ + kFrameSampleSpacing;
  if (last_frame_ >= due) {
    asio::post(io_, [this] { sample_after_frames(); });
  } else {
    frame_sample_timer_->expires_at(due);
    frame_sample_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) sample_after_frames();
    });
  }
}

void Run::on_recorded(const tap::RecordedFrame& f) {
  ++facts_.frames;
  if (model_progress_) model_progress_->add_frame(f.bytes, f.kernel_time);
  if (!f.outgoing) return;
  on_kernel_frame();
  auto d = stack::decode_frame(f.bytes);
  if (auto* df = std::get_if<stack::DecodedFrame>(&d)) {
    if (auto* seg = std::get_if<stack::DecodedTcp>(&df->body)) {
      if (seg->tcp.has(stack::tcp_flags::kRst)) {
        facts_.kernel_rsts.push_back(f.index);
      }
    }
  }
}

// The built-in client's socket is the one on its local port; an external client's, the
// first one connected to one of the peer's ports (the namespace holds nothing else).
bool Run::is_client_socket(const SocketSample& smp) const {
  if (client_) return smp.local_port == s_.client->local_port;
  if (!external_ || smp.state == "LISTEN") return false;
  if (last_client_sample_ && last_client_sample_->local_port != smp.local_port) return false;
  return std::find(s_.peer.ports.begin(), s_.peer.ports.end(), smp.remote_port) != s_.peer.ports.end();
}

std::optional<SocketSample> Run::final_socket() {
  // The socket as the sampler saw it last while it still existed; if it is gone from
  // sock_diag (CLOSE), TCP_INFO straight from the descriptor. finish() calls this before
  // it stops an external client, whose socket would close with it.
  for (const SocketSample& smp : sampler_->sample())
    if (is_client_socket(smp)) return smp;
  if (client_ && client_->fd() >= 0) return sample_from_fd(client_->fd(), s_);
  return last_client_sample_;
}

void Run::finish() {
  if (progress_shown_) std::fprintf(stderr, "\r\033[K");
  sample("end");
  facts_.final_socket = final_socket();
  if (client_) {
    client_->collect_pending_error();
    facts_.outcome = client_->outcome();
    client_->stop();
  }
  if (external_) {
    external_->stop();
    facts_.external = external_->result();
  }
  peer_->stop();
  take_peer_events();
  facts_.peer_event_drops = peer_->dropped_events();
  if (recorder_) {
    recorder_->drain([this](const tap::RecordedFrame& f) { on_recorded(f); });
    facts_.recorder_drops = recorder_->kernel_drops();
    facts_.missing_timestamps = recorder_->stats().missing_timestamps;
    recorder_->close();
  }
  try {
    facts_.tap_queue_drops = net_->tx_dropped();
  } catch (const std::exception& e) {
    facts_.notes.push_back(std::string("could not read the TAP's drop count: ") + e.what());
  }
  facts_.peer_stats = host_->stats();
  facts_.connections = host_->connections();
  facts_.origin_realtime_ns = origin_realtime_ns_;
  facts_.duration = since_origin();
  const CpuTicks now = read_cpu_ticks();
  facts_.cpu = {now.steal - cpu_at_start_.steal, now.total - cpu_at_start_.total};
  measure_hz();
}

// HZ from the jiffies counter over the whole run (set-up included): at least a
// quarter second, so that one tick is within 4% at HZ=100 (nearest_hz() allows 5%).
void Run::measure_hz() {
  const auto jiffies = tap::read_jiffies();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - setup_started_).count();
  if (!jiffies || !jiffies_at_setup_ || seconds < 0.25) return;
  facts_.kernel.ticks_per_second = static_cast<double>(*jiffies - *jiffies_at_setup_) / seconds;
  facts_.kernel.hz = model::nearest_hz(*facts_.kernel.ticks_per_second);
}

// expect.model: the run's capture against the kernel's timer model, with the parameters
// read back from this namespace, the client's socket options and its TCP_INFO before loss.
// What the model check needs that the run knows (the namespace's sysctls as they are
// now, the client's socket options, TCP_INFO before the first loss, the outcome).
ModelRunInputs Run::model_inputs() const {
  const ModelExpectation& m = *s_.expect.model;
  ModelRunInputs in;
  in.model = to_model_kind(m.kind);
  in.kernel = facts_.kernel.version;
  if (route_rto_min_ms_) in.route_rto_min = std::chrono::milliseconds(*route_rto_min_ms_);
  if (facts_.kernel.hz) in.hz = *facts_.kernel.hz;
  for (const std::string& name : known_sysctls()) {
    try {
      in.sysctls[name] = tap::read_sysctl(name);
    } catch (const std::exception&) {
      // not on this kernel: the model uses its default
    }
  }
  if (s_.client)
    for (const SocketOption& o : s_.client->socket_options)
      if (const int* v = std::get_if<int>(&o.value)) in.socket_options[o.name] = *v;
  // The socket's RTT state when the model's timer was armed, as the timeline has it.
  const bool persist = m.kind == ModelExpectation::Kind::kPersist && facts_.persist_armed;
  const std::optional<SocketSample>& armed = persist ? facts_.persist_armed : facts_.before_loss;
  if (armed) {
    const TcpInfo& i = armed->info;
    in.rto = std::chrono::microseconds(i.tcpi_rto);
    in.rtt = std::chrono::microseconds(i.tcpi_rtt);
    in.rttvar = std::chrono::microseconds(i.tcpi_rttvar);
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", std::chrono::duration<double>(persist ? facts_.persist_armed_t
                                                                               : facts_.before_loss_t).count());
    in.rtt_source = std::string(persist ? "the socket's first sample with the persist timer armed"
                                        : "the socket's last sample before the first loss") +
                    " (timeline.jsonl t = " + t + " s)";
  }
  // What an external client's calls returned is its own: the model gives up unchecked.
  if (s_.client) in.final_errno = facts_.outcome.final_error;
  if (facts_.outcome.final_error_at)
    in.final_error_time = std::chrono::nanoseconds(std::stoll(origin_realtime_ns_)) + *facts_.outcome.final_error_at;
  in.kernel_rst = !facts_.kernel_rsts.empty();
  if (s_.client) in.client_port = s_.client->local_port;
  else if (last_client_sample_) in.client_port = last_client_sample_->local_port;
  in.tolerance = m.tolerance;
  if (m.events) in.expected_events = static_cast<int>(*m.events);
  return in;
}

void Run::check_model() {
  try {
    facts_.model_diff = diff_run(o_.out_dir / "capture.pcap", model_inputs());
  } catch (const std::exception& e) {
    facts_.model_error = e.what();
  }
}

RunResult Run::execute() {
  setup();
  start();
  io_.run();
  finish();
  if (s_.expect.model && !facts_.interrupted_by) check_model();
  if (signals_) signals_->cancel();
  RunResult r = evaluate(s_, facts_);
  r.capture = o_.out_dir / "capture.pcap";
  r.timeline = o_.out_dir / "timeline.jsonl";
  std::ofstream(o_.out_dir / "report.json") << r.report.dump(2) << "\n";
  // A picture of every run (timeline.svg); a plot that fails is noted, never fatal.
  std::ostringstream plot_err;
  if (plot_run(o_.out_dir, plot_err) != 0) r.report["notes"].push_back("plot: " + plot_err.str());
  return r;
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  std::filesystem::create_directories(options.out_dir);
  Run run(scenario, options);
  return run.execute();
}

}  // namespace tapfault::replay
