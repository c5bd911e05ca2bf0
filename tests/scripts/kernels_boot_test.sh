#!/usr/bin/env bash
# scripts/kernels.sh boots a Debian kernel (6.12 unless TAPFAULT_KERNEL_TEST_VERSION says
# otherwise; fetched with apt-get download when not in build/kernels) from its initramfs
# under qemu: tapfault starts there with its libraries and prints a model, the modules are
# loaded, and one scenario runs and comes back as a table row and a folder. About 25 s under
# TCG. Needs root, qemu and Debian's package lists; runs only with TAPFAULT_KERNEL_TESTS=1
# (exit 77, skipped, otherwise), as the matrix itself is for CI to call.
set -euo pipefail
if [[ "${TAPFAULT_KERNEL_TESTS:-0}" != 1 ]]; then
  echo "skipped: set TAPFAULT_KERNEL_TESTS=1 to boot a kernel under qemu"
  exit 77
fi
src=$1
export TAPFAULT_BINARY=$2
version=${TAPFAULT_KERNEL_TEST_VERSION:-6.12}
script=$src/scripts/kernels.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(bash "$script" run "$version" --out "$work/out" -- sh -c \
  'tapfault --help | head -n1; tapfault model keepalive --sockopt TCP_KEEPIDLE=1 \
     --sockopt TCP_KEEPINTVL=1 --sockopt TCP_KEEPCNT=3 | tail -n1; uname -r; test -c /dev/net/tun && echo tun-ok' \
  2>"$work/err") || fail "the command in the guest failed: $out $(cat "$work/err")"
[[ $out == *"tapfault: runs the Linux kernel's TCP client"* ]] || fail "no tapfault --help in: $out"
[[ $out == *"give-up: the kernel gives up 4.000 s after t = 0"* ]] || fail "no keepalive model in: $out"
[[ $out == *tun-ok* ]] || fail "no /dev/net/tun in the guest: $out"
grep -q 'guest.s init started at [0-9.]* s' "$work/err" || fail "no boot time in: $(cat "$work/err")"
rel=$(ls "$work/out")
[[ $out == *"$rel"* ]] || fail "the guest's uname -r is not $rel: $out"

rc=0
table=$(bash "$script" run "$version" --out "$work/out" --scenario reset/peer-reset-ipv4.yaml 2>"$work/err") || rc=$?
row=$(grep '^peer-reset-ipv4 ' <<<"$table") || fail "no row for peer-reset-ipv4 in: $table $(cat "$work/err")"
for f in output.txt timeline.jsonl; do
  [[ -f $work/out/$rel/runs/peer-reset-ipv4/$f ]] || fail "no runs/peer-reset-ipv4/$f came back"
done
# Until tapfault runs on this kernel's limits the run exits 3; the script's exit code must
# say what the row says either way.
if [[ $row == *" pass "* ]]; then ((rc == 0)) || fail "a passing row, but exit $rc"
else ((rc == 1)) || fail "row '$row', but exit $rc"; fi
echo "kernels boot: $rel booted, tapfault ran, peer-reset-ipv4: $(awk '{print $4}' <<<"$row")"
