// How a scenario becomes the run's network, sysctls and peer configuration.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tapfault/replay/scenario/scenario.hpp"
#include "tapfault/stack/host.hpp"
#include "tapfault/tap/network.hpp"

namespace tapfault::replay {

// Sysctls every run pins before the scenario's own, so that a run does not depend on
// the host's defaults (docs/architecture.md "What makes a run reproducible"). The
// values are Linux 6.18's defaults (docs/kernel-timing.md, the table at its top),
// congestion control bbr.
const std::vector<std::pair<std::string, std::string>>& pinned_sysctls();

tap::NetworkConfig network_config(const Scenario& s, std::optional<std::uint32_t> rto_min_ms = {});
stack::HostConfig host_config(const Scenario& s, stack::Instant origin);
// The route to the peer, as `route-del: peer` means it.
tap::RouteConfig peer_route(const Scenario& s, std::optional<std::uint32_t> rto_min_ms = {});

}  // namespace tapfault::replay
