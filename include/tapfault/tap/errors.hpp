// The two kinds of setup failure in tap/, so that the CLI can tell them apart.
//
// EnvironmentError: the machine or the process lacks a capability (root, CAP_SYS_ADMIN,
// CAP_NET_ADMIN, /dev/net/tun). The CLI maps it to exit code 3. The message says what is
// missing and how to get it.
// SetupError: anything else that goes wrong while building the namespace (a netlink
// request refused, a sysctl that does not exist). The message names the object and the
// kernel's error text.
// Neither is thrown on the packet path: tap::Driver reports per-frame errors by counting.
#pragma once

#include <stdexcept>
#include <string>

namespace tapfault::tap {

class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tapfault::tap
