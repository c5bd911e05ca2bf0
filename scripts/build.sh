#!/usr/bin/env bash
# Configures and builds tapfault into build/ (or $BUILD_DIR), installing missing Debian packages first.
#   scripts/build.sh          the tapfault executable only (what the demo runs)
#   scripts/build.sh --test   everything: the executable, the libraries, every test
# BUILD_TYPE (default RelWithDebInfo) and CMAKE_ARGS go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh "$@"
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} ${CMAKE_ARGS:-} >/dev/null
if [[ "${1:-}" == "--test" ]]; then
  cmake --build "$BUILD_DIR" -j"$(nproc)"
else
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target tapfault
fi
