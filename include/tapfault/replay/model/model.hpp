// The expected-backoff models of the Linux TCP client's timers: what the kernel
// should send, when, and when it gives up, given the parameters that govern it.
//
// Pure code with no dependency (library tapfault_model), so `tapfault model` and
// `diff` work on foreign captures and the tests need no network. Read first:
// docs/models.md, then docs/kernel-timing.md. One header per concept, all in
// include/tapfault/replay/model/:
//   units.hpp             jiffies and the include/linux/jiffies.h conversions
//   wheel.hpp             kernel/time/timer.c timer-wheel rounding
//   expectation.hpp       ExpectedEvent, GiveUp, Expectation, to_table()
//   rto.hpp               rto_model(), tcp_model_timeout_ms(), ICMP (RFC 6069)
//   syn.hpp               syn_model()
//   persist.hpp           persist_model() (zero-window probes)
//   keepalive.hpp         keepalive_model()
#pragma once

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/keepalive.hpp"
#include "tapfault/replay/model/persist.hpp"
#include "tapfault/replay/model/rto.hpp"
#include "tapfault/replay/model/syn.hpp"
#include "tapfault/replay/model/units.hpp"
#include "tapfault/replay/model/wheel.hpp"
