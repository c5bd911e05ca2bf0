// PeerThread: tap::Driver on an io_context and a thread of their own (peer_thread.hpp).
#include "peer_thread.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace tapfault::replay {

PeerThread::PeerThread(tap::TapDevice& tap, stack::Host& host, ErrorSink on_error)
    : host_(host), driver_(io_, tap, host), on_error_(std::move(on_error)) {
  driver_.on_polled([this] {
    hand_over_events();
    if (on_activity_ && !activity_pending_.exchange(true, std::memory_order_acq_rel)) on_activity_();
  });
  driver_.on_error([this](const std::string& m) {
    if (on_error_) on_error_(m);
  });
}

PeerThread::~PeerThread() { stop(); }

void PeerThread::start() {
  if (thread_.joinable()) return;
  driver_.start();  // posts the first reads: io_ has work before the thread runs it
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "tf-peer");
    io_.run();
  });
  // The lowest real-time priority: above every ordinary thread, so that a CPU-bound process
  // (or the run's own main loop) cannot hold the peer's answer back for a time slice (a few
  // ms under CFS). The kernel's real-time throttling (sched_rt_runtime_us) still leaves the
  // others 5% should the peer ever spin.
  sched_param param{};
  param.sched_priority = 1;
  if (int err = ::pthread_setschedparam(thread_.native_handle(), SCHED_FIFO, &param); err != 0)
    priority_note_ = std::string("the peer's thread runs at normal priority (SCHED_FIFO refused: ") +
                     std::strerror(err) + "): a busy CPU can delay its answers";
}

void PeerThread::stop() {
  if (!thread_.joinable()) return;
  // Stopped from its own thread (Asio's objects are not thread-safe); once the cancelled
  // waits have run, io_ is out of work and run() returns.
  boost::asio::post(io_, [this] { driver_.stop(); });
  thread_.join();
  hand_over_events();
}

void PeerThread::hand_over_events() {
  std::vector<stack::PeerEvent> events = host_.take_events();
  if (events.empty()) return;
  std::lock_guard lock(mutex_);
  for (stack::PeerEvent& e : events) {
    if (queue_.size() >= kEventQueueLimit) {
      ++dropped_;
      continue;
    }
    queue_.push_back(std::move(e));
  }
}

std::vector<stack::PeerEvent> PeerThread::take_events() {
  std::vector<stack::PeerEvent> out;
  std::lock_guard lock(mutex_);
  out.swap(queue_);
  return out;
}

std::uint64_t PeerThread::dropped_events() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace tapfault::replay
