// bench::PeerLoop: the peer's io_context on its own thread (see peer_loop.hpp).
#include "peer_loop.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>

namespace tapfault::bench {
namespace {

std::uint64_t to_ns(const timeval& tv) {
  return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(tv.tv_usec) * 1'000ULL;
}

}  // namespace

PeerLoop::PeerLoop(tap::TapDevice& tap, stack::HostConfig config, tap::Recorder* recorder)
    : host_(std::make_unique<stack::Host>(std::move(config))),
      recorder_(recorder),
      driver_(std::make_unique<tap::Driver>(io_, tap, *host_, recorder)),
      event_timer_(io_) {
  driver_->on_error([this](const std::string& message) {
    std::lock_guard lock(error_mutex_);
    error_ = message;
  });
  driver_->start();
  schedule_event_drain();
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "tf-peer");  // what perf and top show
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

PeerLoop::~PeerLoop() {
  boost::asio::post(io_, [this] {
    driver_->stop();
    event_timer_.cancel();
    io_.stop();
  });
  thread_.join();
  // The Driver's handlers may still hold references: destroy it before the io_context.
  driver_.reset();
}

void PeerLoop::schedule_event_drain() {
  event_timer_.expires_after(std::chrono::milliseconds(50));
  event_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    host_->take_events();
    schedule_event_drain();
  });
}

PeerSample PeerLoop::sample() {
  return call([this] {
    PeerSample s;
    const tap::DriverStats& d = driver_->stats();
    s.frames_read = d.frames_read;
    s.frames_written = d.frames_written;
    s.tap_wakeups = d.tap_wakeups;
    timespec cpu{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    s.thread_cpu_ns = static_cast<std::uint64_t>(cpu.tv_sec) * 1'000'000'000ULL +
                      static_cast<std::uint64_t>(cpu.tv_nsec);
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    s.user_ns = to_ns(usage.ru_utime);
    s.system_ns = to_ns(usage.ru_stime);
    s.connections = host_->stats().connections_accepted;
    return s;
  });
}

PeerLoop::RecorderFigures PeerLoop::recorder_figures() {
  return call([this] {
    RecorderFigures f;
    if (recorder_ == nullptr) return f;
    recorder_->drain();
    f.stats = recorder_->stats();
    f.kernel_drops = recorder_->kernel_drops();
    return f;
  });
}

std::string PeerLoop::error() const {
  std::lock_guard lock(error_mutex_);
  return error_;
}

}  // namespace tapfault::bench
