#!/usr/bin/env bash
# Installs tapfault from a build folder into a temporary prefix, checks what the install
# tree holds, then configures, builds and runs docs/examples/gtest-peer against it with
# find_package(tapfault): what another project sees. ctest runs it (label `install`).
# Usage: scripts/test-install.sh [BUILD_DIR]   (default: $BUILD_DIR or build; built already)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${BUILD_DIR:-build}}
if [[ ! -f "$build/cmake_install.cmake" ]]; then
  echo "test-install: $build is not a configured build folder (cmake -S . -B $build first)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tapfault-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/tapfault include/tapfault/replay/run/run.hpp include/tapfault/stack/host.hpp \
         lib/libtapfault_stack.a lib/libtapfault_tap.a lib/libtapfault_model.a lib/libtapfault_run.a \
         lib/cmake/tapfault/tapfaultConfig.cmake lib/cmake/tapfault/tapfaultConfigVersion.cmake \
         share/man/man1/tapfault.1; do
  # GNUInstallDirs may pick lib64 or lib/<multiarch> on some systems.
  if [[ ! -e "$prefix/$f" && ! -e "$prefix/${f/#lib\//lib64/}" ]]; then
    echo "test-install: the install tree has no $f" >&2
    find "$prefix" -maxdepth 3 >&2
    exit 1
  fi
done
"$prefix/bin/tapfault" --help >/dev/null

cmake -S docs/examples/gtest-peer -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/example" -j"${JOBS:-2}"
ctest --test-dir "$work/example" --output-on-failure
echo "test-install: installed into a temporary prefix, built and tested docs/examples/gtest-peer against it"
