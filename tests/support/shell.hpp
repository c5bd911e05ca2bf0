// The tests' one way to run a shell command: shell() runs it with /bin/sh and returns its
// exit code and its output (stdout and stderr together, in the order written).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tapfault::testing {

struct ShellResult {
  int exit_code = -1;  // 128 + the signal for a command a signal ended; -1: not started
  std::string output;  // stdout and stderr
};

inline ShellResult shell(const std::string& command) {
  ShellResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline bool tool_available(const std::string& tool) {
  return shell("command -v " + tool + " >/dev/null").exit_code == 0;
}

// CI=true: a missing capability or tool fails a test instead of skipping it.
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace tapfault::testing
