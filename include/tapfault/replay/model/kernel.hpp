// Kernel versions and what changed between them: the sysctls the models read that older
// kernels lack, the commit that added each, and the behaviour the kernel had before it.
//
// Read first: docs/kernels.md (what each version did, measured) and docs/kernel-timing.md
// section 0 (the commits). A model whose rule changed takes the version's rule when the
// sysctl is absent: a 6.1 kernel has no tcp_syn_linear_timeouts, and behaves as 0, not as
// 6.18's default of 4.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapfault::replay::model {

// The first two numbers of a kernel release: "6.1.0-50-cloud-amd64" and "6.1.192" are 6.1.
struct KernelVersion {
  int major = 0;
  int minor = 0;

  auto operator<=>(const KernelVersion&) const = default;
  std::string to_string() const { return std::to_string(major) + "." + std::to_string(minor); }
  // "6.1", "6.12.118+deb12-cloud-amd64", "6.18.44-fc-v1252"; nullopt when it does not start
  // with MAJOR.MINOR.
  static std::optional<KernelVersion> parse(std::string_view release);
};

// A set of versions written as comparisons joined by commas: ">= 6.5", ">= 6.1, < 6.15".
class KernelRange {
 public:
  // Throws std::invalid_argument naming what is wrong ("'>= six': not a version").
  static KernelRange parse(std::string_view text);
  bool contains(KernelVersion v) const;
  const std::string& text() const { return text_; }

 private:
  struct Bound {
    std::string op;  // >=, >, <=, <, ==
    KernelVersion version;
  };
  std::vector<Bound> bounds_;
  std::string text_;
};

// A sysctl that the models read and that some kernels lack.
struct SysctlChange {
  std::string_view name;           // net.ipv4.tcp_syn_linear_timeouts
  KernelVersion since;             // the first release that has it
  std::string_view commit;         // the commit that added it (torvalds/linux)
  std::string_view value_before;   // what the kernel did before, as this sysctl's value
  std::string_view purpose;        // what a scenario sets it for
  std::string_view instead;        // what an older kernel offers in its place
};

const std::vector<SysctlChange>& sysctl_changes();
const SysctlChange* sysctl_change(std::string_view name);

// The HZ nearest to `ticks_per_second` among the values Linux builds with (100, 250, 300,
// 1000); nullopt when none is within 5% (a measurement too short or too disturbed).
std::optional<int> nearest_hz(double ticks_per_second);

}  // namespace tapfault::replay::model
