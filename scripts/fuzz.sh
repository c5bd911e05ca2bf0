#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into build-fuzz/ (or
# $FUZZ_BUILD_DIR) and runs each for SECONDS (default 60), all at once. Fails on any crash,
# leak, sanitizer report or input that takes more than 10 s.
# Usage: scripts/fuzz.sh [SECONDS]
#
# Seeds come from fuzz/corpus/<target>/ (left untouched); what the fuzzer finds goes to
# build-fuzz/corpus/<target>/. A crash input is written to build-fuzz/artifacts/<target>/:
# copy it to fuzz/regressions/<target>/ so that the unit tests replay it (see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=(fuzz_peer fuzz_scenario fuzz_capture)

bash scripts/install-deps.sh --test
started=$(date +%s)
# -O1 -g with assertions on (no NDEBUG): the build type is Debug, the optimisation level ours.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -DTAPFAULT_FUZZ=ON -DTAPFAULT_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]}"
echo "fuzz: built in $(($(date +%s) - started)) s; running each target for ${SECONDS_PER_TARGET} s"

declare -A max_len=([fuzz_peer]=65536 [fuzz_scenario]=8192 [fuzz_capture]=65536)
pids=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD_DIR/corpus/$t" "$BUILD_DIR/artifacts/$t" "$BUILD_DIR/logs"
  dict=()
  [[ -f "fuzz/$t.dict" ]] && dict=(-dict="fuzz/$t.dict")
  # Known crash inputs first: a regression fails here before any time is spent fuzzing.
  regressions=()
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    regressions=(fuzz/regressions/"$t"/*)
  fi
  (
    if ((${#regressions[@]})); then
      "$BUILD_DIR/fuzz/$t" -timeout=10 -rss_limit_mb=2048 "${regressions[@]}" || exit $?
    fi
    exec "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len="${max_len[$t]}" -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$BUILD_DIR/artifacts/$t/" "$BUILD_DIR/corpus/$t" "fuzz/corpus/$t"
  ) >"$BUILD_DIR/logs/$t.log" 2>&1 &
  pids+=($!)
done

failed=0
for i in "${!TARGETS[@]}"; do
  t=${TARGETS[$i]}
  rc=0
  wait "${pids[$i]}" || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD_DIR/logs/$t.log" | grep -o '[0-9]*$' || true)
  corpus=$(find "$BUILD_DIR/corpus/$t" -type f | wc -l)
  if ((rc == 0)); then
    echo "fuzz: $t: ok, ${execs:-?} executions, $corpus new corpus inputs"
  else
    failed=1
    echo "fuzz: $t: FAILED (exit $rc) after ${execs:-?} executions; log $BUILD_DIR/logs/$t.log" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_)' "$BUILD_DIR/logs/$t.log" | head -20 >&2 || true
    tail -n 40 "$BUILD_DIR/logs/$t.log" >&2
    for a in "$BUILD_DIR/artifacts/$t"/*; do
      [[ -e "$a" ]] && echo "fuzz: $t: crash input $a: copy it to fuzz/regressions/$t/ and fix the bug" >&2
    done
  fi
done
echo "fuzz: done in $(($(date +%s) - started)) s"
exit "$failed"
