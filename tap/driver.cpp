// tap::Driver: readiness waits on the TAP and recorder fds plus one timer, on Asio.
//
// Read first: include/tapfault/stack/host.hpp (the poll/next_deadline contract). The
// waits use async_wait rather than async_read_some so that one wakeup drains every
// ready frame with plain non-blocking reads into a buffer reused for the whole run.
#include "tapfault/tap/driver.hpp"

#include <cerrno>
#include <cstring>
#include <exception>

namespace tapfault::tap {
namespace {

// The largest frame a TAP can carry: MTU 65535 plus an Ethernet header and a VLAN tag.
constexpr std::size_t kReadBufferBytes = 65535 + 14 + 4;

// A write error that means the fd itself is unusable (as opposed to a frame refused).
bool is_fatal_write_errno(int err) { return err == EBADF || err == EBADFD || err == EFAULT; }

}  // namespace

Driver::Driver(boost::asio::io_context& io, TapDevice& tap, stack::Host& host,
               Recorder* recorder)
    : tap_(tap),
      host_(host),
      recorder_(recorder),
      tap_descriptor_(io, tap.fd()),
      timer_(io),
      read_buffer_(kReadBufferBytes) {
  if (recorder_ != nullptr && recorder_->fd() >= 0) {
    recorder_descriptor_.emplace(io, recorder_->fd());
  }
}

Driver::~Driver() {
  stop();
  // The fds belong to TapDevice and Recorder: take them back from Asio without closing.
  boost::system::error_code ignored;
  tap_descriptor_.release();
  if (recorder_descriptor_) recorder_descriptor_->release();
  timer_.cancel(ignored);
}

stack::Instant Driver::now() {
  return stack::Instant(std::chrono::duration_cast<stack::Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

std::chrono::steady_clock::time_point Driver::to_steady(stack::Instant instant) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          instant.time_since_epoch()));
}

void Driver::start() {
  if (running_) return;
  running_ = true;
  error_.reset();
  // Read once at once rather than wait: frames queued before start() produced their
  // readiness edge already.
  boost::asio::post(tap_descriptor_.get_executor(),
                    [this] { on_tap_readable(boost::system::error_code()); });
  if (recorder_descriptor_) {
    boost::asio::post(recorder_descriptor_->get_executor(),
                      [this] { on_recorder_readable(boost::system::error_code()); });
  }
}

void Driver::stop() {
  if (!running_) return;
  running_ = false;
  boost::system::error_code ignored;
  tap_descriptor_.cancel(ignored);
  if (recorder_descriptor_) recorder_descriptor_->cancel(ignored);
  timer_.cancel(ignored);
  armed_deadline_.reset();
  ++timer_generation_;
}

void Driver::fail(const std::string& message) {
  if (error_) return;
  error_ = message;
  stop();
  if (error_handler_) error_handler_(message);
}

void Driver::wait_tap() {
  tap_descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                               on_tap_readable(ec);
                             });
}

void Driver::wait_recorder() {
  recorder_descriptor_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                   [this](const boost::system::error_code& ec) {
                                     on_recorder_readable(ec);
                                   });
}

void Driver::on_tap_readable(const boost::system::error_code& ec) {
  if (!running_ || ec == boost::asio::error::operation_aborted) return;
  if (ec) return fail("waiting for frames on " + tap_.name() + ": " + ec.message());
  ++stats_.tap_wakeups;
  try {
    if (!read_frames()) return;
    host_.poll(now());
    write_output();
    rearm_timer();
  } catch (const std::exception& e) {
    return fail("handling frames from " + tap_.name() + ": " + e.what());
  }
  if (running_) wait_tap();
}

bool Driver::read_frames() {
  while (running_) {
    const ssize_t length = tap_.read(read_buffer_);
    if (length < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      fail("reading from " + tap_.name() + ": " + std::strerror(errno));
      return false;
    }
    if (length == 0) return true;
    ++stats_.frames_read;
    const std::span<const std::uint8_t> frame(read_buffer_.data(),
                                              static_cast<std::size_t>(length));
    const stack::Instant at = now();
    if (kernel_frame_hook_) kernel_frame_hook_(frame, at);
    host_.on_frame(frame, at);
  }
  return false;
}

// The frames are written from the host's own buffers, which it reuses for the next ones.
void Driver::write_output() {
  for (const stack::Frame& frame : host_.pending_output()) {
    if (tap_.write(frame) >= 0) {
      ++stats_.frames_written;
      continue;
    }
    const int err = errno;
    ++stats_.write_failures;
    stats_.last_write_errno = err;
    if (is_fatal_write_errno(err)) {
      fail("writing to " + tap_.name() + ": " + std::strerror(err));
      break;
    }
  }
  host_.clear_output();
  if (polled_hook_) polled_hook_();
}

void Driver::rearm_timer() {
  if (!running_) return;
  const std::optional<stack::Instant> deadline = host_.next_deadline();
  if (deadline == armed_deadline_) return;
  armed_deadline_ = deadline;
  const std::uint64_t generation = ++timer_generation_;
  if (!deadline) {
    boost::system::error_code ignored;
    timer_.cancel(ignored);
    return;
  }
  ++stats_.timer_rearms;
  timer_.expires_at(to_steady(*deadline));  // also cancels the previous wait
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    on_timer(ec, generation);
  });
}

void Driver::on_timer(const boost::system::error_code& ec, std::uint64_t generation) {
  if (!running_ || ec == boost::asio::error::operation_aborted) return;
  if (generation != timer_generation_) return;  // fired just before being superseded
  if (ec) return fail("waiting for the peer's deadline: " + ec.message());
  armed_deadline_.reset();
  ++stats_.timer_wakeups;
  try {
    host_.poll(now());
    write_output();
    rearm_timer();
  } catch (const std::exception& e) {
    fail(std::string("polling the peer: ") + e.what());
  }
}

void Driver::on_recorder_readable(const boost::system::error_code& ec) {
  if (!running_ || ec == boost::asio::error::operation_aborted) return;
  if (ec) return fail("waiting for frames to record: " + ec.message());
  ++stats_.recorder_wakeups;
  try {
    recorder_->drain(recorded_hook_);
  } catch (const std::exception& e) {
    return fail(std::string("recording: ") + e.what());
  }
  if (running_) wait_recorder();
}

void Driver::kick() {
  ++stats_.kicks;
  try {
    host_.poll(now());
    write_output();
    rearm_timer();
  } catch (const std::exception& e) {
    fail(std::string("polling the peer: ") + e.what());
  }
}

}  // namespace tapfault::tap
