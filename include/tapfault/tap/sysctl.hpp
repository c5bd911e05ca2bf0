// tap::write_sysctl / read_sysctl: the network sysctls of the calling process's namespace.
//
// /proc/sys/net/ shows the network namespace of the thread that opens it, so after
// enter_private_netns() these calls pin a run's TCP parameters without touching the
// host. Names outside `net.` are refused (std::invalid_argument) before any file is
// opened: tapfault never writes kernel-wide settings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tapfault::tap {

// "net.ipv4.tcp_retries2" -> "/proc/sys/net/ipv4/tcp_retries2". Throws
// std::invalid_argument unless the name starts with "net." and every dot-separated
// component is non-empty, is not "." or "..", and holds no '/' or NUL.
std::filesystem::path sysctl_path(std::string_view name);

// Throws std::invalid_argument for a bad name, SetupError naming the sysctl, the value
// and the errno text when the kernel refuses.
void write_sysctl(std::string_view name, std::string_view value);

// The value with its trailing newline removed.
std::string read_sysctl(std::string_view name);

// Whether the running kernel has this sysctl in the calling thread's namespace (older
// kernels lack some: tcp_rto_max_ms came in 6.15). Throws std::invalid_argument for a bad name.
bool sysctl_exists(std::string_view name);

// uname(2)'s release, e.g. "6.1.0-50-cloud-amd64".
std::string kernel_release();

// The kernel's jiffies counter as /proc/timer_list shows it; nullopt where that file is
// missing or unreadable. Two readings over a known interval give HZ.
std::optional<std::uint64_t> read_jiffies();

}  // namespace tapfault::tap
