#!/usr/bin/env bash
# scripts/check-layering.sh on small trees: the real one passes; a lower room including a
# higher one, Asio or a syscall header in stack/, libnl in analysis/ and a clock read in
# stack/ each fail, naming the file, the line and the rule.
set -euo pipefail
checker=$1/scripts/check-layering.sh
bash "$checker" "$1"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
expect_fail() {  # FILE CONTENT EXPECTED-MESSAGE
  rm -rf "$work/t"; mkdir -p "$work/t/$(dirname "$1")"
  printf '%s\n' "$2" > "$work/t/$1"
  if out=$(bash "$checker" "$work/t" 2>&1); then
    echo "FAIL: $1 passed the check:"; printf '%s\n' "$2"; exit 1
  fi
  if [[ "$out" != *"$3"* ]]; then
    echo "FAIL: $1: expected '$3' in: $out"; exit 1
  fi
}
expect_fail replay/model/rto.cpp $'#include <vector>\n#include "tapfault/replay/analysis/diff.hpp"' \
  'replay/model/rto.cpp:2: includes tapfault/replay/analysis/diff.hpp: model/ may include only itself'
expect_fail replay/analysis/diff.cpp '#include "tapfault/replay/run/run.hpp"' \
  'analysis/ may include only model stack'
expect_fail include/tapfault/replay/scenario/scenario.hpp '#include "tapfault/tap/network.hpp"' \
  'scenario/ may include only stack'
expect_fail stack/host.cpp '#include <boost/asio.hpp>' 'stack/host.cpp:1: includes <boost/asio.hpp>: stack/ is pure'
expect_fail stack/host.cpp '#include <sys/socket.h>' 'stack/ is pure'
expect_fail replay/analysis/flows.cpp '#include <netlink/msg.h>' 'must build without Asio or libnl'
expect_fail stack/tcp.cpp 'auto t = std::chrono::steady_clock::now();' 'stack/tcp.cpp: reads a clock'
echo "check-layering: 1 real tree passed, 7 bad trees failed as they should"
