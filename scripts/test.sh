#!/usr/bin/env bash
# Checks that no tracked file cites what the repository lacks (scripts/check-citations.sh),
# then sets up, builds and runs every test (unit and netns integration tests) with ctest.
# Integration tests need root and /dev/net/tun; with CI=true a missing capability fails them.
#
# In CI (CI=true) or with TAPFAULT_SANITIZE_CI=1 it then builds a second tree, build-asan/
# (or $ASAN_BUILD_DIR), with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DTAPFAULT_SANITIZE=ON), runs the unit and netns tests there too, and runs every fuzz
# target for 60 s (scripts/fuzz.sh, clang in build-fuzz/ or $FUZZ_BUILD_DIR).
# In CI (or with TAPFAULT_KERNELS_CI=1) it also runs the fast part of the library on
# Debian's 6.1 and 6.12 kernels under qemu (scripts/kernels.sh).
# A failure in any of them fails the script; all of them run before it exits.
# Arguments go to ctest (both trees), e.g. `scripts/test.sh -R Echo`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo "test.sh: $1 ($(($(date +%s) - started)) s)"; }

failed=()
bash scripts/check-citations.sh || failed+=("citations (scripts/check-citations.sh)")
CMAKE_ARGS="-DTAPFAULT_WERROR=ON ${CMAKE_ARGS:-}" bash scripts/build.sh --test
BUILD_DIR=${BUILD_DIR:-build}
step "built $BUILD_DIR"
ctest --test-dir "$BUILD_DIR" -j"$(nproc)" --output-on-failure --timeout 600 -LE 'realtime|kernels' "$@" ||
  failed+=("tests in $BUILD_DIR")
step "tests in $BUILD_DIR done"

# The kernel matrix (scripts/kernels.sh): one boot test, then the fast part of the library
# on Debian's 6.1 and 6.12 under qemu, each kernel from Debian's packages. On in CI
# (CI=true) or with TAPFAULT_KERNELS_CI=1; alone on the machine, since TCG takes both cores.
kernels=${TAPFAULT_KERNELS_CI:-$([[ "${CI:-}" == true ]] && echo 1 || echo 0)}
if [[ "$kernels" == 1 ]]; then
  TAPFAULT_KERNEL_TESTS=1 ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -L kernels ||
    failed+=("kernel boot test (ctest -L kernels)")
  for version in 6.1 6.12; do
    bash scripts/kernels.sh run "$version" --fast || failed+=("the library on $version (scripts/kernels.sh run $version --fast)")
  done
  step "kernel matrix done"
fi

# A Release build as users make it (-O3, the executable and the libraries it links), here
# with -Werror so that a warning only -O3 shows fails CI before it reaches a user's build
# (GCC 12's false positives once broke the Release build under -Werror).
BUILD_DIR=${RELEASE_BUILD_DIR:-build-release} BUILD_TYPE=Release CMAKE_ARGS="-DTAPFAULT_TESTS=OFF -DTAPFAULT_WERROR=ON" \
  bash scripts/build.sh || failed+=("Release build (build-release)")
step "built ${RELEASE_BUILD_DIR:-build-release} (Release)"

# The sanitizer tree and fuzzing: on in CI (CI=true), or with TAPFAULT_SANITIZE_CI=1;
# TAPFAULT_SANITIZE_CI=0 leaves them out.
sanitize=${TAPFAULT_SANITIZE_CI:-$([[ "${CI:-}" == true ]] && echo 1 || echo 0)}
if [[ "$sanitize" == 1 ]]; then
  # Any sanitizer report aborts the process, so that a test sees a signal rather than an
  # exit code tapfault itself uses; leaks are reported too.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}
  ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
  BUILD_DIR=$ASAN_BUILD_DIR CMAKE_ARGS="-DTAPFAULT_SANITIZE=ON -DTAPFAULT_WERROR=ON ${CMAKE_ARGS:-}" bash scripts/build.sh --test
  step "built $ASAN_BUILD_DIR (ASan + UBSan)"
  # The install test builds an example against an installed package: nothing to sanitize.
  # The netns tests one at a time: each library test already runs its scenario three times
  # at once, and the sanitized processes are several times slower.
  ctest --test-dir "$ASAN_BUILD_DIR" -j"$(nproc)" --output-on-failure --timeout 900 -L unit "$@" ||
    failed+=("unit tests in $ASAN_BUILD_DIR (ASan + UBSan)")
  ctest --test-dir "$ASAN_BUILD_DIR" -j1 --output-on-failure --timeout 900 -LE 'realtime|install|unit|kernels' "$@" ||
    failed+=("netns tests in $ASAN_BUILD_DIR (ASan + UBSan)")
  step "tests in $ASAN_BUILD_DIR done"
  env -u ASAN_OPTIONS -u UBSAN_OPTIONS bash scripts/fuzz.sh 60 || failed+=("fuzzing (scripts/fuzz.sh 60)")
  step "fuzzing done"
fi

if ((${#failed[@]})); then
  for f in "${failed[@]}"; do echo "test.sh: FAILED: $f" >&2; done
  exit 1
fi
step "all passed"
