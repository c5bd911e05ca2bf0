#!/usr/bin/env bash
# Rewrites captures/golden/<run>.pcap and .expected.json from fresh runs of the library, one
# per file and family: <run> is the case plus the family (lost-peer-ipv4) for a file that
# lists both, the file's name: otherwise (missing-route-ipv6). Extra arguments go to ctest
# (-R 'ScenarioLibrary.*syn_silent' for one case).
# Do this only when a change in behaviour is intended and understood: a golden file
# regenerated to match a bug hides the bug. Review `git diff --stat captures/golden` after.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --test
TAPFAULT_UPDATE_GOLDEN=1 ctest --test-dir "${BUILD_DIR:-build}" -R 'ScenarioLibrary' -j"$(nproc)" --output-on-failure "$@"
