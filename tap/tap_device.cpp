// tap::TapDevice: /dev/net/tun with TUNSETIFF (IFF_TAP | IFF_NO_PI); see the kernel's
// Documentation/networking/tuntap.rst.
#include "tapfault/tap/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

constexpr const char* kTunPath = "/dev/net/tun";

int open_tun() {
  int fd = ::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) return fd;
  const int err = errno;
  const std::string reason = std::string("cannot open ") + kTunPath + ": " + std::strerror(err);
  if (err == ENOENT || err == ENODEV || err == ENXIO) {
    throw EnvironmentError(reason +
                           "; load the tun module (modprobe tun) or, in a container, pass the "
                           "device through (--device /dev/net/tun)");
  }
  if (err == EACCES || err == EPERM) {
    throw EnvironmentError(reason +
                           "; run as root or make /dev/net/tun accessible, and grant "
                           "CAP_NET_ADMIN");
  }
  throw SetupError(reason);
}

// Returns the kernel's name for the interface (it expands a "%d" pattern).
std::string attach(int fd, const std::string& name) {
  ifreq request{};
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(request.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &request) == 0) return std::string(request.ifr_name);
  const int err = errno;
  const std::string reason =
      "cannot create TAP device " + name + ": ioctl(TUNSETIFF) failed: " + std::strerror(err);
  if (err == EPERM || err == EACCES) {
    throw EnvironmentError(reason +
                           "; CAP_NET_ADMIN over the network namespace is needed: run as root "
                           "or call enter_private_netns() first");
  }
  throw SetupError(reason);
}

}  // namespace

TapDevice::TapDevice(std::string name) : name_(std::move(name)) {
  if (name_.empty() || name_.size() >= IFNAMSIZ) {
    throw std::invalid_argument("invalid TAP device name '" + name_ + "': 1 to " +
                                std::to_string(IFNAMSIZ - 1) + " characters");
  }
  fd_ = open_tun();
  try {
    name_ = attach(fd_, name_);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

TapDevice::~TapDevice() {
  if (fd_ >= 0) ::close(fd_);
}

TapDevice::TapDevice(TapDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), name_(std::move(other.name_)) {}

TapDevice& TapDevice::operator=(TapDevice&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
  }
  return *this;
}

ssize_t TapDevice::read(std::span<std::uint8_t> buffer) {
  return ::read(fd_, buffer.data(), buffer.size());
}

ssize_t TapDevice::write(std::span<const std::uint8_t> frame) {
  return ::write(fd_, frame.data(), frame.size());
}

}  // namespace tapfault::tap
