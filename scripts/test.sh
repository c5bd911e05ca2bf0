#!/usr/bin/env bash
# Sets up, builds and runs every test (unit and netns integration tests) with ctest.
# Integration tests need root and /dev/net/tun; with CI=true a missing capability fails them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --test
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" -j"$(nproc)" --output-on-failure --timeout 600 -LE realtime "$@"
