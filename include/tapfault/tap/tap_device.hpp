// tap::TapDevice: one TAP interface (Ethernet frames, no packet-info header) and its fd.
//
// The interface exists while the fd is open: closing it (the destructor) removes the
// interface from the namespace. Reads and writes are non-blocking and move exactly one
// frame each; tap::Driver waits for readiness with Asio.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

namespace tapfault::tap {

class TapDevice {
 public:
  // Opens /dev/net/tun and attaches to (creating if needed) the TAP called `name`.
  // Throws std::invalid_argument for a name that does not fit IFNAMSIZ,
  // EnvironmentError when /dev/net/tun is missing or CAP_NET_ADMIN is lacking,
  // SetupError otherwise.
  explicit TapDevice(std::string name = "tf0");
  ~TapDevice();
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;
  TapDevice(TapDevice&& other) noexcept;
  TapDevice& operator=(TapDevice&& other) noexcept;

  int fd() const { return fd_; }
  // The kernel's name for the interface (the one asked for, or the expansion of "tf%d").
  const std::string& name() const { return name_; }

  // One frame from the kernel into `buffer`: its length (truncated to the buffer),
  // or -1 with errno set (EAGAIN when no frame is ready).
  ssize_t read(std::span<std::uint8_t> buffer);
  // One frame to the kernel: the bytes written, or -1 with errno set (EIO while the
  // link is down).
  ssize_t write(std::span<const std::uint8_t> frame);

 private:
  int fd_ = -1;
  std::string name_;
};

}  // namespace tapfault::tap
