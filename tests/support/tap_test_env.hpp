// Helpers for the tap/ tests that need a private network namespace.
//
// TAPFAULT_ENTER_NETNS() moves the test process into a fresh network namespace (ctest
// runs each test in its own process, so it never leaks into the next one).
// TAPFAULT_ENTER_NETNS_WITH_TUN() also checks that a TAP can be created there (without
// root, /dev/net/tun is often mode 0600). Without the capability the test is skipped,
// unless CI=true, where it fails: CI must run them.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "support/shell.hpp"
#include "tapfault/tap/errors.hpp"
#include "tapfault/tap/netns.hpp"
#include "tapfault/tap/tap_device.hpp"

namespace tapfault::tap::testing {

// The reason the namespace could not be entered (or, with `need_tun`, a TAP could not
// be created in it), or nothing on success.
inline std::optional<std::string> try_enter_private_netns(bool need_tun = false) {
  try {
    enter_private_netns();
    if (need_tun) TapDevice probe("tfprobe0");  // gone again when the fd closes
    return std::nullopt;
  } catch (const EnvironmentError& e) {
    return std::string(e.what());
  }
}

}  // namespace tapfault::tap::testing

#define TAPFAULT_ENTER_NETNS() TAPFAULT_ENTER_NETNS_IMPL(false)
#define TAPFAULT_ENTER_NETNS_WITH_TUN() TAPFAULT_ENTER_NETNS_IMPL(true)

#define TAPFAULT_ENTER_NETNS_IMPL(need_tun)                                           \
  do {                                                                                \
    if (auto reason = ::tapfault::tap::testing::try_enter_private_netns(need_tun)) {  \
      if (::tapfault::testing::in_ci()) FAIL() << *reason;                            \
      GTEST_SKIP() << "needs a private network namespace (root or user namespaces): " \
                   << *reason;                                                        \
    }                                                                                 \
  } while (0)
