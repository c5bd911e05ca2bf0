// Faults as data: a trigger, an action and an optional end, applied at the peer's hooks.
// The scenario parser (replay/) builds a FaultPlan; stack::Host applies it.
#pragma once

#include <vector>

namespace tapfault::stack {

struct Fault {};

struct FaultPlan {
  std::vector<Fault> faults;
};

}  // namespace tapfault::stack
