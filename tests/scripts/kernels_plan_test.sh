#!/usr/bin/env bash
# scripts/kernels.sh plan on a small library: a scenario that says `kernels: {versions: ">= 6.5"}` is a
# n/a row with its reason on 6.1 and a run on 6.12; one without a client is n/a; --fast
# leaves out what is tagged realtime or lasts more than 15 s; a bad constraint is bad input.
set -euo pipefail
script=$1/scripts/kernels.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib/a" "$work/lib/b"
cat > "$work/lib/a/linear.yaml" <<'YAML'
name: linear
tags: [syn]
duration: 12s
kernels:   # a comment
  versions: ">= 6.5"
  reason: "linear SYN timeouts (tcp_syn_linear_timeouts) are 6.5's"
network:
  family: [ipv4, ipv6]
client:
  actions: [connect]
YAML
cat > "$work/lib/a/slow.yaml" <<'YAML'
name: slow
duration: 20s
kernels: {versions: ">= 6.1", reason: "flow style"}
client:
  actions: [connect]
YAML
cat > "$work/lib/b/real.yaml" <<'YAML'
name: real
tags: [rto, realtime]
duration: 1s
client:
  actions: [connect]
YAML
cat > "$work/lib/b/ext.yaml" <<'YAML'
name: ext
duration: 500ms
network:
  family: ipv6
YAML
plan() { TAPFAULT_SCENARIOS_DIR=$work/lib TAPFAULT_KERNEL_CACHE=$work/none bash "$script" plan "$@"; }
expect() {  # WHAT EXPECTED ACTUAL
  if [[ "$3" != "$2" ]]; then printf 'FAIL: %s:\nexpected:\n%s\nactual:\n%s\n' "$1" "$2" "$3"; exit 1; fi
}
tab=$'\t'
reason="kernels: \">= 6.5\": linear SYN timeouts (tcp_syn_linear_timeouts) are 6.5's"
expect "6.1.192, every scenario" \
"n/a${tab}a/linear.yaml${tab}ipv4${tab}linear-ipv4${tab}12${tab}$reason
n/a${tab}a/linear.yaml${tab}ipv6${tab}linear-ipv6${tab}12${tab}$reason
run${tab}a/slow.yaml${tab}ipv4${tab}slow${tab}20${tab}
n/a${tab}b/ext.yaml${tab}ipv6${tab}ext${tab}0.5${tab}needs an external client (the command in its header), not in the guest" \
  "$(plan 6.1.192)"
expect "6.12.118 --fast --family ipv4" "run${tab}a/linear.yaml${tab}ipv4${tab}linear-ipv4${tab}12${tab}" \
  "$(plan 6.12.118 --fast --family ipv4)"
expect "6.1.192 --realtime --scenario b/real.yaml" "run${tab}b/real.yaml${tab}ipv4${tab}real${tab}1${tab}" \
  "$(plan 6.1.192 --realtime --scenario b/real.yaml)"
printf 'a/slow.yaml  # the slow one\n\nb/ext.yaml\n' > "$work/list"
expect "--list" "run
n/a" "$(plan 6.1.192 --list "$work/list" | cut -f1)"
sed -i 's/">= 6.5"/"about 6.5"/' "$work/lib/a/linear.yaml"
if out=$(plan 6.1.192 2>&1); then echo "FAIL: a bad kernels: constraint passed: $out"; exit 1; fi
expect "bad constraint" 'kernels: a/linear.yaml: kernels: "about 6.5": not a constraint (e.g. ">= 6.5")' "$out"
echo "kernels plan: 5 selections as expected"
