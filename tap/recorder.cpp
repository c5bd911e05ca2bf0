// tap::Recorder: AF_PACKET capture on the TAP, into a nanosecond pcap (tap/pcap_writer.cpp).
//
// Read first: packet(7) for sll_pkttype and PACKET_STATISTICS, socket(7) for
// SO_TIMESTAMPNS. The socket is created with protocol 0 (it receives nothing) and only
// starts capturing at bind(), so no frame of another interface slips in between.
#include "tapfault/tap/recorder.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "pcap_writer.hpp"
#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

// Large enough that a burst (a full congestion window plus the peer's replies) waits in
// the socket while the driver is busy; SO_RCVBUFFORCE ignores rmem_max when we may.
constexpr int kReceiveBufferBytes = 8 << 20;

[[noreturn]] void throw_socket_error(const std::string& what, int err) {
  std::string text = what + ": " + std::strerror(err);
  if (err == EPERM || err == EACCES) {
    throw EnvironmentError(text + "; capturing on the TAP needs CAP_NET_RAW: run as root or "
                                  "call enter_private_netns() first");
  }
  throw SetupError(text);
}

int open_packet_socket(const std::string& ifname) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_socket_error("cannot open an AF_PACKET socket to record " + ifname, errno);
  return fd;
}

void configure_and_bind(int fd, const std::string& ifname) {
  const unsigned index = ::if_nametoindex(ifname.c_str());
  if (index == 0) throw_socket_error("cannot record " + ifname + ": no such interface", errno);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
    throw_socket_error("cannot enable SO_TIMESTAMPNS on the recorder of " + ifname, errno);
  }
  const int size = kReceiveBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);  // best effort
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(index);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_socket_error("cannot bind the recorder to " + ifname, errno);
  }
  // Bound while the link is down, the socket holds a pending ENETDOWN: clear it.
  int pending = 0;
  socklen_t length = sizeof pending;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length);
}

std::chrono::nanoseconds realtime_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

// The SCM_TIMESTAMPNS of a received message, if the kernel attached one.
bool find_timestamp(msghdr& message, std::chrono::nanoseconds& out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec stamp{};
      std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      out = std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec);
      return true;
    }
  }
  return false;
}

}  // namespace

// Up to kFrames frames per recvmmsg(), each into a slot of kSnapLength bytes. The slots are
// allocated uninitialised, so only the pages frames have filled count against the process
// (a few KiB per slot at MTU 1500).
struct Recorder::Batch {
  static constexpr std::size_t kFrames = 32;
  static constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(timespec)) * 4;

  Batch() : slots(new std::uint8_t[kFrames * kSnapLength]) {}

  // Points every message at its slot again (recvmmsg() overwrites the lengths).
  void reset() {
    for (std::size_t i = 0; i < kFrames; ++i) {
      chunks[i] = {slots.get() + i * kSnapLength, kSnapLength};
      from[i] = {};
      messages[i] = {};
      msghdr& m = messages[i].msg_hdr;
      m.msg_name = &from[i];
      m.msg_namelen = sizeof from[i];
      m.msg_iov = &chunks[i];
      m.msg_iovlen = 1;
      m.msg_control = control[i];
      m.msg_controllen = kControlBytes;
    }
  }

  std::unique_ptr<std::uint8_t[]> slots;
  iovec chunks[kFrames];
  sockaddr_ll from[kFrames];
  alignas(cmsghdr) std::uint8_t control[kFrames][kControlBytes];
  mmsghdr messages[kFrames];
  std::chrono::nanoseconds times[kFrames];  // each frame's kernel time stamp
  std::uint8_t order[kFrames];              // the frames by time stamp
};

Recorder::Recorder(std::string ifname, std::filesystem::path pcap_path)
    : ifname_(std::move(ifname)), pcap_path_(std::move(pcap_path)), batch_(std::make_unique<Batch>()) {
  fd_ = open_packet_socket(ifname_);
  try {
    configure_and_bind(fd_, ifname_);
    writer_ = std::make_unique<PcapWriter>(pcap_path_, static_cast<std::uint32_t>(kSnapLength));
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

Recorder::~Recorder() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; call close() first to see the error.
  }
}

std::size_t Recorder::drain(const FrameCallback& callback) {
  std::size_t frames = 0;
  Batch& b = *batch_;
  while (fd_ >= 0) {
    b.reset();
    // With MSG_TRUNC a packet socket gives each frame's real length.
    const int received = ::recvmmsg(fd_, b.messages, Batch::kFrames, MSG_TRUNC, nullptr);
    if (received < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      if (errno == ENETDOWN) {  // the link went down; the socket resumes at link up
        ++stats_.link_down_events;
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "recording " + ifname_);
    }
    for (int i = 0; i < received; ++i) {
      if (!find_timestamp(b.messages[i].msg_hdr, b.times[i])) {
        ++stats_.missing_timestamps;
        b.times[i] = realtime_now();
      }
      b.order[i] = static_cast<std::uint8_t>(i);
    }
    // In time-stamp order. A frame the peer writes is stamped on the peer's CPU as the TAP
    // hands it to the stack, one the kernel sends on the sender's CPU, and each is queued to
    // this socket a little later: a frame stamped 256 ns after another was seen queued before
    // it (an echo run). Both are in the socket by the time the driver drains it, so sorting
    // each batch puts them back in order; the pcap, the frame numbers and the callbacks agree.
    std::stable_sort(b.order, b.order + received,
                     [&b](std::uint8_t x, std::uint8_t y) { return b.times[x] < b.times[y]; });
    for (int k = 0; k < received; ++k) {
      const std::size_t i = b.order[k];
      const std::size_t wire_length = b.messages[i].msg_len;
      record({b.slots.get() + i * kSnapLength, std::min(wire_length, kSnapLength)}, wire_length,
             b.from[i].sll_pkttype == PACKET_OUTGOING, b.times[i], callback);
    }
    frames += static_cast<std::size_t>(received);
  }
  return frames;
}

void Recorder::record(std::span<const std::uint8_t> captured, std::size_t length, bool outgoing,
                      std::chrono::nanoseconds kernel_time, const FrameCallback& callback) {
  ++stats_.frames;
  if (outgoing) ++stats_.outgoing;
  if (captured.size() < length) ++stats_.truncated;
  writer_->append(kernel_time, captured, length);
  if (callback) callback(RecordedFrame{kernel_time, outgoing, captured, stats_.frames, length});
}

void Recorder::flush() {
  if (writer_) writer_->flush();
}

std::uint64_t Recorder::kernel_drops() {
  if (fd_ >= 0) {
    tpacket_stats counters{};
    socklen_t length = sizeof counters;
    // The kernel resets its counters on every read: accumulate.
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &counters, &length) == 0) {
      kernel_drops_ += counters.tp_drops;
    }
  }
  return kernel_drops_;
}

void Recorder::close() {
  if (fd_ < 0) return;
  struct Release {
    Recorder& self;
    ~Release() {
      self.kernel_drops();
      ::close(self.fd_);
      self.fd_ = -1;
      self.writer_.reset();  // writes what is left if close() below did not get to it
    }
  } release{*this};
  drain();
  writer_->close();
}

}  // namespace tapfault::tap
