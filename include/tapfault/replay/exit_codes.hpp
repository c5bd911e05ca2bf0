// Exit codes of every tapfault command (documented in --help, the README and docs/cli.md).
// Every room of replay/ returns them, so they sit above the rooms.
#pragma once

namespace tapfault::replay {

inline constexpr int kExitPass = 0;
inline constexpr int kExitExpectationFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitEnvironment = 3;

}  // namespace tapfault::replay
