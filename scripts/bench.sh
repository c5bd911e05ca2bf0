#!/usr/bin/env bash
# Issue 6's benchmarks, all five, and bench/RESULTS.md from what they measured.
# Usage: scripts/bench.sh [--quick]
#
# Builds tapfault and bench/ (RelWithDebInfo, -O2, as `tapfault` itself is built) into
# build-bench/ (or $BENCH_BUILD_DIR) with -DTAPFAULT_BENCH=ON, then runs, as root:
#   1. reaction   tapfault_bench_net reaction: 10,000 request/response exchanges of 64 bytes
#   2. bulk       tapfault_bench_net bulk: 1 GiB each way, MTU 1500, the peer acknowledging every
#                 segment (peer.ack: each), then as Linux does (peer.ack: delayed)
#   3. scale      tapfault_bench_net scale: 10, 100, 1000, 10,000 concurrent connections
#   4. fidelity   tapfault run bench/scenarios/silent-peer-12-rto-ipv4.yaml (12 RTOs), 3 times
#   5. micro      tapfault_bench_micro (Google Benchmark)
# 1-3 measure tapfault's peer over a TAP and the kernel as the peer over veth side by side,
# in namespaces they create. The raw figures go to build-bench/bench-results/*.json; the
# tables between the markers of bench/RESULTS.md are rewritten, the rest of it is kept.
# --quick: small sizes, a smoke test; writes build-bench/bench-results/RESULTS.md instead.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

if [[ $(id -u) -ne 0 ]]; then
  echo "bench: needs root (network namespaces, a TAP, a veth pair)" >&2
  exit 3
fi
bash scripts/install-deps.sh --bench
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
OUT=$BUILD_DIR/bench-results
load=$(cut -d' ' -f1-3 /proc/loadavg)

build_started=$(date +%s)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPFAULT_BENCH=ON -DTAPFAULT_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target tapfault tapfault_bench_net tapfault_bench_micro
build_seconds=$(($(date +%s) - build_started))

rm -rf "$OUT"
mkdir -p "$OUT"
net=$BUILD_DIR/bench/tapfault_bench_net
if ((quick)); then
  exchanges=1000 bytes=64MiB connections=10,100,1000 micro_time=0.05
  results=$OUT/RESULTS.md
  cp bench/RESULTS.md "$results"
else
  exchanges=10000 bytes=1GiB connections=10,100,1000,10000 micro_time=0.5
  results=bench/RESULTS.md
fi

# /proc/stat's cpu line: user nice system idle iowait irq softirq steal ...; a VM's steal is
# CPU time the hypervisor gave to others, which delays timers and threads alike.
cpu_times() { awk '/^cpu /{t=0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }
read -r steal_before total_before < <(cpu_times)
started=$(date +%s)
echo "== 1. reaction"
"$net" reaction --exchanges "$exchanges" --record "$OUT/reaction.pcap" --json "$OUT/reaction.json"
echo "== 2. bulk (peer.ack: each, then delayed)"
"$net" bulk --bytes "$bytes" --json "$OUT/bulk.json"
"$net" bulk --bytes "$bytes" --peer-ack delayed --json "$OUT/bulk-delayed.json"
echo "== 3. scale"
"$net" scale --connections "$connections" --json "$OUT/scale.json"
echo "== 4. timing fidelity"
for run in 1 2 3; do
  # Exit 1 is a model mismatch, itself a result; 2 and 3 mean the run did not happen.
  rc=0
  "$BUILD_DIR/tapfault" run bench/scenarios/silent-peer-12-rto-ipv4.yaml --out "$OUT/fidelity-$run" \
    >"$OUT/fidelity-$run.log" 2>&1 || rc=$?
  if ((rc > 1)); then
    cat "$OUT/fidelity-$run.log" >&2
    exit "$rc"
  fi
  echo "run $run: $(grep -E '^result:' "$OUT/fidelity-$run.log" || echo 'no result line')"
done
echo "== 5. micro"
"$BUILD_DIR/bench/tapfault_bench_micro" --benchmark_min_time="$micro_time" \
  --benchmark_out="$OUT/micro.json" --benchmark_out_format=json
elapsed=$(($(date +%s) - started))
read -r steal_after total_after < <(cpu_times)
steal=$(awk -v s=$((steal_after - steal_before)) -v t=$((total_after - total_before)) 'BEGIN { printf "%.1f%%", t ? 100 * s / t : 0 }')

# BENCH_COMMIT names the tree when it is not a git checkout (an exported snapshot).
if [[ -n "${BENCH_COMMIT:-}" ]]; then
  commit=$BENCH_COMMIT
else
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- stack tap replay bench include CMakeLists.txt ':!bench/*.md' || commit="$commit + uncommitted changes"
fi
command="bash scripts/bench.sh"
((quick)) && command="$command --quick"
"$net" report --dir "$OUT" --results "$results" --command "$command" --commit "$commit" \
  --elapsed "$((elapsed / 60)) min $((elapsed % 60)) s (the build before it $((build_seconds / 60)) min $((build_seconds % 60)) s)" \
  --load "$load" --steal "$steal"
