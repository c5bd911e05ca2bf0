// tap::write_sysctl / read_sysctl: plain reads and writes under /proc/sys/net/.
#include "tapfault/tap/sysctl.hpp"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

constexpr std::string_view kAllowedPrefix = "net.";

void check_component(std::string_view name, std::string_view component) {
  if (component.empty() || component == "." || component == ".." ||
      component.find('/') != std::string_view::npos ||
      component.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("invalid sysctl name '" + std::string(name) +
                                "': empty or unsafe component '" + std::string(component) +
                                "'");
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::filesystem::path sysctl_path(std::string_view name) {
  if (!name.starts_with(kAllowedPrefix)) {
    throw std::invalid_argument("refusing sysctl '" + std::string(name) +
                                "': tapfault only touches net.* sysctls of its own namespace");
  }
  std::filesystem::path path = "/proc/sys";
  std::string_view rest = name;
  while (true) {
    std::size_t dot = rest.find('.');
    std::string_view component = rest.substr(0, dot);
    check_component(name, component);
    path /= std::string(component);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return path;
}

void write_sysctl(std::string_view name, std::string_view value) {
  const std::filesystem::path path = sysctl_path(name);
  const std::string what = "cannot set sysctl " + std::string(name) + " = '" +
                           std::string(value) + "' (" + path.string() + ")";
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) throw SetupError(what + ": " + std::strerror(errno));
  ssize_t written = ::write(fd.get(), value.data(), value.size());
  if (written < 0) throw SetupError(what + ": " + std::strerror(errno));
  if (static_cast<std::size_t>(written) != value.size()) {
    throw SetupError(what + ": short write (" + std::to_string(written) + " of " +
                     std::to_string(value.size()) + " bytes)");
  }
}

std::string read_sysctl(std::string_view name) {
  const std::filesystem::path path = sysctl_path(name);
  const std::string what = "cannot read sysctl " + std::string(name) + " (" + path.string() + ")";
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw SetupError(what + ": " + std::strerror(errno));
  std::string value;
  std::array<char, 4096> buffer{};
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SetupError(what + ": " + std::strerror(errno));
    if (n == 0) break;
    value.append(buffer.data(), static_cast<std::size_t>(n));
  }
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

bool sysctl_exists(std::string_view name) {
  std::error_code ec;
  return std::filesystem::exists(sysctl_path(name), ec);
}

std::string kernel_release() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

std::optional<std::uint64_t> read_jiffies() {
  std::ifstream in("/proc/timer_list");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("jiffies: ")) {
      try {
        return std::stoull(line.substr(9));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  return std::nullopt;
}

}  // namespace tapfault::tap
