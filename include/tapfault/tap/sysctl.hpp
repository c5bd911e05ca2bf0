// tap::write_sysctl / read_sysctl: the network sysctls of the calling process's namespace.
//
// /proc/sys/net/ shows the network namespace of the thread that opens it, so after
// enter_private_netns() these calls pin a run's TCP parameters without touching the
// host. Names outside `net.` are refused (std::invalid_argument) before any file is
// opened: tapfault never writes kernel-wide settings.
#pragma once

#include <filesystem>
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

}  // namespace tapfault::tap
