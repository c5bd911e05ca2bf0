// The expected-backoff models of the Linux TCP client's timers: what the kernel
// should send, when, and when it gives up, given the parameters that govern it.
//
// Pure code with no dependency (library tapfault_models), so `tapfault model` and
// `diff` work on foreign captures and the tests need no network. Read first:
// docs/models.md, then docs/kernel-timing.md. One header per concept:
//   model_units.hpp        jiffies and the include/linux/jiffies.h conversions
//   model_wheel.hpp        kernel/time/timer.c timer-wheel rounding
//   model_expectation.hpp  ExpectedEvent, GiveUp, Expectation, to_table()
//   model_rto.hpp          rto_model(), tcp_model_timeout_ms(), ICMP (RFC 6069)
//   model_syn.hpp          syn_model()
//   model_persist.hpp      persist_model() (zero-window probes)
//   model_keepalive.hpp    keepalive_model()
#pragma once

#include "tapfault/replay/model/expectation.hpp"
#include "tapfault/replay/model/keepalive.hpp"
#include "tapfault/replay/model/persist.hpp"
#include "tapfault/replay/model/rto.hpp"
#include "tapfault/replay/model/syn.hpp"
#include "tapfault/replay/model/units.hpp"
#include "tapfault/replay/model/wheel.hpp"
