// Kernel versions, ranges, and the sysctls that older kernels lack (see kernel.hpp).
#include "tapfault/replay/model/kernel.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tapfault::replay::model {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Reads digits at the front of `s`, removing them; nullopt when there are none.
std::optional<int> take_number(std::string_view& s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return v;
}

}  // namespace

std::optional<KernelVersion> KernelVersion::parse(std::string_view release) {
  std::string_view s = trim(release);
  auto major = take_number(s);
  if (!major || s.empty() || s.front() != '.') return std::nullopt;
  s.remove_prefix(1);
  auto minor = take_number(s);
  if (!minor) return std::nullopt;
  return KernelVersion{*major, *minor};
}

KernelRange KernelRange::parse(std::string_view text) {
  KernelRange r;
  r.text_ = std::string(trim(text));
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string_view part = trim(rest.substr(0, comma));
    std::string op;
    for (std::string_view candidate : {">=", "<=", "==", ">", "<"})
      if (part.starts_with(candidate)) {
        op = std::string(candidate);
        break;
      }
    if (op.empty())
      throw std::invalid_argument("'" + std::string(part) + "': start with >=, >, <=, < or == (\">= 6.5\")");
    const std::string_view number = trim(part.substr(op.size()));
    auto v = KernelVersion::parse(number);
    if (!v) throw std::invalid_argument("'" + std::string(number) + "': not a kernel version (MAJOR.MINOR, e.g. 6.5)");
    r.bounds_.push_back({op, *v});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return r;
}

bool KernelRange::contains(KernelVersion v) const {
  for (const Bound& b : bounds_) {
    const bool ok = b.op == ">=" ? v >= b.version
                    : b.op == ">" ? v > b.version
                    : b.op == "<=" ? v <= b.version
                    : b.op == "<" ? v < b.version
                                  : v == b.version;
    if (!ok) return false;
  }
  return true;
}

// The commits are read in torvalds/linux; docs/kernel-timing.md section 0 cites each.
const std::vector<SysctlChange>& sysctl_changes() {
  static const std::vector<SysctlChange> kChanges = {
      {"net.ipv4.tcp_syn_linear_timeouts", {6, 5}, "ccce324dabfe",
       "0",  // before it, tcp_retransmit_timer() doubled the SYN's RTO from the first retransmission
       "the first SYN retransmissions 1 s apart instead of doubling",
       "nothing: SYN retransmissions double from the first (1, 3, 7, 15 ... s)"},
      {"net.ipv4.tcp_rto_min_us", {6, 11}, "f086edef71be",
       "200000",  // TCP_RTO_MIN
       "a lower RTO floor, so that retransmissions come sooner",
       "the route metric rto_min (RTAX_RTO_MIN): write `compress: {rto_min: ...}` and the run uses it"},
      {"net.ipv4.tcp_rto_max_ms", {6, 15}, "1280c26228bd",
       "120000",  // TCP_RTO_MAX
       "a lower RTO ceiling, so that the backoff, and the give-up, come within the run",
       "nothing: the RTO doubles up to 120 s, and what comes after the cap takes real time"},
  };
  return kChanges;
}

const SysctlChange* sysctl_change(std::string_view name) {
  for (const SysctlChange& c : sysctl_changes())
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<int> nearest_hz(double ticks_per_second) {
  constexpr std::array<int, 4> kBuilt = {100, 250, 300, 1000};
  for (int hz : kBuilt)
    if (std::abs(ticks_per_second - hz) <= 0.05 * hz) return hz;
  return std::nullopt;
}

}  // namespace tapfault::replay::model
