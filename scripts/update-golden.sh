#!/usr/bin/env bash
# Rewrites captures/golden/<scenario>.pcap and .expected.json from fresh runs of the library.
# Do this only when a change in behaviour is intended and understood: a golden file
# regenerated to match a bug hides the bug. Review `git diff --stat captures/golden` after.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --test
TAPFAULT_UPDATE_GOLDEN=1 ctest --test-dir "${BUILD_DIR:-build}" -R 'ScenarioLibrary' -j"$(nproc)" --output-on-failure "$@"
